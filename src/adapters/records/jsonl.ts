/**
 * JSONL (NDJSON): one JSON object per line. Blank lines are skipped and take no number; a
 * line that is not a JSON object is a problem for that record, located at the JSON error's
 * column, and reading goes on.
 */
import type { RecordItem } from '../../core/batch.js';
import { splitLines } from './lines.js';
import { decodeUtf8, MAX_RECORD_BYTES, recordProblem, tooLargeMessage } from './record-problem.js';

export async function* readJsonl(file: string, chunks: AsyncIterable<Buffer>): AsyncGenerator<RecordItem> {
  let index = 0;
  const problem = (line: number, col: number, message: string): RecordItem => ({ kind: 'problem', index, problem: recordProblem(file, line, col, message) });
  for await (const batch of splitLines(chunks, MAX_RECORD_BYTES)) {
    for (const { number: line, bytes, oversized } of batch) {
      if (oversized !== undefined) {
        index++;
        yield problem(line, 1, tooLargeMessage(oversized));
        continue;
      }
      if (isBlank(bytes)) continue;
      index++;
      const decoded = decodeUtf8(bytes);
      if (!decoded.ok) {
        yield problem(line, decoded.col, decoded.message);
        continue;
      }
      let value: unknown;
      try {
        // JSON.parse makes `__proto__` an own property, never the prototype.
        value = JSON.parse(decoded.text);
      } catch (error) {
        const message = (error as Error).message;
        yield problem(line, jsonErrorColumn(decoded.text, message), `not valid JSON: ${jsonMessage(message)}`);
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        yield problem(line, firstNonBlank(decoded.text), `a record must be a JSON object ({"name": value, ...}), not ${describe(value)}`);
        continue;
      }
      yield { kind: 'record', record: { index, line, values: value as Record<string, unknown>, text: false } };
    }
  }
}

/** Only spaces and tabs (JSON's whitespace on one line, the CR already dropped). */
function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0x09) return false;
  return true;
}

const firstNonBlank = (text: string) => text.search(/[^ \t]/) + 1;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : `a ${typeof value}`;
}

/** V8's message without its position or its echo of the input. */
function jsonMessage(message: string): string {
  const plain = message
    .replace(/(?: in JSON)? at position \d+.*$/s, '')
    .replace(/, .*is not valid JSON$/s, '')
    .replace(/^Unexpected end of JSON input$/, 'the line ends before the JSON value does');
  return plain.charAt(0).toLowerCase() + plain.slice(1);
}

/**
 * 1-based column of a JSON.parse error. V8 (Node 20) names a position in most messages;
 * "Unexpected token 'x', "..." is not valid JSON" has none, so the position is found as
 * the end of the longest prefix that is still the start of some JSON text (a binary search
 * over JSON.parse of prefixes: only lines that fail pay for it).
 */
function jsonErrorColumn(text: string, message: string): number {
  const at = /at position (\d+)/.exec(message);
  if (at) return Number(at[1]) + 1;
  if (/Unexpected end of JSON input/.test(message)) return text.trimEnd().length + 1;
  let good = 0; // text.slice(0, good) can still grow into JSON
  let bad = text.length; // text.slice(0, bad) cannot
  while (bad - good > 1) {
    const mid = (good + bad) >>> 1;
    if (isJsonPrefix(text.slice(0, mid))) good = mid;
    else bad = mid;
  }
  return bad;
}

function isJsonPrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = (error as Error).message;
    if (/Unexpected end of JSON input/.test(message)) return true;
    const at = /at position (\d+)/.exec(message);
    return at !== null && Number(at[1]) >= prefix.length;
  }
}
