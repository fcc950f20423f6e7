/**
 * Reading and checking the workspace: the step every command starts with.
 */
import { ProblemsError } from '../core/errors.js';
import type { WorkspaceFiles } from '../core/types.js';
import { loadWorkspace, type CachedFileEntry, type LoadResult } from '../core/workspace.js';
import type { AppContext } from './context.js';
import type { WorkspaceReader } from '../core/ports.js';

export interface CheckedWorkspace extends LoadResult {
  fileCount: number;
  /** Size and mtime of every file read. */
  stats: Map<string, { size: number; mtimeMs: number }>;
}

/**
 * Reads and validates the workspace, reusing the parse cache of the last sync for files
 * whose size and mtime are unchanged (`alreadyRead`: a walk made against that cache).
 * Returns problems instead of throwing.
 */
export function inspectWorkspace(files: WorkspaceReader, cache?: ReadonlyMap<string, CachedFileEntry>, alreadyRead?: WorkspaceFiles): CheckedWorkspace {
  const read = alreadyRead ? withBytesWhereUncached(files, alreadyRead, cache) : files.walk(cache);
  const loaded = loadWorkspace(read.files, { ...(cache ? { cache } : {}), unreadable: read.problems.map((p) => p.file) });
  return {
    ...loaded,
    problems: [...read.problems, ...loaded.problems],
    fileCount: read.files.length,
    stats: new Map(read.files.map((f) => [f.path, { size: f.size, mtimeMs: f.mtimeMs }])),
  };
}

/** Reads and validates the workspace; throws ProblemsError listing every problem. */
export function loadCheckedWorkspace(files: WorkspaceReader, cache?: ReadonlyMap<string, CachedFileEntry>, alreadyRead?: WorkspaceFiles): CheckedWorkspace {
  const result = inspectWorkspace(files, cache, alreadyRead);
  if (result.problems.length > 0) throw new ProblemsError(result.problems);
  return result;
}

/**
 * Files from an earlier walk that were judged unchanged by size and mtime but whose
 * parse is not in the cache (a cache row that no longer matches): read them now.
 */
function withBytesWhereUncached(files: WorkspaceReader, read: WorkspaceFiles, cache?: ReadonlyMap<string, CachedFileEntry>): WorkspaceFiles {
  return {
    problems: read.problems,
    files: read.files.map((file) => (file.bytes === undefined && !cache?.has(file.path) ? { ...file, bytes: files.read(file.path) } : file)),
  };
}

/**
 * The workspace checked against the parse cache of the last sync, when there is a
 * usable one (files unchanged since then are not parsed again). Writes nothing.
 */
export function inspectWithCache(ctx: AppContext): CheckedWorkspace {
  let cache: ReadonlyMap<string, CachedFileEntry> | undefined;
  try {
    cache = ctx.stores.readCache()?.entries();
  } catch {
    // An unreadable or foreign database only means no cache: the files are still checked.
    cache = undefined;
  }
  return inspectWorkspace(ctx.files, cache);
}
