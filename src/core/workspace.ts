/**
 * From the workspace's files to one validated model, with every problem found at once.
 *
 * Parsing is per file and depends only on the file's bytes, so a parsed file can be
 * reused while its content hash is unchanged (the cache of the last sync). Cross-file
 * checks (names, references, cycles) always run over the whole model.
 */
import { BLOCKS_DIR, blockKeyFromPath, parseBlock } from './block.js';
import { DEFAULT_CONFIG, parseConfig } from './config.js';
import type { Problem } from './errors.js';
import { createCustomFormat } from './formats/index.js';
import { contentHash } from './hash.js';
import { PAYLOAD_SUFFIX, nameFromPath, parsePayload } from './payload.js';
import { checkReferences, type BrokenNames } from './references.js';
import { parseCheckedYaml } from './yaml-document.js';
import { decodeSource } from './text.js';
import type { Block, FileKind, FormatFile, Payload, SourceFile, Workflow, WorkspaceConfig, Workspace } from './types.js';
import { WORKFLOW_SUFFIX, parseWorkflow } from './workflow.js';
import { parseTestsFile, type TestSuite } from './tests-file.js';

/** What one file parses to: the unit the cache keeps. */
export type ParsedFile =
  | { kind: 'block'; block: Block }
  | { kind: 'payload'; payload: Payload }
  | { kind: 'workflow'; workflow: Workflow; inlinePayloads: Payload[] }
  | { kind: 'config'; config: WorkspaceConfig }
  | { kind: 'format'; format: FormatFile }
  | { kind: 'tests'; suite: TestSuite };

/** A file parsed at an earlier sync; reused while its content hash is unchanged. */
export interface CachedFile {
  hash: string;
  parsed: ParsedFile;
}

/** A cached parse with the size and mtime its file had when it was cached. */
export interface CachedFileEntry extends CachedFile {
  size: number;
  mtimeMs: number;
}

export interface LoadOptions {
  /** Parsed files of the last sync, by path. */
  cache?: ReadonlyMap<string, CachedFile>;
  /** Paths the reader could not read (already reported): references to them are not reported again. */
  unreadable?: readonly string[];
  /**
   * Whether to check the include graph (cycles, depth). A caller that knows the graph is
   * unchanged since it was last checked (a live model after a content-only edit) passes
   * false. Default true.
   */
  includeGraphChecks?: boolean;
  /**
   * Whether to run the cross-file checks at all. A caller that knows no file changed
   * anything another file refers to (only block bodies, with the same key, tags and
   * includes) passes false. Default true.
   */
  crossFileChecks?: boolean;
}

export interface FileState {
  hash: string;
  parsed: ParsedFile;
  /** True when the parse came from the cache (the file is unchanged since the last sync). */
  cached: boolean;
}

export interface LoadResult {
  workspace: Workspace;
  problems: Problem[];
  /** Hash of every file read, by path (recorded with runs). */
  hashes: Map<string, string>;
  /** Every file that parsed, by path. */
  files: Map<string, FileState>;
}

