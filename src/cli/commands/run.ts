import type { CAC } from 'cac';
import type { BatchFlags } from './batch-run.js';

/** `quire run`'s flags: a single run's, and a batch's (which only go with --batch). */
export interface RunFlags extends Partial<BatchFlags> {
  input?: string | string[];
  inputFile?: string;
  dryRun?: boolean;
  stream?: boolean;
}

export const toList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]).map(String);

export function registerRun(cli: CAC): void {
  cli
    .command('run <workflow>', 'Sync, run a workflow against the LLM servers, stream and record it')
    .option('--input <key=value>', 'A workflow input (repeatable)')
    .option('--input-file <file>', 'Inputs from a JSON or YAML file (--input wins)')
    .option('--dry-run', 'Render every step and record nothing (no server is called)')
    .option('--no-stream', 'Print each response whole when it completes')
    .option('--endpoint <port=url>', 'Send a port\'s requests to this URL, e.g. 5001=http://127.0.0.1:8080 (repeatable)')
    .option('--cache', 'Reuse the answer of an identical earlier request (same prompt, format, settings, endpoint; temperature 0 or a fixed seed)')
    .option('--batch <file>', 'Run once per record of a JSONL, CSV or YAML file (- reads stdin)')
    .option('--format <format>', 'With --batch: jsonl, csv or yaml (default: from the file name, else sniffed)')
    .option('--concurrency <n>', 'With --batch: requests in flight per endpoint (default: quire.yaml, else KoboldCpp 1, others 4)')
    .option('--resume [batch]', 'With --batch: skip records an earlier run of this batch completed (default: the latest batch over this file)')
    .option('--strict', 'With --batch: check every record first; any bad record stops the batch before any request')
    .option('--max-failures <n>', 'With --batch: stop after this many failed records')
    .option('--workers', 'With --batch: queue the records for `quire worker`s on any machine (a shared Postgres store); nothing runs here')
    .example('quire run research --input text="$(cat article.txt)" --input words=50')
    .example('quire run research --batch articles.csv --concurrency 8')
    .example('QUIRE_DB=postgres://quire@db.lan/quire quire run research --batch articles.csv --workers')
    .action(executeRun);
}

/** Inputs from the flags, one app call, the printer; Ctrl-C cancels (twice quits). */
async function executeRun(workflow: string, flags: RunFlags): Promise<void> {
  if (flags.batch !== undefined) {
    const { executeBatch } = await import('./batch-run.js');
    return executeBatch(workflow, { ...flags, batch: String(flags.batch) }, toList(flags.endpoint));
  }
  const batchOnly = (['resume', 'concurrency', 'strict', 'maxFailures', 'format', 'workers'] as const).filter((flag) => flags[flag] !== undefined);
  if (batchOnly.length > 0) {
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError(`${batchOnly.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} only go${batchOnly.length === 1 ? 'es' : ''} with --batch <file>`);
  }
  const { parseInputPairs } = await import('../../core/inputs.js');
  const { resolveContext, withAppContext } = await import('../context.js');
  const { printJson } = await import('../report.js');
  const context = resolveContext(flags);
  // The YAML reader is loaded only when an input file is given (it costs startup time).
  const fromFile = flags.inputFile ? (await import('../../app/input-file.js')).readInputFile(flags.inputFile) : {};
  const inputs: Record<string, unknown> = { ...fromFile, ...parseInputPairs(toList(flags.input)) };

  if (flags.dryRun) {
    const { renderTarget } = await import('../../app/render.js');
    const { printRender } = await import('../output/render.js');
    const strings = Object.fromEntries(Object.entries(inputs).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const others = Object.fromEntries(Object.entries(inputs).filter(([, v]) => typeof v !== 'string'));
    printRender(context, await withAppContext(context, (app) => renderTarget(app, workflow, strings, others)));
    return;
  }

  const { runWorkflow } = await import('../../app/run.js');
  const { createRunPrinter } = await import('../output/run.js');
  const live = !context.json && flags.stream !== false && Boolean(process.stdout.isTTY);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\ncancelling: stopping the generation on the server (Ctrl-C again to quit at once)\n');
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const printer = createRunPrinter(context.json, context.quiet, live);
  try {
    const outcome = await withAppContext(context, (app) =>
      runWorkflow(app, {
        workflow,
        inputs,
        endpointOverrides: toList(flags.endpoint),
        trigger: 'cli',
        stream: flags.stream !== false,
        ...(flags.cache ? { cache: true } : {}),
        signal: controller.signal,
        onEvent: printer.onEvent,
      }),
    );
    if (context.json) {
      printJson({ ok: outcome.status === 'completed', run_id: outcome.runId, status: outcome.status, ...(outcome.error ? { error: { code: (outcome.error as { code?: string }).code ?? 'ERROR', message: outcome.error.message } } : {}), steps: printer.steps });
    }
    if (outcome.status !== 'completed') process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
