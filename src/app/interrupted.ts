/**
 * Runs whose process is gone: a run is `running` only while the process recording it
 * lives. Every command that opens the database settles them, so no command shows a dead
 * process's run as running; reading commands write only when there is one to settle.
 */
import type { BatchSettings } from '../core/batch.js';
import type { RunMetadata } from '../core/history.js';
import type { ProcessLiveness } from '../core/ports.js';
import type { AppContext } from './context.js';

/** Metadata a running run carries so others can tell whether its process lives. */
export function ownerMetadata(processes: ProcessLiveness): Pick<RunMetadata, 'pid' | 'process_start' | 'user' | 'host'> {
  return { user: processes.author.user, host: processes.author.host, pid: processes.self.pid, ...(processes.self.start !== undefined ? { process_start: processes.self.start } : {}) };
}

/** A run with no recorded process (or a foreign row) cannot be live. */
export function isRunAlive(processes: ProcessLiveness, metadata: RunMetadata): boolean {
  if (typeof metadata.pid !== 'number') return false;
  return processes.isAlive({
    pid: metadata.pid,
    ...(typeof metadata.process_start === 'string' ? { start: metadata.process_start } : {}),
    ...(typeof metadata.host === 'string' ? { host: metadata.host } : {}),
  });
}

/**
 * Whether a `running` batch still has a process behind it. A batch run by workers has
 * none of its own (it lives in the queue until its records are done): always alive.
 */
export function isBatchAlive(processes: ProcessLiveness, settings: BatchSettings): boolean {
  return settings.workers === true || isRunAlive(processes, settings as RunMetadata);
}

/** Marks the runs of dead processes `failed` (interrupted); opens the stores for writing only when there is one. */
export async function settleInterruptedRuns(ctx: AppContext): Promise<number[]> {
  const { history } = await ctx.stores.forReading();
  const running = await history.running();
  if (!running.some((run) => !isRunAlive(ctx.processes, run.metadata))) return [];
  const writable = await ctx.stores.forWriting();
  return writable.history.markInterrupted((metadata) => isRunAlive(ctx.processes, metadata), ctx.clock.now());
}
