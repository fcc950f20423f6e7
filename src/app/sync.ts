/**
 * `quire sync`: validate every file, then mirror the workspace into the stores. Nothing
 * is written when any file is invalid.
 *
 * The parsers (YAML, Handlebars, JSON Schema) are loaded only when some file changed:
 * a resync of an unchanged workspace is decided from file sizes and mtimes alone.
 */
import { everythingChanged, findChanges, hasChanges } from '../core/changes.js';
import { contentHash } from '../core/hash.js';
import { mirrorFingerprint } from '../core/fingerprint.js';
import { unchangedReport, type SyncReport } from '../core/sync-report.js';
import type { Workspace, WorkspaceFiles } from '../core/types.js';
import type { CachedFileEntry, FileState } from '../core/workspace.js';
import type { AppContext } from './context.js';
import { settleInterruptedRuns } from './interrupted.js';
import type { MirrorStore, ParseCache } from '../core/ports.js';

/** A validated model of the workspace and every file's hash (recorded with runs). */
export interface WorkspaceModel {
  workspace: Workspace;
  hashes: Map<string, string>;
}

export interface SyncedModel extends WorkspaceModel {
  report: SyncReport;
  /** Every parsed file, and the size and mtime it had: what a live model starts from. */
  files: Map<string, FileState>;
  stats: Map<string, { size: number; mtimeMs: number }>;
}

/**
 * The workspace's files compared with what the last sync recorded. `hashes` is set only
 * when nothing changed; `read` is the walk, reused by the sync that follows.
 */
export interface SyncCheck {
  cache: ParseCache | undefined;
  read: WorkspaceFiles;
  hashes?: Map<string, string>;
}

export function checkSinceLastSync(ctx: AppContext): SyncCheck {
  const cache = ctx.stores.readCache();
  const known = cache?.knownFiles() ?? new Map();
  const read = ctx.files.walk(known);
  if (!cache || known.size === 0 || read.problems.length > 0 || read.files.length !== known.size) return { cache, read };
  // A file read again (new mtime, or recorded as racily clean) may still hold the same bytes.
  const hashes = new Map<string, string>();
  for (const file of read.files) {
    const hash = file.knownHash ?? contentHash(file.bytes!);
    if (hash !== known.get(file.path)?.hash) return { cache, read };
    hashes.set(file.path, hash);
  }
  return cache.matchesLastSync(hashes) ? { cache, read, hashes } : { cache, read };
}

/**
 * Validates (reusing the check's walk, so only changed files are read), then mirrors and
 * records the parse cache. The stores are opened for writing only once every file is valid.
 * @throws ProblemsError when any file is invalid; MigrationError for a newer database.
 */
export async function syncChecked(ctx: AppContext, check: SyncCheck): Promise<SyncedModel> {
  const previous: Map<string, CachedFileEntry> = check.cache?.entries() ?? new Map();
  const { loadCheckedWorkspace } = await import('./load.js');
  const checked = loadCheckedWorkspace(ctx.files, previous, check.read);
  const stores = await ctx.stores.forWriting();
  const { workspace, files, hashes, stats } = checked;
  const found = findChanges(files, previous);
  const counts = { blocks: workspace.blocks.size, payloads: workspace.payloads.size, workflows: workspace.workflows.size };
  const recorded = !hasChanges(found) && stores.cache.matchesLastSync(hashes);
  // Rows deleted behind quire's back (or a shared store another checkout synced since): compare every row.
  const intact = recorded && (await mirrorHolds(stores.mirror, counts, hashes));
  const changes = recorded && !intact ? everythingChanged(files) : found;
  const same = recorded && intact;
  const report = same ? unchangedReport(counts) : await stores.mirror.apply(workspace, changes, stores.mirror.holdsFiles ? mirrorFingerprint(hashes) : undefined);

  const changed = [...stats].flatMap(([path, stat]) => {
    const before = previous.get(path);
    const state = files.get(path);
    return state && (!before || before.size !== stat.size || before.mtimeMs !== stat.mtimeMs || changes.paths.has(path)) ? [{ path, ...stat, state }] : [];
  });
  if (!same || changed.length > 0) stores.cache.record({ changed, removed: changes.removedPaths, hashes, counts });
  return { workspace, hashes, report, files, stats };
}

/**
 * Whether the mirror still holds as many file-backed rows as the last sync wrote, and,
 * in a shared store, rows made from exactly these files (not another checkout's commit).
 */
export async function mirrorHolds(mirror: MirrorStore, counts: { blocks: number; payloads: number; workflows: number }, hashes: ReadonlyMap<string, string>): Promise<boolean> {
  if (mirror.holdsFiles && !(await mirror.holdsFiles(mirrorFingerprint(hashes)))) return false;
  const rows = await mirror.fileRowCounts();
  return rows.blocks === counts.blocks && rows.payloads === counts.payloads && rows.workflows === counts.workflows;
}

/** Syncs and returns the whole validated model: what a long-lived process runs many runs on. */
export async function syncModel(ctx: AppContext): Promise<SyncedModel> {
  return syncChecked(ctx, checkSinceLastSync(ctx));
}

/**
 * `quire sync` itself: when every file has the size and mtime recorded at the last sync
 * and the fingerprint matches, report "unchanged" without reading or parsing anything.
 */
export async function syncFiles(ctx: AppContext): Promise<SyncReport> {
  const report = await syncOrSkip(ctx);
  // Like every command that opens the database: no dead process's run stays `running`.
  await settleInterruptedRuns(ctx);
  return report;
}

async function syncOrSkip(ctx: AppContext): Promise<SyncReport> {
  const check = checkSinceLastSync(ctx);
  const counts = check.hashes ? check.cache!.lastCounts() : undefined;
  if (counts && (await mirrorHolds((await ctx.stores.forReading()).mirror, counts, check.hashes!))) {
    // Same bytes under new mtimes (a touch, a checkout): record the stats so the next sync skips them.
    const restat = check.read.files.filter((f) => f.bytes !== undefined);
    if (restat.length > 0) (await ctx.stores.forWriting()).cache.refreshStats(restat);
    return unchangedReport(counts);
  }
  return (await syncChecked(ctx, check)).report;
}
