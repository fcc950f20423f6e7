/**
 * `quire view`'s use cases: what each page shows, as data (the HTML is the viewer's).
 *
 * The viewer only reads. Unlike `quire runs` and `quire show` it settles nothing: a run
 * or batch whose process is gone is shown as recorded, flagged `processGone`, and the
 * next command that writes settles it. `openView` refuses a database that would need a
 * migration (a write) and opens the stores read-only for the viewer's lifetime.
 */
import type { BatchRecord, BatchRecordResult, QueueProgress } from '../core/batch.js';
import type { StepCheckResult } from '../core/checks/types.js';
import { AppError } from '../core/errors.js';
import type { ResponseRecord, RunMetadata, RunRecord } from '../core/history.js';
import type { Stores } from '../core/ports.js';
import type { RunDiff } from '../core/run-diff.js';
import type { BatchResultsQuery, PageRequest, RunFilter, RunListItem, WorkflowDetail, WorkflowSummary } from '../core/view.js';
import { resultRows, stepName, toResultRow, type BatchResultRow } from './batches.js';
import type { AppContext } from './context.js';
import { diffStoredRuns } from './diff.js';
import { isBatchAlive, isRunAlive } from './interrupted.js';

/**
 * Checks that the database can be read without writing a byte, then opens its stores
 * read-only (kept open by the context until it closes).
 * @throws AppError NOT_FOUND without a database, DATABASE when it needs migrating first
 */
export async function openView(ctx: AppContext): Promise<void> {
  const described = await ctx.stores.describe();
  if (!described.exists) throw new AppError('NOT_FOUND', `no database at ${described.location} yet`, { hint: 'run `quire sync` or `quire run <workflow>` first' });
  const applied = new Set(described.migrations.applied);
  const pending = described.migrations.known.filter((name) => !applied.has(name));
  if (pending.length > 0) {
    throw new AppError('DATABASE', `the database at ${described.location} needs an upgrade (${pending.join(', ')}) and the viewer never writes`, {
      hint: 'run `quire sync` (or any other command that writes) once, then `quire view` again',
    });
  }
  await ctx.stores.forReading();
}

const stores = (ctx: AppContext): Promise<Stores> => ctx.stores.forReading();

/** A `running` row whose process is gone: shown as recorded, and flagged. */
const processGone = (ctx: AppContext, status: string, metadata: RunMetadata): boolean => status === 'running' && !isRunAlive(ctx.processes, metadata);

export interface RunsView {
  total: number;
  runs: (RunListItem & { processGone: boolean })[];
  /** Workflow names, for the filter's choices. */
  workflows: string[];
}

export async function viewRuns(ctx: AppContext, filter: RunFilter, page: PageRequest): Promise<RunsView> {
  const { view } = await stores(ctx);
  const [found, workflows] = await Promise.all([view.runsPage(filter, page), view.workflowNames()]);
  return { total: found.total, runs: found.runs.map((run) => ({ ...run, processGone: processGone(ctx, run.status, run.metadata) })), workflows };
}

export interface RunView {
  run: RunRecord;
  responses: ResponseRecord[];
  processGone: boolean;
  /** The previous completed run of the same workflow (for "compare with previous"), when there is one. */
  previousId: number | null;
}

export async function viewRun(ctx: AppContext, id: number): Promise<RunView> {
  const { history } = await stores(ctx);
  const run = await history.getRun(id);
  if (!run) throw new AppError('NOT_FOUND', `no run #${id}`);
  const [responses, previous] = await Promise.all([history.responses(id), history.previousCompleted(id)]);
  return { run, responses, processGone: processGone(ctx, run.status, run.metadata), previousId: previous?.id ?? null };
}

/** Two runs compared as `quire diff` compares them; without `a`, the previous completed run of `b`'s workflow. */
export async function viewComparison(ctx: AppContext, ids: { a?: number; b: number }): Promise<RunDiff> {
  return diffStoredRuns((await stores(ctx)).history, ids);
}

export type BatchView = BatchRecord & { processGone: boolean };

export async function viewBatches(ctx: AppContext, limit: number): Promise<BatchView[]> {
  const { batches } = await stores(ctx);
  return (await batches.listBatches({ limit })).map((batch) => withLiveness(ctx, batch));
}

/** A record of a batch as its results table shows it: the exported row, its checks and its time. */
export interface ResultView extends BatchResultRow {
  checks: StepCheckResult[];
  /** runs.metadata.checks: steps whose checks passed and failed. */
  checkCounts: { passed: number; failed: number } | null;
  durationMs: number | null;
}

export interface BatchDetailView {
  batch: BatchView;
  /** A running batch of workers: where its queue stands. */
  queue?: QueueProgress;
  total: number;
  rows: ResultView[];
  /** Input names and step names in the page's rows, in order of first appearance. */
  inputNames: string[];
  stepNames: string[];
}

