/**
 * What the mirror stores beyond the original system's columns, as JSON text: a payload's
 * block references and params (`payloads.options`), a workflow's inputs and steps
 * (`workflows.definition`). One shape for every store (SQLite, Postgres).
 */
import type { BlockRef, Payload, Workflow } from './types.js';

/** `payloads.options`. */
export function payloadOptions(payload: Payload): string {
  const ref = (r: BlockRef) => (r.kind === 'block' ? { block: r.key } : r.kind === 'tag' ? { tag: r.tag } : { text: r.text });
  return JSON.stringify({ system: payload.system.map(ref), blocks: payload.blocks.map(ref), params: payload.params, ...(payload.inlineIn ? { workflow: payload.inlineIn } : {}) });
}

/** `workflows.definition`. */
export function workflowDefinition(workflow: Workflow): string {
  return JSON.stringify({ inputs: workflow.inputs, steps: workflow.steps.map((s) => ({ name: s.name, payload: s.payload, vars: s.vars })) });
}
