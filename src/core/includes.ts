/**
 * Finding `{{block "key"}}` and `{{tag "name"}}` in a template by walking the Handlebars
 * AST (not by regex, so comments, raw blocks and escaped mustaches are not mistaken for includes).
 */
import { loadHandlebars } from './parsers.js';
import type { Problem } from './errors.js';
import type { Include } from './types.js';

export const INCLUDE_HELPERS = ['block', 'tag'] as const;

interface AstNode {
  type: string;
  loc?: { start: { line: number; column: number } };
  path?: { type: string; original?: string };
  params?: AstNode[];
  hash?: { pairs: { value: AstNode }[] };
  value?: unknown;
  program?: { body: AstNode[] };
  inverse?: { body: AstNode[] };
  body?: AstNode[];
}

export type IncludeScan = { ok: true; includes: Include[] } | { ok: false; problem: Problem };

/**
 * Lists the includes of a template, with 1-based positions shifted by `lineOffset`
 * (the body's first line in its file). A syntax error is returned as a problem.
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
    return { ok: false, problem: templateSyntaxProblem(file, error, lineOffset) };
  }
  const includes: Include[] = [];
  const visit = (node: AstNode | undefined): void => {
    if (!node) return;
    if ((node.type === 'MustacheStatement' || node.type === 'SubExpression' || node.type === 'BlockStatement') && node.path?.type === 'PathExpression') {
      const helper = node.path.original;
      const first = node.params?.[0];
      if ((helper === 'block' || helper === 'tag') && first?.type === 'StringLiteral' && node.loc) {
        includes.push({ kind: helper, name: String(first.value), line: node.loc.start.line + lineOffset - 1, col: node.loc.start.column + 1 });
      }
    }
    node.params?.forEach(visit);
    node.hash?.pairs.forEach((pair) => visit(pair.value));
    node.program?.body.forEach(visit);
    node.inverse?.body.forEach(visit);
    node.body?.forEach(visit);
  };
  visit(ast);
  return { ok: true, includes };
}

/**
 * Plain variables (`{{input.words}}`, `{{json vars.x}}`), string-literal includes and
 * simple `{{#if x}}…{{else}}…{{/if}}` sections (also #unless, #each, #with) are most of
 * what prompts contain. When every mustache of a template is one of those and the
 * sections nest properly, the template is valid Handlebars and its includes are read off
 * directly (the Handlebars parser costs ~30 µs a block, the bulk of a cold sync).
 * Anything else — comments, escapes, partials, `else if`, odd spacing — returns undefined
 * for the real parser.
 */
const PATH = '[A-Za-z_][\\w-]*(?:\\.[A-Za-z_][\\w-]*)*';
const SIMPLE_MUSTACHE = new RegExp(
  `\\{\\{ ?(?:(block|tag) "([^"\\\\{}]*)"|#(if|unless|each|with) ${PATH}|/(if|unless|each|with)|(else)|${PATH}(?: ${PATH})?) ?\\}\\}`,
  'g',
);

export function scanSimpleMustaches(template: string, lineOffset = 1): Include[] | undefined {
  if (template.includes('\\{{') || template.includes('{{{')) return undefined;
  let opens = 0;
  for (let i = template.indexOf('{{'); i !== -1; i = template.indexOf('{{', i + 2)) opens++;
  const includes: Include[] = [];
  const sections: { name: string; sawElse: boolean }[] = [];
  let matched = 0;
  let line = 1;
  let lineStart = 0;
  let scanned = 0;
  for (const match of template.matchAll(SIMPLE_MUSTACHE)) {
    matched++;
    const [, helper, name, open, close, otherwise] = match;
    if (open) sections.push({ name: open, sawElse: false });
    else if (close && sections.pop()?.name !== close) return undefined; // mismatched: the parser words the error
    else if (otherwise) {
      const section = sections.at(-1);
      if (!section || section.sawElse) return undefined; // `else` outside a section, or twice, is an error
      section.sawElse = true;
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
