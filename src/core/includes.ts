/**
 * Finding `{{block "key"}}` and `{{tag "name"}}` in a template by walking the Handlebars
 * AST (not by regex, so comments, raw blocks and escaped mustaches are not mistaken for includes),
 * and checking that the template uses only what quire's templates have: the helpers block,
 * tag and json, the block helpers #if, #each, #with and #unless, sections, and variables
 * under input, vars, steps and previous. Everything else Handlebars knows (log, lookup,
 * partials, decorators, inline partials...) is reported here, at validation, with its position.
 */
import { loadHandlebars } from './parsers.js';
import type { Problem } from './errors.js';
import { closestName, editDistance } from './suggest.js';
import type { Include } from './types.js';

export const INCLUDE_HELPERS = ['block', 'tag'] as const;
/** Helpers written `{{name value}}`: exactly one argument. */
export const VALUE_HELPERS = ['block', 'tag', 'json'] as const;
/** Handlebars' block helpers quire keeps: `{{#name value}}…{{/name}}`, exactly one argument. */
export const BLOCK_HELPERS = ['if', 'unless', 'each', 'with'] as const;
/** The names every template sees at its top level. */
/** `output` and `expected` have values only in a judge payload's run (a `judge` check). */
export const TEMPLATE_ROOTS = ['input', 'vars', 'steps', 'previous', 'output', 'expected'] as const;

const HELPER_LIST = 'the helpers are block, tag and json, and the block helpers #if, #each, #with and #unless';

interface AstNode {
  type: string;
  loc?: { start: { line: number; column: number } };
  path?: AstNode;
  name?: AstNode;
  params?: AstNode[];
  hash?: { pairs: { value: AstNode }[] };
  value?: unknown;
  original?: unknown;
  parts?: string[];
  data?: boolean;
  depth?: number;
  program?: AstNode;
  inverse?: AstNode;
  body?: AstNode[];
}

export type IncludeScan =
  | { ok: true; includes: Include[] }
  /** `problem` is the first of `problems` (every problem of the template, in order). */
  | { ok: false; problem: Problem; problems: Problem[] };

/**
 * Lists the includes of a template, with 1-based positions shifted by `lineOffset`
 * (the body's first line in its file). Syntax errors and anything quire's templates do not
 * support are returned as problems.
 */
export function findIncludes(file: string, template: string, lineOffset = 1): IncludeScan {
  // Without a mustache there is nothing to find and nothing that can be malformed.
  if (!template.includes('{{')) return { ok: true, includes: [] };
  const simple = scanSimpleMustaches(template, lineOffset);
  if (simple) return { ok: true, includes: simple };
  return findIncludesByAst(file, template, lineOffset);
}

/** The general path: walk the Handlebars AST. */
export function findIncludesByAst(file: string, template: string, lineOffset = 1): IncludeScan {
  let ast: AstNode;
  try {
    // parseWithoutProcessing: the AST as written; whitespace control is irrelevant to finding includes.
    ast = loadHandlebars().parseWithoutProcessing(template) as unknown as AstNode;
  } catch (error) {
    const problem = templateSyntaxProblem(file, error, lineOffset);
    return { ok: false, problem, problems: [problem] };
  }
  const { includes, problems } = checkTemplateAst(file, ast, lineOffset);
  return problems.length > 0 ? { ok: false, problem: problems[0]!, problems } : { ok: true, includes };
}

/**
 * Walks a parsed template: its includes, and a problem for every construct quire does not
 * support. Positions are 1-based, lines shifted by `lineOffset`. Used by validation and again
 * by the renderer before it compiles a template (so a template that skipped validation
 * cannot reach Handlebars' own helpers either).
 */
