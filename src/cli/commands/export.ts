import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';

export function registerExport(cli: CAC): void {
  cli
    .command('export', 'Write rows that exist only in the database (e.g. from the original system) as files')
    .option('--out <dir>', 'Where to write (default: the workspace)')
    .action(async (options: GlobalOptions & { out?: string }) => {
      const { resolve } = await import('node:path');
      const { resolveContext, withAppContext } = await import('../context.js');
      const { exportDatabaseRows } = await import('../../app/export.js');
      const { printJson } = await import('../report.js');
      const context = resolveContext(options);
      const result = await withAppContext(context, (app) => exportDatabaseRows(app, options.out ? resolve(options.out) : context.root));
      const summary = (kind: string) => result.written.filter((f) => f.kind === kind).length;
      if (context.json) {
        printJson({ ok: true, outDir: result.outDir, written: result.written.map((f) => ({ path: f.path, kind: f.kind, id: f.id })), unchanged: result.unchanged.map((f) => f.path), warnings: result.warnings });
        return;
      }
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (context.quiet) return;
      for (const file of result.written) process.stdout.write(`  wrote ${file.path}\n`);
      process.stdout.write(`exported ${summary('block')} blocks, ${summary('payload')} payloads, ${summary('workflow')} workflows to ${result.outDir}` +
        `${result.unchanged.length ? ` (${result.unchanged.length} already there)` : ''}\n`);
      if (result.written.length) process.stdout.write('next: quire sync (adopts these rows: same ids, run history kept)\n');
    });
}
