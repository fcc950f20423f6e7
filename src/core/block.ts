/**
 * Parsing one block file (`blocks/**\/*.md`) into a Block.
 */
import type { Problem } from './errors.js';
import { splitFrontmatter } from './frontmatter.js';
import { findIncludes } from './includes.js';
import { checkSchema } from './schema-check.js';
import type { Block } from './types.js';
import { parseSimpleYaml } from './simple-yaml.js';
import { parseYamlSource } from './yaml-source.js';

const META_KEYS = new Set(['title', 'tags', 'description']);

/** The fast path's result is used only when it is certainly valid; otherwise the full parse reports. */
function isValidSimpleMeta(meta: Record<string, unknown>): boolean {
  for (const [key, value] of Object.entries(meta)) {
    if (!META_KEYS.has(key)) return false;
    if (key === 'tags' ? !(typeof value === 'string' || (Array.isArray(value) && value.every((t) => typeof t === 'string' && !t.includes(',')))) : typeof value !== 'string' || value === '') return false;
  }
  return true;
}

export const BLOCKS_DIR = 'blocks';

/** `blocks/Phase 1/summarize.md` -> `Phase 1/summarize`. */
export function blockKeyFromPath(path: string): string {
  return path.slice(BLOCKS_DIR.length + 1).replace(/\.md$/i, '');
}

/** One tag as quire compares it, in block front matter and in a payload's `tag:` alike: trimmed. */
export function normalizeTag(tag: string): string {
  return tag.trim();
}

/** Tags from a list or a comma-separated string: trimmed, de-duplicated, case kept. */
export function normalizeTags(tags: unknown): string[] {
  const raw = Array.isArray(tags) ? tags.map(String) : typeof tags === 'string' ? tags.split(',') : [];
  const seen = new Set<string>();
  for (const tag of raw) {
    const trimmed = normalizeTag(tag);
    if (trimmed) seen.add(trimmed);
  }
  return [...seen];
}

export type BlockParse = { ok: true; block: Block } | { ok: false; problems: Problem[] };

/** Parses a block's text; every problem in it is returned at once. Never throws. */
export function parseBlock(path: string, text: string, contentHash: string): BlockParse {
  if (text.trim() === '') {
    return { ok: false, problems: [{ file: path, line: 1, col: 1, code: 'SCHEMA', message: 'block file is empty; write the prompt text (optionally after --- front matter ---)' }] };
  }
  const split = splitFrontmatter(path, text);
  if (!split.ok) return { ok: false, problems: [split.problem] };
  const { yaml, body, bodyLine } = split.split;

  let meta: Record<string, unknown> = {};
  const problems: Problem[] = [];
  const simple = yaml === undefined ? undefined : parseSimpleYaml(yaml);
  if (simple !== undefined && isValidSimpleMeta(simple)) {
    meta = simple;
  } else if (yaml !== undefined && yaml.trim() !== '') {
    const parsed = parseYamlSource(path, yaml, 1);
    if (!parsed.ok) return { ok: false, problems: parsed.problems };
    if (parsed.source.value !== null && parsed.source.value !== undefined) {
      problems.push(...checkSchema('block', path, parsed.source));
      if (problems.length === 0) meta = parsed.source.value as Record<string, unknown>;
    }
  }
  const scan = findIncludes(path, body, bodyLine);
  if (!scan.ok) problems.push(...scan.problems);
  if (problems.length > 0 || !scan.ok) return { ok: false, problems };

  const key = blockKeyFromPath(path);
  const slash = key.lastIndexOf('/');
  return {
    ok: true,
    block: {
      key,
      title: typeof meta['title'] === 'string' ? meta['title'] : key.slice(slash + 1),
      tags: normalizeTags(meta['tags']),
      content: body,
      folderPath: slash === -1 ? '' : key.slice(0, slash),
      sourcePath: path,
      contentHash,
      bodyLine,
      includes: scan.includes,
    },
  };
}
