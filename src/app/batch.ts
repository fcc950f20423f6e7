/**
 * `quire run <workflow> --batch <file>`: one workflow run per input record.
 *
 * - The workflow is prepared once (model, planned steps, endpoints); each record's run is
 *   an ordinary run, recorded as it goes, linked to the batch and its record number.
 * - Records are read one at a time as slots free up: as many are in flight as the
 *   endpoints the workflow uses can serve at once (the sum of their concurrency limits),
 *   so a multi-step workflow keeps every server busy, and memory holds only those.
 * - The per-endpoint limits are the clients' (quire.yaml `concurrency`, `--concurrency`,
 *   else by API: KoboldCpp 1, others 4); requests never exceed them.
 * - A record that cannot be read or does not fit the workflow's inputs is reported with
 *   its line and recorded `invalid`; with `strict`, every record is checked first and one
 *   bad record stops the batch before any request.
 * - Resume: a record whose earlier run in the batch completed with the same provenance
 *   (inputs and the workflow's file hashes) is skipped; every other record runs again.
 * - Results are saved in small groups (one transaction each, with the batch's counts);
 *   a crash loses at most the runs in flight and a fraction of a second of links, which a
 *   resume recovers from the runs themselves, so no completed record runs twice.
 */
import { createHash } from 'node:crypto';
import { emptyCounts, recordInputs, type BatchCounts, type BatchRecord, type InputRecord, type BatchEvent, type BatchProgress, type BatchRecordResult, type BatchSettings, type BatchStatus, type EndpointProgress, type RecordSource } from '../core/batch.js';
import { AppError, type Problem } from '../core/errors.js';
import type { RunMetadata } from '../core/history.js';
import type { Workflow } from '../core/types.js';
import type { AppContext } from './context.js';
import { defaultConcurrency } from './endpoints.js';
import { isBatchAlive, ownerMetadata } from './interrupted.js';
import type { WorkspaceModel } from './sync.js';
import { prepareWorkflow, runWorkflow, type PreparedWorkflow, type RunOptions, type RunOutcome } from './run.js';

export interface BatchOptions {
  workflow: string;
  /** Opens the records (called twice with `strict`: once to check them all, once to run). */
  openSource: () => Promise<RecordSource>;
  /** The input as recorded (the path as given, '-' for stdin) and its content hash (null for stdin). */
  inputPath: string;
  inputHash: string | null;
  endpointOverrides?: readonly string[];
  /** The validated model to run on (default: the workflow's slice, synced first when files changed). */
  model?: WorkspaceModel;
  /** Requests in flight per endpoint, for every endpoint (overrides quire.yaml and the defaults). */
  concurrency?: number;
  /** A batch id to resume, or 'latest' for the newest batch of this workflow over the same input. */
  resume?: number | 'latest';
  strict?: boolean;
  /** Stop reading new records once this many have failed. */
  maxFailures?: number;
  signal?: AbortSignal;
  onEvent?: (event: BatchEvent) => void;
  /** Reuse answers of identical earlier requests (the step cache). */
  cache?: boolean;
  /** Recorded on each run (default 'batch'; `quire test` runs its cases as a batch with 'test'). */
  trigger?: 'batch' | 'test';
  /** More options for one record's run (a test case's checks and approved outputs). */
  runOptionsFor?: (record: InputRecord) => Pick<RunOptions, 'extraChecks' | 'approved'>;
  /** Called with each record's run as it ends. */
  onRecordOutcome?: (record: InputRecord, outcome: RunOutcome) => void;
  /** How often a progress event is sent, in ms (default 250). */
  progressIntervalMs?: number;
}

export interface BatchOutcome {
  batchId: number;
  status: Exclude<BatchStatus, 'running'>;
  counts: BatchCounts;
  /** Why the batch stopped early, when it did. */
  reason?: string;
}

/** Results are saved when this many have gathered, or after FLUSH_MS. */
const FLUSH_COUNT = 256;
const FLUSH_MS = 100;

/** A record's provenance: the run of a resumed batch is skipped only when this is the same. */
export function recordKey(inputs: Record<string, unknown> | undefined, files: Record<string, string> | undefined): string {
  return recordKeyer(files)(inputs);
}

/**
 * recordKey with the files part (the same for every record of a batch) serialized once:
 * `[inputs, files]` as JSON, built from the two parts, hashed.
 */
