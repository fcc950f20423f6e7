/**
 * The parse cache (ParseCache) in SQLite: what each workspace file parsed to at the last
 * sync, by path, with the size and mtime it had then (`quire_files`), and the last
 * sync's fingerprint and counts (`quire_state`).
 *
 * Here the cache shares its file with the mirror, so a block's parse is not stored twice:
 * the `blocks` row already holds everything parsing found (key, title, tags, includes,
 * body line, hash) and the body.
 *
 * A cached block reads its text on first use: a resync or run touches few bodies, and
 * reading all 10,000 of a large workspace costs more than the rest of a one-file resync.
 * The text is read by content hash through `loadText`, which outlives the connection
 * (see sqlite-stores.ts), so a block handed out keeps working after the stores close.
 */
import type { ParseCache } from '../../core/ports.js';
import type { Block, Include, KnownFile } from '../../core/types.js';
import { CHECKS_VERSION } from '../../core/checks-version.js';
import type { CachedFileEntry, ParsedFile } from '../../core/workspace.js';
import { createBatchInserter } from './batch-insert.js';
import { workspaceFingerprint } from './fingerprint.js';
import type { Db } from './open.js';

/**
 * A file modified this close to the sync could be modified again within the same mtime
 * tick (1-2 s on some filesystems) without its size changing; such a file is recorded
 * with no mtime, so the next sync reads and hashes it again (git calls these "racily clean").
 */
const RACY_MS = 2000;
const UNKNOWN_MTIME = -1;

/** Columns of `blocks` a cached Block is rebuilt from, in the order blockFromRow reads them. */
const BLOCK_COLUMNS = 'source_path, key, title, tags, folder_path, includes, body_line, content_hash';
type BlockRowValues = [string, string, string, string | null, string | null, string, number, string];

/** A block's body by file and content hash; undefined when no row holds that text any more. */
export type BlockTextLoader = (sourcePath: string, contentHash: string) => string | undefined;

/** Loads a body from this connection. */
export function blockTextFrom(db: Db): BlockTextLoader {
  let statement: ReturnType<Db['prepare']> | undefined;
  return (sourcePath, contentHash) =>
    ((statement ??= db.prepare('SELECT content FROM blocks WHERE source_path = ? AND content_hash = ?').pluck()).get(sourcePath, contentHash) as string | null | undefined) ?? undefined;
}

