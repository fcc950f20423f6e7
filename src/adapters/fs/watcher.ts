/**
 * The WorkspaceWatcher over a folder on disk (chokidar 5, fs.watch underneath): saves to
 * workspace files become batches of workspace-relative paths, one batch per save or burst.
 *
 * What is watched: the root folder itself (so blocks/, workflows/, formats/ and quire.yaml
 * are seen when created later) and, below it, only those four; no dot-names, editor
 * droppings, or files that are not workspace files (each watched folder and file costs one
 * fs.watch handle, an inotify watch on Linux). What is reported: the walk's rule
 * (classifyPath, isIgnoredName on every part), less `ignorePaths`.
 *
 * How a batch is made. chokidar's events only say which paths to look at; what a path
 * became is decided by one stat of it when the batch closes: a file there is `changed`, no
 * file where one was known is `removed`, and a path that was never known and is not there
 * (a file created and deleted within the batch) is dropped. So every way an editor saves
 * (write in place, write a temp file and rename it over, delete and create again, several
 * events for one write) comes out as the one thing that happened to the file.
 *
 * When a batch closes: `debounceMs` (default 40) after the last event, and never sooner
 * than CHANGE_SETTLE_MS after a `change` event nor REMOVE_SETTLE_MS after an `unlink`:
 * - chokidar drops every further `change` of a file for 50 ms after it emitted one (its
 *   throttle, no trailing event), so an in-place save that truncates and then writes
 *   would be reported while still empty, and its last write never seen, if the batch
 *   closed inside those 50 ms;
 * - a file deleted and created again (or renamed away and a new one renamed in) is
 *   absent for a moment; waiting REMOVE_SETTLE_MS after a removal reports it once as
 *   changed, not as removed then changed (what chokidar's `atomic` option does, 100 ms;
 *   that option is off here: it holds removals back while other events pass at once, so a
 *   checkout that edits and deletes files came out as two batches). chokidar also drops
 *   a second removal of the same path within 100 ms; the stat at the close sees it.
 * chokidar's `awaitWriteFinish` (seconds of polling) is not used: a writer that stops for
 * longer than the quiet time in the middle of a file can be seen half-written, and its
 * next write is then reported in a new batch, so the last batch always has the file as
 * it ended up.
 *
 * A file whose size, mtime and inode are what the last batch (or the initial scan) saw is
 * left out: an attribute-only change, a time set back by a tool, and the late `change`
 * chokidar emits for a write the last batch already had (its throttle is checked after
 * an async stat, so under load a write inside the 50 ms can still come out after them).
 * Timestamps are coarse (a clock tick of a few ms on Linux, 1-2 s on some file systems),
 * so when the mtime was within RACY_MS of the stat, equal stats do not prove equal bytes
 * (as git's "racy" index entries): such a file's bytes were hashed when it was reported,
 * and equal stats count only with equal bytes. A rewrite that changes the mtime is
 * reported even with the same bytes (a save of an unchanged file): the consumer compares
 * content anyway.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { normalize, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { AppError } from '../../core/errors.js';
import { contentHash } from '../../core/hash.js';
import { MAX_FILE_BYTES } from '../../core/text.js';
import type { WatchOptions, WorkspaceWatch, WorkspaceWatcher } from '../../core/ports.js';
import { classifyPath, isIgnoredName } from './workspace-files.js';

export const DEFAULT_DEBOUNCE_MS = 40;
/** chokidar drops repeated `change` events of a path for 50 ms; a margin for timer delay. */
const CHANGE_SETTLE_MS = 60;
/** How long a removed file may take to come back and count as changed. */
const REMOVE_SETTLE_MS = 110;
/** A stat whose mtime is this close to when it was taken cannot prove a file unchanged. */
const RACY_MS = 3000;

/** The top-level entries quire reads; nothing else under the root is watched. */
const TOP_LEVEL = new Set(['blocks', 'workflows', 'formats', 'quire.yaml']);

/**
 * Names editors write beside a file while saving it, never watched (they are not
 * workspace files either way; dot-files, `~` and `#` names come from isIgnoredName):
 * vim swap files (.swp ... .swa, .swx), JetBrains safe-write copies.
 */
const EDITOR_TEMP = /\.sw[a-px]$|___jb_(?:tmp|old)___$/;

/** Whether a workspace-relative path is a file quire reads: the same rule as the walk. */
function isWorkspacePath(path: string): boolean {
  return classifyPath(path) !== undefined && !path.split('/').some(isIgnoredName);
}

interface Signature {
  size: number;
  mtimeMs: number;
  ino: number;
  /** Whether the mtime was old enough when read to prove the file unchanged later. */
  settled: boolean;
  /** The bytes' hash, for a file that is not settled (when it could be read). */
  hash?: string;
}

const sameStats = (a: Signature, b: Signature) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

function hashFile(absolute: string, size: number): string | undefined {
  if (size > MAX_FILE_BYTES) return undefined;
  try {
    return contentHash(readFileSync(absolute));
  } catch {
    return undefined;
  }
}

const signature = (stats: Stats): Signature => ({ size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, settled: Date.now() - stats.mtimeMs > RACY_MS });

function statFile(absolute: string): Stats | undefined {
  try {
    const stats = statSync(absolute, { throwIfNoEntry: false });
    return stats?.isFile() ? stats : undefined;
  } catch {
    return undefined; // ENOTDIR (a folder on the way became a file), a link loop, no permission
  }
}

