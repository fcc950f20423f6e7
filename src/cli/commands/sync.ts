import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';

export function registerSync(cli: CAC): void {
  cli.command('sync', 'Validate, then mirror the files into the database').action(async (options: GlobalOptions) => {
    const { resolveContext, withAppContext } = await import('../context.js');
    const { syncFiles } = await import('../../app/sync.js');
    const { reportSync } = await import('../output/sync.js');
    const context = resolveContext(options);
    reportSync(context, await withAppContext(context, syncFiles));
  });
}
