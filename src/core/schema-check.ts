/**
 * Schema validation: validators compiled ahead of time by one ajv instance (allErrors), and
 * every error turned into a located problem with a message a person can act on.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Problem } from './errors.js';
// Precompiled by `npm run schemas` (ajv standalone): no schema is compiled at startup.
import * as VALIDATORS from './generated/validators.js';
import { closestName } from './suggest.js';
import type { YamlSource } from './yaml-source.js';

export type SchemaName = 'block' | 'payload' | 'workflow' | 'config' | 'format' | 'tests';

function getValidator(name: SchemaName): ValidateFunction {
  return (VALIDATORS as unknown as Record<SchemaName, ValidateFunction>)[name];
}

/** Validates a parsed YAML value; returns every problem, located in the file. */
export function checkSchema(name: SchemaName, file: string, source: YamlSource): Problem[] {
  const validate = getValidator(name);
  if (validate(source.value)) return [];
  const errors = validate.errors ?? [];
  return simplifyErrors(errors).map((error) => toProblem(file, source, error, errors));
}

/**
 * ajv reports every failed branch of an `anyOf` and the inner errors of `if/then`.
 * A person wants one message per place: keep the `anyOf` summary and drop its branches.
 */
function simplifyErrors(errors: ErrorObject[]): ErrorObject[] {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  const kept = errors.filter((e) => {
    if (e.keyword === 'if') return false;
    // A key failing `propertyNames` gives the inner error (with `propertyName`) and a summary:
    // keep the summary, which is per key.
    if (keyName(e) !== undefined && e.keyword !== 'propertyNames') return false;
    if (e.keyword === 'anyOf') return true;
    return !anyOfPaths.some((p) => e.schemaPath.includes('/anyOf/') && (e.instancePath === p || e.instancePath.startsWith(`${p}/`)));
  });
  // One message per place: a value that is both too short and badly shaped needs one fix.
  // Key-level errors (unknown or missing keys) stay one per key.
  const seen = new Set<string>();
  return kept.filter((e) => {
    const perKey = e.keyword === 'additionalProperties' || e.keyword === 'required' || e.keyword === 'propertyNames';
    const id = perKey ? `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}` : e.instancePath;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function toPath(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function describePath(path: (string | number)[]): string {
  if (path.length === 0) return 'the file';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** `all` is every error ajv gave, for the branches of an `anyOf` that simplifyErrors drops. */
function toProblem(file: string, source: YamlSource, error: ErrorObject, all: ErrorObject[]): Problem {
  const path = toPath(error.instancePath);
  const where = describePath(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const suggestion = closestName(key, known);
      const hint = suggestion ? `; did you mean "${suggestion}"?` : known.length ? ` (known: ${known.join(', ')})` : '';
      return { file, ...source.locate([...path, key], 'key'), code: 'SCHEMA', message: `unknown key "${key}"${path.length ? ` in ${where}` : ''}${hint}` };
    }
    case 'required':
      return { file, ...source.locate(path), code: 'SCHEMA', message: `missing required key "${String(params['missingProperty'])}"${path.length ? ` in ${where}` : ''}` };
    case 'type':
      return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} must be ${article(String(params['type']))}, got ${typeName(valueAt(source.value, path))}` };
    case 'enum':
      return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} must be one of: ${(params['allowedValues'] as unknown[]).join(', ')}` };
    case 'anyOf': {
      const parent = error.parentSchema as { description?: string; anyOf?: { properties?: object; required?: string[] }[] } | undefined;
      const value = valueAt(source.value, path);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        // A mapping with a key none of the forms know: name the key, suggest the nearest.
        const branches = parent?.anyOf ?? [];
        const known = branches.flatMap((branch) => Object.keys(branch.properties ?? {}));
        const unknown = Object.keys(value).find((key) => !known.includes(key));
        if (unknown !== undefined) {
          const suggestion = closestName(unknown, known);
          return { file, ...source.locate([...path, unknown], 'key'), code: 'SCHEMA', message: `unknown key "${unknown}" in ${where}${suggestion ? `; did you mean "${suggestion}"?` : ` (expected one of: ${known.join(', ')})`}` };
        }
        // The mapping is plainly one form (`{ tag: ... }`): say what is wrong inside it.
        const form = branches.findIndex((branch) => (branch.required?.length ?? 0) > 0 && branch.required!.every((key) => Object.hasOwn(value, key)));
        const inner = all.find((e) => e.schemaPath.startsWith(`${error.schemaPath}/${form}/`) && e.instancePath.startsWith(`${error.instancePath}/`));
        if (form !== -1 && inner) return toProblem(file, source, inner, all);
      }
      const description = parent?.description;
      return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} must be ${description ? lowerFirst(description) : 'one of the allowed forms'}` };
    }
    case 'minLength':
      if (params['limit'] === 1) return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} must not be empty` };
      return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} ${error.message ?? 'is too short'}` };
    case 'pattern':
      if (params['pattern'] === '\\S') return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} must not be blank` };
      if (where.endsWith('name') || where.endsWith('as')) {
        return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} must be a name without "/" or leading spaces` };
      }
      return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} ${error.message ?? 'is invalid'}` };
    case 'propertyNames': {
      // Located at the key itself, and named: the mapping may have many keys.
      const key = String(params['propertyName']);
      const names = error.schema as { description?: string; enum?: unknown[] };
      const subject = `${path.length ? `${where} key` : 'key'} "${key}"`;
      const message = names.description
        ? `${subject} must be ${names.description}`
        : `${subject} is not allowed here${names.enum ? ` (allowed: ${names.enum.join(', ')})` : ''}`;
      return { file, ...source.locate([...path, key], 'key'), code: 'SCHEMA', message };
    }
    default:
      return { file, ...source.locate(path), code: 'SCHEMA', message: `${where} ${error.message ?? 'is invalid'}` };
  }
}

/** The key an error is about, when it comes from inside a `propertyNames` check. */
function keyName(error: ErrorObject): string | undefined {
  const name = (error as ErrorObject & { propertyName?: string }).propertyName;
  return typeof name === 'string' ? name : undefined;
}

function valueAt(value: unknown, path: (string | number)[]): unknown {
  let current = value;
  for (const part of path) current = (current as Record<string | number, unknown> | undefined)?.[part];
  return current;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function article(type: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false' };
  return type.split(',').map((t) => names[t] ?? t).join(' or ');
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
