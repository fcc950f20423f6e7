/**
 * `quire watch` in the terminal: what was saved, what reruns and why, the run as `quire
 * run` prints it, and per step how the answer differs from the previous run's. With
 * `--json`: one JSON event per line on stdout (for editors and tools).
 */
import type { WatchEvent } from '../../app/watch.js';
import { formatProblem } from '../../core/errors.js';
import { bold, dim, oneLine } from '../report.js';
import { createRunPrinter } from './run.js';

export function createWatchPrinter(json: boolean, quiet: boolean, live: boolean) {
  const err = (text: string) => {
    if (!quiet) process.stderr.write(text);
  };
  let runPrinter: ReturnType<typeof createRunPrinter> | undefined;
  return (event: WatchEvent): void => {
    if (json) {
      process.stdout.write(`${JSON.stringify(toJson(event))}\n`);
      return;
    }
    switch (event.type) {
      case 'ready':
        err(dim(`watching ${event.workflows.length} workflow${event.workflows.length === 1 ? '' : 's'}: ${event.workflows.join(', ') || '(none)'}\n`));
        for (const skip of event.skipped) err(dim(`  skipped ${skip.workflow}: ${skip.reason}\n`));
        break;
      case 'change':
        err(`\n${bold('saved')} ${[...event.changed, ...event.removed.map((p) => `${p} (deleted)`)].join(', ')}\n`);
        break;
      case 'problems':
        for (const problem of event.problems) process.stderr.write(`${formatProblem({ ...problem, file: oneLine(problem.file), message: oneLine(problem.message) })}\n`);
        err(dim(`${event.problems.length} problem${event.problems.length === 1 ? '' : 's'}; nothing reran, the last good version stays; watching\n`));
        break;
      case 'rerun':
        err(dim(`rerun ${event.workflow}${event.because ? ` (${event.because})` : ''}${event.cancelledRunning ? ': its run in flight is cancelled' : ''}\n`));
        break;
      case 'run':
        if (event.event.type === 'run-start') runPrinter = createRunPrinter(false, quiet, live);
        runPrinter?.onEvent(event.event);
        break;
      case 'step-diff':
        if (!event.diff.changed) err(dim(`  = same as run #${event.previousRunId}\n`));
        else err(`  ${dim(`Δ vs run #${event.previousRunId}:`)} ${event.diff.text.replace(/\n/g, ' ⏎ ')}\n`);
        break;
      case 'error':
        process.stderr.write(`error: ${event.message}\n`);
        break;
    }
  };
}

/** The JSON line of an event: run events are flattened, with the workflow named. */
function toJson(event: WatchEvent): Record<string, unknown> {
  if (event.type === 'run') {
    const run = event.event;
    if (run.type === 'step-end') {
      const { result, type, ...step } = run;
      return { type, workflow: event.workflow, ...step, finish_reason: result.finishReason, completion_tokens: result.completionTokens ?? null, total_ms: Math.round(result.totalMs) };
    }
    const { type, ...rest } = run;
    return { type, workflow: event.workflow, ...rest };
  }
  return { ...event };
}
