/**
 * Bounds a long-lived process needs, through the built CLI: a workspace cannot make one
 * payload render for minutes or exhaust memory. Include chains are capped in depth (at
 * validation and at render), and one payload's rendering in includes and characters; each
 * failure is a located error naming the include chain, reached quickly.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { inspectWorkspace } from '../src/app/load.js';
import { createRenderer, RENDER_LIMITS } from '../src/core/render.js';
import { BIN, runCli, type CliResult } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const temps: TempWorkspace[] = [];
afterAll(() => temps.forEach((ws) => ws.cleanup()));
beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
});

/**
 * Blocks b0 … b{levels}: each of b0 … b{levels-1} includes the next `fan` times, the last is
 * `leaf`. Payload `p` renders b0; workflow `w` runs p.
 */
function expandingWorkspace(levels: number, fan: number, leaf: string): TempWorkspace {
  const files: Record<string, string> = {
    'workflows/p.payload.yaml': 'blocks: [b0]\n',
    'workflows/w.workflow.yaml': 'payloads: [p]\n',
    [`blocks/b${levels}.md`]: `${leaf}\n`,
  };
  for (let i = 0; i < levels; i++) files[`blocks/b${i}.md`] = `${`{{block "b${i + 1}"}}`.repeat(fan)}\n`;
  const ws = makeWorkspace(files);
  temps.push(ws);
  return ws;
}

const cli = (ws: TempWorkspace, ...args: string[]) => runCli(['-w', ws.root, '--db', ws.dbPath, ...args]);

/** Runs the CLI and returns the result with how long it took. */
function timed(ws: TempWorkspace, ...args: string[]): CliResult & { ms: number } {
  const start = performance.now();
  const result = cli(ws, ...args);
  return { ...result, ms: performance.now() - start };
}

const chain = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `b${from + i}`).join(' -> ');

describe('include expansion', () => {
  it('blocks that each include the next twice, 24 deep, fail validation at once, naming the chain', () => {
    const ws = expandingWorkspace(24, 2, 'x');
    const message = `blocks/b0.md:1:1: includes nest 25 blocks deep, more than the 16 rendering allows: ${chain(0, 24)}`;
    const validate = timed(ws, 'validate');
    expect(validate.code).toBe(1);
    expect(validate.stderr.split('\n')).toContain(message);
    expect(validate.ms).toBeLessThan(5000);
    for (const args of [['render', 'p'], ['run', 'w', '--dry-run']]) {
      const result = timed(ws, ...args);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')).toContain(message);
      expect(result.ms).toBeLessThan(5000);
    }
  });

  it('within the depth limit, a payload over 16 MiB fails as it is produced, naming the chain', () => {
    // 2^15 copies of a 1200-character leaf: 39 MB (the limit is reached after ~14000 of them).
    const ws = expandingWorkspace(15, 2, 'y'.repeat(1200));
    expect(cli(ws, 'validate').code).toBe(0);
    const result = timed(ws, 'run', 'w', '--dry-run', '--json');
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5000);
    const error = (JSON.parse(result.stdout) as { error: { code: string; message: string; location: unknown } }).error;
    expect(error.code).toBe('TEMPLATE');
    expect(error.message).toBe(`the payload renders to more than 16777216 characters (16 MiB); blocks included again and again? (included via ${chain(0, 15)})`);
    expect(error.location).toEqual({ file: 'blocks/b15.md', line: 1, col: 1 });
  });

  it('within the depth limit, a payload rendering more than 50000 blocks fails quickly, even when they render nothing', () => {
    // 16 blocks deep, each including the next twice: 65535 renders of empty text.
    const ws = expandingWorkspace(15, 2, '{{!-- nothing --}}');
    expect(cli(ws, 'validate').code).toBe(0);
    const result = timed(ws, 'render', 'p');
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5000);
    expect(result.stderr).toMatch(/^error: blocks\/b\d+\.md:1:1: the payload renders more than 50000 blocks; blocks included again and again\? \(included via b0 -> b1 -> /m);
  });

  it('a chain a little under the limits renders', () => {
    const ws = expandingWorkspace(15, 1, 'leaf {{input.x}}');
    const result = cli(ws, 'render', 'p', '--input', 'x=1', '--json');
    expect(result.stderr).toBe('');
    expect((JSON.parse(result.stdout) as { steps: { prompt: string }[] }).steps[0]!.prompt).toBe('leaf 1');
  });
});

