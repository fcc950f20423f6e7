/**
 * `quire run <workflow> --batch <file>`: the flags checked, the records opened, one app
 * call (runBatch), the progress printer. Ctrl-C cancels the runs in flight (recorded
 * `cancelled`) and ends the batch; a second Ctrl-C quits at once.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';

export interface BatchFlags extends GlobalOptions {
  batch: string;
  resume?: string | number | boolean;
  concurrency?: string | number;
  strict?: boolean;
  maxFailures?: string | number;
  format?: string;
  cache?: boolean;
  endpoint?: string | string[];
  workers?: boolean;
}

const positive = (flag: string, value: string | number | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive whole number (got ${JSON.stringify(value)})`);
  return n;
};

/** The input as the batch records it: relative to the workspace when inside it (the same from any folder), else absolute. */
function recordedPath(root: string, input: string): string {
  if (input === '-') return '-';
  const absolute = resolve(input);
  const inside = relative(root, absolute);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside.split(sep).join('/') : absolute;
}

export async function executeBatch(workflow: string, flags: BatchFlags, endpoints: string[]): Promise<void> {
  const concurrency = positive('--concurrency', flags.concurrency);
  const maxFailures = positive('--max-failures', flags.maxFailures);
  const resume = flags.resume === undefined || flags.resume === false ? undefined : flags.resume === true || flags.resume === '' ? ('latest' as const) : positive('--resume', flags.resume);
  const format = flags.format === undefined ? undefined : String(flags.format);
  if (format !== undefined && !['jsonl', 'csv', 'yaml'].includes(format)) throw new UsageError(`--format must be jsonl, csv or yaml (got "${format}")`);
  if (flags.batch === '-' && flags.strict) throw new UsageError('--strict reads the records twice: give a file, not stdin');
  if (flags.batch === '-' && resume !== undefined) throw new UsageError('--resume needs the same input file: stdin cannot be resumed');

  if (flags.workers) {
    const alone = ([['--resume', resume], ['--concurrency', concurrency], ['--max-failures', maxFailures], ['--endpoint', endpoints.length > 0 ? endpoints : undefined]] as const).filter(([, value]) => value !== undefined).map(([flag]) => flag);
    if (alone.length > 0) throw new UsageError(`${alone.join(', ')} cannot go with --workers: each worker runs on its own endpoints and concurrency (quire worker --endpoint, --concurrency)`);
    return queueForWorkers(workflow, flags, format);
  }
  const { resolveContext, withAppContext } = await import('../context.js');
  const { openRecordSource, hashRecordFile } = await import('../../adapters/records/index.js');
  const { runBatch } = await import('../../app/batch.js');
  const { createBatchPrinter } = await import('../output/batch.js');
  const context = resolveContext(flags);
  const inputHash = flags.batch === '-' ? null : (await hashRecordFile(resolve(flags.batch))).hash;

  const tty = Boolean(process.stderr.isTTY) && !context.json;
  const printer = createBatchPrinter({
    json: context.json,
    quiet: context.quiet,
    color: tty && flags.color !== false && !process.env['NO_COLOR'],
    tty,
    out: process.stdout,
    err: process.stderr,
  });
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      // Through the printer: a line written past it would break the live display.
      printer.log('cancelling the batch: stopping the runs in flight (Ctrl-C again to quit at once)');
      controller.abort();
    } else {
      printer.close();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const outcome = await withAppContext(context, (app) =>
      runBatch(app, {
        workflow,
        openSource: () => openRecordSource(flags.batch, { ...(format ? { format: format as 'jsonl' | 'csv' | 'yaml' } : {}) }),
        inputPath: recordedPath(context.root, flags.batch),
        inputHash,
        endpointOverrides: endpoints,
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(resume !== undefined ? { resume } : {}),
        ...(flags.strict ? { strict: true } : {}),
        ...(flags.cache ? { cache: true } : {}),
        ...(maxFailures !== undefined ? { maxFailures } : {}),
        signal: controller.signal,
        onEvent: printer.onEvent,
      }),
    );
    const { counts } = outcome;
    // Exit 0 only when every record completed (or had completed before a resume).
    if (outcome.status === 'cancelled') process.exitCode = 130;
    else if (outcome.status !== 'completed' || counts.failed + counts.cancelled + counts.invalid > 0) process.exitCode = 1;
  } finally {
    printer.close();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** `--workers`: the records checked and queued in the shared store for `quire worker`s; nothing runs here. */
async function queueForWorkers(workflow: string, flags: BatchFlags, format: string | undefined): Promise<void> {
  const { resolveContext, withAppContext } = await import('../context.js');
  const { openRecordSource, hashRecordFile } = await import('../../adapters/records/index.js');
  const { registerWorkerBatch } = await import('../../app/worker.js');
  const { printJson } = await import('../report.js');
  const context = resolveContext(flags);
  const inputHash = flags.batch === '-' ? null : (await hashRecordFile(resolve(flags.batch))).hash;
  let shownProblems = 0;
  const registered = await withAppContext(context, (app) =>
    registerWorkerBatch(app, {
      workflow,
      openSource: () => openRecordSource(flags.batch, { ...(format ? { format: format as 'jsonl' | 'csv' | 'yaml' } : {}) }),
      inputPath: recordedPath(context.root, flags.batch),
      inputHash,
      ...(flags.strict ? { strict: true } : {}),
      ...(flags.cache ? { cache: true } : {}),
      onProblem: (problem) => {
        if (context.quiet || ++shownProblems > 20) return;
        process.stderr.write(`${problem.file}:${problem.line}:${problem.col}: ${problem.message}\n`);
      },
    }),
  );
  if (context.json) {
    printJson({ ok: true, batch_id: registered.batchId, workflow: registered.workflow, queued: registered.queued, invalid: registered.invalid });
  } else if (!context.quiet) {
    const n = (count: number) => count.toLocaleString('en-US');
    process.stdout.write(`batch #${registered.batchId}: ${n(registered.queued)} record${registered.queued === 1 ? '' : 's'} of ${registered.workflow} queued for workers${registered.invalid ? `, ${n(registered.invalid)} invalid` : ''}\n`);
    if (registered.queued > 0) process.stdout.write(`run \`quire worker\` on each machine (with the same store); \`quire show --batch ${registered.batchId}\` shows progress\n`);
  }
  if (registered.invalid > 0) process.exitCode = 1;
}
