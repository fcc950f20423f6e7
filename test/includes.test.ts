/**
 * Include discovery: the fast scanner for simple templates must give exactly what the
 * Handlebars AST walk gives, and decline everything else.
 */
import { describe, expect, it } from 'vitest';
import { findIncludes, findIncludesByAst, scanSimpleMustaches } from '../src/core/includes.js';

const TEMPLATES = [
  'Summarize in {{input.words}} words.\n\n{{tag "style"}}\n',
  '{{block "Phase 1/Instructions/x"}}{{block "a"}}\n  x {{ tag "t" }} y\n{{json input.list}}',
  'line\r\nline {{block "crlf"}}\r\n{{previous.output}}',
  'no mustache at all',
  '{{#if x}}{{block "inside"}}{{/if}}',
  '{{!-- {{block "commented"}} --}}{{block "real"}}',
  '\\{{block "escaped"}} {{block "real"}}',
  '{{{raw}}} {{block "a"}}',
  '{{else}}',
  '{{block "a"} }}',
  '{{block \'single\'}}',
  '{{> partial}}',
  '{{steps.my-step.output}} and {{vars.x}}',
  'é ✓ {{block "ünï"}} {{tag "t t"}}',
  '{{input.a.b}} {{ input.c }} {{  input.d  }}',
  '{{unclosed',
  '{{#if vars.tone}}{{block "a"}}{{else}}{{tag "b"}}{{/if}}',
  '{{#each input.items}}- {{this}}\n{{/each}}',
  '{{#if a}}{{#unless b}}x{{/unless}}{{/if}}',
  '{{#if a}}x{{/each}}',
  '{{#if a}}x',
  'x{{/if}}',
  '{{#if a}}{{else if b}}{{/if}}',
  '{{#if}}{{/if}}',
  '{{#if a}}{{else}}{{else}}{{/if}}',
  '{{#if vars.a}}{{block "x"}}{{else}}{{tag "t"}}{{/if}} {{json input.list}} {{block vars.key}}',
  '{{#each input.items}}{{name}} {{json this}} {{block "item"}}{{else}}{{input.none}}{{/each}}',
  '{{#each input.items}}{{json}}{{/each}}',
  '{{#with vars.p}}{{#each list}}{{x}}{{/each}}{{/with}}{{x}}',
  '{{log input.x}} {{lookup input "a"}} {{helperMissing}} {{blockHelperMissing}}',
  '{{#each input.xs}}{{else}}{{name}}{{/each}}',
  '{{input.this}} {{this.input}}',
];

describe('include discovery', () => {
  it.each(TEMPLATES)('fast path agrees with the AST walk on %j', (template) => {
    const fast = scanSimpleMustaches(template, 5);
    const ast = findIncludesByAst('f.md', template, 5);
    if (fast !== undefined) {
      expect(ast.ok).toBe(true);
      expect(fast).toEqual(ast.ok ? ast.includes : undefined);
    }
    expect(findIncludes('f.md', template, 5)).toEqual(ast);
  });

  it('takes the fast path for plain prompts', () => {
    expect(scanSimpleMustaches('Hi {{input.name}}, {{block "x/y"}}')).toEqual([{ kind: 'block', name: 'x/y', line: 1, col: 20 }]);
    expect(scanSimpleMustaches('{{#if vars.x}}{{block "in"}}{{/if}}')).toEqual([{ kind: 'block', name: 'in', line: 1, col: 15 }]);
    expect(scanSimpleMustaches('{{#each input.xs}}{{name}} {{json this}}{{/each}}')).toEqual([]);
    expect(scanSimpleMustaches('{{#if vars.x}}y{{/each}}')).toBeUndefined();
  });

  it('leaves other helpers and unknown top-level names to the parser', () => {
    for (const template of ['{{log input.x}}', '{{lookup input "a"}}', '{{helperMissing}}', '{{x}}', '{{#if x}}y{{/if}}', '{{json}}', '{{#each input.xs}}{{if}}{{/each}}']) {
      expect(scanSimpleMustaches(template), template).toBeUndefined();
    }
  });
});

/** Problems of a template, as `line:col message`. */
function problemsOf(template: string): string[] {
  const scan = findIncludes('f.md', template, 1);
  return scan.ok ? [] : scan.problems.map((p) => `${p.line}:${p.col} ${p.message}`);
}

