/**
 * The stores of one SQLite database file, behind one lazily opened connection:
 *
 * - readCache() connects without writing (a sync that finds a problem leaves the file
 *   byte-identical);
 * - forReading() opens read-only when the schema is current (`runs`, `show`, the
 *   viewer read beside a writer), and migrates only a database that needs it;
 * - forWriting() prepares the connection for writes (WAL, migrations), creating the file
 *   on first use. A new database's first sync writes in rollback-journal mode (each page
 *   written once) and switches to WAL before any later write;
 * - describe() reads what is there (`quire doctor`) on the open connection or a read-only
 *   one of its own, and never creates the file.
 */
import { existsSync, statSync } from 'node:fs';
import type { ParseCache, StoreDescription, StoreProvider, Stores } from '../../core/ports.js';
import { AppError } from '../../core/errors.js';
import { createBatchStore } from './batches.js';
import { createHistoryStore } from './history.js';
import { appliedMigrations, pendingMigrations } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { createMirrorStore } from './mirror.js';
import { createViewQueries } from './view.js';
import { connectDatabase, enableWal, openDatabase, prepareDatabase, type Db } from './open.js';
import { blockTextFrom, createParseCache, type BlockTextLoader } from './parse-cache.js';

type Mode = 'connected' | 'readonly' | 'writable';

export function createSqliteStoreProvider(dbPath: string): StoreProvider {
  let db: Db | undefined;
  let mode: Mode | undefined;
  let walPending = false;
  let stores: Stores | undefined;

  // Cached blocks read their text on first use, also after the stores are closed (a
  // long-lived model outlives a connection): then a short-lived read-only one answers.
  let textOf: { connection: Db; load: BlockTextLoader } | undefined;
  const loadText: BlockTextLoader = (sourcePath, contentHash) => {
    if (db?.open) {
      if (textOf?.connection !== db) textOf = { connection: db, load: blockTextFrom(db) };
      return textOf.load(sourcePath, contentHash);
    }
    if (!existsSync(dbPath)) return undefined;
    const once = connectDatabase(dbPath, { readonly: true });
    try {
      return blockTextFrom(once)(sourcePath, contentHash);
    } finally {
      once.close();
    }
  };
  const ensureWal = () => {
    if (!walPending || !db) return;
    walPending = false;
    enableWal(db);
  };
  // The first sync of a new database (its mirror, then its cache) writes each page once; every later write goes through WAL.
  let firstSyncRecorded = false;
  const storesOver = (connection: Db): Stores => {
    const mirror = createMirrorStore(connection);
    const cache = createParseCache(connection, loadText);
    const laterWrite = () => {
      if (firstSyncRecorded) ensureWal();
    };
    return {
      history: createHistoryStore(connection, ensureWal),
      batches: createBatchStore(connection, ensureWal),
      view: createViewQueries(connection),
      mirror: {
        ...mirror,
        apply: (workspace, changes) => {
          laterWrite();
          return mirror.apply(workspace, changes);
        },
      },
      cache: {
        ...cache,
        record: (sync) => {
          laterWrite();
          cache.record(sync);
          firstSyncRecorded = true;
        },
        markSynced: (hashes, counts) => {
          ensureWal();
          cache.markSynced(hashes, counts);
        },
        refreshStats: (files) => {
          ensureWal();
          cache.refreshStats(files);
        },
      },
    };
  };
  const closeConnection = () => {
    ensureWal();
    if (db?.open) db.close();
    db = undefined;
    mode = undefined;
    stores = undefined;
  };

  return {
    location: dbPath,

    readCache(): ParseCache | undefined {
      if (!db) {
        if (!existsSync(dbPath)) return undefined;
        db = connectDatabase(dbPath);
        mode = 'connected';
      }
      try {
        // A database still to be migrated (an older quire's, or the original system's) has no cache yet.
        if (pendingMigrations(db).length > 0) return undefined;
      } catch (error) {
        closeConnection();
        throw error;
      }
      return (stores ??= storesOver(db)).cache;
    },

    async forWriting(): Promise<Stores> {
      if (mode === 'writable') return stores!;
      if (mode === 'readonly') closeConnection();
      if (db) {
        db = prepareDatabase(db, dbPath); // closes the connection when it fails
      } else if (existsSync(dbPath)) {
        db = prepareDatabase(connectDatabase(dbPath), dbPath);
      } else {
        db = openDatabase(dbPath, { deferWal: true });
        walPending = true;
      }
      mode = 'writable';
      stores = storesOver(db);
      return stores;
    },

    async forReading(): Promise<Stores> {
      if (db && mode !== 'connected') return stores!;
      if (!db) {
        if (!existsSync(dbPath)) throw new AppError('NOT_FOUND', `no database at ${dbPath} yet`, { hint: 'run `quire sync` or `quire run <workflow>` first' });
        db = connectDatabase(dbPath, { readonly: true });
        mode = 'readonly';
      }
      let pending: number;
      try {
        pending = pendingMigrations(db).length;
      } catch (error) {
        closeConnection();
        throw error;
      }
      // An older schema is migrated once (a write); a current one is only read.
      if (pending > 0) {
        if (mode === 'readonly') closeConnection();
        return this.forWriting();
      }
      // The cache's connection (readCache) already has its stores: reading shares them.
      return (stores ??= storesOver(db));
    },

    async describe(): Promise<StoreDescription> {
      const known = MIGRATIONS.map((m) => m.name);
      if (!existsSync(dbPath)) return { location: dbPath, exists: false, sizeBytes: 0, migrations: { applied: [], known }, runsByStatus: {} };
      const sizeBytes = statSync(dbPath).size;
      // The open connection when there is one; else a read-only one of its own, closed again.
      const connection = db?.open ? db : connectDatabase(dbPath, { readonly: true });
      try {
        const hasRuns = connection.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).get() !== undefined;
        const counts = hasRuns ? (connection.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status').all() as { status: string; n: number }[]) : [];
        return {
          location: dbPath,
          exists: true,
          sizeBytes,
          migrations: { applied: appliedMigrations(connection), known },
          runsByStatus: Object.fromEntries(counts.map((row) => [row.status, row.n])),
        };
      } catch (error) {
        throw error instanceof AppError ? error : new AppError('DATABASE', `cannot read database ${dbPath}: ${(error as Error).message}`, { cause: error });
      } finally {
        if (connection !== db) connection.close();
      }
    },

    async close() {
      closeConnection();
    },
  };
}
