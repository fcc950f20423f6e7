import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';

export function registerInit(cli: CAC): void {
  cli.command('init [dir]', 'Scaffold a workspace with a working example').action(async (dir: string | undefined, options: GlobalOptions) => {
    const { resolve } = await import('node:path');
    const { initWorkspace } = await import('../../app/init.js');
    const { createFileWriter } = await import('../../adapters/fs/file-writer.js');
    const { printJson } = await import('../report.js');
    const result = initWorkspace(resolve(dir ?? options.workspace ?? '.'), createFileWriter());
    if (options.json) printJson({ ok: true, ...result });
    else if (!options.quiet) {
      for (const path of result.created) process.stdout.write(`  created ${path}\n`);
      for (const path of result.kept) process.stdout.write(`  kept    ${path} (exists)\n`);
      process.stdout.write(`workspace ready in ${result.root}\nnext: quire -w ${JSON.stringify(result.root)} validate && quire -w ${JSON.stringify(result.root)} render research\n`);
    }
  });
}