describe('what templates may use', () => {
  it('accepts the helpers, the block helpers, sections and names under the roots', () => {
    for (const template of [
      '{{input.a}} {{vars.b.c}} {{steps.s-1.output}} {{previous.output}} {{@root.input.x}} {{this}}',
      '{{json input.x}} {{block "k"}} {{tag "t"}} {{block vars.key}} {{json (block "k")}}',
      '{{#if vars.a}}a{{else if vars.b}}b{{else}}c{{/if}}{{#unless input.x}}u{{/unless}}',
      '{{#each input.items as |item i|}}{{item.name}} {{@index}} {{@key}} {{name}} {{../input.x}}{{else}}{{input.y}}{{/each}}',
      '{{#with input.person}}{{name}} {{log}}{{/with}}',
      '{{#vars.list}}{{this}}{{/vars.list}}{{^vars.list}}none{{/vars.list}}',
      '{{!-- {{log "x"}} --}} \\{{log "x"}} {{{input.raw}}} {{~input.x~}}',
    ]) {
      expect(problemsOf(template), template).toEqual([]);
    }
  });

  it('reports every other helper, partials and decorators where they are written, with a did-you-mean', () => {
    expect(problemsOf('{{log "X"}}')).toEqual(['1:3 unknown helper "log"; the helpers are block, tag and json, and the block helpers #if, #each, #with and #unless']);
    expect(problemsOf('a\n  {{jsno input.x}}')).toEqual([expect.stringMatching(/^2:5 unknown helper "jsno"; did you mean "json"\?/)]);
    expect(problemsOf('{{lookup this "__proto__"}}')).toEqual([expect.stringMatching(/^1:3 unknown helper "lookup";/)]);
    expect(problemsOf('{{#ech input.xs}}x{{/ech}}')).toEqual([expect.stringMatching(/^1:4 unknown block helper "#ech"; did you mean "#each"\?/)]);
    expect(problemsOf('{{> tasks/summarize}}')).toEqual(['1:1 partials ({{> name}}) are not supported; did you mean {{block "tasks/summarize"}}?']);
    expect(problemsOf('{{#> layout}}x{{/layout}}')).toEqual([expect.stringMatching(/^1:1 partials/)]);
    expect(problemsOf('x {{#*inline "p"}}hi{{/inline}}')).toEqual([expect.stringMatching(/^1:3 decorators and inline partials/)]);
    // A raw block is a section over a (missing) variable without a raw helper.
    expect(problemsOf('{{{{raw}}}}x{{{{/raw}}}}')).toEqual([expect.stringMatching(/^1:5 unknown variable "raw"/)]);
    expect(problemsOf('{{if vars.x}}')).toEqual(['1:3 #if is a block helper: write {{#if value}}…{{/if}}']);
    expect(problemsOf('{{json}} {{block "a" "b"}} {{tag name="x"}}')).toEqual([
      '1:3 json takes exactly one argument: {{json input.x}}',
      '1:12 block takes exactly one argument: {{block "name"}}',
      '1:30 tag takes exactly one argument: {{tag "name"}}',
    ]);
    expect(problemsOf('{{#block "a"}}x{{/block}}')).toEqual([expect.stringMatching(/^1:4 block is not a block helper/)]);
    expect(problemsOf('{{#with "abc"}}{{length}}{{/with}}')).toEqual(['1:9 #with takes a variable, not a literal: {{#with input.x}}']);
    expect(problemsOf('{{#if}}x{{/if}}')).toEqual(['1:4 #if takes exactly one argument: {{#if input.x}}']);
  });

  it('reports unknown names at the top level, where only input, vars, steps and previous exist', () => {
    expect(problemsOf('{{helperMissing}}')).toEqual([expect.stringMatching(/^1:3 unknown variable "helperMissing"; templates see input/)]);
    expect(problemsOf('{{inptu.words}}')).toEqual([expect.stringMatching(/^1:3 unknown variable "inptu.words"; did you mean "input"\?/)]);
    expect(problemsOf('{{#with __proto__}}x{{/with}}')).toEqual([expect.stringMatching(/^1:9 unknown variable "__proto__"/)]);
    expect(problemsOf('{{#if constructor}}x{{/if}} {{json toString}}')).toHaveLength(2);
    expect(problemsOf('{{@index}} {{../input.x}} {{this.x}}')).toHaveLength(3);
    // Inside #each/#with (not their else) any name may be a field of the item.
    expect(problemsOf('{{#each input.xs}}{{a}}{{else}}{{b}}{{/each}}')).toEqual([expect.stringMatching(/^1:34 unknown variable "b"/)]);
  });
});
