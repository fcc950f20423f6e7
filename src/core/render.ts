/**
 * Rendering prompts: blocks and inline text are Handlebars templates, in an isolated
 * environment tuned for prompts (no HTML escaping, strict variables, only our helpers
 * block, tag and json plus Handlebars' block helpers #if, #each, #with and #unless).
 *
 * Nothing else of Handlebars is reachable: `log` and `lookup` are gone, partials and
 * decorators are refused before compiling (the same check validation runs), and nothing a
 * template does writes to stdout or stderr.
 */
import { loadHandlebars } from './parsers.js';
import { AppError, type SourceLocation } from './errors.js';
import { checkTemplateAst, templateSyntaxProblem } from './includes.js';
import type { Block, BlockRef, Include, Payload, Workspace } from './types.js';

/** What every template sees (spec section 4). */
export interface TemplateContext {
  input: Record<string, unknown>;
  vars: Record<string, unknown>;
  steps: Record<string, { output: string }>;
  previous?: { output: string };
  /** For a judge payload (a `judge` check): the output judged, and the expected text when the check gives one. */
  output?: string;
  expected?: string;
}

export interface RenderedPayload {
  system: string;
  prompt: string;
}

/** A template failed: names the file, line and column, and the include chain. */
export class TemplateError extends AppError {
  readonly chain: string[];
  constructor(message: string, location: SourceLocation, chain: string[], cause?: unknown) {
    super('TEMPLATE', chain.length > 1 ? `${message} (included via ${chain.join(' -> ')})` : message, { location, cause });
    this.name = 'TemplateError';
    this.chain = chain;
  }
}

const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  knownHelpersOnly: true,
  // Handlebars adds its own helpers to this list unless told otherwise: `{{log}}`, `{{lookup}}`,
  // `{{helperMissing}}` and `{{blockHelperMissing}}` are plain (missing) variables here.
  knownHelpers: {
    block: true, tag: true, json: true,
    if: true, unless: true, each: true, with: true,
    log: false, lookup: false, helperMissing: false, blockHelperMissing: false,
  },
} as const;

type HandlebarsEnv = ReturnType<ReturnType<typeof loadHandlebars>['create']>;

/** Handlebars' runtime container (the `this` of compiled templates), the parts quire replaces. */
interface Container {
  strict(obj: unknown, name: string, loc: unknown): unknown;
  lookupProperty(parent: unknown, name: string): unknown;
  [HARDENED]?: true;
}
const HARDENED = Symbol('quire.hardened');

/**
 * A Handlebars environment of its own: Handlebars' extra helpers and the inline decorator
 * removed, and every compiled template's variable lookups replaced by `hardenContainer`.
 */
function createIsolatedEnvironment(): HandlebarsEnv {
  const handlebars = loadHandlebars();
  const env = handlebars.create();
  env.unregisterHelper('log');
  env.unregisterHelper('lookup');
  env.unregisterHelper('helperMissing');
  env.unregisterDecorator('inline');
  // blockHelperMissing stays: it is how sections ({{#vars.x}}…{{/vars.x}}) render.
  env.registerHelper('helperMissing', (...args: unknown[]) => {
    const options = args.at(-1) as { name?: string } | undefined;
    throw new handlebars.Exception(`unknown helper "${options?.name ?? ''}"`);
  });
  const template = env.template.bind(env);
  env.template = ((spec: { main: (container: Container, ...rest: unknown[]) => unknown }) => {
    const main = spec.main;
    // Every program of a template runs with the same container, and main runs first.
    spec.main = function (this: unknown, container: Container, ...rest: unknown[]) {
      hardenContainer(container, handlebars.Exception);
      return main.call(this, container, ...rest);
    };
    return template(spec as never);
  }) as HandlebarsEnv['template'];
  return env;
}

/**
 * Variable lookups that see only the data's own fields: `input.constructor`, `vars.toString`
 * or `__proto__` are missing variables like any other unknown name (Handlebars would resolve
 * them through Object.prototype, print "Access has been denied" on stderr and render an empty
 * string), unless the user's own data has a field of that name. They cannot throw a
 * TypeError either: a field of a string or a number is looked up on its object form
 * (`"abc"` has `length`), and a missing step of a path is missing.
 */