export async function viewBatch(ctx: AppContext, id: number, query: BatchResultsQuery): Promise<BatchDetailView> {
  const { batches, history, view, queue } = await stores(ctx);
  const batch = await batches.getBatch(id);
  if (!batch) throw new AppError('NOT_FOUND', `no batch #${id}`);
  const progress = queue && batch.settings.workers === true && batch.status === 'running' ? await queue.progress(id) : undefined;
  const page = await view.batchResultsPage(id, query);
  const runs = await history.runsWithResponses(page.results.flatMap((r) => (r.runId !== null ? [r.runId] : [])));
  const rows = page.results.map((result) => toResultView(result, result.runId !== null ? runs.get(result.runId) : undefined));
  const inputNames = [...new Set(rows.flatMap((row) => Object.keys(row.inputs)))];
  const stepNames = [...new Set(rows.flatMap((row) => Object.keys(row.steps)))];
  return { batch: withLiveness(ctx, batch), ...(progress ? { queue: progress } : {}), total: page.total, rows, inputNames, stepNames };
}

/**
 * A batch's rows exactly as `quire results` exports them; `rows()` reads them from the
 * start each time it is called (the CSV writer passes twice: columns, then rows).
 */
export async function exportBatch(ctx: AppContext, id: number): Promise<{ batch: BatchRecord; rows: () => AsyncIterable<BatchResultRow> }> {
  const all = await stores(ctx);
  const batch = await all.batches.getBatch(id);
  if (!batch) throw new AppError('NOT_FOUND', `no batch #${id}`);
  return { batch, rows: () => resultRows(all, id) };
}

export async function viewWorkflows(ctx: AppContext): Promise<WorkflowSummary[]> {
  return (await stores(ctx)).view.workflows();
}

export interface WorkflowView {
  workflow: WorkflowDetail;
  latestRuns: RunsView['runs'];
}

export async function viewWorkflow(ctx: AppContext, id: number, latest: number): Promise<WorkflowView> {
  const { view } = await stores(ctx);
  const workflow = await view.workflow(id);
  if (!workflow) throw new AppError('NOT_FOUND', `no workflow #${id}`);
  const runs = await view.runsPage({ workflowId: id }, { limit: latest, offset: 0 });
  return { workflow, latestRuns: runs.runs.map((run) => ({ ...run, processGone: processGone(ctx, run.status, run.metadata) })) };
}

/** Changes whenever another process commits to the database (polled for live pages). */
export async function dataVersion(ctx: AppContext): Promise<number> {
  return (await stores(ctx)).view.dataVersion();
}

/** Milliseconds between two recorded timestamps (`YYYY-MM-DD HH:MM:SS[.mmm]`, UTC); null when either is missing or odd. */
export function elapsedMs(startedAt: string | null, completedAt: string | null): number | null {
  const start = recordedTime(startedAt);
  const end = recordedTime(completedAt);
  return start === null || end === null || end < start ? null : end - start;
}

/** A recorded timestamp as epoch ms; null for text that is not one (rows typed into the original system). */
export function recordedTime(text: string | null): number | null {
  if (text === null || !/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$/.test(text)) return null;
  const time = Date.parse(`${text.replace(' ', 'T').replace(/Z$/, '')}Z`);
  return Number.isNaN(time) ? null : time;
}

/** A batch of workers has no process of its own: it lives in the queue (isBatchAlive). */
function withLiveness(ctx: AppContext, batch: BatchRecord): BatchView {
  return { ...batch, processGone: batch.status === 'running' && !isBatchAlive(ctx.processes, batch.settings) };
}

function toResultView(result: BatchRecordResult, found: { run: RunRecord; responses: ResponseRecord[] } | undefined): ResultView {
  const checks = (found?.responses ?? []).flatMap((response) => (isStepChecks(response.metadata.checks) ? [{ ...response.metadata.checks, step: response.metadata.checks.step ?? stepName(response) }] : []));
  const counts = found?.run.metadata.checks;
  return {
    ...toResultRow(result, found),
    checks,
    checkCounts: counts && typeof counts.passed === 'number' && typeof counts.failed === 'number' ? { passed: counts.passed, failed: counts.failed } : null,
    durationMs: found ? elapsedMs(found.run.startedAt, found.run.completedAt) : null,
  };
}

/** responses.metadata.checks as recorded; anything else (a foreign row's odd JSON) is no checks. */
export function isStepChecks(value: unknown): value is StepCheckResult {
  return value !== null && typeof value === 'object' && typeof (value as { pass?: unknown }).pass === 'boolean' && Array.isArray((value as { checks?: unknown }).checks);
}
