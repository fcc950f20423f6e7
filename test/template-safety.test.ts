/**
 * What a template can reach, through the built CLI (`validate`, `render`, `run --dry-run`):
 * only block, tag and json and the block helpers #if, #each, #with and #unless; nothing of
 * Handlebars' own helpers, partials or decorators, and no variable that is not the user's
 * own data. Anything else is a located problem at validation or a located TemplateError at
 * render, never output on stdout/stderr from the template and never a TypeError's text.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const temps: TempWorkspace[] = [];
afterAll(() => temps.forEach((ws) => ws.cleanup()));
beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
});

/** A workspace whose one block `t` (body from line 4) is the template; payload `p`, workflow `w`. */
function workspaceWith(body: string, extra: Record<string, string> = {}): TempWorkspace {
  const ws = makeWorkspace({
    'blocks/t.md': `---\ntitle: T\n---\n${body}`,
    'workflows/p.payload.yaml': 'blocks: [t]\n',
    'workflows/w.workflow.yaml': 'inputs:\n  text: { type: string, default: abc }\npayloads: [p]\n',
    ...extra,
  });
  temps.push(ws);
  return ws;
}

const cli = (ws: TempWorkspace, ...args: string[]) => runCli(['-w', ws.root, '--db', ws.dbPath, ...args]);

interface JsonReply {
  ok: boolean;
  error?: { code: string; message: string; location?: { file: string; line: number; col: number } };
  problems?: { file: string; line: number; col: number; code: string; message: string }[];
  steps?: { prompt: string }[];
}

/** `--json` output must be exactly one JSON document. */
function json(stdout: string): JsonReply {
  return JSON.parse(stdout) as JsonReply;
}

