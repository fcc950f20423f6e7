import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';

export function registerValidate(cli: CAC): void {
  cli.command('validate', 'Check every workspace file; print path:line:col: message per problem').action(async (options: GlobalOptions) => {
    const { resolveContext } = await import('../context.js');
    const { withInspectedWorkspace } = await import('../../app/load.js');
    const { reportValidation } = await import('../output/validate.js');
    const context = resolveContext(options);
    withInspectedWorkspace(context.root, context.dbPath, (checked) => reportValidation(context, checked));
  });
}
