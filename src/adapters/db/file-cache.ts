/**
 * The parse cache: what each workspace file parsed to at the last sync, by path, with the
 * size and mtime it had then. Unchanged files (same size and mtime) are neither read nor
 * parsed again; block bodies stay in the `blocks` table and are loaded only when used.
 */
import type { Block, Include } from '../../core/types.js';
import type { CachedFile, FileState, ParsedFile } from '../../core/workspace.js';
import type { Statement } from 'better-sqlite3';
import { createBatchInserter } from './batch-insert.js';
import type { Db } from './open.js';

export interface CachedFileRow extends CachedFile {
  size: number;
  mtimeMs: number;
}

/**
 * Reads the cache. Blocks are rebuilt from their `blocks` rows (which hold everything
 * parsing found), and their `content` becomes a getter that loads the body on first use.
 */
export function readFileCache(db: Db): Map<string, CachedFileRow> {
  const loadContent = contentLoader(db);
  const blocks = new Map<string, Block>();
  const blockRows = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE source_path IS NOT NULL AND includes IS NOT NULL`).raw().all() as BlockRowValues[];
  for (const row of blockRows) {
    const block = blockFromRow(row, loadContent);
    blocks.set(block.sourcePath, block);
  }
  const cache = new Map<string, CachedFileRow>();
  const rows = db.prepare('SELECT path, kind, size, mtime_ms, hash, parsed FROM quire_files').raw().all() as [string, string, number, number, string, string][];
  for (const [path, kind, size, mtimeMs, hash, text] of rows) {
    if (kind === 'block') {
      const block = blocks.get(path);
      // A row that no longer matches its file's hash is not used: the file is parsed again.
      if (block && block.contentHash === hash) cache.set(path, { hash, parsed: { kind: 'block', block }, size, mtimeMs });
      continue;
    }
    cache.set(path, { hash, parsed: JSON.parse(text) as ParsedFile, size, mtimeMs });
  }
  return cache;
}

/** Upserts the entries of files that changed and deletes those of files that are gone. */
/**
 * A file modified this close to the sync could be modified again within the same mtime
 * tick (1-2 s on some filesystems) without its size changing; such a file is recorded
 * with no mtime, so the next sync reads and hashes it again (git calls these "racily clean").
 */
const RACY_MS = 2000;
const UNKNOWN_MTIME = -1;

export function writeFileCache(db: Db, changed: { path: string; size: number; mtimeMs: number; state: FileState }[], removed: readonly string[], now = Date.now()): void {
  const upsert = createBatchInserter(db, 'quire_files', ['path', 'kind', 'size', 'mtime_ms', 'hash', 'parsed'], { orReplace: true });
  const remove = db.prepare('DELETE FROM quire_files WHERE path = ?');
  for (const { path, size, mtimeMs, state } of changed) {
    const recorded = Math.abs(now - mtimeMs) < RACY_MS ? UNKNOWN_MTIME : mtimeMs;
    // A block's parse lives in its `blocks` row; other kinds keep theirs here as JSON.
    upsert.add([path, state.parsed.kind, size, recorded, state.hash, state.parsed.kind === 'block' ? '' : JSON.stringify(state.parsed)]);
  }
  upsert.flush();
  for (const path of removed) remove.run(path);
}

/**
 * Records new sizes and mtimes for files whose content is unchanged (touched, checked
 * out again), so later syncs skip them without reading.
 */
export function refreshFileStats(db: Db, files: readonly { path: string; size: number; mtimeMs: number }[], now = Date.now()): void {
  // Rows already holding these values are not rewritten (a racily clean file stays unknown).
  const update = db.prepare('UPDATE quire_files SET size = @size, mtime_ms = @mtime WHERE path = @path AND (size != @size OR mtime_ms != @mtime)');
  db.transaction(() => {
    for (const { path, size, mtimeMs } of files) update.run({ size, mtime: Math.abs(now - mtimeMs) < RACY_MS ? UNKNOWN_MTIME : mtimeMs, path });
  }).immediate();
}

/** Columns of `blocks` a cached Block is rebuilt from, in the order blockFromRow reads them. */
export const BLOCK_COLUMNS = 'source_path, key, title, tags, folder_path, includes, body_line, content_hash';
export type BlockRowValues = [string, string, string, string | null, string | null, string, number, string];

/**
 * A block rebuilt from its row. The body is loaded from the database on first use: a
 * sync or run touches few bodies, and reading all of them would cost more than the rest.
 */
class StoredBlock implements Block {
  readonly tags: string[];
  readonly includes: Include[];
  #content: string | undefined;

  constructor(
    readonly sourcePath: string,
    readonly key: string,
    readonly title: string,
    tags: string | null,
    readonly folderPath: string,
    includes: string,
    readonly bodyLine: number,
    readonly contentHash: string,
    private readonly loadContent: Statement,
  ) {
    this.tags = tags ? tags.split(',') : [];
    this.includes = includes === '[]' ? [] : (JSON.parse(includes) as Include[]);
  }

  get content(): string {
    return (this.#content ??= (this.loadContent.get(this.sourcePath) as string | null | undefined) ?? '');
  }

  /** Plain data for JSON (the body is not part of a cached parse). */
  toJSON(): Omit<Block, 'content'> {
    const { sourcePath, key, title, tags, folderPath, includes, bodyLine, contentHash } = this;
    return { sourcePath, key, title, tags, folderPath, includes, bodyLine, contentHash };
  }
}

/** A Block from its row (BLOCK_COLUMNS, raw); the body is loaded on first use. */
export function blockFromRow([sourcePath, key, title, tags, folderPath, includes, bodyLine, contentHash]: BlockRowValues, loadContent: Statement): Block {
  return new StoredBlock(sourcePath, key, title, tags, folderPath ?? '', includes, bodyLine, contentHash, loadContent);
}

/** The statement blockFromRow loads bodies with. */
export function contentLoader(db: Db): Statement {
  return db.prepare('SELECT content FROM blocks WHERE source_path = ?').pluck();
}

/** One file's cached parse (not for blocks: see blockFromRow). */
export function readCachedParse(db: Db, path: string): ParsedFile | undefined {
  const text = db.prepare("SELECT parsed FROM quire_files WHERE path = ? AND kind != 'block'").pluck().get(path) as string | undefined;
  return text ? (JSON.parse(text) as ParsedFile) : undefined;
}

export function readState(db: Db, key: string): string | undefined {
  return db.prepare('SELECT value FROM quire_state WHERE key = ?').pluck().get(key) as string | undefined;
}

export function writeState(db: Db, key: string, value: string): void {
  db.prepare('INSERT OR REPLACE INTO quire_state (key, value) VALUES (?, ?)').run(key, value);
}
