/**
 * A batch's records as `quire results` writes them: JSONL (one row per line) or CSV
 * (csv-stringify), written as they are read, waiting on the stream's buffer. Shared by the
 * CLI and the viewer's export links, so both give the same bytes.
 */
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import type { BatchResultRow } from './batches.js';

/** Writes a chunk, waiting when the stream's buffer is full (a 1M-record export stays in flat memory). */
async function write(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

export async function writeResultsJsonl(rows: AsyncIterable<BatchResultRow>, out: NodeJS.WritableStream): Promise<number> {
  let n = 0;
  for await (const row of rows) {
    await write(out, `${JSON.stringify(row)}\n`);
    n++;
  }
  return n;
}

/**
 * CSV: one column per input and per step's output, tokens and time. The columns are
 * known only from the records, so they are gathered first (`columnsFrom`, a pass over the
 * same rows) and the rows written in a second pass.
 */
export async function writeResultsCsv(columnsFrom: AsyncIterable<BatchResultRow>, rows: AsyncIterable<BatchResultRow>, out: NodeJS.WritableStream): Promise<number> {
  const inputs = new Set<string>();
  const steps = new Set<string>();
  for await (const row of columnsFrom) {
    for (const key of Object.keys(row.inputs)) inputs.add(key);
    for (const key of Object.keys(row.steps)) steps.add(key);
  }
  const header = ['record', 'line', 'status', 'run_id', ...[...inputs].map((k) => `input.${k}`), ...[...steps].flatMap((s) => [`${s}.output`, `${s}.completion_tokens`, `${s}.total_ms`]), 'error'];
  const csv = stringify({ bom: false });
  const piped = (async () => {
    for await (const chunk of csv) await write(out, String(chunk));
  })();
  const put = async (cells: unknown[]) => {
    if (!csv.write(cells)) await once(csv, 'drain');
  };
  const cell = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value));
  await put(header);
  let n = 0;
  for await (const row of rows) {
    await put([row.record, row.line, row.status, row.run_id ?? '', ...[...inputs].map((k) => cell(row.inputs[k])), ...[...steps].flatMap((s) => [cell(row.steps[s]?.output), cell(row.steps[s]?.completion_tokens), cell(row.steps[s]?.total_ms)]), row.error ?? '']);
    n++;
  }
  csv.end();
  await piped;
  return n;
}
