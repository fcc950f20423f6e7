import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';

export function registerRuns(cli: CAC): void {
  cli
    .command('runs', 'Run history, newest first')
    .option('--workflow <name>', 'Only runs of this workflow')
    .option('--limit <n>', 'How many (default 20)')
    .action(async (flags: GlobalOptions & { workflow?: string; limit?: string | number }) => {
      const limit = flags.limit === undefined ? 20 : Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
      const { resolveContext } = await import('../context.js');
      const { listRuns } = await import('../../app/history.js');
      const { printRuns } = await import('../output/history.js');
      const context = resolveContext(flags);
      printRuns(context, listRuns(context.dbPath, { ...(flags.workflow ? { workflow: flags.workflow } : {}), limit }));
    });

  cli.command('show <run-id>', 'One run with its prompts and responses').action(async (id: string, flags: GlobalOptions) => {
    const runId = Number(id);
    if (!Number.isInteger(runId) || runId < 1) throw new UsageError(`run id must be a positive whole number, got "${id}"`);
    const { resolveContext } = await import('../context.js');
    const { showRun } = await import('../../app/history.js');
    const { printRun } = await import('../output/history.js');
    const context = resolveContext(flags);
    printRun(context, showRun(context.dbPath, runId));
  });
}
