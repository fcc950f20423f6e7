/**
 * From the workspace's files to one validated model, with every problem found at once.
 */
import { BLOCKS_DIR, blockKeyFromPath, parseBlock } from './block.js';
import { DEFAULT_CONFIG, parseConfig } from './config.js';
import type { Problem } from './errors.js';
import { createCustomFormat } from './formats/index.js';
import { contentHash } from './hash.js';
import { PAYLOAD_SUFFIX, nameFromPath, parseYamlDocument, parsePayload } from './payload.js';
import { checkReferences, type BrokenNames } from './references.js';
import { checkSchema } from './schema-check.js';
import { decodeSource } from './text.js';
import type { Block, FormatFile, Payload, SourceFile, Workspace } from './types.js';
import { parseWorkflow } from './workflow.js';

/** Parsed blocks from an earlier sync, by path, reused when the file's hash is unchanged. */
export interface BlockCache {
  get(path: string, contentHash: string): Block | undefined;
}

export interface LoadOptions {
  cache?: BlockCache;
  /** Paths the reader could not read (already reported): references to them are not reported again. */
  unreadable?: readonly string[];
}

export interface LoadResult {
  workspace: Workspace;
  problems: Problem[];
  /** Hash of every file read, by path (recorded with runs). */
  hashes: Map<string, string>;
}

/** Loads and checks a workspace from its files. Never throws on bad input: problems are returned. */
export function loadWorkspace(files: readonly SourceFile[], options: LoadOptions = {}): LoadResult {
  const problems: Problem[] = [];
  const hashes = new Map<string, string>();
  const workspace: Workspace = {
    blocks: new Map(),
    tags: new Map(),
    payloads: new Map(),
    workflows: new Map(),
    formats: new Map(),
    config: DEFAULT_CONFIG,
  };
  const owners = { block: new Map<string, string>(), payload: new Map<string, string>(), workflow: new Map<string, string>(), format: new Map<string, string>() };
  const claim = (kind: keyof typeof owners, name: string, file: string, line = 1, col = 1): boolean => {
    const owner = owners[kind].get(name);
    if (owner !== undefined) {
      problems.push({ file, line, col, code: 'DUPLICATE_NAME', message: `${kind} name "${name}" is also defined in ${owner}; names must be unique` });
      return false;
    }
    owners[kind].set(name, file);
    return true;
  };

  // Names of files that failed to parse: references to them are not reported again as "unknown".
  const broken: BrokenNames = { blocks: new Set(), payloads: new Set(), anyBlock: false };
  for (const path of options.unreadable ?? []) {
    if (path.startsWith(`${BLOCKS_DIR}/`)) {
      broken.blocks.add(blockKeyFromPath(path));
      broken.anyBlock = true;
    } else if (path.endsWith(PAYLOAD_SUFFIX)) broken.payloads.add(nameFromPath(path, PAYLOAD_SUFFIX));
  }

  // Sorted so duplicate reports always name the same "first" file.
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    const hash = contentHash(file.bytes);
    hashes.set(file.path, hash);
    const cached = file.kind === 'block' ? options.cache?.get(file.path, hash) : undefined;
    if (cached) {
      if (claim('block', cached.key, file.path)) workspace.blocks.set(cached.key, cached);
      continue;
    }
    const decoded = decodeSource(file.path, file.bytes);
    if (!decoded.ok) {
      problems.push(decoded.problem);
      if (file.kind === 'block') {
        broken.blocks.add(blockKeyFromPath(file.path));
        broken.anyBlock = true;
      } else if (file.kind === 'payload') broken.payloads.add(nameFromPath(file.path, PAYLOAD_SUFFIX));
      continue;
    }
    const text = decoded.text;
    switch (file.kind) {
      case 'block': {
        const parsed = parseBlock(file.path, text, hash);
        if (!parsed.ok) {
          problems.push(...parsed.problems);
          broken.blocks.add(blockKeyFromPath(file.path));
          broken.anyBlock = true;
        }
        else if (claim('block', parsed.block.key, file.path)) workspace.blocks.set(parsed.block.key, parsed.block);
        break;
      }
      case 'payload': {
        const parsed = parsePayload(file.path, text, hash);
        problems.push(...parsed.problems);
        if (!parsed.ok) broken.payloads.add(nameFromPath(file.path, PAYLOAD_SUFFIX));
        else addPayload(parsed.payload);
        break;
      }
      case 'workflow': {
        const parsed = parseWorkflow(file.path, text, hash);
        problems.push(...parsed.problems);
        if (!parsed.ok) break;
        // A duplicate workflow's inline payloads would only repeat the same report.
        if (claim('workflow', parsed.workflow.name, file.path, parsed.workflow.at.line, parsed.workflow.at.col)) {
          workspace.workflows.set(parsed.workflow.name, parsed.workflow);
          parsed.inlinePayloads.forEach(addPayload);
        }
        break;
      }
      case 'config': {
        const parsed = parseConfig(file.path, text, hash);
        if (!parsed.ok) problems.push(...parsed.problems);
        else workspace.config = parsed.config;
        break;
      }
      case 'format': {
        const parsed = parseFormatFile(file.path, text, hash);
        if (!parsed.ok) problems.push(...parsed.problems);
        else if (claim('format', parsed.format.name, file.path)) workspace.formats.set(parsed.format.name, parsed.format);
        break;
      }
    }
  }

  function addPayload(payload: Payload) {
    if (claim('payload', payload.name, payload.at.file, payload.at.line, payload.at.col)) workspace.payloads.set(payload.name, payload);
  }

  workspace.tags = indexTags(workspace.blocks);
  problems.push(...checkReferences(workspace, broken));
  return { workspace, problems, hashes };
}

/** tag -> keys of the blocks carrying it, sorted by key (the order `{{tag}}` renders in). */
function indexTags(blocks: Map<string, Block>): Map<string, string[]> {
  const tags = new Map<string, string[]>();
  for (const block of blocks.values()) {
    for (const tag of block.tags) {
      const keys = tags.get(tag);
      if (keys) keys.push(block.key);
      else tags.set(tag, [block.key]);
    }
  }
  for (const keys of tags.values()) keys.sort(compareKeys);
  return tags;
}

/** Keys order by code point, so the order is the same on every machine and locale. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseFormatFile(path: string, text: string, hash: string): { ok: true; format: FormatFile } | { ok: false; problems: Problem[] } {
  const parsed = parseYamlDocument(path, text);
  if (!parsed.ok) return parsed;
  const problems = checkSchema('format', path, parsed.source);
  if (problems.length > 0) return { ok: false, problems };
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.ya?ml$/, '');
  try {
    // Compiles a chat_template once, so a broken template is reported now, not mid-run.
    createCustomFormat(base, parsed.source.value);
  } catch (error) {
    const at = parsed.source.locate(['chat_template']);
    return { ok: false, problems: [{ file: path, ...at, code: 'FORMAT', message: (error as Error).message }] };
  }
  return { ok: true, format: { name: base, definition: parsed.source.value as Record<string, unknown>, sourcePath: path, contentHash: hash } };
}

