/**
 * Reading a workspace's files from disk: the only place that walks the workspace tree.
 * Returns bytes; decoding and parsing are the core's job.
 */
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Problem } from '../../core/errors.js';
import { MAX_FILE_BYTES } from '../../core/text.js';
import type { FileKind, KnownFile, SourceFile, WorkspaceFiles } from '../../core/types.js';

export type { KnownFile, WorkspaceFiles };

/** Which files of the workspace quire reads, by path relative to the root. */
export function classifyPath(path: string): FileKind | undefined {
  if (path === 'quire.yaml') return 'config';
  if (path.startsWith('blocks/') && /\.md$/i.test(path)) return 'block';
  if (path.startsWith('workflows/') && path.endsWith('.payload.yaml')) return 'payload';
  if (path.startsWith('workflows/') && path.endsWith('.workflow.yaml')) return 'workflow';
  if (path.startsWith('workflows/') && path.endsWith('.tests.yaml')) return 'tests';
  if (/^formats\/[^/]+\.yaml$/.test(path)) return 'format';
  return undefined;
}

/** Editor droppings and hidden files that must never be read as workspace files. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || name.startsWith('#') || name.endsWith('.swp') || name.endsWith('.tmp');
}

/**
 * Reads every workspace file under `root`. Symlinks are followed only while they stay
 * inside the workspace; one pointing outside is a problem, never read.
 */
export function readWorkspaceFiles(root: string, known?: ReadonlyMap<string, KnownFile>): WorkspaceFiles {
  const files: SourceFile[] = [];
  const problems: Problem[] = [];
  const realRoot = realpathSync(root);
  const prefix = root.endsWith(sep) ? root : root + sep;

  // Every walked path starts with the root: slicing is much cheaper than path.relative.
  const toRelative = (absolute: string) => {
    const rel = absolute.startsWith(prefix) ? absolute.slice(prefix.length) : relative(root, absolute);
    return sep === '/' ? rel : rel.split(sep).join('/');
  };

  const readFile = (absolute: string, kind: FileKind) => {
    const path = toRelative(absolute);
    try {
      // Check the size before reading: a huge file is refused without loading it.
      const stats = statSync(absolute);
      const size = stats.size;
      const mtimeMs = stats.mtimeMs;
      const previous = known?.get(path);
      if (previous && previous.size === size && previous.mtimeMs === mtimeMs) {
        // Same size and modification time as at the last sync: unchanged (as git assumes).
        files.push({ path, kind, knownHash: previous.hash, size, mtimeMs });
        return;
      }
      if (size > MAX_FILE_BYTES) {
        problems.push({ file: path, line: 1, col: 1, code: 'IO', message: `file is ${(size / (1024 * 1024)).toFixed(1)} MB; quire reads files up to ${MAX_FILE_BYTES / (1024 * 1024)} MB (far more than any model's context)` });
        return;
      }
      files.push({ path, kind, bytes: readFileSync(absolute), size, mtimeMs });
    } catch (error) {
      problems.push({ file: path, line: 1, col: 1, code: 'IO', message: `cannot read file: ${(error as Error).message}` });
    }
  };

  /** For a symlink: its target if inside the workspace, else a problem and undefined. */
  const resolveLink = (absolute: string): string | undefined => {
    const path = toRelative(absolute);
    let target: string;
    try {
      target = realpathSync(absolute);
    } catch {
      problems.push({ file: path, line: 1, col: 1, code: 'BAD_PATH', message: 'broken symbolic link' });
      return undefined;
    }
    if (target !== realRoot && !target.startsWith(realRoot + sep)) {
      problems.push({ file: path, line: 1, col: 1, code: 'BAD_PATH', message: `symbolic link points outside the workspace (${target}); copy the file in instead` });
      return undefined;
    }
    return target;
  };

  /** `ancestors`: real paths of the folders above, so a symlink loop ends; a link to a sibling folder is read under both names. */
  const walk = (dir: string, ancestors: ReadonlySet<string> = new Set()) => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (ancestors.has(real)) {
      problems.push({ file: toRelative(dir), line: 1, col: 1, code: 'BAD_PATH', message: 'symbolic link loop: this folder links back to a folder that contains it; it is skipped' });
      return;
    }
    const inside = new Set(ancestors).add(real);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      problems.push({ file: toRelative(dir), line: 1, col: 1, code: 'IO', message: `cannot read folder: ${(error as Error).message}` });
      return;
    }
    for (const entry of entries) {
      if (isIgnoredName(entry.name)) continue;
      const absolute = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const kind = classifyPath(toRelative(absolute));
        const target = resolveLink(absolute);
        if (target === undefined) continue;
        const stats = statSync(target);
        isDir = stats.isDirectory();
        isFile = stats.isFile();
        if (isFile && kind === undefined) continue;
      }
      if (isDir) walk(absolute, inside);
      else if (isFile) {
        const path = toRelative(absolute);
        const kind = classifyPath(path);
        if (kind) readFile(absolute, kind);
        else if (/\.(payload|workflow|tests)\.yml$/.test(path) || /^formats\/[^/]+\.yml$/.test(path)) {
          problems.push({ file: path, line: 1, col: 1, code: 'IO', message: `quire reads .yaml files; rename it to ${path.replace(/\.yml$/, '.yaml')}` });
        }
      }
    }
  };

  for (const top of ['blocks', 'workflows', 'formats']) {
    const absolute = join(root, top);
    if (!exists(absolute)) continue;
    if (lstatSync(absolute).isSymbolicLink() && resolveLink(absolute) === undefined) continue;
    walk(absolute);
  }
  const config = join(root, 'quire.yaml');
  if (exists(config)) {
    if (lstatSync(config).isSymbolicLink() && resolveLink(config) === undefined) return { files, problems };
    readFile(config, 'config');
  }
  return { files, problems };
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads one workspace file by relative path (what a watcher reports), with the same rules
 * as the walk: only workspace files, never through a link leading outside, size-capped.
 * No file and no problem: the file is gone (or is not a workspace file).
 */
