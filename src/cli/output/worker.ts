/**
 * `quire worker`'s output: what it joins and skips, a progress line every few seconds
 * while it works, lost leases and errors, and a summary (JSON with --json).
 */
import type { WorkerEvent, WorkerOutcome } from '../../app/worker.js';
import { printJson } from '../report.js';

const PROGRESS_MS = 5_000;

export interface WorkerPrinter {
  onEvent(event: WorkerEvent): void;
  log(line: string): void;
  end(outcome: WorkerOutcome): void;
  close(): void;
}

export function createWorkerPrinter(options: { json: boolean; quiet: boolean; err: NodeJS.WritableStream; out: NodeJS.WritableStream }): WorkerPrinter {
  const say = (line: string) => {
    if (!options.quiet) options.err.write(`${line}\n`);
  };
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let shown = 0;
  const ticker = setInterval(() => {
    if (done === shown) return;
    shown = done;
    const seconds = (performance.now() - started) / 1000;
    say(`${done.toLocaleString('en-US')} record${done === 1 ? '' : 's'} done here (${failed} failed) · ${(done / seconds).toFixed(1)} records/s`);
  }, PROGRESS_MS);
  ticker.unref();

  return {
    onEvent(event) {
      switch (event.type) {
        case 'worker-start':
          say(`worker ${event.worker}: waiting for records (Ctrl-C stops; its records go back to the queue)`);
          break;
        case 'batch-joined':
          say(`batch #${event.batchId} (${event.workflow}, ${event.records.toLocaleString('en-US')} records): running up to ${event.limit} at a time here`);
          if (event.commitDiffers) say(`  note: this checkout is at another git commit than the one that queued batch #${event.batchId}; each run records its own commit and file hashes`);
          break;
        case 'batch-skipped':
          options.err.write(`batch #${event.batchId} (${event.workflow}) skipped here, left to other workers (tried again in a minute): ${event.reason}\n`);
          break;
        case 'record-end':
          done++;
          if (event.status !== 'completed') {
            failed++;
            say(`  batch #${event.batchId} record ${event.record}: ${event.status}${event.error ? `: ${event.error}` : ''}`);
          }
          break;
        case 'lease-lost':
          options.err.write(`batch #${event.batchId}: record${event.records.length === 1 ? '' : 's'} ${event.records.join(', ')} had gone to another worker (this worker's lease ran out); their runs here are kept but not counted\n`);
          break;
        case 'error':
          options.err.write(`worker: ${event.message}\n`);
          break;
        case 'worker-end':
          break;
      }
    },
    log: (line) => options.err.write(`${line}\n`),
    end(outcome) {
      if (options.json) printJson({ ok: true, ...outcome });
      else say(`worker ${outcome.worker}: ${outcome.completed} completed, ${outcome.failed} failed${outcome.released ? `, ${outcome.released} returned to the queue` : ''}`);
    },
    close: () => clearInterval(ticker),
  };
}
