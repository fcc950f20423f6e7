/**
 * `quire run`'s printer: live tokens on a TTY, whole responses otherwise, progress on
 * stderr, and the step summaries `--json` prints. Reusable by any command that runs
 * workflows (watch, batch): it only turns run events into output.
 */
import type { RunEvent } from '../../app/run.js';
import { dim, oneLine } from '../report.js';

export interface StepSummary {
  index: number;
  name: string;
  content: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_ms: number;
  finish_reason: string;
  attempts: number;
  /** When the step has checks: whether they passed, the score, and the failed ones. */
  checks?: { pass: boolean; score: number; failed: { check: string; reason: string }[] };
}

export function createRunPrinter(json: boolean, quiet: boolean, live: boolean) {
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
      case 'step-checks': {
        // After the step's own line: the checks on its output, the failing ones with their reason.
        const { result } = event;
        const failed = result.checks.filter((c) => !c.pass);
        const score = result.threshold !== undefined ? ` · score ${result.score.toFixed(2)} (threshold ${result.threshold})` : '';
        err(`  ${result.pass ? '✓' : '✗'} checks ${result.checks.length - failed.length}/${result.checks.length} passed${score}
`);
        for (const check of failed) err(`    ✗ ${check.check}: ${oneLine(check.reason)}
`);
        const summary = steps.find((s) => s.index === event.index);
        if (summary) summary.checks = { pass: result.pass, score: result.score, failed: failed.map((c) => ({ check: c.check, reason: c.reason })) };
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
