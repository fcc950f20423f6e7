/**
 * The parse cache: what each workspace file parsed to at the last sync, by path, with the
 * size and mtime it had then. Unchanged files (same size and mtime) are neither read nor
 * parsed again; block bodies stay in the `blocks` table and are loaded only when used.
 */
import type { Block } from '../../core/types.js';
import type { CachedFile, FileState, ParsedFile } from '../../core/workspace.js';
import type { Db } from './open.js';

export interface CachedFileRow extends CachedFile {
  size: number;
  mtimeMs: number;
}

/** Reads the cache. Block `content` becomes a getter that loads the body on first use. */
export function readFileCache(db: Db): Map<string, CachedFileRow> {
  const loadContent = db.prepare('SELECT content FROM blocks WHERE source_path = ?').pluck();
  const cache = new Map<string, CachedFileRow>();
  const rows = db.prepare('SELECT path, size, mtime_ms, hash, parsed FROM quire_files').raw().all() as [string, number, number, string, string][];
  for (const [path, size, mtimeMs, hash, text] of rows) {
    const parsed = JSON.parse(text) as ParsedFile;
    if (parsed.kind === 'block') lazyContent(parsed.block, () => (loadContent.get(path) as string | undefined) ?? '');
    cache.set(path, { hash, parsed, size, mtimeMs });
  }
  return cache;
}

/** Upserts the entries of files that changed and deletes those of files that are gone. */
export function writeFileCache(db: Db, changed: { path: string; size: number; mtimeMs: number; state: FileState }[], removed: readonly string[]): void {
  const upsert = db.prepare('INSERT OR REPLACE INTO quire_files (path, kind, size, mtime_ms, hash, parsed) VALUES (?, ?, ?, ?, ?, ?)');
  const remove = db.prepare('DELETE FROM quire_files WHERE path = ?');
  for (const { path, size, mtimeMs, state } of changed) {
    // Bodies live in blocks.content; the cache keeps everything else.
    const parsed = state.parsed.kind === 'block' ? { kind: 'block', block: { ...state.parsed.block, content: undefined } } : state.parsed;
    upsert.run(path, state.parsed.kind, size, mtimeMs, state.hash, JSON.stringify(parsed));
  }
  for (const path of removed) remove.run(path);
}

export function readState(db: Db, key: string): string | undefined {
  return db.prepare('SELECT value FROM quire_state WHERE key = ?').pluck().get(key) as string | undefined;
}

export function writeState(db: Db, key: string, value: string): void {
  db.prepare('INSERT OR REPLACE INTO quire_state (key, value) VALUES (?, ?)').run(key, value);
}

function lazyContent(block: Block, load: () => string): void {
  let value: string | undefined;
  Object.defineProperty(block, 'content', {
    enumerable: true,
    configurable: true,
    get: () => (value ??= load()),
    set: (next: string) => {
      value = next;
    },
  });
}