describe('include depth at render (includes validation cannot see)', () => {
  it('a chain through {{block vars.x}} that nests too deep is a TemplateError at the include, naming the chain', () => {
    // Each block includes the block named by the step's vars: invisible to validation.
    const files: Record<string, string> = { 'workflows/p.payload.yaml': 'blocks: [b0]\n' };
    for (let i = 0; i < 20; i++) files[`blocks/b${i}.md`] = `---\ntitle: B\n---\nlevel ${i}\n  {{block vars.b${i}}}\n`;
    files['blocks/b20.md'] = 'end\n';
    const ws = makeWorkspace(files);
    temps.push(ws);
    const { workspace, problems } = inspectWorkspace(createWorkspaceReader(ws.root));
    expect(problems).toEqual([]);
    const vars = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`b${i}`, `b${i + 1}`]));
    let caught: unknown;
    try {
      createRenderer(workspace).renderPayload(workspace.payloads.get('p')!, { input: {}, vars, steps: {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    const error = caught as AppError;
    expect(error.code).toBe('TEMPLATE');
    expect(error.message).toBe(`includes nest more than ${RENDER_LIMITS.includeDepth} blocks deep (included via ${chain(0, 16)})`);
    // Where b15 includes b16 (a dynamic include: the start of b15's template).
    expect(error.location).toEqual({ file: 'blocks/b15.md', line: 4, col: 1 });
  });
});

describe('Jinja chat templates of workspace formats', () => {
  /** A workspace whose payload p (and workflow w) uses formats/x.yaml with this chat_template. */
  function formatWorkspace(chatTemplate: string, block = 'Hello {{input.text}}'): TempWorkspace {
    const ws = makeWorkspace({
      'blocks/t.md': `${block}\n`,
      'workflows/p.payload.yaml': 'model_format: x\nblocks: [t]\n',
      'workflows/w.workflow.yaml': 'inputs:\n  text: { type: string, default: hi }\npayloads: [p]\n',
      'formats/x.yaml': `description: test\nchat_template: ${JSON.stringify(chatTemplate)}\n`,
    });
    temps.push(ws);
    return ws;
  }

  const runaway: [string, string, RegExp][] = [
    ['range(300000000) (V8 aborted the process: exit 133)', '{% for i in range(300000000) %}x{% endfor %}', /called range\(\) for 300000000 items, more than the 100000 allowed/],
    ['nested loops of a million iterations', '{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}', /ran more than 50000 steps/],
    ['a text doubled 40 times', "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}", /built a text of more than 16777216 characters/],
  ];

  it.each(runaway)('%s is a located validation problem at chat_template; render exits normally', (_name, chatTemplate, message) => {
    const ws = formatWorkspace(chatTemplate);
    const validate = timed(ws, 'validate');
    expect(validate.code).toBe(1);
    expect(validate.ms).toBeLessThan(5000);
    const line = validate.stderr.split('\n').find((l) => l.startsWith('formats/x.yaml:2:16: '));
    expect(line, validate.stderr).toMatch(/^formats\/x\.yaml:2:16: Format "x": chat_template /);
    expect(line).toMatch(message);
    for (const args of [['render', 'p'], ['run', 'w', '--dry-run']]) {
      const result = timed(ws, ...args);
      expect(result.code).toBe(1);
      expect(result.ms).toBeLessThan(5000);
      expect(result.stderr).toContain('formats/x.yaml:2:16: Format "x": chat_template ');
      expect(result.stderr).not.toMatch(/internal error|FATAL|heap/i);
    }
  });

  it('a template that runs away only on the real messages fails at render with an error at its format file', () => {
    // The short chat tried at validation does not reach the loop; a long user message does.
    const ws = formatWorkspace(
      '{% for m in messages %}{% if m.content|length > 100 %}{% for i in range(300000000) %}x{% endfor %}{% endif %}{{ m.content }}{% endfor %}',
    );
    expect(cli(ws, 'validate').code).toBe(0);
    const result = timed(ws, 'render', 'p', '--input', `text=${'long '.repeat(40)}`, '--json');
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5000);
    const error = (JSON.parse(result.stdout) as { error: { code: string; message: string; location: unknown } }).error;
    expect(error).toMatchObject({
      code: 'FORMAT',
      message: 'Format "x": chat_template called range() for 300000000 items, more than the 100000 allowed',
      location: { file: 'formats/x.yaml', line: 1, col: 1 },
    });
    // Short messages render as the template says.
    const ok = cli(ws, 'render', 'p', '--input', 'text=there', '--json');
    expect(ok.stderr).toBe('');
    expect((JSON.parse(ok.stdout) as { steps: { prompt: string }[] }).steps[0]!.prompt).toBe('Hello there');
  });
});

describe('include depth through tag includes', () => {
  it('a chain that goes through {{tag}} includes is measured and reported like one through {{block}}', () => {
    const files: Record<string, string> = { 'workflows/p.payload.yaml': 'blocks: [l0]\n' };
    // l0 includes every block tagged t1 (l1 and a shallow sibling), l1 every block tagged t2, ...
    for (let i = 0; i <= 17; i++) {
      files[`blocks/l${i}.md`] = `---\ntags: [t${i}]\n---\n${i < 17 ? `x {{tag "t${i + 1}"}}` : 'end'}\n`;
      files[`blocks/s${i}.md`] = `---\ntags: [t${i}]\n---\nshallow\n`;
    }
    const ws = makeWorkspace(files);
    temps.push(ws);
    const result = cli(ws, 'validate');
    expect(result.code).toBe(1);
    const chain = Array.from({ length: 18 }, (_, i) => `l${i}`).join(' -> ');
    expect(result.stderr).toContain(`blocks/l0.md:4:3: includes nest 18 blocks deep, more than the 16 rendering allows: ${chain}`);
    expect(result.stderr).toContain('1 problem found');
  });
});
