/**
 * Turning file bytes into text: strict UTF-8, a leading BOM dropped, and a size limit.
 * CRLF line endings are kept as they are (YAML and the front matter splitter accept them).
 */
import { Buffer, isUtf8 } from 'node:buffer';
import type { Problem } from './errors.js';

/**
 * Largest file quire reads. A prompt this size is already far beyond any model's context
 * window (roughly a million tokens); a bigger file is almost surely a mistake.
 */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;


export type DecodeResult = { ok: true; text: string } | { ok: false; problem: Problem };

/** Decodes a file's bytes, or returns a located problem (invalid UTF-8, too big). */
export function decodeSource(file: string, bytes: Uint8Array): DecodeResult {
  if (bytes.length > MAX_FILE_BYTES) {
    const mb = (bytes.length / (1024 * 1024)).toFixed(1);
    return {
      ok: false,
      problem: {
        file, line: 1, col: 1, code: 'IO',
        message: `file is ${mb} MB; quire reads files up to ${MAX_FILE_BYTES / (1024 * 1024)} MB (far more than any model's context)`,
      },
    };
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { ok: false, problem: { file, line: 1, col: 1, code: 'ENCODING', message: 'file is UTF-16; save it as UTF-8' } };
  }
  // isUtf8 is a fast native check; decoding a known-valid buffer then needs no error path.
  if (isUtf8(bytes)) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    // Editors on Windows write a BOM: drop it, as a UTF-8 decoder would.
    return { ok: true, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  }
  const offset = firstInvalidUtf8Offset(bytes);
  const { line, col } = positionOfByte(bytes, offset);
  return {
    ok: false,
    problem: { file, line, col, code: 'ENCODING', message: `invalid UTF-8 byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}; save the file as UTF-8` },
  };
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need = 0;
    if (b < 0x80) need = 0;
    else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) need = 2;
    else if (b >= 0xf0 && b <= 0xf4) need = 3;
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlongs and surrogates: the second byte's allowed range is narrower.
    const c1 = bytes[i + 1] ?? 0;
    if ((b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 > 0x9f) || (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 > 0x8f)) return i;
    i += need + 1;
  }
  return bytes.length;
}

/** 1-based line and column (in characters) of a byte offset. */
function positionOfByte(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  let col = 1;
  for (let i = lineStart; i < offset; i++) if ((bytes[i]! & 0xc0) !== 0x80) col++;
  return { line, col };
}

/** 1-based line and column of a character offset in a text. */
export function positionOfOffset(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

/**
 * Characters the YAML fast paths are not sure of, so they leave the file to the full parser:
 * controls other than tab and line feed (a carriage return only as part of CRLF), DEL, C1
 * (NEL U+0085 included), and the invisible characters JavaScript's trim() or line splitting
 * treat differently from YAML: no-break and other Unicode spaces, zero-width and direction
 * marks, U+2028/U+2029 and U+FEFF. YAML keeps them in values (a trailing NBSP is part of
 * `tasks/summarize\u00a0`); the fast paths would have trimmed or split there. They are rare
 * in real files, so ordinary files stay on the fast paths.
 */
const UNSURE_FOR_YAML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff0-\ufffc\ufffe\uffff]/;
const LONE_CR = /\r(?!\n)/;

/** True when `text` holds a character a YAML fast path must leave to the full parser. */
export function hasUnsureYamlCharacters(text: string): boolean {
  return UNSURE_FOR_YAML.test(text) || (text.includes('\r') && LONE_CR.test(text));
}
