import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';

function runId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(String(text).trim()) || !Number.isSafeInteger(id) || id < 1) throw new UsageError(`run id must be a positive whole number, got "${text}"`);
  return id;
}

export function registerDiff(cli: CAC): void {
  cli
    .command('diff <run-a> [run-b]', 'What changed between two runs: files, prompts, responses, settings (one run: against the previous completed run of its workflow)')
    .action(async (first: string, second: string | undefined, flags: GlobalOptions) => {
      const ids = second === undefined ? { b: runId(first) } : { a: runId(first), b: runId(second) };
      const { resolveContext, withAppContext } = await import('../context.js');
      const { diffRunIds } = await import('../../app/diff.js');
      const { printDiff } = await import('../output/diff.js');
      const context = resolveContext(flags);
      printDiff(context, await withAppContext(context, (app) => diffRunIds(app, ids)));
    });
}
