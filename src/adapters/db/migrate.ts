/**
 * Applying migrations: pending ones in list order, each in one transaction with its record.
 */
import type Database from 'better-sqlite3';
import { MigrationError } from '../../core/errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export const MIGRATIONS_TABLE = 'quire_migrations';

/** Names of the migrations recorded in the database, in the order applied. */
export function appliedMigrations(db: Database.Database): string[] {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(MIGRATIONS_TABLE);
  if (!exists) return [];
  return (db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY rowid`).all() as { name: string }[]).map((row) => row.name);
}

/** Migrations not yet applied. Throws MigrationError for a database from a newer quire. */
export function pendingMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): Migration[] {
  const known = new Set(migrations.map((m) => m.name));
  if (known.size !== migrations.length) throw new Error('duplicate migration name in MIGRATIONS');
  const applied = appliedMigrations(db);
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new MigrationError(`the database was migrated by a newer version of quire (it has ${unknown.join(', ')}); this quire cannot use it safely`, {
      hint: 'upgrade quire, or point --db at another database file',
    });
  }
  const done = new Set(applied);
  return migrations.filter((m) => !done.has(m.name));
}

/**
 * Applies every pending migration; returns the names this call applied. Each runs in its
 * own write transaction, and whether it is still pending is decided again inside that
 * transaction: several processes opening a new or old database at once each see the
 * migrations another has applied meanwhile, and skip them.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): string[] {
  const pending = pendingMigrations(db, migrations);
  if (pending.length === 0) return [];
  const applied: string[] = [];
  for (const migration of pending) {
    const apply = db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`);
      if (db.prepare(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE name = ?`).get(migration.name)) return false;
      migration.up(db);
      db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name, applied_at) VALUES (?, ?)`).run(migration.name, new Date().toISOString());
      return true;
    });
    try {
      if (apply.immediate()) applied.push(migration.name);
    } catch (error) {
      throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
  return applied;
}