export function recordKeyer(files: Record<string, string> | undefined): (inputs: Record<string, unknown> | undefined) => string {
  const filesJson = JSON.stringify(Object.entries(files ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return (inputs) => createHash('sha256').update(`[${JSON.stringify(inputs ?? {})},${filesJson}]`).digest('hex');
}

/**
 * Checks every record of the input against the workflow before anything runs (`--strict`).
 * @returns the problems found (empty: every record fits)
 */
export async function checkAllRecords(source: RecordSource, workflow: Workflow, limit = 100): Promise<Problem[]> {
  const problems: Problem[] = [];
  for await (const item of source.records) {
    if (item.kind === 'problem') problems.push(item.problem);
    else {
      const checked = recordInputs(workflow, item.record, source.path);
      if (!checked.ok) problems.push(checked.problem);
    }
    if (problems.length >= limit) break;
  }
  return problems;
}

export async function runBatch(ctx: AppContext, options: BatchOptions): Promise<BatchOutcome> {
  const emit = options.onEvent ?? (() => {});
  const startedMs = performance.now();
  const prepared = await prepareWorkflow(ctx, { workflow: options.workflow, ...(options.model ? { model: options.model } : {}), ...(options.endpointOverrides ? { endpointOverrides: options.endpointOverrides } : {}) });
  if (options.concurrency !== undefined) {
    for (const [port, endpoint] of prepared.endpoints) prepared.endpoints.set(port, { ...endpoint, concurrency: options.concurrency });
  }
  const stores = await ctx.stores.forWriting();
  const { batches } = stores;
  for (const id of await batches.markInterrupted((settings) => isBatchAlive(ctx.processes, settings), ctx.clock.now())) await settleDeadBatch(ctx, id);

  if (options.strict) {
    const checking = await options.openSource();
    const problems = await checkAllRecords(checking, prepared.workflow).finally(() => checking.close());
    if (problems.length > 0) throw new AppError('RECORD', `${problems.length === 100 ? '100 or more' : problems.length} bad record${problems.length === 1 ? '' : 's'}; nothing was run (--strict)`, { hint: problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).slice(0, 20).join('\n') });
  }

  const settings: BatchSettings = {
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.endpointOverrides?.length ? { endpointOverrides: [...options.endpointOverrides] } : {}),
    ...(options.strict ? { strict: true } : {}),
    ...(options.maxFailures !== undefined ? { maxFailures: options.maxFailures } : {}),
    ...(options.cache ? { cache: true } : {}),
    ...ownerMetadata(ctx.processes),
  };
  const resumed = options.resume !== undefined ? await findResumable(ctx, options) : undefined;
  const source = await options.openSource();
  try {
    return await runRecords(ctx, options, prepared, source, resumed, settings, startedMs);
  } finally {
    await source.close();
  }
}

