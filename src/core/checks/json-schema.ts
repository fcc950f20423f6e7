/**
 * JSON Schemas written in checks (inline, or files the app reads): compiled by ajv, loaded on
 * first use (~150 ms that most runs never need), one shared instance per draft, compiled
 * validators kept by the schema's JSON text so a long-lived process (watch) compiles each
 * schema once. The project's own validators are precompiled (core/schema-check.ts); these
 * schemas are the user's, known only at run time.
 */
import { createRequire } from 'node:module';
import { closestName } from '../suggest.js';
import type { Ajv as AjvClass, ErrorObject, Options } from 'ajv';

const require = createRequire(import.meta.url);

export type SchemaValidator = (value: unknown) => { ok: true } | { ok: false; errors: string[] };

/** Why a schema does not compile; `path` (inside the schema) when ajv says where, `key` when it is a key that is wrong. */
export interface SchemaError {
  error: string;
  path?: (string | number)[];
  key?: boolean;
}

/**
 * Strict about the schema itself (a misspelled keyword such as `requried` would otherwise
 * check nothing), lenient where strictness only gets in the way of ordinary schemas (types
 * implied by keywords, tuples, union types). The standard `format` names are accepted but not
 * checked: ajv-formats is not a dependency, and rejecting `format: email` would reject most
 * schemas found in the wild.
 */
const OPTIONS: Options = {
  allErrors: true,
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allowUnionTypes: true,
  allowMatchingProperties: true,
  logger: false,
  formats: Object.fromEntries(
    ['date-time', 'date', 'time', 'duration', 'email', 'idn-email', 'hostname', 'idn-hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference', 'iri', 'iri-reference', 'uuid', 'uri-template', 'json-pointer', 'relative-json-pointer', 'regex'].map((name) => [name, true]),
  ),
};

type Draft = '07' | '2019' | '2020';
const instances = new Map<Draft, AjvClass>();

function ajvFor(draft: Draft): AjvClass {
  let ajv = instances.get(draft);
  if (!ajv) {
    const module = draft === '2020' ? 'ajv/dist/2020.js' : draft === '2019' ? 'ajv/dist/2019.js' : 'ajv';
    // The 2019 and 2020 classes share the core API used here (compile, removeSchema).
    const Ajv = (require(module) as { default: new (options: Options) => AjvClass }).default;
    ajv = new Ajv(OPTIONS);
    instances.set(draft, ajv);
  }
  return ajv;
}

function draftOf(schema: Record<string, unknown>): Draft {
  const declared = typeof schema['$schema'] === 'string' ? schema['$schema'] : '';
  return declared.includes('2020-12') ? '2020' : declared.includes('2019-09') ? '2019' : '07';
}

/** Compiled schemas by JSON text, oldest first (a Map keeps insertion order). */
const compiled = new Map<string, { validator: SchemaValidator; schema: object; ajv: AjvClass }>();
const MAX_COMPILED = 200;

/** A validator for the schema, or why the schema is not one. Never throws. */
export function compileSchema(schema: unknown): SchemaValidator | SchemaError {
  if (typeof schema === 'boolean') return schema ? () => ({ ok: true }) : () => ({ ok: false, errors: ['(root) the schema `false` accepts nothing'] });
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return { error: 'a JSON Schema must be a mapping' };
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known.validator;
  const record = schema as Record<string, unknown>;
  const id = record['$id'];
  if (typeof id === 'string' && /^https?:\/\/json-schema\.org\//.test(id)) return { error: `$id "${id}" is a JSON Schema draft's own id; give the schema its own` };
  const ajv = ajvFor(draftOf(record));
  // ajv keeps schemas by $id (without a trailing #): an edited schema with the same $id replaces the old one.
  if (typeof id === 'string') for (const name of new Set([id, id.replace(/#$/, '')])) ajv.removeSchema(name);
  // A copy, so nothing else holds the object ajv keeps (it caches by identity).
  const copy = structuredClone(record);
  let validate;
  try {
    validate = ajv.compile(copy);
  } catch (error) {
    ajv.removeSchema(copy);
    return explain(ajv, record, error instanceof Error ? error.message : String(error));
  }
  const validator: SchemaValidator = (value) => (validate(value) ? { ok: true } : { ok: false, errors: (validate.errors ?? []).map(describeError) });
  remember(key, { validator, schema: validate.schema as object, ajv });
  return validator;
}

function remember(key: string, entry: { validator: SchemaValidator; schema: object; ajv: AjvClass }): void {
  compiled.set(key, entry);
  if (compiled.size <= MAX_COMPILED) return;
  const [oldestKey, oldest] = compiled.entries().next().value!;
  compiled.delete(oldestKey);
  // ajv also keeps every schema it compiled; let it go too.
  oldest.ajv.removeSchema(oldest.schema);
}

/**
 * ajv's compile error made specific: a schema failing the draft's meta-schema names the
 * first place and what is allowed there; a misspelled keyword (strict mode) is found in the
 * schema and gets "did you mean".
 */
function explain(ajv: AjvClass, schema: Record<string, unknown>, message: string): SchemaError {
  const first = ajv.errors?.[0];
  if (message.startsWith('schema is invalid') && first) {
    return { error: describeError(first), path: first.instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~')) };
  }
  const unknown = /^strict mode: unknown keyword: "(.*)"$/.exec(message)?.[1];
  if (unknown !== undefined) {
    const suggestion = closestName(unknown, Object.keys(ajv.RULES.keywords));
    const path = pathToKey(schema, unknown);
    return { error: `unknown keyword "${unknown}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`, ...(path ? { path, key: true } : {}) };
  }
  return { error: message };
}

/** The path of the first mapping in the schema that has `key`, with the key last. */
function pathToKey(value: unknown, key: string, path: (string | number)[] = []): (string | number)[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, key)) return [...path, key];
  for (const [k, child] of Object.entries(value)) {
    const found = pathToKey(child, key, [...path, Array.isArray(value) ? Number(k) : k]);
    if (found) return found;
  }
  return undefined;
}

/** `/items/0/name must be string`; the root is `(root)`. */
function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  const extra = error.keyword === 'additionalProperties' ? ` ("${String(params['additionalProperty'])}")` : error.keyword === 'enum' ? ` (${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')})` : '';
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}
