/**
 * A batch input opened as a RecordSource: the bytes (file or stdin), the format (given, by
 * extension, or sniffed), and the reader for that format.
 */
import type { RecordFormat, RecordItem, RecordSource } from '../../core/batch.js';
import { AppError } from '../../core/errors.js';
import { readCsv } from './csv.js';
import { createSniffer, formatOfPath } from './format.js';
import { openInput, type ByteInput } from './input.js';
import { readJsonl } from './jsonl.js';
import { MAX_RECORD_BYTES } from './record-problem.js';
import { readYamlList } from './yaml-list.js';

export interface RecordSourceOptions {
  /** The format; by default the file's extension says, else its first character. */
  format?: RecordFormat;
  /** Read for `-`; default process.stdin. */
  stdin?: NodeJS.ReadableStream;
  /** What a relative path is relative to; default process.cwd(). */
  cwd?: string;
}

const READERS: Record<RecordFormat, (file: string, chunks: AsyncIterable<Buffer>) => AsyncGenerator<RecordItem>> = {
  jsonl: readJsonl,
  csv: readCsv,
  yaml: readYamlList,
};

/**
 * Opens `input` (a path, or `-` for stdin) and reads no further than its format needs.
 * Records are read as they are iterated; ending the iteration early closes the input.
 * @throws AppError NOT_FOUND or IO (the file), ENCODING (UTF-16), RECORD (a JSON array)
 */
export async function openRecordSource(input: string, options: RecordSourceOptions = {}): Promise<RecordSource> {
  const bytes = await openInput(input, options);
  let format: RecordFormat;
  try {
    format = options.format ?? formatOfPath(input) ?? (await sniff(input, bytes));
  } catch (error) {
    await bytes.close();
    throw error;
  }
  return { format, path: input, records: READERS[format](input, bytes.chunks()), position: () => bytes.position(), close: () => bytes.close() };
}

async function sniff(input: string, bytes: ByteInput): Promise<RecordFormat> {
  const sniffer = createSniffer();
  // A file of nothing but comments is read ahead at most one record's worth.
  await bytes.readAhead((chunk) => sniffer.feed(chunk) !== undefined, MAX_RECORD_BYTES);
  const sniffed = sniffer.result();
  if (sniffed === 'json-array') {
    throw new AppError('RECORD', `${input} holds a JSON array; batch input is read as JSONL: one JSON object per line`, {
      hint: 'convert it with `jq -c ".[]" file.json > file.jsonl`',
    });
  }
  return sniffed;
}