export function checkTemplateAst(file: string, ast: unknown, lineOffset = 1): { includes: Include[]; problems: Problem[] } {
  const includes: Include[] = [];
  const problems: Problem[] = [];
  const at = (node: AstNode) => ({ line: (node.loc?.start.line ?? 1) + lineOffset - 1, col: (node.loc?.start.column ?? 0) + 1 });
  const report = (node: AstNode, message: string) => problems.push({ file, ...at(node), code: 'TEMPLATE', message });
  const nameOf = (path: AstNode | undefined): string | undefined =>
    path?.type === 'PathExpression' && !path.data && !path.depth && path.parts?.length === 1 && path.original === path.parts[0] ? path.parts[0] : undefined;
  const suggestion = (name: string, candidates: readonly string[], prefix = '') => {
    const match = closestName(name, candidates);
    // The candidates are short words: only a near miss is a typo (`jsno`, `ech`, `inptu`), not `log` for `tag`.
    if (match === undefined || editDistance(name.toLowerCase(), match) > Math.max(1, Math.floor(name.length / 3))) return '';
    return `; did you mean "${prefix}${match}"?`;
  };

  /** A variable read: at the template's top level, its first name must be one of the roots. */
  const checkPath = (path: AstNode, scoped: boolean) => {
    if (scoped) return;
    const parts = path.parts ?? [];
    const original = String(path.original);
    if (path.data) {
      if (parts[0] === 'root') {
        if (parts[1] !== undefined && !(TEMPLATE_ROOTS as readonly string[]).includes(parts[1])) {
          report(path, `unknown variable "${original}"${suggestion(parts[1], TEMPLATE_ROOTS)}; templates see input.*, vars.*, steps.<name>.output, previous.output (and, in a judge payload, output and expected)`);
        }
      } else {
        report(path, `"${original}" is not defined here: @index, @key, @first and @last exist only inside {{#each}}`);
      }
      return;
    }
    if (path.depth) {
      report(path, `"${original}" goes above the template's top level`);
      return;
    }
    const first = parts[0];
    if (first !== undefined && !(TEMPLATE_ROOTS as readonly string[]).includes(first)) {
      report(path, `unknown variable "${original}"${suggestion(first, TEMPLATE_ROOTS)}; templates see input.*, vars.*, steps.<name>.output, previous.output (and, in a judge payload, output and expected)`);
    }
  };

  const visitValue = (node: AstNode, scoped: boolean) => {
    if (node.type === 'PathExpression') checkPath(node, scoped);
    else if (node.type === 'SubExpression') visitCall(node, scoped);
  };

  /** `{{name args}}` or `(name args)`: a helper call. */
  const visitCall = (node: AstNode, scoped: boolean) => {
    const name = nameOf(node.path);
    const params = node.params ?? [];
    if (name === undefined) {
      report(node.path ?? node, `"${String(node.path?.original)}" is not a helper; ${HELPER_LIST}`);
      return;
    }
    if ((BLOCK_HELPERS as readonly string[]).includes(name)) {
      report(node.path!, `#${name} is a block helper: write {{#${name} value}}…{{/${name}}}`);
      return;
    }
    if (!(VALUE_HELPERS as readonly string[]).includes(name)) {
      const suggest = suggestion(name, [...VALUE_HELPERS, ...BLOCK_HELPERS]);
      report(node.path!, `unknown helper "${name}"${suggest}; ${HELPER_LIST}`);
      return;
    }
    if (params.length !== 1 || (node.hash?.pairs.length ?? 0) > 0) {
      report(node.path!, `${name} takes exactly one argument: {{${name} ${name === 'json' ? 'input.x' : '"name"'}}}`);
      return;
    }
    const first = params[0]!;
    if ((name === 'block' || name === 'tag') && first.type === 'StringLiteral' && node.loc) {
      includes.push({ kind: name, name: String(first.value), line: node.loc.start.line + lineOffset - 1, col: node.loc.start.column + 1 });
    }
    visitValue(first, scoped);
  };

  const visit = (node: AstNode | undefined, scoped: boolean): void => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        node.body?.forEach((child) => visit(child, scoped));
        return;
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement': {
        if (node.path?.type !== 'PathExpression') {
          report(node.path ?? node, `a literal (${JSON.stringify(node.path?.original)}) cannot stand alone in {{ }}; write a variable such as {{input.x}}`);
          return;
        }
        if ((node.params?.length ?? 0) > 0 || (node.hash?.pairs.length ?? 0) > 0) {
          visitCall(node, scoped);
          return;
        }
        const name = nameOf(node.path);
        if (name !== undefined && (BLOCK_HELPERS as readonly string[]).includes(name)) {
          report(node.path, `#${name} is a block helper: write {{#${name} value}}…{{/${name}}}`);
        } else if (name !== undefined && (VALUE_HELPERS as readonly string[]).includes(name)) {
          report(node.path, `${name} takes exactly one argument: {{${name} ${name === 'json' ? 'input.x' : '"name"'}}}`);
        } else {
          checkPath(node.path, scoped);
        }
        return;
      }
      case 'BlockStatement': {
        const name = nameOf(node.path);
        const params = node.params ?? [];
        const hasArgs = params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
        if (name !== undefined && (BLOCK_HELPERS as readonly string[]).includes(name)) {
          if (params.length !== 1 || (node.hash?.pairs.length ?? 0) > 0) {
            report(node.path!, `#${name} takes exactly one argument: {{#${name} input.x}}`);
            return;
          }
          const value = params[0]!;
          if ((name === 'each' || name === 'with') && value.type !== 'PathExpression' && value.type !== 'SubExpression') {
            report(value, `#${name} takes a variable, not a literal: {{#${name} input.x}}`);
            return;
          }
          visitValue(value, scoped);
          // #each and #with change what `this` is inside; their {{else}} runs in the outer context.
          visit(node.program, scoped || name === 'each' || name === 'with');
          visit(node.inverse, scoped);
          return;
        }
        if (name !== undefined && (VALUE_HELPERS as readonly string[]).includes(name)) {
          report(node.path!, `${name} is not a block helper: write {{${name} ${name === 'json' ? 'input.x' : '"name"'}}} without # and {{/${name}}}`);
          return;
        }
        if (hasArgs || node.path?.type !== 'PathExpression') {
          const label = String(node.path?.original);
          report(node.path ?? node, `unknown block helper "#${label}"${suggestion(label, BLOCK_HELPERS, '#')}; ${HELPER_LIST}`);
          return;
        }
        // A section, {{#vars.x}}…{{/vars.x}} or {{^vars.x}}…{{/vars.x}}: its body may change `this`.
        checkPath(node.path, scoped);
        visit(node.program, true);
        visit(node.inverse, scoped);
        return;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement': {
        const target = node.name?.type === 'PathExpression' || node.name?.type === 'StringLiteral' ? String(node.name.original) : undefined;
        report(node, `partials ({{> name}}) are not supported${target ? `; did you mean {{block "${target}"}}?` : '; include a block with {{block "key"}}'}`);
        return;
      }
      case 'DecoratorBlock':
      case 'Decorator':
        report(node, 'decorators and inline partials ({{#*inline}}, {{* name}}) are not supported; put shared text in a block and include it with {{block "key"}}');
        return;
      default:
        report(node, `unsupported template construct (${node.type})`);
    }
  };
  visit(ast as AstNode, false);
  return { includes, problems };
}

