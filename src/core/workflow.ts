/**
 * Parsing workflow files (`workflows/**\/*.workflow.yaml`), including the inline payloads
 * they define (synced as `<workflow>/<name>`).
 */
import { parseChecks } from './checks/parse.js';
import type { Problem } from './errors.js';
import { nameFromPath, readPayloadSettings } from './payload.js';
import { parseCheckedYaml } from './yaml-document.js';
import { matchesInputType } from './inputs.js';
import type { InputSpec, InputType, Payload, Step, Workflow } from './types.js';

const INPUT_TYPE_NAMES: Record<InputType, string> = { string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', object: 'a mapping', array: 'a list' };

export const WORKFLOW_SUFFIX = '.workflow.yaml';

/** `problems` on success are non-fatal (template errors in inline text). */
export type WorkflowParse = { ok: true; workflow: Workflow; inlinePayloads: Payload[]; problems: Problem[] } | { ok: false; problems: Problem[] };

/** Parses a workflow file; every problem in it is returned at once. Never throws. */
export function parseWorkflow(path: string, text: string, contentHash: string): WorkflowParse {
  const parsed = parseCheckedYaml(path, text, 'workflow');
  if (!parsed.ok) return parsed;
  const { source } = parsed;
  const problems: Problem[] = [];
  const value = source.value as Record<string, unknown>;
  const name = (value['name'] as string | undefined) ?? nameFromPath(path, WORKFLOW_SUFFIX);

  const inputs: Record<string, InputSpec> = {};
  for (const [key, spec] of Object.entries((value['inputs'] as Record<string, Record<string, unknown>> | undefined) ?? {})) {
    const hasDefault = Object.hasOwn(spec ?? {}, 'default');
    const type = (spec?.['type'] as InputType | undefined) ?? 'string';
    if (hasDefault && !matchesInputType(type, spec['default'])) {
      problems.push({ file: path, ...source.locate(['inputs', key, 'default']), code: 'SCHEMA', message: `default of input "${key}" must be ${INPUT_TYPE_NAMES[type]} (its type), got ${JSON.stringify(spec['default'])}` });
    }
    inputs[key] = {
      type,
      ...(hasDefault ? { default: spec['default'] } : {}),
      ...(typeof spec?.['description'] === 'string' ? { description: spec['description'] } : {}),
      required: (spec?.['required'] as boolean | undefined) ?? !hasDefault,
    };
  }

  const steps: Step[] = [];
  const templateProblems: Problem[] = [];
  const inlinePayloads: Payload[] = [];
  const entries = value['payloads'] as unknown[];
  entries.forEach((entry, index) => {
    const at = { file: path, ...source.locate(['payloads', index]) };
    if (typeof entry === 'string') {
      steps.push({ name: entry, payload: entry, vars: {}, expect: [], at });
      return;
    }
    const object = entry as Record<string, unknown>;
    const vars = (object['vars'] as Record<string, unknown> | undefined) ?? {};
    const checks = parseChecks(object['expect'] ?? [], path, source.locate, ['payloads', index, 'expect']);
    problems.push(...checks.problems);
    const checked = { expect: checks.checks, ...(typeof object['threshold'] === 'number' ? { threshold: object['threshold'] } : {}) };
    if (typeof object['payload'] === 'string') {
      steps.push({ name: (object['as'] as string | undefined) ?? object['payload'], payload: object['payload'], vars, ...checked, at });
      return;
    }
    const localName = object['name'] as string;
    const fullName = `${name}/${localName}`;
    inlinePayloads.push({
      name: fullName,
      ...readPayloadSettings(path, source, object, ['payloads', index], templateProblems),
      sourcePath: path,
      contentHash,
      inlineIn: name,
      at,
      formatAt: { file: path, ...source.locate(['payloads', index, 'model_format']) },
    });
    steps.push({ name: (object['as'] as string | undefined) ?? localName, payload: fullName, vars, ...checked, at });
  });

  const seen = new Map<string, Step>();
  for (const step of steps) {
    const earlier = seen.get(step.name);
    if (earlier) {
      problems.push({ ...step.at, code: 'DUPLICATE_NAME', message: `step name "${step.name}" is already used by step on line ${earlier.at.line}; give one of them "as: <name>" so steps.<name>.output is unambiguous` });
    }
    seen.set(step.name, step);
  }
  if (problems.length > 0) return { ok: false, problems: [...problems, ...templateProblems] };

  return {
    ok: true,
    problems: templateProblems,
    workflow: {
      name,
      description: (value['description'] as string | undefined) ?? '',
      inputs,
      steps,
      sourcePath: path,
      contentHash,
      at: value['name'] === undefined ? { file: path, line: 1, col: 1 } : { file: path, ...source.locate(['name']) },
    },
    inlinePayloads,
  };
}