function hardenContainer(container: Container, Exception: ReturnType<typeof loadHandlebars>['Exception']): void {
  if (container[HARDENED]) return;
  container[HARDENED] = true;
  container.lookupProperty = (parent, name) => (parent != null && Object.hasOwn(parent, name) ? (parent as Record<string, unknown>)[name] : undefined);
  container.strict = (obj, name, loc) => {
    if (obj == null || !Object.hasOwn(obj, name)) throw new Exception(`"${name}" not defined in ${typeof obj}`, { loc } as never);
    return (obj as Record<string, unknown>)[name];
  };
}

/**
 * The arguments of json, block, tag, #each and #with are strict like a plain `{{x}}`: a
 * missing one is a missing variable (Handlebars reads helper arguments leniently, so
 * `{{json vars.typo}}` printed `null`). Only #if and #unless take a missing value as false.
 */
function makeArgumentsStrict(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  const n = node as { type?: string; path?: { original?: unknown }; params?: { type: string; strict?: boolean }[] };
  const name = n.path?.original;
  const strict = n.type === 'BlockStatement' ? name === 'each' || name === 'with' : (n.type === 'MustacheStatement' || n.type === 'SubExpression') && (name === 'json' || name === 'block' || name === 'tag');
  if (strict) for (const param of n.params ?? []) if (param.type === 'PathExpression') param.strict = true;
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach(makeArgumentsStrict);
    else if (typeof value === 'object' && value !== null && 'type' in value) makeArgumentsStrict(value);
  }
}

/** Parts are joined with exactly one blank line, each without its trailing line breaks. */
export function joinParts(parts: string[]): string {
  return parts.map((part) => part.replace(/(\r?\n)+$/, '')).filter((part) => part !== '').join('\n\n');
}

interface Source {
  text: string;
  /** Where line 1, column 1 of the template is in its file. */
  origin: SourceLocation;
  /** Name in include chains: the block key, or `file (inline text)`. */
  label: string;
  /** The template's literal includes, for locating an include that fails (a block's own list). */
  includes?: readonly Include[];
}

/**
 * Bounds of one payload's rendering, so a workspace cannot make a long-lived process render
 * for minutes or run out of memory (blocks that each include the next twice, 24 deep, are
 * 2^24 renders): checked as the text is produced, so such a payload fails at once.
 */
export const RENDER_LIMITS = {
  /** Blocks in one include chain (the payload's block counts as the first). */
  includeDepth: 16,
  /** Block renders (includes, tag members, payload entries) for one payload (~0.4 s of work). */
  includes: 50_000,
  /** Characters rendered for one payload (16 MiB of text), system and prompt together. */
  characters: 16 * 1024 * 1024,
} as const;

/** What one payload's rendering has used so far. */
interface Budget {
  includes: number;
  characters: number;
}

/**
 * Creates a renderer over a workspace. Templates are compiled once per renderer (per
 * distinct text) and reused for every step and every run.
 */
