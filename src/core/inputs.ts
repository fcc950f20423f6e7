/**
 * Workflow inputs: `--input k=v` strings and `--input-file` values checked against the
 * workflow's `inputs:` (types, defaults, required), with every problem reported at once.
 */
import { AppError } from './errors.js';
import { closestName } from './suggest.js';
import type { InputSpec, Workflow } from './types.js';

/** Parses `k=v` pairs (the value may contain `=`). @throws AppError INPUT on a pair without `=`. */
/** Sets an own property, also for names like `__proto__` that plain assignment would turn into a prototype change. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function parseInputPairs(pairs: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AppError('INPUT', `--input "${pair}" must look like key=value`);
    setOwn(values, pair.slice(0, eq).trim(), pair.slice(eq + 1));
  }
  return values;
}

/**
 * Resolves the workflow's inputs: given values (strings from the command line are
 * converted to the declared type; values from an input file are checked as they are),
 * then defaults. @throws AppError INPUT listing every problem.
 */
export function resolveInputs(workflow: Workflow, given: Record<string, unknown>, options: { placeholders?: boolean } = {}): Record<string, unknown> {
  const problems: string[] = [];
  const resolved: Record<string, unknown> = {};
  const declared = Object.keys(workflow.inputs);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(workflow.inputs, key)) {
      const suggestion = closestName(key, declared);
      problems.push(`unknown input "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (workflow "${workflow.name}" takes: ${declared.length ? declared.join(', ') : 'no inputs'})`);
    }
  }
  for (const [key, spec] of Object.entries(workflow.inputs)) {
    if (Object.hasOwn(given, key)) {
      const converted = convert(key, spec, given[key]);
      if (converted.ok) setOwn(resolved, key, converted.value);
      else problems.push(converted.problem);
    } else if (Object.hasOwn(spec, 'default')) {
      setOwn(resolved, key, spec.default);
    } else if (options.placeholders) {
      setOwn(resolved, key, `<input.${key}>`);
    } else if (spec.required) {
      problems.push(`missing required input "${key}" (${spec.type}${spec.description ? `: ${spec.description}` : ''}); pass --input ${key}=...`);
    }
  }
  if (problems.length > 0) {
    throw new AppError('INPUT', problems.length === 1 ? problems[0]! : `${problems.length} input problems:\n  ${problems.join('\n  ')}`, {
      hint: `inputs are declared in ${workflow.sourcePath}`,
    });
  }
  return resolved;
}

/** Whether a value (from YAML or JSON, not a command-line string) has the input type. */
export function matchesInputType(type: InputSpec['type'], value: unknown): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

type Converted = { ok: true; value: unknown } | { ok: false; problem: string };

function convert(key: string, spec: InputSpec, value: unknown): Converted {
  const bad = (what: string): Converted => ({ ok: false, problem: `input "${key}" must be ${what}, got ${JSON.stringify(value)}` });
  const fromText = typeof value === 'string';
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? { ok: true, value } : bad('a string');
    case 'integer': {
      const n = fromText ? Number(value) : value;
      return typeof n === 'number' && Number.isInteger(n) && (!fromText || /^-?\d+$/.test((value as string).trim())) ? { ok: true, value: n } : bad('an integer');
    }
    case 'number': {
      const n = fromText && (value as string).trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n) ? { ok: true, value: n } : bad('a number');
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      if (value === 'true' || value === 'false') return { ok: true, value: value === 'true' };
      return bad('true or false');
    }
    case 'object':
    case 'array': {
      let parsed = value;
      if (fromText) {
        try {
          parsed = JSON.parse(value as string);
        } catch {
          return bad(`JSON ${spec.type === 'array' ? 'array' : 'object'}`);
        }
      }
      const ok = spec.type === 'array' ? Array.isArray(parsed) : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      return ok ? { ok: true, value: parsed } : bad(spec.type === 'array' ? 'a list' : 'a mapping');
    }
  }
}
