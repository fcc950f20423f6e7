/**
 * A fast path for the small front matter most blocks have (`title: ...`, `tags: [a, b]`).
 *
 * The general YAML parser costs about 35 µs per block, most of a cold sync of a large
 * workspace. This reader accepts only a strict subset whose meaning is unambiguous: one
 * `key: value` per line, where a value is a plain word-like string, a quoted string, or a
 * flow list of those. Anything else (numbers, booleans, nesting, anchors, duplicate keys,
 * odd characters) returns undefined and the caller uses the real parser, so the result
 * is always what `yaml` would give.
 */

import { hasUnsureYamlCharacters } from './text.js';

const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?:[ \t]+(.*?))?[ \t]*$/;
/** Plain scalars that YAML reads as strings: no indicators, nothing number-, bool- or null-like. */
const PLAIN = /^[A-Za-z_\u00C0-\uFFFF][^:#,[\]{}&*!|>'"%@`\\]*$/;
/** Outside a flow list a comma is plain text: `tags: a, b, c` is one string. */
const PLAIN_BLOCK = /^[A-Za-z_\u00C0-\uFFFF][^:#[\]{}&*!|>'"%@`\\]*$/;
const RESOLVES_TO_NON_STRING = /^(?:true|false|yes|no|on|off|y|n|null|~|nan|inf|\.nan|\.inf)$/i;

/** Parses `text` if it is in the simple subset; undefined means "use the real parser". */
export function parseSimpleYaml(text: string): Record<string, unknown> | undefined {
  if (hasUnsureYamlCharacters(text)) return undefined; // NBSP, U+FEFF, a lone CR...: the real parser decides
  const result: Record<string, unknown> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) continue;
    const match = KEY.exec(line);
    if (!match) return undefined;
    const key = match[1]!;
    if (Object.hasOwn(result, key)) return undefined; // the real parser reports duplicates
    const value = match[2] ?? '';
    if (value === '') return undefined; // null, or a nested block: not simple
    const parsed = value.startsWith('[') ? parseFlowList(value) : parseScalar(value, PLAIN_BLOCK);
    if (parsed === undefined) return undefined;
    result[key] = parsed;
  }
  return result;
}

function parseFlowList(text: string): string[] | undefined {
  if (!text.endsWith(']')) return undefined;
  const inner = text.slice(1, -1).trim();
  if (inner === '') return [];
  const items: string[] = [];
  let rest = inner;
  while (rest !== '') {
    let item: string | undefined;
    let consumed: number;
    if (rest.startsWith('"') || rest.startsWith("'")) {
      const end = quotedEnd(rest);
      if (end === -1) return undefined;
      item = parseScalar(rest.slice(0, end + 1));
      consumed = end + 1;
    } else {
      const comma = rest.indexOf(',');
      const token = (comma === -1 ? rest : rest.slice(0, comma)).trim();
      item = parseScalar(token);
      consumed = comma === -1 ? rest.length : comma;
    }
    if (item === undefined) return undefined;
    items.push(item);
    rest = rest.slice(consumed).trimStart();
    if (rest.startsWith(',')) {
      rest = rest.slice(1).trimStart();
      if (rest === '') return undefined; // a trailing comma: leave it to the real parser
    } else if (rest !== '') return undefined;
  }
  return items;
}

function parseScalar(text: string, plain: RegExp = PLAIN): string | undefined {
  if (text.startsWith('"')) {
    if (quotedEnd(text) !== text.length - 1) return undefined;
    // YAML double-quoted escapes are a superset of JSON's; anything JSON rejects goes to the real parser.
    try {
      return JSON.parse(text) as string;
    } catch {
      return undefined;
    }
  }
  if (text.startsWith("'")) {
    if (quotedEnd(text) !== text.length - 1) return undefined;
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (!plain.test(text) || RESOLVES_TO_NON_STRING.test(text) || /\s#/.test(text) || /[ \t]$/.test(text)) return undefined;
  return text;
}

/** Index of the closing quote of a quoted scalar at the start of `text`, or -1. */
function quotedEnd(text: string): number {
  const quote = text[0]!;
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (quote === '"' && ch === '\\') {
      i++;
      continue;
    }
    if (ch === quote) {
      if (quote === "'" && text[i + 1] === "'") {
        i++;
        continue;
      }
      return i;
    }
  }
  return -1;
}
