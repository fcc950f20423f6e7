/**
 * YAML parsing that keeps positions, so every problem can name `file:line:col`.
 */
import type { CST, Document, Node, Parser } from 'yaml';
import { loadYaml } from './parsers.js';
import type { Problem } from './errors.js';

export interface YamlSource {
  value: unknown;
  /** Position of the node at a JSON path (keys and indexes); the nearest existing parent if absent. */
  locate(path: ReadonlyArray<string | number>, which?: 'key' | 'value'): { line: number; col: number };
}

export type YamlParseResult = { ok: true; source: YamlSource } | { ok: false; problems: Problem[] };

/**
 * Deepest nesting of lists and mappings quire reads in any YAML file (the file's top
 * mapping is level 1). Real files use a handful of levels; the limit keeps every
 * recursive step after parsing (composing, schema checks, JSON, rendering) far from the
 * call stack's limit. The fast paths decline anything deeper, so both paths agree.
 */
export const MAX_YAML_DEPTH = 64;

export const TOO_DEEP_MESSAGE = `lists and mappings are nested more than ${MAX_YAML_DEPTH} levels deep here; quire reads at most ${MAX_YAML_DEPTH}`;

const COLLECTIONS = new Set<string>(['block-map', 'block-seq', 'flow-collection']);

/** Thrown out of the token stream when a collection opens deeper than MAX_YAML_DEPTH. */
class TooDeep extends Error {
  constructor(readonly offset: number) {
    super(TOO_DEEP_MESSAGE);
  }
}

/**
 * The parser's tokens, one lexeme at a time, so nesting is checked as it opens: the
 * parser keeps its open collections on a stack (it never recurses), and stopping at the
 * first collection past the limit leaves the recursive composer nothing deep to build.
 */
function* checkedTokens(parser: Parser, lexer: InstanceType<typeof import('yaml').Lexer>, text: string): Generator<CST.Token, void> {
  for (const lexeme of lexer.lex(text)) {
    yield* parser.next(lexeme);
    // The stack's length bounds the open collections: count them only when it could be over.
    if (parser.stack.length > MAX_YAML_DEPTH) {
      let depth = 0;
      for (const token of parser.stack) {
        if (COLLECTIONS.has(token.type) && ++depth > MAX_YAML_DEPTH) throw new TooDeep(token.offset);
      }
    }
  }
  yield* parser.end();
}

/**
 * Parses one YAML document. `lineOffset` shifts reported lines, for YAML that sits
 * inside another file (block front matter starts on line 2).
 * Duplicate keys, tabs and bad indentation are errors, reported all at once.
 */
export function parseYamlSource(file: string, text: string, lineOffset = 0): YamlParseResult {
  const { Composer, LineCounter, Lexer, Parser, YAMLParseError } = loadYaml();
  const lineCounter = new LineCounter();
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: line + lineOffset, col };
  };
  // What `parseDocument` does, with the nesting check between the parser and the composer.
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0); // Parser.parse() does this; next() counts the rest
  const composer = new Composer({ uniqueKeys: true, strict: true });
  let doc: Document.Parsed | undefined;
  try {
    for (const next of composer.compose(checkedTokens(parser, new Lexer(), text), true, text.length)) {
      if (!doc) doc = next;
      else {
        doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof TooDeep)) throw error;
    // Lines counted so far cover the offset: the lexer has passed it.
    return { ok: false, problems: [{ file, ...position(error.offset), code: 'YAML_PARSE', message: error.message }] };
  }
  if (!doc) throw new Error('yaml: compose(forceDoc) gave no document');
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({
        file,
        ...position(error.pos[0]),
        code: 'YAML_PARSE' as const,
        message: yamlMessage(error.code, error.message, text.slice(error.pos[0], error.pos[0] + 80)),
      })),
    };
  }
  const collectionKeys = collectionKeyOffsets(doc, text);
  if (collectionKeys.length > 0) return { ok: false, problems: collectionKeys.map((offset) => ({ file, ...position(offset), code: 'YAML_PARSE' as const, message: COLLECTION_KEY_MESSAGE })) };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (error) {
    // Deeply nested aliases expand exponentially (a "billion laughs" document).
    return { ok: false, problems: [{ file, line: 1 + lineOffset, col: 1, code: 'YAML_PARSE', message: `invalid YAML: ${(error as Error).message.split('\n')[0]}` }] };
  }
  // Aliases can nest a value deeper than its text, or inside itself: located at the alias.
  const shape = badShape(value);
  if (shape) return { ok: false, problems: [{ file, ...position(nodeOffset(doc, shape.path, 'value')), code: 'YAML_PARSE', message: shape.message }] };
  return {
    ok: true,
    source: {
      value,
      locate(path, which = 'value') {
        return position(nodeOffset(doc, path, which));
      },
    },
  };
}

export const COLLECTION_KEY_MESSAGE = 'a list or mapping cannot be a key; use a plain key';

/**
 * Where a list or mapping (or an alias of one) is used as a key: JavaScript objects have
 * string keys, so `toJS` would turn it into a string like "[ a ]" (and warn on stderr).
 * Such a key is written with `?`, `*` or a closing bracket before `:`; other files skip the walk.
 */
