/**
 * Reading and checking the workspace: the step every command starts with.
 */
import { existsSync } from 'node:fs';
import { readBlockCache } from '../adapters/db/block-cache.js';
import { appliedMigrations } from '../adapters/db/migrate.js';
import { openDatabase } from '../adapters/db/open.js';
import { readWorkspaceFiles } from '../adapters/fs/workspace-files.js';
import { ProblemsError, type Problem } from '../core/errors.js';
import { loadWorkspace, type BlockCache, type LoadResult } from '../core/workspace.js';

export interface CheckedWorkspace extends LoadResult {
  fileCount: number;
}

/** Reads and validates the workspace. Returns problems instead of throwing. */
export function inspectWorkspace(root: string, cache?: BlockCache): CheckedWorkspace & { problems: Problem[] } {
  const read = readWorkspaceFiles(root);
  const loaded = loadWorkspace(read.files, { ...(cache ? { cache } : {}), unreadable: read.problems.map((p) => p.file) });
  return { ...loaded, problems: [...read.problems, ...loaded.problems], fileCount: read.files.length };
}

/** Reads and validates the workspace; throws ProblemsError listing every problem. */
export function loadCheckedWorkspace(root: string, cache?: BlockCache): CheckedWorkspace {
  const result = inspectWorkspace(root, cache);
  if (result.problems.length > 0) throw new ProblemsError(result.problems);
  return result;
}

/**
 * The blocks of the last sync, read through a read-only connection, so a failed
 * validation leaves the database file exactly as it was.
 */
export function readCacheIfPresent(dbPath: string): BlockCache | undefined {
  if (!existsSync(dbPath)) return undefined;
  let db;
  try {
    db = openDatabase(dbPath, { readonly: true });
  } catch {
    return undefined; // not readable now: the writable open reports the real error
  }
  try {
    if (!appliedMigrations(db).includes('m002_file_mirror')) return undefined;
    return readBlockCache(db);
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}
