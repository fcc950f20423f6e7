/**
 * Reading run history (`quire runs`, `quire show`): the stores opened for reading only,
 * unless a dead process's run must be settled first.
 */
import { AppError } from '../core/errors.js';
import type { ResponseRecord, RunRecord, RunSummary } from '../core/history.js';
import type { AppContext } from './context.js';
import { settleInterruptedRuns } from './interrupted.js';

export async function listRuns(ctx: AppContext, query: { workflow?: string; limit: number }): Promise<RunSummary[]> {
  await settleInterruptedRuns(ctx);
  const { history } = await ctx.stores.forReading();
  return history.listRuns(query);
}

export async function showRun(ctx: AppContext, runId: number): Promise<{ run: RunRecord; responses: ResponseRecord[] }> {
  await settleInterruptedRuns(ctx);
  const { history } = await ctx.stores.forReading();
  const run = await history.getRun(runId);
  if (!run) throw new AppError('NOT_FOUND', `no run #${runId}`, { hint: 'see `quire runs` for the run ids' });
  return { run, responses: await history.responses(runId) };
}
