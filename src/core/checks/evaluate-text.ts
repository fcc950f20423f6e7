/**
 * The checks that look only at the output's text and its costs: synchronous, no services.
 */
import type { CheckArgs } from './args.js';
import { compileRegex, matches, showRegex } from './regex.js';
import { failed, passed, verdict, type Outcome } from './outcome.js';
import { firstDifference, quote, quoteAround, where } from './quote.js';

/** Whitespace-separated words of the trimmed output. */
export function wordCount(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

/** Characters (code points, so an emoji is one) of the trimmed output. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text.trim()) n++;
  return n;
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

export function equals(expected: string, text: string): Outcome {
  const actual = text.trim();
  const wanted = expected.trim();
  if (actual === wanted) return passed(`equals ${quote(wanted)}`);
  // Short texts read best whole; long ones at the first difference.
  if (actual.length <= 60 && wanted.length <= 60) return failed(`output is ${quote(actual)}, expected ${quote(wanted)}`);
  return failed(`output ${firstDifference(actual, wanted, { long: 'the expected text', short: 'expected' })}`);
}

export function contains(needles: string | string[], text: string, ignoreCase: boolean): Outcome {
  const haystack = ignoreCase ? text.toLowerCase() : text;
  const missing = list(needles).filter((needle) => !haystack.includes(ignoreCase ? needle.toLowerCase() : needle));
  const how = ignoreCase ? ' (ignoring case)' : '';
  if (missing.length === 0) return passed(`contains ${list(needles).map((n) => quote(n)).join(', ')}${how}`);
  return failed(`output does not contain ${missing.map((n) => quote(n)).join(', ')}${how}: ${quote(text)}`);
}

export function notContains(needles: string | string[], text: string): Outcome {
  for (const needle of list(needles)) {
    const at = text.indexOf(needle);
    if (at !== -1) return failed(`output contains ${quote(needle)} at ${where(text, at)}: ${quoteAround(text, at, at + needle.length)}`);
  }
  return passed(`does not contain ${list(needles).map((n) => quote(n)).join(', ')}`);
}

/** Leading whitespace of the output is ignored, unless the expected start itself begins with whitespace. */
export function startsWith(prefix: string, text: string): Outcome {
  const start = /^\s/.test(prefix) ? text : text.trimStart();
  return start.startsWith(prefix) ? passed(`starts with ${quote(prefix)}`) : failed(`output does not start with ${quote(prefix)}: ${quote(start)}`);
}

export function regex(args: CheckArgs['regex'], text: string): Outcome {
  const compiled = compileRegex(args);
  if (!(compiled instanceof RegExp)) return failed(`${showRegex(args)} is not a valid regular expression: ${compiled.error}`);
  return matches(compiled, text) ? passed(`matches ${showRegex(args)}`) : failed(`output does not match ${showRegex(args)}: ${quote(text)}`);
}

export function size(unit: 'words' | 'characters', bound: 'min' | 'max', limit: number, text: string): Outcome {
  const n = unit === 'words' ? wordCount(text) : charCount(text);
  const ok = bound === 'min' ? n >= limit : n <= limit;
  const noun = n === 1 ? unit.slice(0, -1) : unit;
  if (ok) return passed(`${n} ${noun} (${bound} ${limit})`);
  return failed(`output has ${n} ${noun}, ${bound === 'min' ? 'fewer' : 'more'} than ${limit}: ${quote(text.trim())}`);
}

export function oneOf(options: string[], text: string): Outcome {
  const actual = text.trim();
  return options.includes(actual) ? passed(`is ${quote(actual)}`) : failed(`output ${quote(actual)} is not one of: ${options.map((o) => quote(o)).join(', ')}`);
}

/** A cost the server or the clock reported; a missing one fails, since the limit cannot be shown to hold. */
export function cost(limit: number, value: number | null | undefined, what: 'tokens' | 'ms'): Outcome {
  if (value === null || value === undefined) {
    return failed(what === 'tokens' ? 'the server did not report how many completion tokens it generated' : 'the step\'s duration was not recorded');
  }
  const shown = what === 'tokens' ? `${value} completion tokens` : `${Math.round(value)} ms`;
  return verdict(value <= limit, value <= limit ? `${shown} (max ${limit})` : `${what === 'tokens' ? 'used' : 'took'} ${shown}, more than ${limit}`);
}
