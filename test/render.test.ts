/**
 * Rendering, driven by test/specs/render.yaml (dotprompt-style spec cases), plus the
 * errors that static validation reports before any rendering.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { inspectWorkspace } from '../src/app/load.js';
import { AppError } from '../src/core/errors.js';
import { createRenderer, type TemplateContext } from '../src/core/render.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

interface RenderCase {
  name: string;
  files: Record<string, string>;
  payload: string;
  context: Partial<TemplateContext>;
  expect?: { system: string; prompt: string };
  error?: { code: string; file: string; line: number; col: number; message: string };
}

const cases = parse(readFileSync(new URL('./specs/render.yaml', import.meta.url), 'utf8')) as RenderCase[];
const temp: TempWorkspace[] = [];
afterAll(() => temp.forEach((ws) => ws.cleanup()));

describe('render spec', () => {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const ws = makeWorkspace(testCase.files);
      temp.push(ws);
      const { workspace, problems } = inspectWorkspace(createWorkspaceReader(ws.root));
      expect(problems).toEqual([]);
      const renderer = createRenderer(workspace);
      const context: TemplateContext = { input: {}, vars: {}, steps: {}, ...testCase.context };
      const payload = workspace.payloads.get(testCase.payload)!;
      if (testCase.expect) {
        expect(renderer.renderPayload(payload, context)).toEqual(testCase.expect);
        return;
      }
      let caught: unknown;
      try {
        renderer.renderPayload(payload, context);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AppError);
      const error = caught as AppError;
      expect(error.code).toBe(testCase.error!.code);
      expect(error.location).toEqual({ file: testCase.error!.file, line: testCase.error!.line, col: testCase.error!.col });
      expect(error.message).toContain(testCase.error!.message);
    });
  }
});

describe('render-time syntax errors', () => {
  it('are worded and located as validation words them', () => {
    const ws = makeWorkspace({ 'blocks/t.md': '---\ntitle: T\n---\nfine\n', 'workflows/p.payload.yaml': 'blocks: [t]\n' });
    temp.push(ws);
    const { workspace } = inspectWorkspace(createWorkspaceReader(ws.root));
    // A body changed after validation (the renderer must not trust that it was checked).
    workspace.blocks.get('t')!.content = 'line one\n{{#each input.xs}}x{{/if}}\n';
    let caught: unknown;
    try {
      createRenderer(workspace).renderPayload(workspace.payloads.get('p')!, { input: { xs: [] }, vars: {}, steps: {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('TEMPLATE');
    expect((caught as AppError).message).toMatch(/^template syntax error: each doesn't match if/);
    expect((caught as AppError).location).toEqual({ file: 'blocks/t.md', line: 5, col: 4 });
  });
});

describe('a template that skipped validation', () => {
  it('cannot reach Handlebars\' own helpers, partials or decorators: a located TemplateError, nothing written', () => {
    const ws = makeWorkspace({ 'blocks/t.md': '---\ntitle: T\n---\nfine\n', 'workflows/p.payload.yaml': 'blocks: [t]\n' });
    temp.push(ws);
    const { workspace } = inspectWorkspace(createWorkspaceReader(ws.root));
    const written: unknown[] = [];
    const spies = [vi.spyOn(process.stdout, 'write'), vi.spyOn(process.stderr, 'write'), vi.spyOn(console, 'log'), vi.spyOn(console, 'error')];
    spies.forEach((spy) => spy.mockImplementation(((...args: unknown[]) => void written.push(args)) as never));
    try {
      for (const [body, col, message] of [
        ['x {{log "leak"}}', 5, 'unknown helper "log"'],
        ['x {{lookup vars "a"}}', 5, 'unknown helper "lookup"'],
        ['x {{> partial}}', 3, 'partials'],
        ['x {{#*inline "p"}}y{{/inline}}', 3, 'decorators'],
        ['x {{helperMissing}}', 5, 'unknown variable "helperMissing"'],
      ] as const) {
        // A body changed after validation (a stale cache, an edit between validate and render).
        workspace.blocks.set('t', { ...workspace.blocks.get('t')!, content: `${body}\n` });
        let caught: unknown;
        try {
          createRenderer(workspace).renderPayload(workspace.payloads.get('p')!, { input: {}, vars: { a: 1 }, steps: {} });
        } catch (error) {
          caught = error;
        }
        expect(caught, body).toBeInstanceOf(AppError);
        expect((caught as AppError).code).toBe('TEMPLATE');
        expect((caught as AppError).message).toContain(message);
        expect((caught as AppError).location).toEqual({ file: 'blocks/t.md', line: 4, col });
      }
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(written).toEqual([]);
  });
});

describe('a renderer reused across saves', () => {
  it('renders a block\'s new text, not the compiled form of its old text', () => {
    const ws = makeWorkspace({ 'blocks/t.md': '---\ntitle: T\n---\nold {{input.x}}\n', 'workflows/p.payload.yaml': 'blocks: [t]\n' });
    temp.push(ws);
    const { workspace } = inspectWorkspace(createWorkspaceReader(ws.root));
    const renderer = createRenderer(workspace);
    const context: TemplateContext = { input: { x: 1 }, vars: {}, steps: {} };
    expect(renderer.renderPayload(workspace.payloads.get('p')!, context).prompt).toBe('old 1');
    // What watch does on a save: the model's block is replaced under the same key.
    workspace.blocks.set('t', { ...workspace.blocks.get('t')!, content: 'new {{input.x}}\n', contentHash: 'changed' });
    expect(renderer.renderPayload(workspace.payloads.get('p')!, context).prompt).toBe('new 1');
  });
});
