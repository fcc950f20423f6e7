/**
 * What a workflow run will send: the steps resolved to payloads, the files they use,
 * and each step's prompt given the outputs so far. Shared by `run` and `render`.
 */
import { buildPrompt, createFormatResolver, type BuiltPrompt } from '../core/prompt.js';
import { createRenderer, type TemplateContext } from '../core/render.js';
import { AppError } from '../core/errors.js';
import { workflowFiles } from '../core/graph.js';
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
    prompt(planned: PlannedStep, input: Record<string, unknown>, steps: TemplateContext['steps'], previous: string | undefined, options: { date?: Date; output?: string; expected?: string } = {}): BuiltPrompt {
      const context: TemplateContext = {
        input, vars: planned.step.vars, steps,
        ...(previous !== undefined ? { previous: { output: previous } } : {}),
        ...(options.output !== undefined ? { output: options.output } : {}),
        ...(options.expected !== undefined ? { expected: options.expected } : {}),
      };
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
export function filesUsed(workspace: Workspace, workflow: Workflow, hashes: ReadonlyMap<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const path of workflowFiles(workspace, workflow)) {
    const hash = hashes.get(path);
    if (hash) result[path] = hash;
  }
  return result;
}