function collectionKeyOffsets(doc: Document.Parsed, text: string): number[] {
  if (!/[?*]|[\]}][ \t]*:/.test(text)) return [];
  const { isAlias, isCollection: isYamlCollection, visit } = loadYaml();
  const offsets: number[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      const target = isAlias(key) ? key.resolve(doc) : key;
      if (isYamlCollection(target) && (key as Node).range) offsets.push((key as Node).range![0]);
    },
  });
  return offsets;
}

export const CYCLE_MESSAGE = 'this alias is inside the list or mapping it refers to, so the value would contain itself';

type Collection = Record<string, unknown> | unknown[];
const isCollection = (value: unknown): value is Collection => typeof value === 'object' && value !== null;
const childrenOf = (node: Collection): [string | number, unknown][] => (Array.isArray(node) ? node.map((child, index) => [index, child]) : Object.entries(node));

/**
 * The first place where the parsed value nests more than MAX_YAML_DEPTH lists and mappings,
 * or contains itself. Without aliases the parser's check already holds, but an alias
 * repeats its anchor's value wherever it stands (shared, not copied, so each list or mapping
 * is measured once). Iterative: the value may be thousands of levels deep.
 */
function badShape(root: unknown): { path: (string | number)[]; message: string } | undefined {
  if (!isCollection(root)) return undefined;
  /** Levels of lists and mappings in each finished collection, itself included. */
  const height = new Map<Collection, number>();
  const onPath = new Set<Collection>([root]);
  const frames = [{ node: root, key: undefined as string | number | undefined, children: childrenOf(root), next: 0, height: 1 }];
  const pathTo = (extra: (string | number)[]) => [...frames.slice(1).map((f) => f.key!), ...extra];
  while (frames.length > 0) {
    const frame = frames.at(-1)!;
    if (frame.next === frame.children.length) {
      height.set(frame.node, frame.height);
      onPath.delete(frame.node);
      frames.pop();
      const parent = frames.at(-1);
      if (parent) parent.height = Math.max(parent.height, frame.height + 1);
      continue;
    }
    const [key, child] = frame.children[frame.next++]!;
    if (!isCollection(child)) continue;
    if (onPath.has(child)) return { path: pathTo([key]), message: CYCLE_MESSAGE };
    const known = height.get(child);
    if (known !== undefined) {
      // Already measured (an alias's anchor): too deep here if it reaches past the limit.
      if (frames.length + known > MAX_YAML_DEPTH) return { path: pathTo([key, ...deepest(child, MAX_YAML_DEPTH - frames.length, height)]), message: TOO_DEEP_MESSAGE };
      frame.height = Math.max(frame.height, known + 1);
      continue;
    }
    frames.push({ node: child, key, children: childrenOf(child), next: 0, height: 1 });
    onPath.add(child);
    if (frames.length > MAX_YAML_DEPTH) return { path: pathTo([]), message: TOO_DEEP_MESSAGE };
  }
  return undefined;
}

/** `levels` steps down from a measured collection, always into a deepest child. */
function deepest(node: Collection, levels: number, height: Map<Collection, number>): (string | number)[] {
  const path: (string | number)[] = [];
  for (let current = node; path.length < levels; ) {
    const want = height.get(current)! - 1;
    const [key, child] = childrenOf(current).find(([, c]) => isCollection(c) && height.get(c) === want)!;
    path.push(key);
    current = child as Collection;
  }
  return path;
}

/** Offset of the deepest existing node along `path`. */
function nodeOffset(doc: Document, path: ReadonlyArray<string | number>, which: 'key' | 'value'): number {
  const { isNode } = loadYaml();
  let best = doc.contents && isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : 0;
  for (let depth = 1; depth <= path.length; depth++) {
    const prefix = path.slice(0, depth);
    const last = depth === path.length;
    if (last && which === 'key') {
      const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
      const keyNode = findKeyNode(parent, path[depth - 1]!);
      if (keyNode?.range) return keyNode.range[0];
    }
    const node = doc.getIn(prefix, true) as Node | undefined;
    if (!node || !isNode(node) || !node.range) break;
    best = node.range[0];
  }
  return best;
}

function findKeyNode(parent: unknown, key: string | number): Node | undefined {
  const { isPair, isScalar } = loadYaml();
  const items = (parent as { items?: unknown[] } | undefined)?.items;
  if (!Array.isArray(items)) return undefined;
  for (const item of items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(key)) return item.key;
  }
  return undefined;
}

/** The yaml library's messages embed positions and excerpts; keep only the sentence. */
function yamlMessage(code: string, message: string, excerpt: string): string {
  const first = message.split('\n')[0] ?? message;
  const plain = first.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'TAB_AS_INDENT') return 'tabs are not allowed for indentation in YAML; use spaces';
  if (code === 'DUPLICATE_KEY') {
    const key = /^["']?([^"':\n]+)/.exec(excerpt)?.[1]?.trim();
    return key ? `duplicate key "${key}"; each key may appear once` : 'duplicate key; each key may appear once';
  }
  return `invalid YAML: ${plain}`;
}