export function readWorkspaceFile(root: string, path: string): { file?: SourceFile; problems: Problem[] } {
  const kind = classifyPath(path);
  if (!kind || path.split('/').some((part) => isIgnoredName(part))) return { problems: [] };
  const absolute = join(root, ...path.split('/'));
  try {
    const real = realpathSync(absolute);
    const realRoot = realpathSync(root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      return { problems: [{ file: path, line: 1, col: 1, code: 'BAD_PATH', message: `symbolic link points outside the workspace (${real}); copy the file in instead` }] };
    }
    const stats = statSync(real);
    if (!stats.isFile()) return { problems: [] };
    if (stats.size > MAX_FILE_BYTES) {
      return { problems: [{ file: path, line: 1, col: 1, code: 'IO', message: `file is ${(stats.size / (1024 * 1024)).toFixed(1)} MB; quire reads files up to ${MAX_FILE_BYTES / (1024 * 1024)} MB (far more than any model's context)` }] };
    }
    return { file: { path, kind, bytes: readFileSync(real), size: stats.size, mtimeMs: stats.mtimeMs }, problems: [] };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { problems: [] };
    return { problems: [{ file: path, line: 1, col: 1, code: 'IO', message: `cannot read file: ${(error as Error).message}` }] };
  }
}

/**
 * A file the workspace refers to that is not a workspace file (a JSON Schema of a check,
 * approved outputs): read only when its real path is inside the workspace, up to
 * MAX_FILE_BYTES, as strict UTF-8.
 */
export function readAuxiliaryFile(root: string, path: string): { text?: string; problem?: string } {
  if (isAbsolute(path) || path.split(/[\\/]/).includes('..')) return { problem: `${path}: give a path inside the workspace, relative to it` };
  const absolute = join(root, path);
  let real: string;
  try {
    real = realpathSync(absolute);
  } catch {
    return {};
  }
  const realRoot = realpathSync(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) return { problem: `${path} leads outside the workspace (${real})` };
  try {
    const stats = statSync(real);
    if (!stats.isFile()) return { problem: `${path} is not a file` };
    if (stats.size > MAX_FILE_BYTES) return { problem: `${path} is ${(stats.size / (1024 * 1024)).toFixed(1)} MB; quire reads files up to ${MAX_FILE_BYTES / (1024 * 1024)} MB` };
    const text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(real));
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  } catch (error) {
    return { problem: `cannot read ${path}: ${(error as Error).message}` };
  }
}
