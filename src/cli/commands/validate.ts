import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';

export function registerValidate(cli: CAC): void {
  cli.command('validate', 'Check every workspace file; print path:line:col: message per problem').action(async (options: GlobalOptions) => {
    const { resolveContext, withAppContext } = await import('../context.js');
    const { inspectWithCache } = await import('../../app/load.js');
    const { reportValidation } = await import('../output/validate.js');
    const context = resolveContext(options);
    await withAppContext(context, (app) => reportValidation(context, inspectWithCache(app)));
  });
}
