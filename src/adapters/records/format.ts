/**
 * Which reader a batch input needs: the format given, else the file's extension, else (stdin,
 * `.json`, `.txt`, no extension) a look at its first character that is not blank or in a
 * `#` comment line.
 */
import { extname } from 'node:path';
import type { RecordFormat } from '../../core/batch.js';

const BY_EXTENSION: Record<string, RecordFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.yaml': 'yaml', '.yml': 'yaml' };

export function formatOfPath(path: string): RecordFormat | undefined {
  return path === '-' ? undefined : BY_EXTENSION[extname(path).toLowerCase()];
}

/** A JSON array is not read as records (it would have to be loaded whole). */
export type Sniffed = RecordFormat | 'json-array';

/**
 * A scanner fed the input's first chunks until it decides. `{` starts a JSON object (JSONL);
 * `-` a YAML list item (or `---`), `%` a YAML directive; `[` a JSON array; anything else is
 * taken for a CSV header.
 */
export function createSniffer(): { feed(chunk: Buffer): Sniffed | undefined; result(): Sniffed } {
  let inComment = false;
  let decided: Sniffed | undefined;
  return {
    feed(chunk) {
      for (let i = 0; i < chunk.length && decided === undefined; i++) {
        const byte = chunk[i]!;
        if (inComment) {
          if (byte === 0x0a) inComment = false;
        } else if (byte === 0x23 /* # */) {
          inComment = true;
        } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) {
          decided = byte === 0x7b ? 'jsonl' : byte === 0x2d || byte === 0x25 ? 'yaml' : byte === 0x5b ? 'json-array' : 'csv';
        }
      }
      return decided;
    },
    // Nothing but blanks and comments (or an empty input): CSV, which yields no records from it.
    result: () => decided ?? 'csv',
  };
}
