/**
 * Reading a YAML workspace file (payload, workflow, config, format, input file) into a
 * checked value with node positions. Files in the plain style take the fast path
 * (simple-yaml-document.ts); everything else, and every file with a problem, goes
 * through the full `yaml` parser, so problems are always located by it.
 */
import type { Problem } from './errors.js';
import { checkSchema, type SchemaName } from './schema-check.js';
import { parseSimpleDocument } from './simple-yaml-document.js';
import { positionOfOffset } from './text.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

export type YamlDocumentResult = { ok: true; source: YamlSource } | { ok: false; problems: Problem[] };

/** Parses a YAML file that must hold a mapping; empty files are a problem, not `null`. */
export function parseYamlDocument(path: string, text: string): YamlDocumentResult {
  if (text.trim() === '') {
    return { ok: false, problems: [{ file: path, line: 1, col: 1, code: 'SCHEMA', message: 'file is empty' }] };
  }
  const parsed = parseYamlSource(path, text);
  if (!parsed.ok) return parsed;
  const value = parsed.source.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problems: [{ file: path, ...parsed.source.locate([]), code: 'SCHEMA', message: 'the file must be a YAML mapping (key: value lines)' }] };
  }
  return parsed;
}

/** Parses and schema-checks a YAML file; every problem is returned at once. */
export function parseCheckedYaml(path: string, text: string, schema: SchemaName): YamlDocumentResult {
  const simple = parseSimpleDocument(text);
  if (simple) {
    const source = simpleSource(text, simple.value, simple.offsets);
    if (checkSchema(schema, path, source).length === 0) return { ok: true, source };
  }
  const parsed = parseYamlDocument(path, text);
  if (!parsed.ok) return parsed;
  const problems = checkSchema(schema, path, parsed.source);
  return problems.length > 0 ? { ok: false, problems } : parsed;
}

/**
 * A YamlSource over the fast path's value: positions of the nearest recorded node. The fast
 * path records where values are; a key's own position (a problem about the key, such as an
 * unknown check name) comes from the full parser, run only when one is asked for.
 */
function simpleSource(text: string, value: unknown, offsets: Map<string, number>): YamlSource {
  let full: ReturnType<typeof parseYamlSource> | undefined;
  return {
    value,
    locate(path, which = 'value') {
      if (which === 'key') {
        full ??= parseYamlSource('', text);
        if (full.ok) return full.source.locate(path, 'key');
      }
      for (let depth = path.length; depth >= 0; depth--) {
        const offset = offsets.get(path.slice(0, depth).join('\u0000'));
        if (offset !== undefined) return positionOfOffset(text, offset);
      }
      return { line: 1, col: 1 };
    },
  };
}