export function createRenderer(workspace: Workspace) {
  const env = createIsolatedEnvironment();
  // Keyed by the template's text, not by block key: a renderer reused across saves (watch)
  // must never run the compiled form of a block's old text.
  const compiled = new Map<string, HandlebarsTemplateDelegate>();

  /** Counts text a template produced itself (not what its includes produced: they count their own). */
  const charge = (budget: Budget, characters: number, source: Source, chain: string[]) => {
    budget.characters += characters;
    if (budget.characters > RENDER_LIMITS.characters) {
      throw new TemplateError(
        `the payload renders to more than ${RENDER_LIMITS.characters} characters (16 MiB); blocks included again and again?`,
        source.origin,
        chain,
      );
    }
  };

  const renderSource = (source: Source, context: TemplateContext, chain: string[], budget: Budget): string => {
    let template = compiled.get(source.text);
    const fail = (error: unknown): never => {
      if (error instanceof TemplateError) throw error;
      throw toTemplateError(error, source, chain);
    };
    if (!template) {
      template = compileChecked(env, source, chain);
      compiled.set(source.text, template);
    }
    let included = 0;
    const include = (text: string) => {
      included += text.length;
      return text;
    };
    let text: string;
    try {
      text = template(context, {
        helpers: {
          block: (key: unknown) => include(renderBlockByKey(String(key), context, chain, source, budget)),
          tag: (name: unknown) => include(renderTag(String(name), context, chain, source, budget)),
          json: (value: unknown) => {
            const json = JSON.stringify(value, null, 2) ?? 'null';
            // Charged at once: `{{json}}` inside a long #each must not build gigabytes first.
            charge(budget, json.length, source, chain);
            return include(json);
          },
        },
      });
    } catch (error) {
      return fail(error);
    }
    charge(budget, text.length - included, source, chain);
    return text;
  };

  /** Where an include of `name` is written in `from` (its first literal include), else where `from` starts. */
  const includeSite = (from: Source | undefined, kind: Include['kind'], name: string, fallback: SourceLocation): SourceLocation => {
    const include = from?.includes?.find((candidate) => candidate.kind === kind && candidate.name === name);
    return include ? { file: from!.origin.file, line: include.line, col: include.col } : (from?.origin ?? fallback);
  };

  const renderBlock = (block: Block, context: TemplateContext, chain: string[], budget: Budget, site: SourceLocation): string => {
    const next = [...chain, block.key];
    if (chain.includes(block.key)) throw new TemplateError(`include cycle: ${next.join(' -> ')}`, site, next);
    if (next.length > RENDER_LIMITS.includeDepth) {
      throw new TemplateError(`includes nest more than ${RENDER_LIMITS.includeDepth} blocks deep`, site, next);
    }
    if (++budget.includes > RENDER_LIMITS.includes) {
      throw new TemplateError(`the payload renders more than ${RENDER_LIMITS.includes} blocks; blocks included again and again?`, site, next);
    }
    return renderSource(
      { text: block.content, origin: { file: block.sourcePath, line: block.bodyLine, col: 1 }, label: block.key, includes: block.includes },
      context,
      next,
      budget,
    );
  };

  const renderBlockByKey = (key: string, context: TemplateContext, chain: string[], from: Source, budget: Budget): string => {
    const block = workspace.blocks.get(key);
    if (!block) throw new TemplateError(`unknown block "${key}"`, from.origin, chain);
    return renderBlock(block, context, chain, budget, includeSite(from, 'block', key, from.origin));
  };

  const renderTag = (tag: string, context: TemplateContext, chain: string[], from: Source, budget: Budget): string => {
    const keys = workspace.tags.get(tag);
    if (!keys) throw new TemplateError(`no block has the tag "${tag}"`, from.origin, chain);
    const site = includeSite(from, 'tag', tag, from.origin);
    return joinParts(keys.map((key) => renderBlock(workspace.blocks.get(key)!, context, chain, budget, site)));
  };

  const renderRef = (ref: BlockRef, context: TemplateContext, budget: Budget): string => {
    switch (ref.kind) {
      case 'block': {
        const block = workspace.blocks.get(ref.key);
        if (!block) throw new TemplateError(`unknown block "${ref.key}"`, ref.at, []);
        return renderBlock(block, context, [], budget, ref.at);
      }
      case 'tag': {
        const keys = workspace.tags.get(ref.tag);
        if (!keys) throw new TemplateError(`no block has the tag "${ref.tag}"`, ref.at, []);
        return joinParts(keys.map((key) => renderBlock(workspace.blocks.get(key)!, context, [], budget, ref.at)));
      }
      case 'text':
        return renderSource({ text: ref.text, origin: ref.at, label: `${ref.at.file}:${ref.at.line}:${ref.at.col}` }, context, [], budget);
    }
  };

  return {
    /** Renders a payload's system and prompt text. @throws TemplateError, also when it exceeds RENDER_LIMITS */
    renderPayload(payload: Payload, context: TemplateContext): RenderedPayload {
      const budget: Budget = { includes: 0, characters: 0 };
      return {
        system: joinParts(payload.system.map((ref) => renderRef(ref, context, budget))),
        prompt: joinParts(payload.blocks.map((ref) => renderRef(ref, context, budget))),
      };
    },
  };
}

