import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';
import { toList } from './run.js';

export function registerRender(cli: CAC): void {
  cli
    .command('render <name>', 'Print the exact prompts a workflow (or one payload) would send')
    .option('--input <key=value>', 'An input; steps.<name>.output=... stands in for an earlier step\'s output (repeatable)')
    .option('--input-file <file>', 'Inputs from a JSON or YAML file')
    .action(async (name: string, flags: GlobalOptions & { input?: string | string[]; inputFile?: string }) => {
      const { resolveContext, withAppContext } = await import('../context.js');
      const { renderTarget } = await import('../../app/render.js');
      const { parseInputPairs } = await import('../../core/inputs.js');
      const { readInputFile } = await import('../../app/input-file.js');
      const { printRender } = await import('../output/render.js');
      const context = resolveContext(flags);
      const fromFile = flags.inputFile ? readInputFile(flags.inputFile) : {};
      const result = await withAppContext(context, (app) => renderTarget(app, name, parseInputPairs(toList(flags.input)), fromFile));
      printRender(context, result);
    });
}
