/**
 * `quire diff`: what changed between two recorded runs (stores opened for reading only,
 * unless a dead process's run must be settled first). Given one run, it is compared with
 * the previous completed run of its workflow.
 */
import { AppError } from '../core/errors.js';
import type { RunRecord } from '../core/history.js';
import type { HistoryStore } from '../core/ports.js';
import { diffRuns, type RunDiff, type RunWithResponses } from '../core/run-diff.js';
import type { AppContext } from './context.js';
import { settleInterruptedRuns } from './interrupted.js';

/** `a` is the earlier run; without it, the previous completed run of `b`'s workflow. */
export async function diffRunIds(ctx: AppContext, ids: { a?: number; b: number }): Promise<RunDiff> {
  await settleInterruptedRuns(ctx);
  const { history } = await ctx.stores.forReading();
  return diffStoredRuns(history, ids);
}

/** The same diff from the history as it is, settling nothing (the viewer never writes). */
export async function diffStoredRuns(history: HistoryStore, ids: { a?: number; b: number }): Promise<RunDiff> {
  const given = ids.a !== undefined ? await load(history, ids.a) : undefined;
  const b = await load(history, ids.b);
  const a = given ?? (await load(history, await previousRunId(history, b.run)));
  return diffRuns(a, b);
}

async function previousRunId(history: HistoryStore, run: RunRecord): Promise<number> {
  const previous = await history.previousCompleted(run.id);
  if (previous) return previous.id;
  const message = run.workflow === null
    ? `run #${run.id}'s workflow is gone from the database, so it has no previous run to compare with`
    : `no completed run of workflow "${run.workflow}" before run #${run.id} to compare it with`;
  const list = run.workflow === null ? '`quire runs`' : `\`quire runs --workflow ${run.workflow}\``;
  throw new AppError('NOT_FOUND', message, { hint: `name both runs: \`quire diff <run-a> ${run.id}\` (${list} lists the runs)` });
}

async function load(history: HistoryStore, runId: number): Promise<RunWithResponses> {
  const run = await history.getRun(runId);
  if (!run) throw new AppError('NOT_FOUND', `no run #${runId}`, { hint: 'see `quire runs` for the run ids' });
  return { run, responses: await history.responses(runId) };
}
