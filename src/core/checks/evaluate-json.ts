/**
 * `json` and `json_schema`: the output read as JSON (json-text.ts), then checked by a schema
 * written inline or read from a file by the app.
 */
import type { CheckArgs } from './args.js';
import { compileSchema } from './json-schema.js';
import { readJsonOutput } from './json-text.js';
import { failed, passed, type Outcome } from './outcome.js';

/** ajv errors shown in a reason; the rest are counted. */
const SHOWN_ERRORS = 3;

export function json(text: string): Outcome {
  const read = readJsonOutput(text);
  return read.ok ? passed(`valid JSON (${kind(read.value)})`) : failed(read.reason);
}

export function jsonSchema(args: CheckArgs['json_schema'], text: string, schemaFile: ((path: string) => unknown) | undefined): Outcome {
  let schema: unknown;
  if ('file' in args) {
    if (!schemaFile) return failed(`cannot read the schema file ${args.file}: no schema file service`);
    schema = schemaFile(args.file);
    if (schema === undefined) return failed(`schema file ${args.file} was not found`);
  } else schema = args.schema;
  const validator = compileSchema(schema);
  const source = 'file' in args ? `schema file ${args.file}` : 'the schema';
  if (typeof validator !== 'function') return failed(`${source} is not a valid JSON Schema: ${validator.error}`);
  const read = readJsonOutput(text);
  if (!read.ok) return failed(read.reason);
  const result = validator(read.value);
  if (result.ok) return passed(`JSON matches ${source}`);
  const more = result.errors.length - SHOWN_ERRORS;
  return failed(`output does not match ${source}: ${result.errors.slice(0, SHOWN_ERRORS).join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
