/**
 * The blocks of the last sync, read back as parsed Blocks, so files whose hash is
 * unchanged need no YAML or Handlebars parsing (the no-op resync fast path).
 */
import type { BlockCache } from '../../core/workspace.js';
import type { Block, Include } from '../../core/types.js';
import type { Db } from './open.js';

interface CachedRow {
  id: number;
  key: string;
  title: string;
  content: string;
  tags: string;
  folder_path: string;
  source_path: string;
  content_hash: string;
  includes: string;
  body_line: number;
}

/** Reads the cache from a migrated database. */
export function readBlockCache(db: Db): BlockCache {
  const rows = db
    .prepare('SELECT key, title, content, tags, folder_path, source_path, content_hash, includes, body_line FROM blocks WHERE source_path IS NOT NULL AND includes IS NOT NULL')
    .all() as CachedRow[];
  const byPath = new Map<string, CachedRow>();
  for (const row of rows) byPath.set(row.source_path, row);
  return {
    get(path, contentHash) {
      const row = byPath.get(path);
      if (!row || row.content_hash !== contentHash) return undefined;
      const block: Block = {
        key: row.key,
        title: row.title,
        tags: row.tags === '' ? [] : row.tags.split(','),
        content: row.content,
        folderPath: row.folder_path,
        sourcePath: row.source_path,
        contentHash: row.content_hash,
        bodyLine: row.body_line,
        includes: JSON.parse(row.includes) as Include[],
      };
      return block;
    },
  };
}