/**
 * Plain variables (`{{input.words}}`, `{{json vars.x}}`), string-literal includes and
 * simple `{{#if x}}…{{else}}…{{/if}}` sections (also #unless, #each, #with) are most of
 * what prompts contain. When every mustache of a template is one of those, the sections
 * nest properly and every top-level variable starts with a root name, the template is
 * valid and its includes are read off directly (the Handlebars parser costs ~30 µs a
 * block, the bulk of a cold sync). Anything else — comments, escapes, partials, `else if`,
 * other helpers, odd spacing, unknown names — returns undefined for the real parser, which
 * words the problem.
 */
const PATH = '[A-Za-z_][\\w-]*(?:\\.[A-Za-z_][\\w-]*)*';
const SIMPLE_MUSTACHE = new RegExp(
  `\\{\\{ ?(?:(block|tag) "([^"\\\\{}]*)"|#(if|unless|each|with) (${PATH})|/(if|unless|each|with)|(else)|(${PATH})(?: (${PATH}))?) ?\\}\\}`,
  'g',
);
const VALUE_HELPER_NAMES = new Set<string>(VALUE_HELPERS);
const HELPER_NAMES = new Set<string>([...VALUE_HELPERS, ...BLOCK_HELPERS]);
const ROOT_NAMES = new Set<string>(TEMPLATE_ROOTS);

