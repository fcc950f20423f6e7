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
      const { resolveContext, withAppContext } = await import('../context.js');
      const { listRuns } = await import('../../app/history.js');
      const { printRuns } = await import('../output/history.js');
      const context = resolveContext(flags);
      const runs = await withAppContext(context, (app) => listRuns(app, { ...(flags.workflow ? { workflow: flags.workflow } : {}), limit }));
      printRuns(context, runs);
    });
}
