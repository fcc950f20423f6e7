/**
 * What a workflow run will send: the steps resolved to payloads, the files they use,
 * and each step's prompt given the outputs so far. Shared by `run` and `render`.
 */
import { buildPrompt, createFormatResolver, type BuiltPrompt } from '../core/prompt.js';
import { createRenderer, type TemplateContext } from '../core/render.js';
import { AppError } from '../core/errors.js';
import type { Payload, Step, Workflow, Workspace } from '../core/types.js';

export interface PlannedStep {
  index: number;
  step: Step;
  payload: Payload;
}

export function createPlanner(workspace: Workspace) {
  const renderer = createRenderer(workspace);
  const resolveFormat = createFormatResolver(workspace);
  return {
    steps(workflow: Workflow): PlannedStep[] {
      return workflow.steps.map((step, index) => ({ index, step, payload: workspace.payloads.get(step.payload)! }));
    },
    /**
     * Renders one step, given the outputs of the steps before it (by step name) and the
     * previous step's output. @throws TemplateError, AppError FORMAT
     */
    prompt(planned: PlannedStep, input: Record<string, unknown>, steps: TemplateContext['steps'], previous: string | undefined, options: { date?: Date } = {}): BuiltPrompt {
      const context: TemplateContext = { input, vars: planned.step.vars, steps, ...(previous !== undefined ? { previous: { output: previous } } : {}) };
      const rendered = renderer.renderPayload(planned.payload, context);
      return buildPrompt(planned.payload, rendered, resolveFormat(planned.payload.modelFormat), options);
    },
  };
}

/** The workflow by name. @throws AppError NOT_FOUND naming the known workflows */
export function findWorkflow(workspace: Workspace, name: string): Workflow {
  const workflow = workspace.workflows.get(name);
  if (workflow) return workflow;
  const known = [...workspace.workflows.keys()].sort();
  throw new AppError('NOT_FOUND', `no workflow named "${name}"`, { hint: known.length ? `workflows: ${known.join(', ')}` : 'this workspace has no workflows yet' });
}

/** Workspace files a workflow run depends on, by path, with their content hashes. */
export function filesUsed(workspace: Workspace, workflow: Workflow, hashes: Map<string, string>): Record<string, string> {
  const paths = new Set<string>([workflow.sourcePath]);
  const blockKeys: string[] = [];
  for (const step of workflow.steps) {
    const payload = workspace.payloads.get(step.payload);
    if (!payload) continue;
    paths.add(payload.sourcePath);
    const format = workspace.formats.get(payload.modelFormat);
    if (format) paths.add(format.sourcePath);
    for (const ref of [...payload.system, ...payload.blocks]) {
      if (ref.kind === 'block') blockKeys.push(ref.key);
      else if (ref.kind === 'tag') blockKeys.push(...(workspace.tags.get(ref.tag) ?? []));
      else for (const include of ref.includes) blockKeys.push(...(include.kind === 'block' ? [include.name] : (workspace.tags.get(include.name) ?? [])));
    }
  }
  const seen = new Set<string>();
  while (blockKeys.length) {
    const key = blockKeys.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const block = workspace.blocks.get(key);
    if (!block) continue;
    paths.add(block.sourcePath);
    for (const include of block.includes) {
      if (include.kind === 'block') blockKeys.push(include.name);
      else blockKeys.push(...(workspace.tags.get(include.name) ?? []));
    }
  }
  if (workspace.config.sourcePath) paths.add(workspace.config.sourcePath);
  const result: Record<string, string> = {};
  for (const path of [...paths].sort()) {
    const hash = hashes.get(path);
    if (hash) result[path] = hash;
  }
  return result;
}
