/**
 * `quire sync`: validate every file, then mirror the workspace into the database in one
 * transaction. Nothing is written when any file is invalid.
 *
 * The parsers (YAML, Handlebars, JSON Schema) are loaded only when some file changed:
 * a resync of an unchanged workspace is decided from file sizes and mtimes alone.
 */
import { existsSync } from 'node:fs';
import { readFileCache, readState, refreshFileStats, type CachedFileRow } from '../adapters/db/file-cache.js';
import { workspaceFingerprint } from '../adapters/db/fingerprint.js';
import { pendingMigrations } from '../adapters/db/migrate.js';
import type { KindCounts, SyncReport } from '../adapters/db/mirror.js';
import { mirrorWorkspace } from '../adapters/db/mirror.js';
import { connectDatabase, enableWal, openDatabase, prepareDatabase, type Db } from '../adapters/db/open.js';
import { readWorkspaceFiles, type KnownFile, type WorkspaceFiles } from '../adapters/fs/workspace-files.js';
import { contentHash } from '../core/hash.js';
import type { Workspace } from '../core/types.js';

export interface SyncResult {
  report: SyncReport;
  workspace: Workspace;
  hashes: Map<string, string>;
  db: Db;
}

/**
 * The first half of a sync: connect without writing and compare the workspace's files
 * with what the last sync recorded. `check.hashes` is set only when nothing changed.
 */
export interface SyncStart {
  db: Db | undefined;
  /** The database is migrated, so its parse cache is usable. */
  current: boolean;
  check?: { read: WorkspaceFiles; hashes?: Map<string, string> };
}

export function startSync(root: string, dbPath: string): SyncStart {
  const db = existsSync(dbPath) ? connectDatabase(dbPath) : undefined;
  try {
    // A database still to be migrated (an older quire's, or the original system's) has no cache yet.
    const current = db !== undefined && pendingMigrations(db).length === 0;
    return { db, current, ...(current ? { check: checkSinceLastSync(db, root) } : {}) };
  } catch (error) {
    db?.close();
    throw error;
  }
}

/**
 * The second half: validate (reusing the check's walk, so only changed files are read),
 * then mirror. The connection becomes a writing one only once every file is valid; it is
 * returned open (the caller closes it) and closed on failure.
 * @throws ProblemsError when any file is invalid; MigrationError for a newer database.
 */
export async function finishSync(start: SyncStart, root: string, dbPath: string): Promise<SyncResult> {
  try {
    const previous = start.current ? readFileCache(start.db!) : new Map<string, CachedFileRow>();
    return await syncWith(start.db, previous, root, dbPath, start.check?.read);
  } catch (error) {
    if (start.db?.open) start.db.close();
    throw error;
  }
}

/** Syncs and returns the model and the open database (the caller closes it), for `run`. */
export async function syncWorkspace(root: string, dbPath: string): Promise<SyncResult> {
  return finishSync(startSync(root, dbPath), root, dbPath);
}

/**
 * `quire sync` itself: when every file has the size and mtime recorded at the last sync
 * and the fingerprint matches, report "unchanged" without reading or parsing anything.
 */
export async function syncOnly(root: string, dbPath: string): Promise<SyncReport> {
  const start = startSync(root, dbPath);
  const unchanged = start.check?.hashes ? unchangedReport(start.db!) : undefined;
  if (unchanged) {
    try {
      // Same bytes under new mtimes (a touch, a checkout): record the stats so the next sync skips them.
      const restat = start.check!.read.files.filter((f) => f.bytes !== undefined);
      if (restat.length > 0) refreshFileStats(prepareDatabase(start.db!, dbPath), restat);
      return unchanged;
    } finally {
      if (start.db!.open) start.db!.close();
    }
  }
  const result = await finishSync(start, root, dbPath);
  result.db.close();
  return result.report;
}

async function syncWith(existing: Db | undefined, previous: Map<string, CachedFileRow>, root: string, dbPath: string, alreadyRead?: WorkspaceFiles): Promise<SyncResult> {
  const { loadCheckedWorkspace } = await import('./load.js');
  const checked = loadCheckedWorkspace(root, previous, alreadyRead);
  const db = existing ? prepareDatabase(existing, dbPath) : openDatabase(dbPath, { deferWal: true });
  try {
    const report = mirrorWorkspace(db, { workspace: checked.workspace, files: checked.files, stats: checked.stats, previous });
    if (!existing) enableWal(db);
    return { report, workspace: checked.workspace, hashes: checked.hashes, db };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Walks the workspace against what the last sync recorded; `hashes` is set only when nothing changed. */
function checkSinceLastSync(db: Db, root: string): { read: WorkspaceFiles; hashes?: Map<string, string> } {
  const known = new Map<string, KnownFile>();
  for (const [path, size, mtimeMs, hash] of db.prepare('SELECT path, size, mtime_ms, hash FROM quire_files').raw().all() as [string, number, number, string][]) {
    known.set(path, { size, mtimeMs, hash });
  }
  const read = readWorkspaceFiles(root, known);
  const stored = readState(db, 'fingerprint');
  if (!stored || known.size === 0) return { read };
  if (read.problems.length > 0 || read.files.length !== known.size) return { read };
  // A file read again (new mtime, or recorded as racily clean) may still hold the same bytes.
  const hashes = new Map<string, string>();
  for (const file of read.files) {
    const hash = file.knownHash ?? contentHash(file.bytes!);
    if (hash !== known.get(file.path)?.hash) return { read };
    hashes.set(file.path, hash);
  }
  return workspaceFingerprint(hashes) === stored ? { read, hashes } : { read };
}

/** The "nothing changed" report from the stored counts (the caller checked the files). */
function unchangedReport(db: Db): SyncReport | undefined {
  const counts = readState(db, 'counts');
  if (!counts) return undefined;
  const { blocks, payloads, workflows } = JSON.parse(counts) as Record<'blocks' | 'payloads' | 'workflows', number>;
  const same = (n: number): KindCounts => ({ added: 0, updated: 0, adopted: 0, archived: 0, removed: 0, unchanged: n });
  return { blocks: same(blocks), payloads: same(payloads), workflows: same(workflows) };
}
