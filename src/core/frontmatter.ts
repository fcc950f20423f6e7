/**
 * Splitting a block file into YAML front matter and body.
 *
 * The body is kept byte for byte: only the single line break that ends the closing
 * `---` line is consumed. CRLF files work the same as LF files.
 */
import type { Problem } from './errors.js';

export interface FrontmatterSplit {
  /** The YAML between the fences, or undefined when the file has no front matter. */
  yaml: string | undefined;
  body: string;
  /** 1-based line where the body starts. */
  bodyLine: number;
}

const OPENING = /^---[ \t]*\r?\n/;
const CLOSING = /^---[ \t]*(?:\r?\n|$)/m;

/** Splits front matter from body; a fence that never closes is a problem at line 1. */
export function splitFrontmatter(file: string, text: string): { ok: true; split: FrontmatterSplit } | { ok: false; problem: Problem } {
  const opening = OPENING.exec(text);
  if (!opening) return { ok: true, split: { yaml: undefined, body: text, bodyLine: 1 } };
  const rest = text.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  if (!closing) {
    return {
      ok: false,
      problem: { file, line: 1, col: 1, code: 'FRONTMATTER', message: 'front matter opened with "---" on line 1 is never closed; add a line with only "---" after it' },
    };
  }
  const yaml = rest.slice(0, closing.index);
  const bodyStart = opening[0].length + closing.index + closing[0].length;
  const bodyLine = 1 + countLines(text, bodyStart);
  return { ok: true, split: { yaml, body: text.slice(bodyStart), bodyLine } };
}

function countLines(text: string, end: number): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
