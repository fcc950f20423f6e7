/**
 * `quire batches`, `quire show --batch` and `quire results`: batches as a table or JSON;
 * a batch's records as JSONL or CSV by app/results-writers.ts.
 */
import type { BatchRecord, QueueProgress } from '../../core/batch.js';
import type { CommandContext } from '../context.js';
import { bold, dim, oneLine, printJson } from '../report.js';

const batchJson = (b: BatchRecord) => ({
  id: b.id, workflow: b.workflow, status: b.status, input: b.inputPath, input_hash: b.inputHash, format: b.inputFormat,
  records: b.recordCount, ...countsJson(b), started_at: b.startedAt, completed_at: b.completedAt, settings: b.settings,
});
const countsJson = (b: BatchRecord) => ({ completed: b.counts.completed, failed: b.counts.failed, cancelled: b.counts.cancelled, invalid: b.counts.invalid, skipped: b.counts.skipped });

export function printBatches(context: CommandContext, batches: (BatchRecord & { queue?: QueueProgress })[]): void {
  if (context.json) {
    printJson({ ok: true, batches: batches.map((b) => ({ ...batchJson(b), ...(b.queue ? { queue: b.queue } : {}) })) });
    return;
  }
  if (batches.length === 0) {
    process.stdout.write('no batches yet\n');
    return;
  }
  // A running batch of workers: how many hold its records now.
  const workers = batches.some((b) => b.queue);
  const header = ['batch', 'workflow', 'status', 'input', 'records', 'done', 'failed', 'invalid', ...(workers ? ['workers'] : []), 'started (UTC)'];
  const rows = batches.map((b) => [`#${b.id}`, b.workflow, b.status, oneLine(b.inputPath), String(b.recordCount), String(b.counts.completed), String(b.counts.failed + b.counts.cancelled), String(b.counts.invalid),
    ...(workers ? [b.queue ? `${b.queue.workers} (${b.queue.leased} in flight, ${b.queue.queued} queued)` : ''] : []), b.startedAt]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${bold(line(header))}\n${rows.map(line).join('\n')}\n`);
}

export function printBatch(context: CommandContext, batch: BatchRecord, queue?: QueueProgress): void {
  if (context.json) {
    printJson({ ok: true, batch: batchJson(batch), ...(queue ? { queue } : {}) });
    return;
  }
  const c = batch.counts;
  process.stdout.write(`${bold(`batch #${batch.id}`)} · ${batch.workflow} · ${batch.status}\n`);
  process.stdout.write(dim(`input ${oneLine(batch.inputPath)} (${batch.inputFormat}${batch.inputHash ? `, ${batch.inputHash.slice(0, 12)}` : ''})\n`));
  process.stdout.write(dim(`started ${batch.startedAt} UTC${batch.completedAt ? ` · finished ${batch.completedAt} UTC` : ''}\n`));
  process.stdout.write(`${batch.recordCount} records read: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.invalid} invalid${c.skipped ? ` (${c.skipped} skipped by the last resume)` : ''}\n`);
  if (queue) process.stdout.write(`workers: ${queue.queued} queued, ${queue.leased} in flight on ${queue.workers} worker${queue.workers === 1 ? '' : 's'}, ${queue.done} done\n`);
  if (Object.keys(batch.settings).length) process.stdout.write(dim(`settings ${JSON.stringify(batch.settings)}\n`));
  // A batch of workers is never resumed: its unfinished records wait in the queue for any `quire worker`.
  const next = batch.settings.workers === true ? (batch.status === 'running' ? ' · run `quire worker` to process the queue' : '') : batch.status !== 'completed' ? ` · resume: quire run ${batch.workflow} --batch ${batch.inputPath} --resume ${batch.id}` : '';
  process.stdout.write(dim(`records: quire results ${batch.id} [--format csv]${next}\n`));
}

// The JSONL and CSV writers are shared with the viewer's export links (same bytes as `quire results`).
export { writeResultsCsv, writeResultsJsonl } from '../../app/results-writers.js';
