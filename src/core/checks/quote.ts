/**
 * Short quotes of outputs and arguments for failure reasons: a reason names what failed
 * without printing a whole answer. JSON string syntax, so newlines and quotes stay visible.
 */
import { positionOfOffset } from '../text.js';

/** Characters of output a reason quotes by default. */
export const QUOTE_CHARS = 60;
/** Characters shown on each side of a found occurrence or an error position. */
export const CONTEXT_CHARS = 20;

/** The text quoted, cut to `max` characters with "…". Cuts between code points, never inside one. */
export function quote(text: string, max = QUOTE_CHARS): string {
  return JSON.stringify(cut(text, max));
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text.slice(0, max + 1));
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

/** The text around `[start, end)`, quoted, with "…" where it was cut. */
export function quoteAround(text: string, start: number, end = start, context = CONTEXT_CHARS): string {
  const from = safeIndex(text, Math.max(0, start - context));
  const to = safeIndex(text, Math.min(text.length, end + context));
  return JSON.stringify(`${from > 0 ? '…' : ''}${text.slice(from, to)}${to < text.length ? '…' : ''}`);
}

/** Not in the middle of a surrogate pair. */
function safeIndex(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff && index > 0 ? index - 1 : index;
}


/** `line 2 col 5`. */
export function where(text: string, offset: number): string {
  const { line, col } = positionOfOffset(text, offset);
  return `line ${line} col ${col}`;
}

/**
 * A score for reasons: three decimals, no trailing zeros; more where three would show a
 * failing score equal to its threshold (0.7996 < 0.8 must not read "0.8 < 0.8").
 */
export function showScore(score: number, threshold?: number): string {
  for (let digits = 3; digits < 9; digits++) {
    const shown = Number(score.toFixed(digits));
    if (threshold === undefined || shown !== threshold || score === threshold) return String(shown);
  }
  return String(score);
}

/**
 * Where the output first differs from a text it should equal, with each side around it:
 * `differs from the approved output at line 3 col 1: approved "…", got "…"`.
 */
export function firstDifference(actual: string, expected: string, name: { long: string; short: string }): string {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  return `differs from ${name.long} at ${where(actual, i)}: ${name.short} ${quoteAround(expected, i)}, got ${quoteAround(actual, i)}`;
}