/** A path the fast path can vouch for: `this`, or no `this` segment and, at the top level, under one of the roots. */
function plainPath(path: string, scoped: boolean): boolean {
  if (path === 'this') return true;
  const segments = path.split('.');
  if (segments.includes('this')) return false;
  return scoped || ROOT_NAMES.has(segments[0]!);
}

export function scanSimpleMustaches(template: string, lineOffset = 1): Include[] | undefined {
  if (template.includes('\\{{') || template.includes('{{{')) return undefined;
  let opens = 0;
  for (let i = template.indexOf('{{'); i !== -1; i = template.indexOf('{{', i + 2)) opens++;
  const includes: Include[] = [];
  const sections: { name: string; sawElse: boolean }[] = [];
  // Inside #each and #with (before their {{else}}) `this` is something else: any name may be a field.
  const scoped = () => sections.some((section) => (section.name === 'each' || section.name === 'with') && !section.sawElse);
  let matched = 0;
  let line = 1;
  let lineStart = 0;
  let scanned = 0;
  for (const match of template.matchAll(SIMPLE_MUSTACHE)) {
    matched++;
    const [, helper, name, open, openArg, close, otherwise, path, arg] = match;
    if (open) {
      if (!plainPath(openArg!, scoped())) return undefined;
      sections.push({ name: open, sawElse: false });
    } else if (close && sections.pop()?.name !== close) return undefined; // mismatched: the parser words the error
    else if (otherwise) {
      const section = sections.at(-1);
      if (!section || section.sawElse) return undefined; // `else` outside a section, or twice, is an error
      section.sawElse = true;
    } else if (path !== undefined) {
      // `{{json x}}`, `{{block x}}`, `{{tag x}}` or a plain variable; anything else is for the parser to word.
      const plain = arg !== undefined
        ? VALUE_HELPER_NAMES.has(path) && plainPath(arg, scoped())
        : !HELPER_NAMES.has(path) && plainPath(path, scoped());
      if (!plain) return undefined;
    }
    if (!helper) continue;
    for (let n = template.indexOf('\n', scanned); n !== -1 && n < match.index; n = template.indexOf('\n', n + 1)) {
      line++;
      lineStart = n + 1;
    }
    scanned = match.index;
    includes.push({ kind: helper as 'block' | 'tag', name: name!, line: line + lineOffset - 1, col: match.index - lineStart + 1 });
  }
  return matched === opens && sections.length === 0 ? includes : undefined;
}

/**
 * A Handlebars syntax error as a located problem. Parser errors carry the line only in
 * their message ("Parse error on line 3:"); structural errors ("each doesn't match if")
 * carry `lineNumber` and a 0-based `column`.
 */
export function templateSyntaxProblem(file: string, error: unknown, lineOffset: number): Problem {
  const message = error instanceof Error ? error.message : String(error);
  const located = error as { lineNumber?: number; column?: number };
  const lineMatch = /on line (\d+)/.exec(message);
  const templateLine = located.lineNumber ?? (lineMatch ? Number(lineMatch[1]) : 1);
  const col = located.column !== undefined ? located.column + 1 : 1;
  return { file, line: templateLine + lineOffset - 1, col, code: 'TEMPLATE', message: `template syntax error: ${describeSyntaxError(message)}` };
}

/** Parser jargon ("Expecting 'CLOSE', 'ID', ... got 'EOF'") into what to fix. */
function describeSyntaxError(message: string): string {
  const got = /got '([^']+)'\s*$/.exec(message)?.[1];
  if (got === 'EOF') return 'the template ends inside a tag: an unclosed {{#if}}/{{#each}} block, or a {{ without its }}';
  if (got !== undefined) {
    const excerpt = message.split('\n')[1]?.trim();
    return `unexpected ${got.toLowerCase().replace(/_/g, ' ')}${excerpt ? ` near "${excerpt.slice(-30)}"` : ''}`;
  }
  return message.replace(/ - \d+:\d+$/, '').split('\n')[0] ?? message;
}