describe('Handlebars helpers other than block, tag, json and #if/#each/#with/#unless', () => {
  const cases: { body: string; at: string; message: RegExp; also?: string }[] = [
    { body: 'x\n{{log "X"}}\n', at: 'blocks/t.md:5:3', message: /unknown helper "log"; the helpers are block, tag and json, and the block helpers #if, #each, #with and #unless/ },
    { body: '{{lookup input "text"}}\n', at: 'blocks/t.md:4:3', message: /unknown helper "lookup"/ },
    { body: '{{jsno input.text}}\n', at: 'blocks/t.md:4:3', message: /unknown helper "jsno"; did you mean "json"\?/ },
    { body: '{{#*inline "x"}}hi{{/inline}}{{> x}}\n', at: 'blocks/t.md:4:1', message: /decorators and inline partials/, also: 'blocks/t.md:4:30' },
    { body: 'a {{> tasks/summarize}}\n', at: 'blocks/t.md:4:3', message: /partials \(\{\{> name\}\}\) are not supported; did you mean \{\{block "tasks\/summarize"\}\}\?/ },
    { body: '{{helperMissing}}\n', at: 'blocks/t.md:4:3', message: /unknown variable "helperMissing"; templates see input/ },
    { body: '{{blockHelperMissing}}\n', at: 'blocks/t.md:4:3', message: /unknown variable "blockHelperMissing"/ },
    { body: '{{#with "abc"}}{{length}}{{/with}}\n', at: 'blocks/t.md:4:9', message: /#with takes a variable, not a literal/ },
    { body: '{{json}}\n', at: 'blocks/t.md:4:3', message: /json takes exactly one argument/ },
    { body: '{{#ech input.text}}x{{/ech}}\n', at: 'blocks/t.md:4:4', message: /unknown block helper "#ech"; did you mean "#each"\?/ },
  ];

  it.each(cases)('$body is a problem at validation: $at', ({ body, at, message, also }) => {
    const ws = workspaceWith(body);
    const validate = cli(ws, 'validate');
    expect(validate.code).toBe(1);
    expect(validate.stdout).toBe('');
    const line = validate.stderr.split('\n').find((l) => l.startsWith(`${at}: `));
    if (also) expect(validate.stderr).toContain(`${also}: `);
    expect(line, validate.stderr).toMatch(message);
    expect(validate.stderr).not.toMatch(/TypeError|Cannot read properties|Cannot use 'in'/);

    // render and run --dry-run stop at the same problem, with one JSON document on stdout.
    for (const args of [['render', 'p', '--json'], ['run', 'w', '--dry-run', '--json']]) {
      const result = cli(ws, ...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('');
      const reply = json(result.stdout);
      expect(reply.ok).toBe(false);
      // Every problem of the template is reported (the first is the one this case is about).
      expect(reply.problems?.map((p) => `${p.file}:${p.line}:${p.col}`)[0]).toBe(at);
    }
  });

  it('{{log}} never writes to stdout: `render --json` prints one JSON document', () => {
    const ws = workspaceWith('{{log "LEAKED"}}{{input.text}}\n');
    const result = cli(ws, 'render', 'p', '--input', 'text=abc', '--json');
    expect(result.stdout).not.toContain('LEAKED');
    expect(result.stderr).not.toContain('LEAKED');
    expect(() => json(result.stdout)).not.toThrow();
  });

  it('inline text in a payload is checked the same way', () => {
    const ws = workspaceWith('fine\n', { 'workflows/p.payload.yaml': 'blocks:\n  - t\n  - text: "{{lookup input \'x\'}}"\n' });
    const result = cli(ws, 'validate');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^workflows\/p\.payload\.yaml:3:5: unknown helper "lookup"/m);
  });
});

describe('render-time failures are located TemplateErrors, never a TypeError', () => {
  it('a field of a string is looked up on the string, a missing one is a missing variable where it is written', () => {
    const ws = workspaceWith('x\n  {{input.text.foo}}\n');
    const result = cli(ws, 'render', 'p', '--input', 'text=abc', '--json');
    expect(result.code).toBe(1);
    expect(json(result.stdout).error).toEqual({
      code: 'TEMPLATE',
      message: expect.stringMatching(/^missing variable "input\.text\.foo"/),
      location: { file: 'blocks/t.md', line: 5, col: 5 },
    });
  });

  it('#with over a string sees its length; #if over a missing path is false', () => {
    const ws = workspaceWith('{{#with input.text}}{{length}}{{/with}} {{#if input.a.b}}yes{{else}}no{{/if}}\n');
    const result = cli(ws, 'render', 'p', '--input', 'text=abc', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(json(result.stdout).steps?.[0]?.prompt).toBe('3 no');
  });
});

describe('strict variables see only the data\'s own fields', () => {
  /** A workflow whose step has vars and whose inputs include a list. */
  const workflow = 'inputs:\n  text: { type: string, default: abc }\n  items: { type: array, default: [{ name: a }] }\npayloads:\n  - payload: p\n    vars: { tone: dry }\n';

  const cases: { body: string; col: number; expression: string }[] = [
    { body: '{{input.constructor}}', col: 3, expression: 'input.constructor' },
    { body: '{{input.toString}}', col: 3, expression: 'input.toString' },
    { body: '{{vars.__defineGetter__}}', col: 3, expression: 'vars.__defineGetter__' },
    { body: '{{input.items.hasOwnProperty}}', col: 3, expression: 'input.items.hasOwnProperty' },
    { body: '{{#each input.items}}{{#with __proto__}}x{{/with}}{{/each}}', col: 30, expression: '__proto__' },
    { body: '{{#each input.items}}{{constructor}}{{/each}}', col: 24, expression: 'constructor' },
    { body: '{{json vars.valueOf}}', col: 8, expression: 'vars.valueOf' },
  ];

  it.each(cases)('$body is a missing variable, with nothing on stderr', ({ body, col, expression }) => {
    const ws = workspaceWith(`x\n${body}\n`, { 'workflows/w.workflow.yaml': workflow });
    expect(cli(ws, 'validate').code).toBe(0);
    const result = cli(ws, 'run', 'w', '--dry-run', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(json(result.stdout).error).toEqual({
      code: 'TEMPLATE',
      message: expect.stringContaining(`missing variable "${expression}"`),
      location: { file: 'blocks/t.md', line: 5, col },
    });
  });

  it('an own field named like an Object.prototype member is the user\'s value', () => {
    const ws = workspaceWith('{{input.constructor}} {{input.toString}}\n');
    const result = cli(ws, 'render', 'p', '--input', 'constructor=C', '--input', 'toString=T', '--json');
    expect(result.stderr).toBe('');
    expect(json(result.stdout).steps?.[0]?.prompt).toBe('C T');
  });

  it('#if and #unless take an Object.prototype name as missing (false); #each and #with over a missing value are errors', () => {
    const ws = workspaceWith('{{#if input.constructor}}yes{{else}}no{{/if}} {{#unless vars.toString}}none{{/unless}}\n', { 'workflows/w.workflow.yaml': workflow });
    const ok = cli(ws, 'run', 'w', '--dry-run', '--json');
    expect(ok.stderr).toBe('');
    expect(json(ok.stdout).steps?.[0]?.prompt).toBe('no none');

    ws.write('blocks/t.md', '{{#each vars.missing}}x{{else}}empty{{/each}}\n');
    const each = cli(ws, 'run', 'w', '--dry-run', '--json');
    expect(json(each.stdout).error).toMatchObject({ code: 'TEMPLATE', message: expect.stringContaining('missing variable "vars.missing"'), location: { file: 'blocks/t.md', line: 1, col: 9 } });
  });
});
