import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';

export function registerShow(cli: CAC): void {
  cli
    .command('show [run-id]', 'One run with its prompts and responses (or a batch, with --batch <id>)')
    .option('--batch <id>', 'Show a batch: its input, settings and counts')
    .action(async (id: string | undefined, flags: GlobalOptions & { batch?: string | number }) => {
    if (flags.batch !== undefined) {
      if (id !== undefined) throw new UsageError('give a run id or --batch <id>, not both');
      const batchId = Number(flags.batch);
      if (!Number.isInteger(batchId) || batchId < 1) throw new UsageError(`batch id must be a positive whole number, got "${String(flags.batch)}"`);
      const { resolveContext, withAppContext } = await import('../context.js');
      const { batchOverview } = await import('../../app/batches.js');
      const { printBatch } = await import('../output/batches.js');
      const context = resolveContext(flags);
      const { batch, queue } = await withAppContext(context, (app) => batchOverview(app, batchId));
      printBatch(context, batch, queue);
      return;
    }
    if (id === undefined) throw new UsageError('give a run id (see `quire runs`), or --batch <id>');
    const runId = Number(id);
    if (!Number.isInteger(runId) || runId < 1) throw new UsageError(`run id must be a positive whole number, got "${id}"`);
    const { resolveContext, withAppContext } = await import('../context.js');
    const { showRun } = await import('../../app/history.js');
    const { printRun } = await import('../output/history.js');
    const context = resolveContext(flags);
    printRun(context, await withAppContext(context, (app) => showRun(app, runId)));
  });
}
