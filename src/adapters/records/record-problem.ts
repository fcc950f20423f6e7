/**
 * What every record reader says about a record it cannot read: the size limit, invalid
 * UTF-8, and the one shape of a record problem (code RECORD, located in the input file).
 */
import { isUtf8 } from 'node:buffer';
import type { Problem } from '../../core/errors.js';
import { firstInvalidUtf8Offset } from '../../core/text.js';

/**
 * Largest record read (a JSONL line, a CSV record, a YAML item). A reader holds at most one
 * record (plus one read-ahead chunk) in memory, so this bounds its memory; a bigger record is
 * a problem for that record, never an attempt to buffer it. Far above any prompt's size.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export function recordProblem(file: string, line: number, col: number, message: string): Problem {
  return { file, line, col, code: 'RECORD', message };
}

/** `bytes` when the record's whole size is known (a line is counted to its end). */
export function tooLargeMessage(bytes?: number): string {
  const size = bytes === undefined ? 'larger than that' : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `record is too large: quire reads records up to ${MAX_RECORD_BYTES / (1024 * 1024)} MiB, this one is ${size}`;
}

export type DecodedLine = { ok: true; text: string } | { ok: false; col: number; message: string };

/**
 * One line's bytes as text, or where its UTF-8 goes wrong. Lines are split at byte 0x0A,
 * which never occurs inside a multi-byte UTF-8 sequence, so each line decodes on its own.
 */
export function decodeUtf8(bytes: Buffer): DecodedLine {
  if (isUtf8(bytes)) return { ok: true, text: bytes.toString('utf8') };
  const offset = firstInvalidUtf8Offset(bytes);
  // Columns count characters (UTF-16 units, as positionOfOffset does), not bytes.
  const col = bytes.subarray(0, offset).toString('utf8').length + 1;
  return { ok: false, col, message: `invalid UTF-8 byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}; save the file as UTF-8` };
}
