/**
 * Batches run by workers on many machines, over a shared store's queue (WorkQueue):
 *
 * - `quire run <workflow> --batch <file> --workers` (registerWorkerBatch) reads and checks
 *   every record once, and registers the batch with its records in one transaction. It
 *   runs nothing itself.
 * - `quire worker` (runWorker) syncs its own checkout once, then claims records as slots
 *   free up, runs each as an ordinary run against this machine's endpoints (quire.yaml,
 *   --endpoint), and saves the results in small groups. Its leases are renewed while it
 *   lives; if it dies, they run out and other workers take the records again.
 * - A record's result counts only from the worker holding its lease (the store checks), so
 *   no record completes twice; a run whose lease was lost stays in the history, unlinked.
 */
import { randomBytes } from 'node:crypto';
import { recordInputs, type BatchRecordResult, type BatchSettings, type LeasedRecord, type RecordSource } from '../core/batch.js';
import { AppError, type Problem } from '../core/errors.js';
import type { Stores, WorkQueue } from '../core/ports.js';
import { checkAllRecords, recordKeyer } from './batch.js';
import type { AppContext } from './context.js';
import { defaultConcurrency } from './endpoints.js';
import { ownerMetadata } from './interrupted.js';
import { prepareWorkflow, runWorkflow, type PreparedWorkflow } from './run.js';
import { findWorkflow } from './plan.js';
import { loadRunModel } from './run-model.js';
import { syncModel, type WorkspaceModel } from './sync.js';

export interface RegisterOptions {
  workflow: string;
  /** Opens the records (twice with `strict`). */
  openSource: () => Promise<RecordSource>;
  inputPath: string;
  inputHash: string | null;
  strict?: boolean;
  cache?: boolean;
  model?: WorkspaceModel;
  /** Called with each invalid record (its line and why). */
  onProblem?: (problem: Problem) => void;
}

export interface Registered {
  batchId: number;
  workflow: string;
  queued: number;
  invalid: number;
}

const NEEDS_SHARED_STORE = new AppError('USAGE', 'batches run by workers need a shared store (PostgreSQL)', {
  hint: 'point QUIRE_DB (or --db, or store: in quire.yaml) at postgres://user@host/database on every machine',
});

function queueOf(stores: Stores): WorkQueue {
  if (!stores.queue) throw NEEDS_SHARED_STORE;
  return stores.queue;
}

/** Registers a batch for workers: every record checked and queued (or saved invalid), nothing run. */
export async function registerWorkerBatch(ctx: AppContext, options: RegisterOptions): Promise<Registered> {
  const stores = await ctx.stores.forWriting();
  const queue = queueOf(stores);
  // The workflow and its row only: endpoints (and their API keys) are the workers' business, not this machine's.
  const { workspace } = options.model ?? (await loadRunModel(ctx, options.workflow));
  const workflow = findWorkflow(workspace, options.workflow);
  const { workflowId } = await stores.mirror.runLinks(workflow.name);
  if (options.strict) {
    const checking = await options.openSource();
    const problems = await checkAllRecords(checking, workflow).finally(() => checking.close());
    if (problems.length > 0) throw new AppError('RECORD', `${problems.length === 100 ? '100 or more' : problems.length} bad record${problems.length === 1 ? '' : 's'}; nothing was queued (--strict)`, { hint: problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).slice(0, 20).join('\n') });
  }
  const git = await ctx.gitState();
  const { pid: _pid, process_start: _start, ...author } = ownerMetadata(ctx.processes);
  const settings: BatchSettings = {
    workers: true,
    ...(options.strict ? { strict: true } : {}),
    ...(options.cache ? { cache: true } : {}),
    git_commit: git.commit,
    ...author,
  };
  const source = await options.openSource();
  async function* items() {
    for await (const item of source.records) {
      const checked = item.kind === 'problem' ? { ok: false as const, problem: item.problem } : recordInputs(workflow, item.record, source.path);
      if (checked.ok) {
        const record = (item as { record: { index: number; line: number } }).record;
        yield { queued: { record: record.index, line: record.line, inputs: checked.inputs } };
      } else {
        options.onProblem?.(checked.problem);
        const index = item.kind === 'problem' ? item.index : item.record.index;
        yield { invalid: { record: index, line: checked.problem.line, runId: null, status: 'invalid' as const, key: null, error: checked.problem.message } };
      }
    }
  }
  try {
    const registered = await queue.registerBatch(
      { workflowId, workflow: workflow.name, inputPath: options.inputPath, inputHash: options.inputHash, inputFormat: source.format, settings, startedAt: ctx.clock.now() },
      items(),
    );
    return { ...registered, workflow: workflow.name };
  } finally {
    await source.close();
  }
}

