/**
 * Parsing payload files (`workflows/**\/*.payload.yaml`), and the payload settings that
 * inline payloads inside workflows share with them.
 */
import { normalizeTag } from './block.js';
import type { Problem, SourceLocation } from './errors.js';
import { findIncludes } from './includes.js';
import type { BlockRef, Payload, PayloadSettings } from './types.js';
import { parseCheckedYaml } from './yaml-document.js';
import type { YamlSource } from './yaml-source.js';

/** Spec section 3 defaults; they match the original system's column defaults. */
export const PAYLOAD_DEFAULTS = {
  temperature: 0.6,
  responseLength: 1000,
  llmPort: 5001,
  modelFormat: 'default',
} as const;

export const PAYLOAD_SUFFIX = '.payload.yaml';

/**
 * Reads payload settings from a validated mapping found at `path` inside `source`.
 * Inline `text:` entries are templates too: their syntax errors are returned as problems.
 */
export function readPayloadSettings(file: string, source: YamlSource, value: Record<string, unknown>, path: (string | number)[], problems: Problem[]): PayloadSettings {
  const refs = (field: 'system' | 'blocks'): BlockRef[] => {
    const list = (value[field] as unknown[] | undefined) ?? [];
    return list.map((entry, index) => {
      const ref = toBlockRef(entry, { file, ...source.locate([...path, field, index]) });
      if (ref.kind === 'text') {
        const scan = findIncludes(file, ref.text, ref.at.line);
        // Positions inside a (possibly quoted or folded) YAML scalar do not map back to
        // columns reliably: report at the entry.
        if (!scan.ok) problems.push(...scan.problems.map((problem) => ({ ...problem, line: ref.at.line, col: ref.at.col })));
        else ref.includes = scan.includes.map((include) => ({ ...include, line: ref.at.line, col: ref.at.col }));
      }
      return ref;
    });
  };
  return {
    temperature: (value['temperature'] as number | undefined) ?? PAYLOAD_DEFAULTS.temperature,
    responseLength: (value['response_length'] as number | undefined) ?? PAYLOAD_DEFAULTS.responseLength,
    llmPort: (value['llm_port'] as number | undefined) ?? PAYLOAD_DEFAULTS.llmPort,
    modelFormat: (value['model_format'] as string | undefined) ?? PAYLOAD_DEFAULTS.modelFormat,
    system: refs('system'),
    blocks: refs('blocks'),
    params: (value['params'] as Record<string, unknown> | undefined) ?? {},
  };
}

function toBlockRef(entry: unknown, at: SourceLocation): BlockRef {
  if (typeof entry === 'string') return { kind: 'block', key: entry, at };
  const object = entry as Record<string, string>;
  if (object['tag'] !== undefined) return { kind: 'tag', tag: normalizeTag(object['tag']), at };
  if (object['text'] !== undefined) return { kind: 'text', text: object['text'], at, includes: [] };
  return { kind: 'block', key: String(object['block']), at };
}

/** `workflows/a/summarize.payload.yaml` -> `summarize`. */
export function nameFromPath(path: string, suffix: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.slice(0, base.length - suffix.length);
}

/** `problems` on success are non-fatal (a template error in inline text): the payload is still checked for references. */
export type PayloadParse = { ok: true; payload: Payload; problems: Problem[] } | { ok: false; problems: Problem[] };

/** Parses a payload file; every problem in it is returned at once. Never throws. */
export function parsePayload(path: string, text: string, contentHash: string): PayloadParse {
  const parsed = parseCheckedYaml(path, text, 'payload');
  if (!parsed.ok) return parsed;
  const { source } = parsed;
  const problems: Problem[] = [];
  const value = source.value as Record<string, unknown>;
  const settings = readPayloadSettings(path, source, value, [], problems);
  return {
    ok: true,
    problems,
    payload: {
      name: (value['name'] as string | undefined) ?? nameFromPath(path, PAYLOAD_SUFFIX),
      ...settings,
      sourcePath: path,
      contentHash,
      at: value['name'] === undefined ? { file: path, line: 1, col: 1 } : { file: path, ...source.locate(['name']) },
      formatAt: { file: path, ...source.locate(['model_format']) },
    },
  };
}
