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

/** How long a connection waits for another process's write lock. */
const BUSY_TIMEOUT_MS = 5000;

export interface OpenOptions {
  /** Open without migrating or creating (for read-only inspection). */
  readonly?: boolean;
  /**
   * Stay in rollback-journal mode until the caller switches to WAL (enableWal). A new
   * database's first sync writes every page once instead of twice (WAL, then checkpoint);
   * pages that did not exist need no journal, so a crash still leaves a sound file.
   */
  deferWal?: boolean;
}

/** Connects to an existing database file without writing anything to it. */
export function connectDatabase(path: string, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: true });
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // fails now, clearly, if the file is not a database
  } catch (error) {
    throw databaseError(path, error);
  }
  return db;
}

/**
 * Makes a connection ready for writes: WAL (unless deferred), then pending migrations.
 * Closes the connection on failure.
 */
export function prepareDatabase(db: Db, path: string, options: { deferWal?: boolean } = {}): Db {
  try {
    if (!options.deferWal) enableWal(db);
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
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    throw databaseError(path, error);
  }
  return prepareDatabase(db, path, options);
}

/**
 * WAL lets `quire runs` read while `quire watch` writes. Switching needs the database to
 * itself for a moment, and SQLite answers "busy" at once instead of waiting: when other
 * processes are opening the same new database, wait for them as busy_timeout would.
 */
export function enableWal(db: Db, waitMs = BUSY_TIMEOUT_MS): void {
  const deadline = Date.now() + waitMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}

function databaseError(path: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { code?: string }).code;
  return new AppError('DATABASE', `cannot use database ${path}: ${(error as Error).message}`, {
    cause: error,
    ...(code === 'SQLITE_NOTADB' ? { hint: 'the file is not a SQLite database; point --db at another file' } : {}),
  });
}
