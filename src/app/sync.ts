/**
 * `quire sync`: validate every file, then mirror the workspace into the database in one
 * transaction. Nothing is written when any file is invalid.
 */
import { mirrorWorkspace, type SyncReport } from '../adapters/db/mirror.js';
import { openDatabase, type Db } from '../adapters/db/open.js';
import type { Workspace } from '../core/types.js';
import { loadCheckedWorkspace, readCacheIfPresent } from './load.js';

export interface SyncResult {
  report: SyncReport;
  workspace: Workspace;
  hashes: Map<string, string>;
  db: Db;
}

/**
 * Syncs and returns the open database (the caller closes it), so `run` can go on with it.
 * @throws ProblemsError when any file is invalid (the database is not opened for writing).
 */
export function syncWorkspace(root: string, dbPath: string): SyncResult {
  const { workspace, hashes } = loadCheckedWorkspace(root, readCacheIfPresent(dbPath));
  const db = openDatabase(dbPath);
  try {
    const report = mirrorWorkspace(db, workspace);
    return { report, workspace, hashes, db };
  } catch (error) {
    db.close();
    throw error;
  }
}
