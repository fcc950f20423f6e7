/**
 * The stores of one PostgreSQL database (StoreProvider), behind one lazily opened pool:
 * history, batches, the mirror, the viewer's queries and the workers' queue. The parse cache is this
 * checkout's own and lives in a local file (app/shared-stores.ts puts the two together),
 * so readCache() has none here.
 *
 * forReading() connects without writing, and migrates only a database that needs it (as
 * SQLite's does); forWriting() migrates (under the advisory lock) on first use.
 */
import { AppError } from '../../core/errors.js';
import type { ParseCache, StoreDescription, StoreProvider, Stores } from '../../core/ports.js';
import { createPgBatchStore } from './batches.js';
import { createPgHistoryStore } from './history.js';
import { appliedMigrations, migratePostgres, pendingMigrations } from './migrate.js';
import { PG_MIGRATIONS } from './migrations.js';
import { createPgMirrorStore } from './mirror.js';
import { connectPostgres, databaseError, postgresTarget, type PgDb } from './open.js';
import { createPgViewQueries } from './view.js';
import { createPgWorkQueue } from './queue.js';

/** A store without a parse cache of its own: a caller that asks for one is wired wrong. */
const NO_CACHE = new Proxy({}, {
  get: () => {
    throw new Error('the Postgres store keeps no parse cache: it stays in a local file (app/shared-stores.ts)');
  },
}) as ParseCache;

export function createPgStoreProvider(url: string): StoreProvider {
  const location = postgresTarget(url).location;
  let db: Promise<PgDb> | undefined;
  let migrated = false;
  let stores: Stores | undefined;

  const connection = () => {
    db ??= connectPostgres(url).catch((error: unknown) => {
      db = undefined;
      throw error;
    });
    return db;
  };
  const storesOver = (pg: PgDb): Stores => (stores ??= {
    history: createPgHistoryStore(pg),
    batches: createPgBatchStore(pg),
    mirror: createPgMirrorStore(pg),
    view: createPgViewQueries(pg),
    queue: createPgWorkQueue(pg),
    cache: NO_CACHE,
  });
  const migrate = async (pg: PgDb) => {
    if (migrated) return;
    try {
      await migratePostgres(pg);
    } catch (error) {
      throw databaseError(pg.location, pg.redact, error);
    }
    migrated = true;
  };

  return {
    location,
    readCache: () => undefined,
    async forWriting() {
      const pg = await connection();
      await migrate(pg);
      return storesOver(pg);
    },
    async forReading() {
      const pg = await connection();
      // An older schema is migrated once (a write); a current one is only read.
      if (!migrated) {
        const client = await pg.pool.connect().catch((error: unknown) => {
          throw databaseError(pg.location, pg.redact, error);
        });
        try {
          if ((await pendingMigrations(client)).length > 0) await migrate(pg);
          else migrated = true;
        } finally {
          client.release();
        }
      }
      return storesOver(pg);
    },
    async describe(): Promise<StoreDescription> {
      const known = PG_MIGRATIONS.map((m) => m.name);
      const pg = await connection();
      try {
        const client = await pg.pool.connect();
        try {
          const applied = await appliedMigrations(client);
          const hasRuns = (await client.query<{ t: string | null }>("SELECT to_regclass('runs')::text AS t")).rows[0]?.t != null;
          const counts = hasRuns ? (await client.query<{ status: string; n: number }>('SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status')).rows : [];
          const size = (await client.query<{ size: number }>('SELECT pg_database_size(current_database()) AS size')).rows[0]!.size;
          return { location, exists: true, sizeBytes: size, migrations: { applied, known }, runsByStatus: Object.fromEntries(counts.map((row) => [row.status, row.n])) };
        } finally {
          client.release();
        }
      } catch (error) {
        throw error instanceof AppError ? error : databaseError(pg.location, pg.redact, error);
      }
    },
    async close() {
      const open = db;
      db = undefined;
      stores = undefined;
      migrated = false;
      if (open) await (await open.catch(() => undefined))?.close();
    },
  };
}
