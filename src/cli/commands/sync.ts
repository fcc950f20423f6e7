import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';

export function registerSync(cli: CAC): void {
  cli.command('sync', 'Validate, then mirror the files into the database').action(async (options: GlobalOptions) => {
    const { resolveContext } = await import('../context.js');
    const { syncOnly } = await import('../../app/sync.js');
    const { reportSync } = await import('../output/sync.js');
    const context = resolveContext(options);
    reportSync(context, await syncOnly(context.root, context.dbPath));
  });
}
