/**
 * Opening the SQLite database: connect (reads only), then prepare for writing (WAL,
 * migrations), so no command can forget the migrations and a command that fails
 * validation never writes a byte.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../../core/errors.js';
import { migrate } from './migrate.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Open without migrating or creating (for read-only inspection). */
  readonly?: boolean;
}

/** Connects to an existing database file without writing anything to it. */
export function connectDatabase(path: string, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: true });
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // fails now, clearly, if the file is not a database
  } catch (error) {
    throw databaseError(path, error);
  }
  return db;
}

/**
 * Makes a connection ready for writes: WAL (so `quire runs` can read while `quire watch`
 * writes), then pending migrations. Closes the connection on failure.
 */
export function prepareDatabase(db: Db, path: string): Db {
  try {
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL survives a crash of the process; only power loss may lose the last commits.
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (error) {
    db.close();
    throw databaseError(path, error);
  }
  return db;
}

/** Opens (creating if needed) and migrates the database at `path`. */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (options.readonly) return connectDatabase(path, options);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    throw databaseError(path, error);
  }
  return prepareDatabase(db, path);
}

function databaseError(path: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { code?: string }).code;
  return new AppError('DATABASE', `cannot use database ${path}: ${(error as Error).message}`, {
    cause: error,
    ...(code === 'SQLITE_NOTADB' ? { hint: 'the file is not a SQLite database; point --db at another file' } : {}),
  });
}