export type WorkerEvent =
  | { type: 'worker-start'; worker: string }
  | { type: 'batch-joined'; batchId: number; workflow: string; records: number; limit: number; commitDiffers: boolean }
  | { type: 'batch-skipped'; batchId: number; workflow: string; reason: string }
  | { type: 'record-end'; batchId: number; record: number; runId: number | null; status: BatchRecordResult['status']; error?: string }
  | { type: 'lease-lost'; batchId: number; records: number[] }
  | { type: 'error'; message: string }
  | { type: 'worker-end'; worker: string; completed: number; failed: number; released: number };

export interface WorkerOptions {
  /** Records in flight on this worker (default: the sum of the endpoints' limits of the batch's workflow). */
  concurrency?: number;
  /** How long a lease lasts without renewal (default 30 s); renewed every third of it. */
  leaseMs?: number;
  /** How often an idle worker looks for work (default 1 s). */
  pollMs?: number;
  /** Stop once no batch has records queued or leased (default: keep waiting for new batches). */
  untilEmpty?: boolean;
  endpointOverrides?: readonly string[];
  signal?: AbortSignal;
  onEvent?: (event: WorkerEvent) => void;
}

export interface WorkerOutcome {
  worker: string;
  completed: number;
  failed: number;
  /** Records handed back to the queue (cancelled by a stop, or of a batch this checkout cannot run). */
  released: number;
}

/**
 * Results are saved when this many have gathered, or after FLUSH_MS: each save is a
 * transaction on the batch's row, which every worker updates. A crash loses only time: the
 * unsaved records' leases run out and other workers run them again.
 */
const FLUSH_COUNT = 128;
const FLUSH_MS = 250;
/** How long a batch this checkout could not run is left to other workers before trying again. */
const SKIP_RETRY_MS = 60_000;
/** After a failed save (the database away for a moment), the next try. */
const RETRY_MS = 2_000;

interface JoinedBatch {
  prepared: PreparedWorkflow;
  keyOf: (inputs: Record<string, unknown> | undefined) => string;
  settings: BatchSettings;
  limit: number;
}

