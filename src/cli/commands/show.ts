import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';

export function registerShow(cli: CAC): void {
  cli.command('show <run-id>', 'One run with its prompts and responses').action(async (id: string, flags: GlobalOptions) => {
    const runId = Number(id);
    if (!Number.isInteger(runId) || runId < 1) throw new UsageError(`run id must be a positive whole number, got "${id}"`);
    const { resolveContext, withAppContext } = await import('../context.js');
    const { showRun } = await import('../../app/history.js');
    const { printRun } = await import('../output/history.js');
    const context = resolveContext(flags);
    printRun(context, await withAppContext(context, (app) => showRun(app, runId)));
  });
}