/** The batch itself, over an open source (closed by the caller). */
async function runRecords(
  ctx: AppContext,
  options: BatchOptions,
  prepared: PreparedWorkflow,
  source: RecordSource,
  resumed: BatchRecord | undefined,
  settings: BatchSettings,
  startedMs: number,
): Promise<BatchOutcome> {
  const emit = options.onEvent ?? (() => {});
  const keyOf = recordKeyer(prepared.files);
  const { batches } = await ctx.stores.forWriting();
  let batchId: number;
  if (resumed) {
    batchId = resumed.id;
    await batches.reopenBatch(batchId, settings);
    await recoverUnsavedResults(ctx, batchId);
  } else {
    batchId = await batches.createBatch({ workflowId: prepared.links.workflowId, workflow: prepared.workflow.name, inputPath: options.inputPath, inputHash: options.inputHash, inputFormat: source.format, settings, startedAt: ctx.clock.now() });
  }

  // The endpoints and their limits: the client of each is made (and `auto` detected) now, before any record.
  const endpointState = new Map<number, EndpointProgress>();
  for (const [port, endpoint] of prepared.endpoints) {
    const client = await ctx.clients(endpoint, options.signal);
    endpointState.set(port, { port, url: client.url, limit: endpoint.concurrency ?? defaultConcurrency(client.api), inFlight: 0, requests: 0, completionTokens: 0 });
  }
  // A record holds one endpoint at a time: this many in flight keep every endpoint busy.
  const maxInFlight = Math.max(1, [...endpointState.values()].reduce((sum, e) => sum + e.limit, 0));
  emit({ type: 'batch-start', batchId, workflow: prepared.workflow.name, input: options.inputPath, resumed: resumed !== undefined, concurrency: [...endpointState.values()].map((e) => ({ port: e.port, limit: e.limit })) });

  // The batch's records by their latest status; a resume starts from what earlier attempts saved.
  const counts: BatchCounts = resumed ? { ...(await batches.countResults(batchId)), skipped: 0, cacheHits: 0 } : emptyCounts();
  const recordCountBefore = resumed?.recordCount ?? 0;
  let read = 0;
  let readDone = false;
  let inFlight = 0;
  let stopReason: string | undefined;
  const pending: BatchRecordResult[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const progressRow = () => ({ recordCount: Math.max(read, recordCountBefore), counts: { ...counts } });
  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    const group = pending.splice(0);
    const progress = progressRow();
    writing = writing.then(() => batches.saveResults(batchId, group, progress));
    return writing;
  };
  /** Counts a record's new result (replacing an earlier attempt's) and queues it to be saved. */
  const settle = (result: BatchRecordResult, before: BatchRecordResult | undefined) => {
    if (before) counts[before.status]--;
    counts[result.status]++;
    pending.push(result);
    if (pending.length >= FLUSH_COUNT) void flush();
    else flushTimer ??= setTimeout(() => void flush(), FLUSH_MS);
  };

  const snapshot = (): BatchProgress => {
    const position = source.position();
    return {
      batchId, workflow: prepared.workflow.name, counts: { ...counts }, inFlight, read, readDone,
      bytesRead: position.bytesRead, ...(position.totalBytes !== undefined ? { totalBytes: position.totalBytes } : {}),
      elapsedMs: performance.now() - startedMs, endpoints: [...endpointState.values()].map((e) => ({ ...e })),
    };
  };
  const ticker = setInterval(() => emit({ type: 'progress', progress: snapshot() }), options.progressIntervalMs ?? 250);

  const runRecord = async (record: InputRecord, inputs: Record<string, unknown>, before: BatchRecordResult | undefined) => {
    const holding = new Map<number, number>(); // step index -> port, while its request is out
    const outcome = await runWorkflow(ctx, {
      workflow: prepared.workflow.name, inputs, trigger: options.trigger ?? 'batch', stream: false, prepared, ...(options.cache ? { cache: true } : {}),
      ...(options.runOptionsFor?.(record) ?? {}),
      ...(options.signal ? { signal: options.signal } : {}),
      batch: { id: batchId, record: record.index, line: record.line },
      onEvent: (event) => {
        if (event.type === 'step-start') {
          const port = prepared.steps[event.index]!.payload.llmPort;
          holding.set(event.index, port);
          endpointState.get(port)!.inFlight++;
        } else if (event.type === 'step-end') {
          const port = holding.get(event.index);
          holding.delete(event.index);
          const state = port !== undefined ? endpointState.get(port) : undefined;
          if (state) {
            state.inFlight--;
            // A step answered from the cache made no request.
            if (event.result.attempts > 0) state.requests++;
            state.completionTokens += event.result.completionTokens ?? 0;
          }
        }
      },
    }).finally(() => {
      for (const port of holding.values()) endpointState.get(port)!.inFlight--; // a step that failed or was cancelled
    });
    const status = outcome.status;
    options.onRecordOutcome?.(record, outcome);
    counts.cacheHits += outcome.cacheHits;
    settle({ record: record.index, line: record.line, runId: outcome.runId, status, key: keyOf(inputs), error: outcome.error?.message ?? null }, before);
    emit({ type: 'record-end', index: record.index, line: record.line, runId: outcome.runId, status, ...(outcome.error ? { error: outcome.error.message } : {}), cacheHits: outcome.cacheHits });
    if (options.maxFailures !== undefined && counts.failed >= options.maxFailures && !stopReason) stopReason = `${counts.failed} record${counts.failed === 1 ? '' : 's'} failed (--max-failures ${options.maxFailures})`;
  };

  // Slots: a record is read only when one is free.
  const running = new Set<Promise<void>>();
  let failure: unknown;
  try {
    for await (const item of source.records) {
      read++;
      const index = item.kind === 'problem' ? item.index : item.record.index;
      // An earlier attempt's result for this record (a resume): replaced, or kept when it completed the same way.
      const before = resumed ? await batches.recordResult(batchId, index) : undefined;
      const checked = item.kind === 'problem' ? { ok: false as const, problem: item.problem } : recordInputs(prepared.workflow, item.record, source.path);
      if (!checked.ok) {
        settle({ record: index, line: checked.problem.line, runId: null, status: 'invalid', key: null, error: checked.problem.message }, before);
        emit({ type: 'record-problem', index, problem: checked.problem });
      } else if (before?.status === 'completed' && before.key === keyOf(checked.inputs)) {
        counts.skipped++;
      } else {
        inFlight++;
        const record = (item as { record: InputRecord }).record;
        const task: Promise<void> = runRecord(record, checked.inputs, before)
          .catch((error: unknown) => {
            failure ??= error;
          })
          .finally(() => {
            inFlight--;
            running.delete(task);
          });
        running.add(task);
      }
      while (running.size >= maxInFlight) await Promise.race(running);
      if (failure || options.signal?.aborted || stopReason) break;
    }
    readDone = !(failure || options.signal?.aborted || stopReason);
    await Promise.all(running);
  } catch (error) {
    failure ??= error;
    await Promise.allSettled(running);
  } finally {
    clearInterval(ticker);
  }
  await flush();
  if (failure && !(failure instanceof AppError)) throw failure;

  const status: Exclude<BatchStatus, 'running'> = options.signal?.aborted ? 'cancelled' : stopReason || failure ? 'failed' : 'completed';
  const reason = options.signal?.aborted ? 'cancelled by the user' : stopReason ?? (failure instanceof AppError ? located(failure) : undefined);
  const final = progressRow();
  await batches.finishBatch(batchId, status, ctx.clock.now(), final);
  emit({ type: 'progress', progress: snapshot() });
  emit({ type: 'batch-end', batchId, status, counts: final.counts, elapsedMs: performance.now() - startedMs, ...(reason ? { reason } : {}) });
  return { batchId, status, counts: final.counts, ...(reason ? { reason } : {}) };
}

