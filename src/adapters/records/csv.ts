/**
 * CSV through csv-parse's stream parser, fed one chunk at a time: the header row names the
 * inputs, every later record maps them to its fields as text (`text: true`: the batch
 * converts them to the declared types). Quoted fields may hold commas, doubled quotes and
 * line breaks; a record's `line` is where it starts, counted from the empty lines csv-parse
 * skipped and the line breaks inside earlier records' fields, so a multi-line record does
 * not shift the records after it.
 */
import { isUtf8 } from 'node:buffer';
import type { RecordItem } from '../../core/batch.js';
import { AppError } from '../../core/errors.js';
import { setOwn } from '../../core/inputs.js';
import { decodeUtf8, MAX_RECORD_BYTES, recordProblem, tooLargeMessage } from './record-problem.js';

type Field = Buffer | string;

/** A record as csv-parse handed it over, with the empty lines it skipped so far. */
interface Parsed {
  fields: Field[];
  emptyLines: number;
}

export async function* readCsv(file: string, chunks: AsyncIterable<Buffer>): AsyncGenerator<RecordItem> {
  // Loaded here: most commands never read a CSV.
  const { parse, CsvError } = await import('csv-parse');
  const parsed: Parsed[] = [];
  const parser = parse({
    // Fields as bytes, so invalid UTF-8 is a problem for its record rather than a silent U+FFFD.
    // (The input already dropped a BOM; csv-parse's `bom` would switch it back to strings.)
    encoding: null,
    // Field counts are checked here, against the header, so a wrong one costs one record, not the file.
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
    // Records are taken as they are parsed rather than read from the stream: an error destroys
    // the stream and would drop the records parsed before it in the same chunk.
    on_record: (fields: Field[], info: { empty_lines: number }) => {
      parsed.push({ fields, emptyLines: info.empty_lines });
      return null;
    },
  });
  let failure: unknown;
  parser.on('error', (error) => (failure ??= error));

  // Lines are counted here (at LF): csv-parse counts a CRLF inside a quoted field as two lines.
  let nextLine = 1;
  let lastEmpty = 0;
  let header: string[] | undefined;
  let headerLine = 0;
  let index = 0;
  const problem = (line: number, message: string): RecordItem => ({ kind: 'problem', index, problem: recordProblem(file, line, 1, message) });

  /** The records parsed so far, in order, as items (the header taken first). */
  function* taken(): Generator<RecordItem> {
    for (const { fields, emptyLines } of parsed.splice(0)) {
      const line = nextLine + (emptyLines - lastEmpty);
      lastEmpty = emptyLines;
      nextLine = line + 1 + fields.reduce((sum: number, field) => sum + newlines(field), 0);
      if (!header) {
        header = headerNames(file, line, fields);
        headerLine = line;
        continue;
      }
      // A line of spaces is a blank line in a multi-column file, not a one-field record.
      if (header.length > 1 && fields.length === 1 && isBlank(fields[0]!)) continue;
      index++;
      if (fields.length !== header.length) {
        yield problem(line, `record has ${fields.length} field${fields.length === 1 ? '' : 's'}; the header (line ${headerLine}) names ${header.length}`);
        continue;
      }
      yield recordOf(header, fields, index, line, problem);
    }
  }

  try {
    // One chunk at a time, its records yielded before the next is read: the batch's pace is the read's.
    for await (const chunk of chunks) {
      await settled((done) => parser.write(chunk, done));
      yield* taken();
      if (failure) break;
    }
    if (!failure) {
      await settled((done) => parser.end(done));
      yield* taken();
    }
  } finally {
    parser.destroy();
  }
  if (!failure) return;
  if (!(failure instanceof CsvError)) throw failure;
  // csv-parse stops at its first error: one problem at the record it was reading, then the end.
  const line = nextLine + ((failure as unknown as { empty_lines: number }).empty_lines - lastEmpty);
  const message = csvMessage(failure.code);
  if (!header) throw new AppError('RECORD', `cannot read the CSV header: ${message}`, { location: { file, line, col: 1 } });
  index++;
  yield problem(line, message);
}

/** Waits for a write or end callback; the error, if any, is caught by the 'error' listener. */
function settled(start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => start(() => resolve()));
}

function recordOf(header: string[], fields: Field[], index: number, line: number, problem: (line: number, message: string) => RecordItem): RecordItem {
  const values: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) {
    const text = fieldText(fields[i]!);
    if (!text.ok) return problem(line, `field "${header[i]}": ${text.message}`);
    setOwn(values, header[i]!, text.text);
  }
  return { kind: 'record', record: { index, line, values, text: true } };
}

function newlines(field: Field): number {
  let count = 0;
  if (typeof field === 'string') for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) count++;
  else for (let at = field.indexOf(0x0a); at !== -1; at = field.indexOf(0x0a, at + 1)) count++;
  return count;
}

/** Trimmed header names; nothing can be read without them, so a bad header throws. */
function headerNames(file: string, line: number, fields: Field[]): string[] {
  const fail = (message: string) => new AppError('RECORD', message, { location: { file, line, col: 1 } });
  const names: string[] = [];
  for (const [i, field] of fields.entries()) {
    const text = fieldText(field);
    if (!text.ok) throw fail(`the CSV header's column ${i + 1}: ${text.message}`);
    const name = text.text.trim();
    if (name === '') throw fail(`the CSV header's column ${i + 1} has no name; the header row names the workflow's inputs`);
    if (names.includes(name)) throw fail(`the CSV header names "${name}" twice; each column is one input`);
    names.push(name);
  }
  return names;
}

function fieldText(field: Field): { ok: true; text: string } | { ok: false; message: string } {
  if (typeof field === 'string') return { ok: true, text: field };
  if (isUtf8(field)) return { ok: true, text: field.toString('utf8') };
  const decoded = decodeUtf8(field);
  return decoded.ok ? decoded : { ok: false, message: decoded.message };
}

function isBlank(field: Field): boolean {
  return typeof field === 'string' ? /^[ \t]*$/.test(field) : field.every((byte) => byte === 0x20 || byte === 0x09);
}

function csvMessage(code: string): string {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field in this record is never closed: the file ends inside it (a missing ")';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return `a quoted field's closing quote must be followed by a comma or the end of the line; write a quote inside a quoted field as ""`;
    case 'INVALID_OPENING_QUOTE':
      return `a quote inside an unquoted field; quote the whole field and double the quotes inside it ("say ""hi""")`;
    case 'CSV_MAX_RECORD_SIZE':
      return tooLargeMessage();
    default:
      return `invalid CSV: ${code}`;
  }
}
