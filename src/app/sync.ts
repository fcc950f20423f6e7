/**
 * `quire sync`: validate every file, then mirror the workspace into the database in one
 * transaction. Nothing is written when any file is invalid.
 */
import { existsSync } from 'node:fs';
import { readFileCache, type CachedFileRow } from '../adapters/db/file-cache.js';
import { pendingMigrations } from '../adapters/db/migrate.js';
import { mirrorWorkspace, type SyncReport } from '../adapters/db/mirror.js';
import { connectDatabase, openDatabase, prepareDatabase, type Db } from '../adapters/db/open.js';
import type { Workspace } from '../core/types.js';
import { loadCheckedWorkspace } from './load.js';

export interface SyncResult {
  report: SyncReport;
  workspace: Workspace;
  hashes: Map<string, string>;
  db: Db;
}

/**
 * Syncs and returns the open database (the caller closes it), so `run` can go on with it.
 * The parse cache is read first through a connection that writes nothing; it becomes the
 * writing connection only once every file is valid.
 * @throws ProblemsError when any file is invalid; MigrationError for a newer database.
 */
export function syncWorkspace(root: string, dbPath: string): SyncResult {
  const existing = existsSync(dbPath) ? connectDatabase(dbPath) : undefined;
  let previous: Map<string, CachedFileRow> = new Map();
  try {
    // A database still to be migrated (an older quire's, or the original system's) has no cache yet.
    if (existing && pendingMigrations(existing).length === 0) previous = readFileCache(existing);
    const checked = loadCheckedWorkspace(root, previous);
    const db = existing ? prepareDatabase(existing, dbPath) : openDatabase(dbPath);
    try {
      const report = mirrorWorkspace(db, { workspace: checked.workspace, files: checked.files, stats: checked.stats, previous });
      return { report, workspace: checked.workspace, hashes: checked.hashes, db };
    } catch (error) {
      db.close();
      throw error;
    }
  } catch (error) {
    if (existing?.open) existing.close();
    throw error;
  }
}