/** An error as `file:line:col: message` when it knows where it is (a CSV header, a YAML file that is not a list). */
function located(error: AppError): string {
  const at = error.location;
  return at ? `${at.file}:${at.line}:${at.col}: ${error.message}` : error.message;
}

/** The batch to resume. @throws AppError NOT_FOUND, or INPUT when it is another workflow's or input's, or still running */
async function findResumable(ctx: AppContext, options: BatchOptions) {
  const { batches } = await ctx.stores.forWriting();
  const batch = options.resume === 'latest'
    ? await batches.latestBatch(options.workflow, options.inputPath, options.inputHash)
    : await batches.getBatch(options.resume!);
  if (!batch) {
    throw new AppError('NOT_FOUND', options.resume === 'latest' ? `no batch of workflow "${options.workflow}" over ${options.inputPath} to resume` : `no batch #${options.resume}`, { hint: 'list them with `quire batches`' });
  }
  if (batch.settings.workers === true) throw new AppError('INPUT', `batch #${batch.id} is run by workers: its records wait in the queue for \`quire worker\`, not for a resume`);
  if (batch.workflow !== options.workflow) throw new AppError('INPUT', `batch #${batch.id} ran workflow "${batch.workflow}", not "${options.workflow}"`);
  if (batch.inputHash !== options.inputHash || batch.inputHash === null) {
    throw new AppError('INPUT', batch.inputHash === null ? `batch #${batch.id} read stdin: it cannot be resumed` : `the input changed since batch #${batch.id} (${batch.inputPath}); record numbers would not match`, { hint: 'start a new batch without --resume' });
  }
  if (batch.status === 'running') throw new AppError('INPUT', `batch #${batch.id} is still running (process ${String(batch.settings.pid ?? '?')})`, { hint: 'stop it first, or wait for it to end' });
  return batch;
}

/**
 * A batch whose process died: the results it had not saved yet are saved from its runs,
 * and its counts recounted from its records, so `batches` and `show --batch` tell the truth.
 */
export async function settleDeadBatch(ctx: AppContext, batchId: number): Promise<void> {
  await recoverUnsavedResults(ctx, batchId);
  const { batches } = await ctx.stores.forWriting();
  const batch = await batches.getBatch(batchId);
  if (!batch) return;
  const byStatus = await batches.countResults(batchId);
  const settled = byStatus.completed + byStatus.failed + byStatus.cancelled + byStatus.invalid;
  await batches.saveResults(batchId, [], { recordCount: Math.max(batch.recordCount, settled), counts: { ...batch.counts, ...byStatus } });
}

/**
 * Runs of this batch that ended after its last saved result (the process stopped before
 * the group was saved): their results are saved now, from the runs themselves.
 */
async function recoverUnsavedResults(ctx: AppContext, batchId: number): Promise<void> {
  const { batches } = await ctx.stores.forWriting();
  const runs = await batches.unsavedRuns(batchId);
  const results: BatchRecordResult[] = [];
  for (const run of runs) {
    const record = run.metadata.batch_record;
    if (typeof record !== 'number' || run.status === 'running') continue;
    const known = await batches.recordResult(batchId, record);
    // A later attempt's result for the record stands.
    if (known?.runId != null && known.runId > run.id) continue;
    results.push({ record, line: typeof run.metadata.batch_line === 'number' ? run.metadata.batch_line : (known?.line ?? 0), runId: run.id, status: run.status, key: recordKey(run.metadata.inputs, run.metadata.files), error: run.metadata.error ?? null });
  }
  if (results.length === 0) return;
  const batch = (await batches.getBatch(batchId))!;
  await batches.saveResults(batchId, results, { recordCount: batch.recordCount, counts: batch.counts });
}
