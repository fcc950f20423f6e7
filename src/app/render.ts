/**
 * `quire render`: the exact text each step would send, without calling any server or
 * writing the database. Outputs of earlier steps are placeholders unless given.
 */
import { AppError, ProblemsError } from '../core/errors.js';
import { resolveInputs, setOwn } from '../core/inputs.js';
import type { BuiltPrompt } from '../core/prompt.js';
import type { Workflow, Workspace } from '../core/types.js';
import type { AppContext } from './context.js';
import { inspectWithCache } from './load.js';
import { createPlanner } from './plan.js';

export interface RenderedStep {
  index: number;
  name: string;
  payload: string;
  format: string;
  llmPort: number;
  prompt: BuiltPrompt;
}

export interface RenderResult {
  kind: 'workflow' | 'payload';
  name: string;
  steps: RenderedStep[];
}

/** Splits `--input` values into workflow inputs and given step outputs (`steps.<name>.output=...`). */
export function splitRenderInputs(values: Record<string, string>): { inputs: Record<string, unknown>; outputs: Map<string, string> } {
  const inputs: Record<string, unknown> = {};
  const outputs = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) {
    const match = /^steps\.(.+)\.output$/.exec(key);
    if (match) outputs.set(match[1]!, value);
    else setOwn(inputs, key, value);
  }
  return { inputs, outputs };
}

export function renderTarget(ctx: AppContext, name: string, values: Record<string, string>, extraInputs: Record<string, unknown> = {}): RenderResult {
  const checked = inspectWithCache(ctx);
  if (checked.problems.length > 0) throw new ProblemsError(checked.problems);
  return renderChecked(checked.workspace, name, values, extraInputs);
}

function renderChecked(workspace: Workspace, name: string, values: Record<string, string>, extraInputs: Record<string, unknown>): RenderResult {
  const { inputs, outputs } = splitRenderInputs(values);
  Object.assign(inputs, extraInputs);
  const workflow = workspace.workflows.get(name) ?? payloadAsWorkflow(workspace, name, inputs);
  const input = resolveInputs(workflow, inputs, { placeholders: true });
  const planner = createPlanner(workspace);
  const done: Record<string, { output: string }> = {};
  let previous: string | undefined;
  const steps = planner.steps(workflow).map((planned) => {
    const prompt = planner.prompt(planned, input, done, previous);
    previous = outputs.get(planned.step.name) ?? `<output of step ${planned.step.name}>`;
    done[planned.step.name] = { output: previous };
    return { index: planned.index, name: planned.step.name, payload: planned.payload.name, format: planned.payload.modelFormat, llmPort: planned.payload.llmPort, prompt };
  });
  return { kind: workspace.workflows.has(name) ? 'workflow' : 'payload', name, steps };
}

/** A payload rendered alone: a one-step workflow whose inputs are whatever is given. */
function payloadAsWorkflow(workspace: Workspace, name: string, inputs: Record<string, unknown>): Workflow {
  const payload = workspace.payloads.get(name);
  if (!payload) {
    const known = [...workspace.workflows.keys(), ...workspace.payloads.keys()].sort();
    throw new AppError('NOT_FOUND', `no workflow or payload named "${name}"`, { hint: known.length ? `known: ${known.join(', ')}` : undefined });
  }
  return {
    name,
    description: '',
    inputs: Object.fromEntries(Object.keys(inputs).map((key) => [key, { type: 'string', required: false }])),
    steps: [{ name, payload: name, vars: {}, expect: [], at: payload.at }],
    sourcePath: payload.sourcePath,
    contentHash: payload.contentHash,
    at: payload.at,
  };
}
