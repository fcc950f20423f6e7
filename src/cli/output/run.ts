/**
 * `quire run` in the terminal: live tokens on a TTY, whole responses otherwise, progress
 * on stderr, Ctrl-C to cancel (twice to force), `--json` for scripts.
 */
import type { RunEvent, RunOutcome } from '../../app/run.js';
import type { RunFlags } from '../commands/run.js';
import { toList } from '../commands/run.js';
import { resolveContext } from '../context.js';
import { QUIRE_VERSION } from '../version.js';
import { dim, printJson } from '../report.js';

export async function executeRun(workflow: string, flags: RunFlags): Promise<void> {
  const { parseInputPairs } = await import('../../core/inputs.js');
  const context = resolveContext(flags);
  // The YAML reader is loaded only when an input file is given (it costs startup time).
  const fromFile = flags.inputFile ? (await import('../../app/input-file.js')).readInputFile(flags.inputFile) : {};
  const inputs: Record<string, unknown> = { ...fromFile, ...parseInputPairs(toList(flags.input)) };

  if (flags.dryRun) {
    const { renderTarget } = await import('../../app/render.js');
    const { printRender } = await import('./render.js');
    const strings = Object.fromEntries(Object.entries(inputs).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const others = Object.fromEntries(Object.entries(inputs).filter(([, v]) => typeof v !== 'string'));
    printRender(context, renderTarget(context.root, context.dbPath, workflow, strings, others));
    return;
  }

  const { runWorkflow } = await import('../../app/run.js');
  const { createClientFactory } = await import('../../app/clients.js');
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
  let outcome: RunOutcome;
  try {
    outcome = await runWorkflow({
      root: context.root,
      dbPath: context.dbPath,
      workflow,
      inputs,
      endpointOverrides: toList(flags.endpoint),
      trigger: 'cli',
      stream: flags.stream !== false,
      signal: controller.signal,
      onEvent: printer.onEvent,
      version: QUIRE_VERSION,
      getClient: createClientFactory(),
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (context.json) {
    printJson({ ok: outcome.status === 'completed', run_id: outcome.runId, status: outcome.status, ...(outcome.error ? { error: { code: (outcome.error as { code?: string }).code ?? 'ERROR', message: outcome.error.message } } : {}), steps: printer.steps });
  }
  if (outcome.status !== 'completed') process.exitCode = 1;
}

interface StepSummary {
  index: number;
  name: string;
  content: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_ms: number;
  finish_reason: string;
  attempts: number;
}

function createRunPrinter(json: boolean, quiet: boolean, live: boolean) {
  const steps: StepSummary[] = [];
  const started = performance.now();
  const err = (text: string) => {
    if (!json && !quiet) process.stderr.write(text);
  };
  let streamedAny = false;
  const onEvent = (event: RunEvent) => {
    switch (event.type) {
      case 'run-start':
        err(dim(`run #${event.runId} · ${event.workflow} · ${event.steps} step${event.steps === 1 ? '' : 's'}\n`));
        break;
      case 'step-start':
        err(`\n▸ [${event.index + 1}/${event.total}] ${event.name}  ${dim(`${event.format} → ${event.api} ${event.url}`)}\n`);
        streamedAny = false;
        break;
      case 'token':
        if (live) {
          process.stdout.write(event.text);
          streamedAny = true;
        }
        break;
      case 'step-end': {
        const r = event.result;
        steps.push({ index: event.index, name: event.name, content: event.content, prompt_tokens: r.promptTokens ?? null, completion_tokens: r.completionTokens ?? null, total_ms: Math.round(r.totalMs), finish_reason: r.finishReason, attempts: r.attempts });
        if (!json) {
          if (!live || !streamedAny) process.stdout.write(event.content);
          process.stdout.write('\n');
        }
        const tokens = r.completionTokens !== undefined ? `${r.completionTokens} tokens · ` : '';
        const retries = r.attempts > 1 ? ` · ${r.attempts} attempts` : '';
        err(dim(`  ✓ ${tokens}${(r.totalMs / 1000).toFixed(2)} s · ${r.finishReason}${retries}\n`));
        break;
      }
      case 'run-end': {
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        if (event.status === 'completed') err(`\nrun #${event.runId} completed in ${seconds} s · quire show ${event.runId}\n`);
        else {
          err(`\nrun #${event.runId} ${event.status}${event.error ? `: ${event.error}` : ''} · quire show ${event.runId}\n`);
          if (event.hint) err(`  hint: ${event.hint}\n`);
        }
        break;
      }
    }
  };
  return { onEvent, steps };
}