/** Claims and runs records of the queue's batches until stopped (or, with `untilEmpty`, until none are left). */
export async function runWorker(ctx: AppContext, options: WorkerOptions = {}): Promise<WorkerOutcome> {
  const emit = options.onEvent ?? (() => {});
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 1_000;
  const signal = options.signal;
  const stores = await ctx.stores.forWriting();
  const queue = queueOf(stores);
  const { author, self } = ctx.processes;
  const worker = `${author.host}:${self.pid}:${randomBytes(3).toString('hex')}`;
  emit({ type: 'worker-start', worker });

  // This checkout's files, synced once: every batch's workflow is prepared on this model.
  const model = await syncModel(ctx);
  const git = await ctx.gitState();
  const joined = new Map<number, JoinedBatch>();
  // Batches this checkout cannot run now (its workflow is missing, an endpoint is down): left to
  // other workers, and tried again after a while (the server may come back, a pull may add the file).
  const skipped = new Map<number, { until: number; reason: string }>();
  const skipping = () => [...skipped].filter(([, s]) => s.until > performance.now()).map(([id]) => id);
  let maxInFlight = options.concurrency ?? 1;

  const join = async (batchId: number): Promise<JoinedBatch | undefined> => {
    const known = joined.get(batchId);
    if (known || (skipped.get(batchId)?.until ?? 0) > performance.now()) return known;
    const batch = await stores.batches.getBatch(batchId);
    if (!batch) return undefined;
    try {
      // This machine's endpoints only: the registering machine's --endpoint URLs mean nothing here.
      const prepared = await prepareWorkflow(ctx, { workflow: batch.workflow, model, endpointOverrides: options.endpointOverrides ?? [] });
      if (options.concurrency !== undefined) for (const [port, endpoint] of prepared.endpoints) prepared.endpoints.set(port, { ...endpoint, concurrency: options.concurrency });
      let limit = 0;
      for (const endpoint of prepared.endpoints.values()) {
        const client = await ctx.clients(endpoint, signal);
        limit += endpoint.concurrency ?? defaultConcurrency(client.api);
      }
      const entry: JoinedBatch = { prepared, keyOf: recordKeyer(prepared.files), settings: batch.settings, limit: Math.max(1, limit) };
      joined.set(batchId, entry);
      if (options.concurrency === undefined) maxInFlight = Math.max(maxInFlight, entry.limit);
      const commit = typeof batch.settings['git_commit'] === 'string' ? batch.settings['git_commit'] : null;
      emit({ type: 'batch-joined', batchId, workflow: batch.workflow, records: batch.recordCount, limit: options.concurrency ?? entry.limit, commitDiffers: commit !== null && git.commit !== null && commit !== git.commit });
      return entry;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // Said once per reason, not at every retry.
      if (skipped.get(batchId)?.reason !== error.message) emit({ type: 'batch-skipped', batchId, workflow: batch.workflow, reason: error.message });
      skipped.set(batchId, { until: performance.now() + SKIP_RETRY_MS, reason: error.message });
      return undefined;
    }
  };

  let completed = 0;
  let failed = 0;
  let released = 0;
  const pending = new Map<number, BatchRecordResult[]>();
  let pendingCount = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  /** Saves the gathered results. One that cannot be saved now is kept and tried again (this worker still renews its lease), except by the last flush. */
  const flush = (last = false) => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    const groups = [...pending];
    pending.clear();
    pendingCount = 0;
    writing = writing.then(async () => {
      for (const [batchId, results] of groups) {
        try {
          const saved = new Set(await queue.complete(worker, batchId, results, ctx.clock.now()));
          const lost = results.filter((r) => !saved.has(r.record)).map((r) => r.record);
          if (lost.length > 0) emit({ type: 'lease-lost', batchId, records: lost });
        } catch (error) {
          emit({ type: 'error', message: `could not save ${results.length} result(s) of batch #${batchId}${last ? '' : ' (trying again)'}: ${(error as Error).message}` });
          // At the end, the leases of what could not be saved run out once renewal stops, and other workers run the records again.
          if (last) continue;
          for (const result of results) keep(batchId, result);
          flushTimer ??= setTimeout(() => void flush(), RETRY_MS);
        }
      }
    });
    return writing;
  };
  const keep = (batchId: number, result: BatchRecordResult) => {
    const list = pending.get(batchId) ?? [];
    list.push(result);
    pending.set(batchId, list);
    pendingCount++;
  };
  const settle = (batchId: number, result: BatchRecordResult) => {
    keep(batchId, result);
    if (pendingCount >= FLUSH_COUNT) void flush();
    else flushTimer ??= setTimeout(() => void flush(), FLUSH_MS);
  };

  const toRelease: { batchId: number; record: number }[] = [];
  const runRecord = async (leased: LeasedRecord, batch: JoinedBatch) => {
    let result: BatchRecordResult;
    try {
      const outcome = await runWorkflow(ctx, {
        workflow: batch.prepared.workflow.name, inputs: leased.inputs, trigger: 'batch', stream: false, prepared: batch.prepared,
        ...(batch.settings.cache ? { cache: true } : {}), ...(signal ? { signal } : {}),
        batch: { id: leased.batchId, record: leased.record, line: leased.line },
      });
      if (outcome.status === 'cancelled' && signal?.aborted) {
        // Stopped here, not by the record: another worker runs it.
        toRelease.push({ batchId: leased.batchId, record: leased.record });
        return;
      }
      if (isStoreError(outcome.error)) return runAgainLater(leased, batch, outcome.error!);
      result = { record: leased.record, line: leased.line, runId: outcome.runId, status: outcome.status, key: batch.keyOf(leased.inputs), error: outcome.error?.message ?? null };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (isStoreError(error)) return runAgainLater(leased, batch, error);
      // The inputs no longer fit this checkout's workflow (another commit): a failure of the record, before any run.
      result = { record: leased.record, line: leased.line, runId: null, status: 'failed', key: null, error: error.message };
    }
    if (result.status === 'completed') completed++;
    else failed++;
    settle(leased.batchId, result);
    emit({ type: 'record-end', batchId: leased.batchId, record: leased.record, runId: result.runId, status: result.status, ...(result.error ? { error: result.error } : {}) });
  };

  // The store failed under a run (the database away for a moment): not the record's fault.
  // The record stays this worker's (its lease is renewed) and runs again a little later.
  const retries = new Set<NodeJS.Timeout>();
  const runAgainLater = (leased: LeasedRecord, batch: JoinedBatch, error: Error) => {
    emit({ type: 'error', message: `batch #${leased.batchId} record ${leased.record}: the store failed (${error.message}); running it again in ${RETRY_MS / 1000} s` });
    const timer = setTimeout(() => {
      retries.delete(timer);
      ready.push({ leased, batch });
      wake?.();
    }, RETRY_MS);
    retries.add(timer);
  };

  // Leases live while this process does: renewed every third of their length.
  const renewal = setInterval(() => {
    queue.renew(worker, leaseMs).catch((error: unknown) => emit({ type: 'error', message: `could not renew leases: ${(error as Error).message}` }));
  }, Math.max(50, Math.floor(leaseMs / 3)));

  const running = new Set<Promise<void>>();
  let failure: unknown;
  let wake: (() => void) | undefined;
  const nap = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      wake = undefined;
      resolve();
    }
    wake = done;
    signal?.addEventListener('abort', done, { once: true });
  });

  // Claimed records waiting for a slot: claims are made for several records at once (each
  // claim is a round trip and a plan), topping the buffer up while it still holds half.
  const ready: { leased: LeasedRecord; batch: JoinedBatch }[] = [];
  const startReady = () => {
    while (ready.length > 0 && running.size < maxInFlight) {
      const { leased, batch } = ready.shift()!;
      const task: Promise<void> = runRecord(leased, batch)
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => {
          running.delete(task);
          // The freed slot takes the next claimed record now, not when the loop next comes round (it may be awaiting a claim).
          if (!signal?.aborted && !failure) startReady();
          wake?.();
        });
      running.add(task);
    }
  };

  try {
    while (!signal?.aborted && !failure) {
      startReady();
      const wanted = 2 * maxInFlight - running.size - ready.length;
      let claimed = 0;
      if (wanted > 0 && ready.length <= maxInFlight / 2) {
        let leases: LeasedRecord[];
        try {
          leases = await queue.claim(worker, wanted, leaseMs, skipping());
        } catch (error) {
          emit({ type: 'error', message: `could not claim records: ${(error as Error).message}` });
          await nap(pollMs);
          continue;
        }
        claimed = leases.length;
        const refused: LeasedRecord[] = [];
        for (const leased of leases) {
          const batch = await join(leased.batchId);
          if (batch) ready.push({ leased, batch });
          else refused.push(leased);
        }
        if (refused.length > 0) {
          await queue.release(worker, refused.map((r) => ({ batchId: r.batchId, record: r.record })));
          released += refused.length;
        }
        startReady();
      }
      const idle = running.size === 0 && ready.length === 0 && retries.size === 0;
      if (idle && claimed === 0 && options.untilEmpty && !(await queue.hasWork())) break;
      // Slots full, or the buffer still half full: wait for a slot. Nothing more to claim: look again after a while (or when a slot frees).
      if (running.size >= maxInFlight || ready.length > maxInFlight / 2) await nap(60_000);
      else if (claimed < wanted) await nap(pollMs);
    }
    await Promise.all(running);
  } finally {
    clearInterval(renewal);
    // Records waiting to run again go back to the queue with the rest (release below).
    for (const timer of retries) clearTimeout(timer);
    await Promise.allSettled(running);
    await flush(true);
    // Whatever this worker still holds goes back to the queue now, not when its lease runs out.
    await queue.release(worker).catch(() => {});
    released += toRelease.length + ready.length + retries.size;
  }
  if (failure) throw failure;
  emit({ type: 'worker-end', worker, completed, failed, released });
  return { worker, completed, failed, released };
}

/** A failure of the store itself (a network store away), not of the record or its LLM request. */
function isStoreError(error: Error | undefined): boolean {
  return error instanceof AppError && error.code === 'DATABASE';
}
