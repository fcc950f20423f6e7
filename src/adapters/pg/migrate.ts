/**
 * Applying the Postgres migrations: pending ones in list order, each in one transaction
 * with the `quire_migrations` row that records it, all under one advisory lock, so several
 * processes using a new or old database at once migrate it exactly once (the others wait,
 * then find nothing pending). A database migrated by a newer quire is refused untouched,
 * as SQLite's (adapters/db/migrate.ts).
 */
import type pg from 'pg';
import { MigrationError } from '../../core/errors.js';
import { PG_MIGRATIONS, type PgMigration } from './migrations.js';
import type { PgDb } from './open.js';

export const MIGRATIONS_TABLE = 'quire_migrations';

/** The advisory lock key quire's migrations hold (any fixed 64-bit number, the same in every quire). */
export const MIGRATION_LOCK = 0x7175697265_01; // "quire", 1

/** How long a process waits for another one's migrations before giving up. */
const LOCK_WAIT_MS = 120_000;

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Names of the migrations recorded in the database, in the order applied. */
export async function appliedMigrations(db: Queryable): Promise<string[]> {
  const table = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [MIGRATIONS_TABLE]);
  if (!table.rows[0]?.t) return [];
  return (await db.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`)).rows.map((row) => row.name);
}

/** Migrations not yet applied. Throws MigrationError for a database from a newer quire. */
export async function pendingMigrations(db: Queryable, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<PgMigration[]> {
  const known = new Set(migrations.map((m) => m.name));
  if (known.size !== migrations.length) throw new Error('duplicate migration name in PG_MIGRATIONS');
  const applied = await appliedMigrations(db);
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new MigrationError(`the database was migrated by a newer version of quire (it has ${unknown.join(', ')}); this quire cannot use it safely`, {
      hint: 'upgrade quire, or point quire at another database',
    });
  }
  const done = new Set(applied);
  return migrations.filter((m) => !done.has(m.name));
}

/**
 * Applies every pending migration; returns the names this call applied. Nothing pending
 * (the usual case) costs one read and takes no lock.
 */
export async function migratePostgres(db: Pick<PgDb, 'pool'>, migrations: readonly PgMigration[] = PG_MIGRATIONS, options: { lockWaitMs?: number } = {}): Promise<string[]> {
  const client = await db.pool.connect();
  let locked = false;
  let broken = false;
  try {
    if ((await pendingMigrations(client, migrations)).length === 0) return [];
    // A session lock held across the per-migration transactions, waited for at most lockWaitMs.
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(options.lockWaitMs ?? LOCK_WAIT_MS))}`);
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') {
        throw new MigrationError('timed out waiting for another quire process that is migrating the database', { hint: 'try again when it has finished' });
      }
      throw error;
    } finally {
      await client.query('SET lock_timeout = 0').catch(() => {
        broken = true;
      });
    }
    locked = true;
    // Decided again under the lock: another process may have migrated meanwhile.
    const pending = await pendingMigrations(client, migrations);
    const applied: string[] = [];
    for (const migration of pending) {
      try {
        await client.query('BEGIN');
        await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)`);
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, applied_at) VALUES ($1, $2)`, [migration.name, new Date().toISOString()]);
        await client.query('COMMIT');
        applied.push(migration.name);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    return applied;
  } finally {
    if (locked && !broken) await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => { broken = true; });
    // A connection that may still hold the lock is dropped, never reused: closing it releases the lock.
    client.release(broken);
  }
}
