import { ProblemsError } from '../../core/errors.js';
import type { CheckedWorkspace } from '../../app/load.js';
import type { CommandContext } from '../context.js';
import { printJson } from '../report.js';

export function reportValidation(context: CommandContext, result: CheckedWorkspace): void {
  if (result.problems.length > 0) throw new ProblemsError(result.problems);
  const counts = {
    blocks: result.workspace.blocks.size,
    payloads: result.workspace.payloads.size,
    workflows: result.workspace.workflows.size,
    formats: result.workspace.formats.size,
  };
  if (context.json) printJson({ ok: true, problems: [], counts });
  else if (!context.quiet) {
    process.stdout.write(`ok: ${counts.blocks} blocks, ${counts.payloads} payloads, ${counts.workflows} workflows, ${counts.formats} formats\n`);
  }
}
