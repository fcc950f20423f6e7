/**
 * `quire batches`, `quire show --batch` and `quire results`: batches as a table or JSON,
 * and a batch's records as JSONL or CSV (csv-stringify), written as they are read.
 */
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import type { BatchRecord } from '../../core/batch.js';
import type { BatchResultRow } from '../../app/batches.js';
import type { CommandContext } from '../context.js';
import { bold, dim, oneLine, printJson } from '../report.js';

const batchJson = (b: BatchRecord) => ({
  id: b.id, workflow: b.workflow, status: b.status, input: b.inputPath, input_hash: b.inputHash, format: b.inputFormat,
  records: b.recordCount, ...countsJson(b), started_at: b.startedAt, completed_at: b.completedAt, settings: b.settings,
});
const countsJson = (b: BatchRecord) => ({ completed: b.counts.completed, failed: b.counts.failed, cancelled: b.counts.cancelled, invalid: b.counts.invalid, skipped: b.counts.skipped });

export function printBatches(context: CommandContext, batches: BatchRecord[]): void {
  if (context.json) {
    printJson({ ok: true, batches: batches.map(batchJson) });
    return;
  }
  if (batches.length === 0) {
    process.stdout.write('no batches yet\n');
    return;
  }
  const header = ['batch', 'workflow', 'status', 'input', 'records', 'done', 'failed', 'invalid', 'started (UTC)'];
  const rows = batches.map((b) => [`#${b.id}`, b.workflow, b.status, oneLine(b.inputPath), String(b.recordCount), String(b.counts.completed), String(b.counts.failed + b.counts.cancelled), String(b.counts.invalid), b.startedAt]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${bold(line(header))}\n${rows.map(line).join('\n')}\n`);
}

export function printBatch(context: CommandContext, batch: BatchRecord): void {
  if (context.json) {
    printJson({ ok: true, batch: batchJson(batch) });
    return;
  }
  const c = batch.counts;
  process.stdout.write(`${bold(`batch #${batch.id}`)} · ${batch.workflow} · ${batch.status}\n`);
  process.stdout.write(dim(`input ${oneLine(batch.inputPath)} (${batch.inputFormat}${batch.inputHash ? `, ${batch.inputHash.slice(0, 12)}` : ''})\n`));
  process.stdout.write(dim(`started ${batch.startedAt} UTC${batch.completedAt ? ` · finished ${batch.completedAt} UTC` : ''}\n`));
  process.stdout.write(`${batch.recordCount} records read: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.invalid} invalid${c.skipped ? ` (${c.skipped} skipped by the last resume)` : ''}\n`);
  if (Object.keys(batch.settings).length) process.stdout.write(dim(`settings ${JSON.stringify(batch.settings)}\n`));
  process.stdout.write(dim(`records: quire results ${batch.id} [--format csv]${batch.status !== 'completed' ? ` · resume: quire run ${batch.workflow} --batch ${batch.inputPath} --resume ${batch.id}` : ''}\n`));
}

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
