/**
 * A fast path for payload, workflow and config files written in the plain style quire's
 * docs use: block mappings and lists, one level of `key: value` per line, flow lists and
 * maps, quoted and plain scalars, whole-line comments. The general YAML parser costs a
 * quarter of a cold sync of a large workspace; this reader is several times faster.
 *
 * It is deliberately strict: anything outside that subset (block scalars, anchors, tags,
 * trailing comments, multi-line flow collections, numbers in unusual spellings, null,
 * duplicate keys, tabs...) returns undefined and the caller uses the real parser. A test
 * checks values and node positions against the `yaml` library.
 */

import { hasUnsureYamlCharacters } from './text.js';
import { MAX_YAML_DEPTH } from './yaml-source.js';

export interface SimpleDocument {
  value: Record<string, unknown>;
  /** Start offset of every node, by JSON path (`payloads\u00000\u0000name`). */
  offsets: Map<string, number>;
}

class Decline extends Error {}
const decline = (): never => {
  throw new Decline();
};

const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?=[ \r]|$)/;
const PLAIN_STRING = /^[A-Za-z_\u00C0-\uFFFF][^:#,[\]{}&*!|>'"%@`\\]*$/;
const NOT_A_STRING = /^(?:true|false|yes|no|on|off|y|n|null|~|nan|inf|\.nan|\.inf)$/i;
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const DECIMAL = /^-?(?:0|[1-9][0-9]*)\.[0-9]+$/;

interface Line {
  indent: number;
  /** Offset of the first non-space character. */
  start: number;
  /** The text after the indentation, without a trailing \r. */
  text: string;
}

/** Parses `text` if it is in the simple subset; undefined means "use the real parser". */
export function parseSimpleDocument(text: string): SimpleDocument | undefined {
  if (text.includes('\t') || hasUnsureYamlCharacters(text)) return undefined;
  const lines: Line[] = [];
  let offset = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const body = line.trimStart();
    if (body !== '' && !body.startsWith('#')) lines.push({ indent: line.length - body.length, start: offset + line.length - body.length, text: body.trimEnd() });
    offset += raw.length + 1;
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  const offsets = new Map<string, number>();
  try {
    const reader = { lines, index: 0 };
    const value = readBlock(reader, 0, [], offsets);
    if (reader.index !== lines.length || typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    offsets.set('', lines[0]!.start);
    return { value: value as Record<string, unknown>, offsets };
  } catch (error) {
    if (error instanceof Decline) return undefined;
    throw error;
  }
}

interface Reader {
  lines: Line[];
  index: number;
}

const pathKey = (path: readonly (string | number)[]) => path.join('\u0000');

/** A block mapping or sequence whose lines start at exactly `indent`. */
function readBlock(reader: Reader, indent: number, path: (string | number)[], offsets: Map<string, number>): unknown {
  const first = reader.lines[reader.index];
  if (!first || first.indent !== indent) return decline();
  if (path.length >= MAX_YAML_DEPTH) return decline(); // too deep: the full parser reports it
  offsets.set(pathKey(path), first.start);
  if (first.text === '-' || first.text.startsWith('- ')) {
    const list: unknown[] = [];
    while (reader.index < reader.lines.length) {
      const line = reader.lines[reader.index]!;
      if (line.indent < indent) break;
      if (line.indent > indent || !(line.text === '-' || line.text.startsWith('- '))) return decline();
      const itemText = line.text.slice(1).trimStart();
      if (itemText === '') return decline();
      const itemStart = line.start + (line.text.length - itemText.length);
      const itemPath = [...path, list.length];
      if (KEY.test(itemText) && !itemText.startsWith('{')) {
        // `- key: value` starts a mapping whose other keys sit under the first key.
        const keyIndent = line.indent + (itemStart - line.start);
        reader.lines[reader.index] = { indent: keyIndent, start: itemStart, text: itemText };
        list.push(readBlock(reader, keyIndent, itemPath, offsets));
      } else {
        offsets.set(pathKey(itemPath), itemStart);
        list.push(readInline(itemText, itemStart, itemPath, offsets));
        reader.index++;
      }
    }
    return list;
  }
  const map: Record<string, unknown> = {};
  while (reader.index < reader.lines.length) {
    const line = reader.lines[reader.index]!;
    if (line.indent < indent) break;
    if (line.indent > indent) return decline();
    const match = KEY.exec(line.text);
    if (!match) return decline();
    const key = match[1]!;
    if (Object.hasOwn(map, key) || key === '__proto__') return decline();
    const rest = line.text.slice(match[0].length).trimStart();
    const valuePath = [...path, key];
    reader.index++;
    if (rest !== '') {
      const valueStart = line.start + (line.text.length - rest.length);
      offsets.set(pathKey(valuePath), valueStart);
      map[key] = readInline(rest, valueStart, valuePath, offsets);
      continue;
    }
    const next = reader.lines[reader.index];
    if (!next || next.indent <= indent) return decline(); // an empty value is null: not simple
    map[key] = readBlock(reader, next.indent, valuePath, offsets);
  }
  return map;
}

/** A value on one line: a scalar, or a flow list or map. */
function readInline(text: string, start: number, path: (string | number)[], offsets: Map<string, number>): unknown {
  const state = { text, pos: 0 };
  const value = readFlowValue(state, start, path, offsets);
  if (state.text.slice(state.pos).trim() !== '') return decline();
  return value;
}

interface FlowState {
  text: string;
  pos: number;
}

function skipSpaces(state: FlowState): void {
  while (state.text[state.pos] === ' ') state.pos++;
}

function readFlowValue(state: FlowState, base: number, path: (string | number)[], offsets: Map<string, number>, inFlow = false): unknown {
  skipSpaces(state);
  offsets.set(pathKey(path), base + state.pos);
  const ch = state.text[state.pos];
  // A collection at `path` is nested path.length + 1 deep; the full parser reports too deep ones.
  if ((ch === '[' || ch === '{') && path.length >= MAX_YAML_DEPTH) return decline();
  if (ch === '[') {
    state.pos++;
    const list: unknown[] = [];
    skipSpaces(state);
    if (state.text[state.pos] === ']') {
      state.pos++;
      return list;
    }
    for (;;) {
      list.push(readFlowValue(state, base, [...path, list.length], offsets, true));
      skipSpaces(state);
      const next = state.text[state.pos++];
      if (next === ']') return list;
      if (next !== ',') return decline();
      skipSpaces(state);
      if (state.text[state.pos] === ']') return decline(); // trailing comma
    }
  }
  if (ch === '{') {
    state.pos++;
    const map: Record<string, unknown> = {};
    skipSpaces(state);
    if (state.text[state.pos] === '}') {
      state.pos++;
      return map;
    }
    for (;;) {
      skipSpaces(state);
      const match = /^([A-Za-z_][A-Za-z0-9_-]*): /.exec(state.text.slice(state.pos));
      if (!match) return decline();
      const key = match[1]!;
      if (Object.hasOwn(map, key) || key === '__proto__') return decline();
      state.pos += match[0].length;
      map[key] = readFlowValue(state, base, [...path, key], offsets, true);
      skipSpaces(state);
      const next = state.text[state.pos++];
      if (next === '}') return map;
      if (next !== ',') return decline();
    }
  }
  return readScalar(state, inFlow);
}

function readScalar(state: FlowState, inFlow: boolean): string | number | boolean {
  const rest = state.text.slice(state.pos);
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    let end = 1;
    for (; end < rest.length; end++) {
      if (quote === '"' && rest[end] === '\\') {
        end++;
        continue;
      }
      if (rest[end] === quote) {
        if (quote === "'" && rest[end + 1] === "'") {
          end++;
          continue;
        }
        break;
      }
    }
    if (end >= rest.length) return decline();
    const literal = rest.slice(0, end + 1);
    state.pos += end + 1;
    if (quote === "'") return literal.slice(1, -1).replace(/''/g, "'");
    try {
      // YAML's double-quoted escapes are a superset of JSON's; others go to the real parser.
      return JSON.parse(literal) as string;
    } catch {
      return decline();
    }
  }
  const token = (inFlow ? /^[^,\]}]*/.exec(rest)![0] : rest).trimEnd();
  if (token === '' || token.includes(' #') || token.includes(': ')) return decline();
  state.pos += token.length;
  if (token === 'true') return true;
  if (token === 'false') return false;
  if (INTEGER.test(token)) {
    const n = Number(token);
    return Number.isSafeInteger(n) && token !== '-0' ? n : decline();
  }
  if (DECIMAL.test(token)) return Number(token);
  if (PLAIN_STRING.test(token) && !NOT_A_STRING.test(token)) return token;
  return decline();
}