export function createParseCache(db: Db, loadText: BlockTextLoader = blockTextFrom(db), clock: () => number = Date.now): ParseCache {
  const blockFromRow = (row: BlockRowValues): Block => new CachedBlock(row, loadText);
  const readState = (key: string) => db.prepare('SELECT value FROM quire_state WHERE key = ?').pluck().get(key) as string | undefined;
  const writeState = (key: string, value: string) => db.prepare('INSERT OR REPLACE INTO quire_state (key, value) VALUES (?, ?)').run(key, value);
  // Parses made by other checks (an older quire) are not reused: every file is read and checked again once.
  const current = () => readState('checks') === String(CHECKS_VERSION);
  const recordedMtime = (mtimeMs: number) => (Math.abs(clock() - mtimeMs) < RACY_MS ? UNKNOWN_MTIME : mtimeMs);

  return {
    knownFiles() {
      const known = new Map<string, KnownFile>();
      if (!current()) return known;
      for (const [path, size, mtimeMs, hash] of db.prepare('SELECT path, size, mtime_ms, hash FROM quire_files').raw().all() as [string, number, number, string][]) {
        known.set(path, { size, mtimeMs, hash });
      }
      return known;
    },

    matchesLastSync(hashes) {
      const stored = readState('fingerprint');
      return stored !== undefined && workspaceFingerprint(hashes) === stored;
    },

    lastCounts() {
      const counts = readState('counts');
      return counts ? (JSON.parse(counts) as { blocks: number; payloads: number; workflows: number }) : undefined;
    },

    entries() {
      const cache = new Map<string, CachedFileEntry>();
      if (!current()) return cache;
      const blocks = new Map<string, Block>();
      for (const row of db.prepare(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE source_path IS NOT NULL AND includes IS NOT NULL`).raw().all() as BlockRowValues[]) {
        const block = blockFromRow(row);
        blocks.set(block.sourcePath, block);
      }
      for (const [path, kind, size, mtimeMs, hash, text] of db.prepare('SELECT path, kind, size, mtime_ms, hash, parsed FROM quire_files').raw().all() as [string, string, number, number, string, string][]) {
        if (kind === 'block') {
          const block = blocks.get(path);
          // A row that no longer matches its file's hash is not used: the file is parsed again.
          if (block && block.contentHash === hash) cache.set(path, { hash, parsed: { kind: 'block', block }, size, mtimeMs });
          continue;
        }
        cache.set(path, { hash, parsed: JSON.parse(text) as ParsedFile, size, mtimeMs });
      }
      return cache;
    },

    parsed(path) {
      const text = db.prepare("SELECT parsed FROM quire_files WHERE path = ? AND kind != 'block'").pluck().get(path) as string | undefined;
      return text ? (JSON.parse(text) as ParsedFile) : undefined;
    },

    pathOf(kind, name) {
      const table = kind === 'workflow' ? 'workflows' : 'payloads';
      return db.prepare(`SELECT source_path FROM ${table} WHERE name = ? AND archived = 0 AND source_path IS NOT NULL`).pluck().get(name) as string | undefined;
    },

    blockIndex() {
      const pathByKey = new Map<string, string>();
      const tags = new Map<string, string[]>();
      // Raw rows in key order: every block is indexed on every run of an unchanged workspace.
      for (const [key, tagList, sourcePath] of db.prepare('SELECT key, tags, source_path FROM blocks WHERE source_path IS NOT NULL ORDER BY key').raw().all() as [string, string | null, string][]) {
        pathByKey.set(key, sourcePath);
        for (const tag of tagList ? tagList.split(',') : []) {
          const keys = tags.get(tag);
          if (keys) keys.push(key);
          else tags.set(tag, [key]);
        }
      }
      for (const keys of tags.values()) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { pathByKey, tags };
    },

    block(path) {
      const row = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE source_path = ? AND includes IS NOT NULL`).raw().get(path) as BlockRowValues | undefined;
      return row ? blockFromRow(row) : undefined;
    },

    record({ changed, removed, hashes, counts }) {
      const upsert = createBatchInserter(db, 'quire_files', ['path', 'kind', 'size', 'mtime_ms', 'hash', 'parsed'], { orReplace: true });
      const remove = db.prepare('DELETE FROM quire_files WHERE path = ?');
      db.transaction(() => {
        // Recording over another version's cache: `changed` holds every file, so start afresh.
        if (!current()) db.exec('DELETE FROM quire_files');
        for (const { path, size, mtimeMs, state } of changed) {
          // A block's parse lives in its `blocks` row; other kinds keep theirs here as JSON.
          upsert.add([path, state.parsed.kind, size, recordedMtime(mtimeMs), state.hash, state.parsed.kind === 'block' ? '' : JSON.stringify(state.parsed)]);
        }
        upsert.flush();
        for (const path of removed) remove.run(path);
        // Without the hashes, no stale fingerprint may stay: it could match files the mirror no longer holds.
        if (hashes) writeState('fingerprint', workspaceFingerprint(hashes));
        else db.prepare("DELETE FROM quire_state WHERE key = 'fingerprint'").run();
        writeState('counts', JSON.stringify(counts));
        writeState('checks', String(CHECKS_VERSION));
      }).immediate();
    },

    markSynced(hashes, counts) {
      db.transaction(() => {
        writeState('fingerprint', workspaceFingerprint(hashes));
        writeState('counts', JSON.stringify(counts));
      }).immediate();
    },

    refreshStats(files) {
      // Rows already holding these values are not rewritten (a racily clean file stays unknown).
      const update = db.prepare('UPDATE quire_files SET size = @size, mtime_ms = @mtime WHERE path = @path AND (size != @size OR mtime_ms != @mtime)');
      db.transaction(() => {
        for (const { path, size, mtimeMs } of files) update.run({ size, mtime: recordedMtime(mtimeMs), path });
      }).immediate();
    },
  };
}

/** A block rebuilt from its row; the body is read on first use, then kept. */
class CachedBlock implements Block {
  readonly sourcePath: string;
  readonly key: string;
  readonly title: string;
  readonly tags: string[];
  readonly folderPath: string;
  readonly includes: Include[];
  readonly bodyLine: number;
  readonly contentHash: string;
  #content: string | undefined;
  readonly #load: BlockTextLoader;

  constructor([sourcePath, key, title, tags, folderPath, includes, bodyLine, contentHash]: BlockRowValues, load: BlockTextLoader) {
    this.sourcePath = sourcePath;
    this.key = key;
    this.title = title;
    this.tags = tags ? tags.split(',') : [];
    this.folderPath = folderPath ?? '';
    this.includes = includes === '[]' ? [] : (JSON.parse(includes) as Include[]);
    this.bodyLine = bodyLine;
    this.contentHash = contentHash;
    this.#load = load;
  }

  get content(): string {
    if (this.#content === undefined) {
      const text = this.#load(this.sourcePath, this.contentHash);
      if (text === undefined) throw new Error(`${this.sourcePath}: the cached text of this block is gone from the database (changed by another process); sync again`);
      this.#content = text;
    }
    return this.#content;
  }

  set content(text: string) {
    this.#content = text;
  }

  /** Plain data (JSON, spreading): the text included. */
  toJSON(): Block {
    const { sourcePath, key, title, tags, folderPath, includes, bodyLine, contentHash, content } = this;
    return { sourcePath, key, title, tags, folderPath, includes, bodyLine, contentHash, content };
  }
}