export async function watchWorkspace(root: string, options: WatchOptions): Promise<WorkspaceWatch> {
  const base = resolve(root);
  let rootStats: Stats | undefined;
  try {
    rootStats = statSync(base);
  } catch {
    rootStats = undefined;
  }
  if (!rootStats?.isDirectory()) throw new AppError('NOT_FOUND', `cannot watch ${base}: not a folder`);

  const debounceMs = Math.max(0, options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  // chokidar hands `ignored` normalized, `/`-separated absolute paths; events come with native ones.
  const unixBase = normalize(base).replace(/\\/g, '/').replace(/\/$/, '');
  const nativePrefix = base.endsWith(sep) ? base : base + sep;
  const ignoredAbsolute = new Set(options.ignorePaths.map((path) => normalize(resolve(path)).replace(/\\/g, '/')));
  const ignoredRelative = new Set(options.ignorePaths.map((path) => resolve(path)).filter((path) => path.startsWith(nativePrefix)).map((path) => path.slice(nativePrefix.length).split(sep).join('/')));

  const ignored = (path: string, stats?: Stats): boolean => {
    if (path === unixBase) return false;
    if (!path.startsWith(unixBase + '/')) return true;
    if (ignoredAbsolute.has(path)) return true;
    const relative = path.slice(unixBase.length + 1);
    const parts = relative.split('/');
    if (!TOP_LEVEL.has(parts[0]!)) return true;
    if (parts.some((part) => isIgnoredName(part) || EDITOR_TEMP.test(part))) return true;
    if (!stats) return false; // asked again with stats before anything is watched
    if (stats.isDirectory()) return parts[0] === 'quire.yaml' || (parts[0] === 'formats' && parts.length > 1);
    if (stats.isFile()) return !isWorkspacePath(relative);
    return !stats.isSymbolicLink(); // a link is followed (and asked about again); FIFOs, sockets: never
  };

  const toRelative = (path: string): string | undefined => {
    if (!path.startsWith(nativePrefix)) return undefined;
    const relative = sep === '/' ? path.slice(nativePrefix.length) : path.slice(nativePrefix.length).split(sep).join('/');
    return isWorkspacePath(relative) && !ignoredRelative.has(relative) ? relative : undefined;
  };

  /** Files known to be there, with what they were when last looked at. */
  const known = new Map<string, Signature>();
  /** Paths with events since the last batch. */
  const pending = new Set<string>();
  let deadline = 0;
  let timer: NodeJS.Timeout | undefined;
  let ready = false;
  let closed = false;

  const report = (error: unknown) => options.onError(error instanceof Error ? error : new Error(String(error)));

  const flush = () => {
    timer = undefined;
    if (closed) return;
    const wait = deadline - performance.now();
    if (wait > 0) {
      timer = setTimeout(flush, Math.ceil(wait));
      return;
    }
    const changed: string[] = [];
    const removed: string[] = [];
    for (const path of [...pending].sort()) {
      const absolute = nativePrefix + (sep === '/' ? path : path.split('/').join(sep));
      const stats = statFile(absolute);
      const before = known.get(path);
      if (stats) {
        const now = signature(stats);
        if (!now.settled) now.hash = hashFile(absolute, stats.size);
        known.set(path, now);
        if (before && sameStats(before, now) && (before.settled || (before.hash !== undefined && before.hash === now.hash))) continue;
        changed.push(path);
      } else if (before) {
        known.delete(path);
        removed.push(path);
      }
    }
    pending.clear();
    deadline = 0;
    if (changed.length === 0 && removed.length === 0) return;
    try {
      options.onBatch({ changed, removed });
    } catch (error) {
      report(error);
    }
  };

  const touch = (path: string, settleMs: number) => {
    pending.add(path);
    deadline = Math.max(deadline, performance.now() + Math.max(debounceMs, settleMs));
    // One timer per batch: when it fires before a later deadline, flush sets it again.
    timer ??= setTimeout(flush, Math.ceil(deadline - performance.now()));
  };

  const watcher: FSWatcher = watch(base, { ignored, ignoreInitial: false, atomic: false, followSymlinks: true, persistent: true });
  watcher.on('add', (absolute, stats) => {
    const path = toRelative(absolute);
    if (path === undefined || closed) return;
    if (!ready) {
      const seen = stats ?? statFile(absolute);
      if (seen) known.set(path, signature(seen));
      return;
    }
    touch(path, 0);
  });
  watcher.on('change', (absolute) => {
    const path = toRelative(absolute);
    if (path !== undefined && ready && !closed) touch(path, CHANGE_SETTLE_MS);
  });
  watcher.on('unlink', (absolute) => {
    const path = toRelative(absolute);
    if (path !== undefined && ready && !closed) touch(path, REMOVE_SETTLE_MS);
  });
  watcher.on('error', (error) => {
    if (!closed) report(error);
  });

  const close = async () => {
    if (!closed) {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending.clear();
    }
    await watcher.close();
  };

  await new Promise<void>((resolveReady) => watcher.once('ready', () => resolveReady()));
  ready = true;
  return { close };
}

export function createWorkspaceWatcher(): WorkspaceWatcher {
  return { watchWorkspace };
}