/** Loads and checks a workspace from its files. Never throws on bad input: problems are returned. */
export function loadWorkspace(sources: readonly SourceFile[], options: LoadOptions = {}): LoadResult {
  const problems: Problem[] = [];
  const hashes = new Map<string, string>();
  const files = new Map<string, FileState>();
  const workspace: Workspace = { blocks: new Map(), tags: new Map(), payloads: new Map(), workflows: new Map(), formats: new Map(), tests: new Map(), config: DEFAULT_CONFIG };

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
  const addPayload = (payload: Payload) => {
    if (claim('payload', payload.name, payload.at.file, payload.at.line, payload.at.col)) workspace.payloads.set(payload.name, payload);
  };
  const add = (path: string, parsed: ParsedFile) => {
    switch (parsed.kind) {
      case 'block':
        if (claim('block', parsed.block.key, path)) workspace.blocks.set(parsed.block.key, parsed.block);
        break;
      case 'payload':
        addPayload(parsed.payload);
        break;
      case 'workflow':
        // A duplicate workflow's inline payloads would only repeat the same report.
        if (claim('workflow', parsed.workflow.name, path, parsed.workflow.at.line, parsed.workflow.at.col)) {
          workspace.workflows.set(parsed.workflow.name, parsed.workflow);
          parsed.inlinePayloads.forEach(addPayload);
        }
        break;
      case 'config':
        workspace.config = parsed.config;
        break;
      case 'format':
        if (claim('format', parsed.format.name, path)) workspace.formats.set(parsed.format.name, parsed.format);
        break;
      case 'tests':
        workspace.tests.set(path, parsed.suite);
        break;
    }
  };

  // Names of files that failed to parse: references to them are not reported again as "unknown".
  const broken: BrokenNames = { blocks: new Set(), payloads: new Set(), anyBlock: false };
  const markBroken = (path: string, kind: FileKind | undefined) => {
    if (kind === 'block' || (kind === undefined && path.startsWith(`${BLOCKS_DIR}/`))) {
      broken.blocks.add(blockKeyFromPath(path));
      broken.anyBlock = true;
    } else if (kind === 'payload' || (kind === undefined && path.endsWith(PAYLOAD_SUFFIX))) {
      broken.payloads.add(nameFromPath(path, PAYLOAD_SUFFIX));
    } else if (kind === 'workflow' || (kind === undefined && path.endsWith(WORKFLOW_SUFFIX))) {
      broken.anyWorkflow = true;
    }
  };
  for (const path of options.unreadable ?? []) markBroken(path, undefined);

  // Sorted so duplicate reports always name the same "first" file.
  const sorted = [...sources].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    const cachedEntry = options.cache?.get(file.path);
    const hash = file.bytes === undefined ? file.knownHash : contentHash(file.bytes);
    if (hash === undefined) throw new Error(`${file.path}: neither bytes nor a known hash`);
    hashes.set(file.path, hash);
    if (cachedEntry && cachedEntry.hash === hash && cachedEntry.parsed.kind === file.kind) {
      files.set(file.path, { hash, parsed: cachedEntry.parsed, cached: true });
      add(file.path, cachedEntry.parsed);
      continue;
    }
    if (file.bytes === undefined) throw new Error(`${file.path}: unchanged file missing from the cache`);
    const result = parseFile(file.path, file.kind, file.bytes, hash);
    problems.push(...result.problems);
    if (!result.parsed) {
      markBroken(file.path, file.kind);
      continue;
    }
    files.set(file.path, { hash, parsed: result.parsed, cached: false });
    add(file.path, result.parsed);
  }

  workspace.tags = indexTags(workspace.blocks);
  if (options.crossFileChecks !== false) problems.push(...checkReferences(workspace, broken, { includeGraph: options.includeGraphChecks !== false }));
  return { workspace, problems, hashes, files };
}

/** Parses one file; problems are returned, and `parsed` is absent when the file is unusable. */
export function parseFile(path: string, kind: FileKind, bytes: Uint8Array, hash: string): { parsed?: ParsedFile; problems: Problem[] } {
  const decoded = decodeSource(path, bytes);
  if (!decoded.ok) return { problems: [decoded.problem] };
  const text = decoded.text;
  switch (kind) {
    case 'block': {
      const result = parseBlock(path, text, hash);
      return result.ok ? { parsed: { kind, block: result.block }, problems: [] } : { problems: result.problems };
    }
    case 'payload': {
      const result = parsePayload(path, text, hash);
      return result.ok ? { parsed: { kind, payload: result.payload }, problems: result.problems } : { problems: result.problems };
    }
    case 'workflow': {
      const result = parseWorkflow(path, text, hash);
      return result.ok ? { parsed: { kind, workflow: result.workflow, inlinePayloads: result.inlinePayloads }, problems: result.problems } : { problems: result.problems };
    }
    case 'config': {
      const result = parseConfig(path, text, hash);
      return result.ok ? { parsed: { kind, config: result.config }, problems: [] } : { problems: result.problems };
    }
    case 'format': {
      const result = parseFormatFile(path, text, hash);
      return result.ok ? { parsed: { kind, format: result.format }, problems: [] } : { problems: result.problems };
    }
    case 'tests': {
      const result = parseTestsFile(path, text, hash);
      return result.ok ? { parsed: { kind, suite: result.suite }, problems: result.problems } : { problems: result.problems };
    }
  }
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
  const parsed = parseCheckedYaml(path, text, 'format');
  if (!parsed.ok) return parsed;
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
