/**
 * Reading batches (`quire batches`, `quire show --batch`, `quire results`): the stores
 * opened for reading, after settling batches and runs whose process is gone.
 */
import type { BatchRecord, BatchRecordResult, QueueProgress } from '../core/batch.js';
import { AppError } from '../core/errors.js';
import type { ResponseRecord, RunMetadata, RunRecord } from '../core/history.js';
import type { Stores } from '../core/ports.js';
import type { AppContext } from './context.js';
import { settleDeadBatch } from './batch.js';
import { isBatchAlive, settleInterruptedRuns } from './interrupted.js';

/** One record of a batch as `quire results` exports it. */
export interface BatchResultRow {
  record: number;
  line: number;
  status: BatchRecordResult['status'];
  run_id: number | null;
  error: string | null;
  inputs: Record<string, unknown>;
  /** By step name, in step order. */
  steps: Record<string, { output: string | null; prompt_tokens: number | null; completion_tokens: number | null; total_ms: number | null; finish_reason: string | null }>;
}

/** Batches left `running` by a process that is gone become `cancelled` (writes only when there is one). */
async function settleBatches(ctx: AppContext): Promise<void> {
  await settleInterruptedRuns(ctx);
  const { batches } = await ctx.stores.forReading();
  const running = await batches.listBatches({ limit: 1000 });
  const dead = running.filter((b) => b.status === 'running' && !isBatchAlive(ctx.processes, b.settings));
  if (dead.length === 0) return;
  const marked = await (await ctx.stores.forWriting()).batches.markInterrupted((settings) => isBatchAlive(ctx.processes, settings), ctx.clock.now());
  for (const id of marked) await settleDeadBatch(ctx, id);
}

/** Batches, newest first; a running batch of workers with where its queue stands (progress across every worker). */
export async function listBatches(ctx: AppContext, query: { workflow?: string; limit: number }): Promise<(BatchRecord & { queue?: QueueProgress })[]> {
  await settleBatches(ctx);
  const { batches, queue } = await ctx.stores.forReading();
  const list = await batches.listBatches(query);
  if (!queue) return list;
  return Promise.all(list.map(async (batch) => (batch.settings.workers === true && batch.status === 'running' ? { ...batch, queue: await queue.progress(batch.id) } : batch)));
}

export async function getBatch(ctx: AppContext, id: number): Promise<BatchRecord> {
  await settleBatches(ctx);
  const { batches } = await ctx.stores.forReading();
  const batch = await batches.getBatch(id);
  if (!batch) throw new AppError('NOT_FOUND', `no batch #${id}`, { hint: 'see `quire batches` for the batch ids' });
  return batch;
}

/**
 * A batch with, when workers run it, where its queue stands (records queued, leased, and
 * the workers holding leases): `quire show --batch`.
 */
export async function batchOverview(ctx: AppContext, id: number): Promise<{ batch: BatchRecord; queue?: QueueProgress }> {
  const batch = await getBatch(ctx, id);
  const { queue } = await ctx.stores.forReading();
  if (batch.settings.workers !== true || !queue) return { batch };
  return { batch, queue: await queue.progress(id) };
}

/** How many records a page of results holds (runs and responses are read a page at a time). */
const PAGE = 500;

/**
 * Every record of a batch in record order, with its inputs and each step's output, read a
 * page at a time so a batch of any size is exported in flat memory.
 * @returns the batch, the step names (in order of first appearance), and the rows
 */
export async function batchResults(ctx: AppContext, id: number): Promise<{ batch: BatchRecord; rows: AsyncIterable<BatchResultRow> }> {
  const batch = await getBatch(ctx, id);
  return { batch, rows: resultRows(await ctx.stores.forReading(), id) };
}

/**
 * The rows of `batchResults` straight from the stores, settling nothing (the viewer
 * exports beside a running batch without writing).
 */
export async function* resultRows(stores: Pick<Stores, 'batches' | 'history'>, id: number): AsyncIterable<BatchResultRow> {
  let after = 0;
  for (;;) {
    const page = await stores.batches.results(id, { afterRecord: after, limit: PAGE });
    if (page.length === 0) return;
    const runs = await stores.history.runsWithResponses(page.flatMap((r) => (r.runId !== null ? [r.runId] : [])));
    for (const result of page) yield toResultRow(result, result.runId !== null ? runs.get(result.runId) : undefined);
    after = page.at(-1)!.record;
  }
}

/** One record as `quire results` exports it: its inputs (from its run) and each step's output by step name. */
export function toResultRow(result: BatchRecordResult, found: { run: RunRecord; responses: readonly ResponseRecord[] } | undefined): BatchResultRow {
  const steps: BatchResultRow['steps'] = {};
  for (const response of found?.responses ?? []) {
    const m = response.metadata;
    steps[stepName(response)] = {
      output: response.content,
      prompt_tokens: m.prompt_tokens ?? null,
      completion_tokens: m.completion_tokens ?? null,
      total_ms: m.total_ms ?? null,
      finish_reason: m.finish_reason ?? null,
    };
  }
  return { record: result.record, line: result.line, status: result.status, run_id: result.runId, error: result.error, inputs: found?.run.metadata.inputs ?? {}, steps };
}

/** A response's step name, as results name their columns. */
export function stepName(response: ResponseRecord): string {
  const m = response.metadata;
  return typeof m.step === 'string' ? m.step : (response.payload ?? `step ${String(m.step_index ?? '?')}`);
}