export type Renderer = ReturnType<typeof createRenderer>;

// --- Internal helpers ---

/**
 * Parses, checks (what validation checks: helpers, partials, decorators, top-level names)
 * and compiles a template. A template that skipped validation (a body changed since, a
 * stale cache) is refused here the same way. @throws TemplateError
 */
function compileChecked(env: HandlebarsEnv, source: Source, chain: string[]): HandlebarsTemplateDelegate {
  let ast: hbs.AST.Program;
  try {
    ast = env.parseWithoutProcessing(source.text);
  } catch (error) {
    throw toTemplateError(error, source, chain);
  }
  const problem = checkTemplateAst(source.origin.file, ast, 1).problems[0];
  if (problem) throw new TemplateError(problem.message, locate(source, problem.line, problem.col), chain);
  makeArgumentsStrict(ast);
  try {
    return env.compile(ast, COMPILE_OPTIONS);
  } catch (error) {
    throw toTemplateError(error, source, chain);
  }
}

/** A 1-based position in a template as a position in its file (inline text starts mid-line). */
function locate(source: Source, line: number, col: number): SourceLocation {
  return {
    file: source.origin.file,
    line: source.origin.line + line - 1,
    col: line === 1 ? source.origin.col + col - 1 : col,
  };
}

/** Turns a Handlebars exception into a located TemplateError with a readable message. */
function toTemplateError(error: unknown, source: Source, chain: string[]): TemplateError {
  const raw = error instanceof Error ? error.message : String(error);
  // Columns on a template's first line continue from where the template starts (inline text).
  const at = (line: number, col: number): SourceLocation => locate(source, line, col);
  if (/Parse error on line|doesn't match/.test(raw)) {
    // Syntax errors are worded and located the same way validation words them.
    const problem = templateSyntaxProblem(source.origin.file, error, 1);
    return new TemplateError(problem.message, at(problem.line, problem.col), chain, error);
  }
  const { lineNumber, column } = error as { lineNumber?: number; column?: number };
  const location = at(lineNumber ?? 1, column === undefined ? 1 : column + 1);
  const missing = /^"([^"]+)" not defined in/.exec(raw);
  const helper = /unknown helper (\S+)/.exec(raw)?.[1];
  let message: string;
  if (missing) {
    const expression = expressionAt(source.text, lineNumber, column) ?? missing[1]!;
    message = `missing variable "${expression}"${hintFor(expression)}`;
  } else if (helper) {
    message = `unknown helper "${helper}"; the helpers are block, tag and json, and the block helpers #if, #each, #with and #unless`;
  } else {
    message = raw.replace(/ - \d+:\d+$/, '');
  }
  return new TemplateError(message, location, chain, error);
}

/** The `{{...}}` expression at a 1-based line and 0-based column, for messages. */
function expressionAt(text: string, line: number | undefined, column: number | undefined): string | undefined {
  if (line === undefined || column === undefined) return undefined;
  const lineText = text.split('\n')[line - 1];
  if (lineText === undefined) return undefined;
  const match = /^[\w.@/[\]-]+/.exec(lineText.slice(column).replace(/^\{\{[~#/^&]?\s*/, ''));
  return match?.[0];
}

function hintFor(expression: string): string {
  if (expression.startsWith('previous')) return '; the first step has no previous output';
  if (expression.startsWith('steps.')) return '; steps.<name>.output names an earlier step (its `as`, else its payload name)';
  if (expression.startsWith('input.')) return '; pass it with --input key=value or give the input a default';
  if (expression.startsWith('vars.')) return "; set it in the step's vars";
  return '; templates see input.*, vars.*, steps.<name>.output and previous.output';
}
