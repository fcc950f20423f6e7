/**
 * Opening the SQLite database: pragmas, then migrations, so no command can forget them.
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

/** Opens (creating if needed) and migrates the database at `path`. */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (!options.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (error) {
    throw new AppError('DATABASE', `cannot open database ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    // WAL lets `quire runs` read while `quire watch` writes; the busy timeout makes
    // concurrent writers wait instead of failing at once.
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('synchronous = NORMAL');
      migrate(db);
    }
  } catch (error) {
    db.close();
    if (error instanceof AppError) throw error;
    throw new AppError('DATABASE', `cannot use database ${path}: ${(error as Error).message}`, {
      cause: error,
      hint: (error as { code?: string }).code === 'SQLITE_NOTADB' ? 'the file is not a SQLite database; point --db at another file' : undefined,
    });
  }
  return db;
}
