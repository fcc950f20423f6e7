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
    expect(scanSimpleMustaches('{{#if x}}{{block "in"}}{{/if}}')).toEqual([{ kind: 'block', name: 'in', line: 1, col: 10 }]);
    expect(scanSimpleMustaches('{{#if x}}y{{/each}}')).toBeUndefined();
  });
});
