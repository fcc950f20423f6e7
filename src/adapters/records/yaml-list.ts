/**
 * YAML: a top-level list of mappings, read one item at a time. The input is split at the
 * lines that start a top-level item (`-` in column 1, then a space, a tab or the line's end);
 * each item's lines are parsed on their own by the project's YAML parser (nesting capped at
 * MAX_YAML_DEPTH, aliases capped, duplicate keys refused) with its line numbers shifted back
 * to the file's. Every line of an item after its first is indented, blank or a comment, so
 * a line in column 1 that starts no item is not part of any record.
 * Limits of splitting: anchors and aliases work within one item, not across items.
 */
import type { RecordItem } from '../../core/batch.js';
import { AppError } from '../../core/errors.js';
import { parseYamlSource } from '../../core/yaml-source.js';
import type { Line } from './lines.js';
import { splitLines } from './lines.js';
import { decodeUtf8, MAX_RECORD_BYTES, recordProblem, tooLargeMessage } from './record-problem.js';

/** One top-level item being collected, or a stretch of column-1 lines that start none. */
interface Item {
  start: number;
  lines: string[];
  bytes: number;
  stray: boolean;
  problem?: { line: number; col: number; message: string };
}

type LineKind = 'item' | 'blank' | 'indented' | 'top';

const NOT_A_LIST = 'the batch input must be a YAML list of records: one "- name: value" item per record, each "-" in column 1';

export async function* readYamlList(file: string, chunks: AsyncIterable<Buffer>): AsyncGenerator<RecordItem> {
  let index = 0;
  let item: Item | undefined;
  for await (const batch of splitLines(chunks, MAX_RECORD_BYTES)) {
    for (const line of batch) {
      const kind = kindOf(line);
      if (kind === 'item') {
        if (item) yield itemResult(file, ++index, item);
        item = { start: line.number, lines: [], bytes: 0, stray: false };
        add(item, line);
      } else if (kind === 'top') {
        // `---`, `...` and directives before the first item are the document's preamble; `...` ends it anywhere.
        if (isDocumentMarker(line, item === undefined)) continue;
        if (!item) throw new AppError('RECORD', NOT_A_LIST, { location: { file, line: line.number, col: 1 } });
        if (item.stray) continue;
        yield itemResult(file, ++index, item);
        item = { start: line.number, lines: [], bytes: 0, stray: true };
      } else if (item) {
        if (!item.stray) add(item, line);
      } else if (kind === 'indented') {
        throw new AppError('RECORD', NOT_A_LIST, { location: { file, line: line.number, col: 1 } });
      }
      // Blank and comment lines before the first item count for nothing.
    }
  }
  if (item) yield itemResult(file, ++index, item);
}

function kindOf(line: Line): LineKind {
  const { bytes } = line;
  const length = line.oversized ?? bytes.length;
  if (length === 0) return 'blank';
  const first = bytes[0];
  if (first === 0x2d /* - */) return length === 1 || bytes[1] === 0x20 || bytes[1] === 0x09 ? 'item' : 'top';
  if (first === 0x23 /* # */) return 'blank';
  if (first !== 0x20 && first !== 0x09) return 'top';
  if (line.oversized !== undefined) return 'indented';
  for (const byte of bytes) {
    if (byte === 0x23) return 'blank';
    if (byte !== 0x20 && byte !== 0x09) return 'indented';
  }
  return 'blank';
}

function isDocumentMarker(line: Line, beforeItems: boolean): boolean {
  if (line.oversized !== undefined) return false;
  const text = line.bytes.toString('latin1');
  if (/^\.\.\.[ \t]*(?:#.*)?$/.test(text)) return true;
  return beforeItems && (/^---[ \t]*(?:#.*)?$/.test(text) || text.startsWith('%'));
}

/** One more line of an item, unless it already cannot be read (then its lines are not kept). */
function add(item: Item, line: Line): void {
  if (item.problem) return;
  item.bytes += (line.oversized ?? line.bytes.length) + 1;
  if (line.oversized !== undefined || item.bytes > MAX_RECORD_BYTES) {
    item.problem = { line: item.start, col: 1, message: tooLargeMessage() };
    item.lines = [];
    return;
  }
  const decoded = decodeUtf8(line.bytes);
  if (decoded.ok) item.lines.push(decoded.text);
  else {
    item.problem = { line: line.number, col: decoded.col, message: decoded.message };
    item.lines = [];
  }
}

function itemResult(file: string, index: number, item: Item): RecordItem {
  const problem = (line: number, col: number, message: string): RecordItem => ({ kind: 'problem', index, problem: recordProblem(file, line, col, message) });
  if (item.stray) return problem(item.start, 1, `expected a list item ("- name: value") in column 1; ${NOT_A_LIST}`);
  if (item.problem) return problem(item.problem.line, item.problem.col, item.problem.message);
  const parsed = parseYamlSource(file, item.lines.join('\n'), item.start - 1);
  if (!parsed.ok) {
    const [first, ...rest] = parsed.problems;
    return problem(first!.line, first!.col, `${first!.message}${rest.length > 0 ? ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'} in this record)` : ''}`);
  }
  const list = parsed.source.value;
  const value = Array.isArray(list) ? (list[0] as unknown) : undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const at = value === null || value === undefined ? { line: item.start, col: 1 } : parsed.source.locate([0]);
    return problem(...position(at, item.start), `a record must be a mapping (name: value lines under the "-"), not ${describe(value)}`);
  }
  // The parser's toJS makes `__proto__` an own property, never the prototype.
  return { kind: 'record', record: { index, line: item.start, values: value as Record<string, unknown>, text: false } };
}

function position(at: { line: number; col: number }, fallbackLine: number): [number, number] {
  return at.line >= fallbackLine ? [at.line, at.col] : [fallbackLine, 1];
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty item';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : `a ${typeof value}`;
}
