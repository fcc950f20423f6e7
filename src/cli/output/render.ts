import type { RenderResult } from '../../app/render.js';
import type { CommandContext } from '../context.js';
import { bold, dim, printJson } from '../report.js';

export function printRender(context: CommandContext, result: RenderResult): void {
  if (context.json) {
    printJson({
      ok: true,
      kind: result.kind,
      name: result.name,
      steps: result.steps.map((s) => ({ index: s.index, name: s.name, payload: s.payload, model_format: s.format, llm_port: s.llmPort, prompt: s.prompt.text, messages: s.prompt.messages, stop: s.prompt.stop })),
    });
    return;
  }
  for (const step of result.steps) {
    const header = `── step ${step.index + 1}/${result.steps.length}: ${step.name} (payload ${step.payload}, format ${step.format}, port ${step.llmPort}) `;
    process.stdout.write(`${bold(header.padEnd(72, '─'))}\n${step.prompt.text}\n`);
    if (step.prompt.stop.length) process.stdout.write(`${dim(`stop: ${JSON.stringify(step.prompt.stop)}`)}\n`);
    process.stdout.write('\n');
  }
}
