/**
 * Reading and checking the workspace: the step every command starts with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFileCache, type CachedFileRow } from '../adapters/db/file-cache.js';
import { pendingMigrations } from '../adapters/db/migrate.js';
import { connectDatabase, type Db } from '../adapters/db/open.js';
import { join } from 'node:path';
import { readWorkspaceFiles, type WorkspaceFiles } from '../adapters/fs/workspace-files.js';
import { ProblemsError } from '../core/errors.js';
import { loadWorkspace, type LoadResult } from '../core/workspace.js';

export interface CheckedWorkspace extends LoadResult {
  fileCount: number;
  /** Size and mtime of every file read. */
  stats: Map<string, { size: number; mtimeMs: number }>;
}

/**
 * Reads and validates the workspace, reusing the parse cache of the last sync for files
 * whose size and mtime are unchanged. Returns problems instead of throwing.
 */
export function inspectWorkspace(root: string, cache?: ReadonlyMap<string, CachedFileRow>, alreadyRead?: WorkspaceFiles): CheckedWorkspace {
  const read = alreadyRead ? withBytesWhereUncached(root, alreadyRead, cache) : readWorkspaceFiles(root, cache);
  const loaded = loadWorkspace(read.files, { ...(cache ? { cache } : {}), unreadable: read.problems.map((p) => p.file) });
  return {
    ...loaded,
    problems: [...read.problems, ...loaded.problems],
    fileCount: read.files.length,
    stats: new Map(read.files.map((f) => [f.path, { size: f.size, mtimeMs: f.mtimeMs }])),
  };
}

/** Reads and validates the workspace; throws ProblemsError listing every problem. */
export function loadCheckedWorkspace(root: string, cache?: ReadonlyMap<string, CachedFileRow>, alreadyRead?: WorkspaceFiles): CheckedWorkspace {
  const result = inspectWorkspace(root, cache, alreadyRead);
  if (result.problems.length > 0) throw new ProblemsError(result.problems);
  return result;
}

/**
 * Files from an earlier walk that were judged unchanged by size and mtime but whose
 * parse is not in the cache (a cache row that no longer matches): read them now.
 */
function withBytesWhereUncached(root: string, read: WorkspaceFiles, cache?: ReadonlyMap<string, CachedFileRow>): WorkspaceFiles {
  return {
    problems: read.problems,
    files: read.files.map((file) => (file.bytes === undefined && !cache?.has(file.path) ? { ...file, bytes: readFileSync(join(root, file.path)) } : file)),
  };
}

/**
 * Runs `use` with the workspace checked against the parse cache of the last sync, when
 * there is a database: files unchanged since then are not parsed again. The database is
 * opened read-only (nothing is written) and stays open while `use` runs, because cached
 * block bodies are loaded from it on first use.
 */
export function withInspectedWorkspace<T>(root: string, dbPath: string, use: (checked: CheckedWorkspace) => T): T {
  let db: Db | undefined;
  try {
    if (existsSync(dbPath)) {
      db = connectDatabase(dbPath, { readonly: true });
      if (pendingMigrations(db).length > 0) {
        db.close();
        db = undefined;
      }
    }
  } catch {
    // An unreadable or foreign database only means no cache: the files are still checked.
    if (db?.open) db.close();
    db = undefined;
  }
  try {
    return use(inspectWorkspace(root, db ? readFileCache(db) : undefined));
  } finally {
    if (db?.open) db.close();
  }
}
