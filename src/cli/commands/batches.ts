import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';

const positive = (what: string, value: string | number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a positive whole number, got "${String(value)}"`);
  return n;
};

export function registerBatches(cli: CAC): void {
  cli
    .command('batches', 'Batches, newest first, with their counts')
    .option('--workflow <name>', 'Only batches of this workflow')
    .option('--limit <n>', 'How many (default 20)')
    .action(async (flags: GlobalOptions & { workflow?: string; limit?: string | number }) => {
      const limit = flags.limit === undefined ? 20 : positive('--limit', flags.limit);
      const { resolveContext, withAppContext } = await import('../context.js');
      const { listBatches } = await import('../../app/batches.js');
      const { printBatches } = await import('../output/batches.js');
      const context = resolveContext(flags);
      printBatches(context, await withAppContext(context, (app) => listBatches(app, { ...(flags.workflow ? { workflow: String(flags.workflow) } : {}), limit })));
    });
}

/** A file to write, opened before anything is read: a path that cannot be written is a plain error naming it. */
async function openOutput(path: string): Promise<NodeJS.WritableStream & { end(): void }> {
  const { createWriteStream } = await import('node:fs');
  const { AppError } = await import('../../core/errors.js');
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new AppError('IO', `cannot write ${path}: ${error.message}`, { hint: 'give a file in a folder that exists' })));
  });
  return stream;
}

export function registerResults(cli: CAC): void {
  cli
    .command('results <batch-id>', 'A batch\'s records with their inputs and each step\'s output, as JSONL or CSV')
    .option('--format <format>', 'jsonl (default) or csv')
    .option('--out <file>', 'Write to this file (default: stdout)')
    .example('quire results 3 --format csv --out results.csv')
    .action(async (id: string, flags: GlobalOptions & { format?: string; out?: string }) => {
      const batchId = positive('batch id', id);
      const format = flags.format === undefined ? 'jsonl' : String(flags.format);
      if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format must be jsonl or csv (got "${format}")`);
      const { finished } = await import('node:stream/promises');
      const { resolveContext, withAppContext } = await import('../context.js');
      const { batchResults } = await import('../../app/batches.js');
      const { writeResultsCsv, writeResultsJsonl } = await import('../output/batches.js');
      const context = resolveContext(flags);
      await withAppContext(context, async (app) => {
        const { rows } = await batchResults(app, batchId);
        const out = flags.out ? await openOutput(String(flags.out)) : process.stdout;
        const n = format === 'csv' ? await writeResultsCsv(rows, (await batchResults(app, batchId)).rows, out) : await writeResultsJsonl(rows, out);
        if (flags.out) {
          (out as NodeJS.WritableStream & { end(): void }).end();
          await finished(out);
          if (!context.quiet) process.stderr.write(`wrote ${n} record${n === 1 ? '' : 's'} to ${String(flags.out)}\n`);
        }
      });
    });
}
