/**
 * `quire worker`: runs the records of batches registered with `quire run --batch <file>
 * --workers`, from a shared store, on this machine's endpoints. Ctrl-C stops it: the runs
 * in flight are cancelled and their records go back to the queue at once.
 */
import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';
import { toList } from './run.js';

interface WorkerFlags extends GlobalOptions {
  concurrency?: string | number;
  lease?: string | number;
  untilEmpty?: boolean;
  endpoint?: string | string[];
}

const positive = (flag: string, value: string | number | undefined, whole = true): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) throw new UsageError(`${flag} must be a positive ${whole ? 'whole ' : ''}number (got ${JSON.stringify(value)})`);
  return n;
};

export function registerWorker(cli: CAC): void {
  cli
    .command('worker', 'Run records of batches queued with `quire run --batch <file> --workers` (a shared Postgres store)')
    .option('--concurrency <n>', 'Records in flight here, and requests per endpoint (default: quire.yaml, else KoboldCpp 1, others 4)')
    .option('--lease <seconds>', 'How long a claimed record stays this worker\'s without renewal (default 30; renewed every third of it)')
    .option('--until-empty', 'Stop once no batch has records left (default: keep waiting for new batches)')
    .option('--endpoint <port=url>', 'Send a port\'s requests to this URL, e.g. 5001=http://10.0.0.7:5001 (repeatable)')
    .example('QUIRE_DB=postgres://quire@db.lan/quire quire worker --concurrency 8')
    .action(async (flags: WorkerFlags) => {
      const concurrency = positive('--concurrency', flags.concurrency);
      const leaseSeconds = positive('--lease', flags.lease, false);
      const { resolveContext, withAppContext } = await import('../context.js');
      const { runWorker } = await import('../../app/worker.js');
      const { createWorkerPrinter } = await import('../output/worker.js');
      const context = resolveContext(flags);
      const printer = createWorkerPrinter({ json: context.json, quiet: context.quiet, err: process.stderr, out: process.stdout });
      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = () => {
        if (++interrupts > 1) process.exit(130);
        printer.log('stopping: cancelling the runs in flight, their records go back to the queue (Ctrl-C again to quit at once)');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const outcome = await withAppContext(context, (app) =>
          runWorker(app, {
            ...(concurrency !== undefined ? { concurrency } : {}),
            ...(leaseSeconds !== undefined ? { leaseMs: Math.round(leaseSeconds * 1000) } : {}),
            ...(flags.untilEmpty ? { untilEmpty: true } : {}),
            endpointOverrides: toList(flags.endpoint),
            signal: controller.signal,
            onEvent: printer.onEvent,
          }),
        );
        printer.end(outcome);
        if (controller.signal.aborted) process.exitCode = 130;
      } finally {
        printer.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
