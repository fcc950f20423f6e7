/**
 * `quire diff` end to end: runs recorded by the real CLI against the mock LLM server into
 * a real SQLite file, then compared by the built CLI in a child process.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { runCli, runCliAsync } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const FILES: Record<string, string> = {
  'quire.yaml': 'llm:\n  api: kobold\n  retries: 0\n',
  'blocks/persona.md': 'You are terse.\n',
  'blocks/summarize.md': 'Summarize in {{input.words}} words:\n{{input.text}}\n',
  'blocks/critique.md': 'Critique:\n{{previous.output}}\n',
  'workflows/summarize.payload.yaml': 'model_format: chatml\nresponse_length: 50\nsystem: [persona]\nblocks: [summarize]\n',
  'workflows/critique.payload.yaml': 'model_format: llama3\nresponse_length: 50\nblocks: [critique]\n',
  'workflows/flow.workflow.yaml': 'name: flow\ninputs:\n  text: { type: string }\n  words: { type: integer, default: 12 }\npayloads:\n  - summarize\n  - critique\n  - name: echo\n    blocks:\n      - text: "Again: {{input.words}}"\n',
};

interface Part { kind: 'same' | 'added' | 'removed'; text: string }
interface StepJson {
  name: string;
  a_name: string | null;
  a_index: number | null;
  b_index: number | null;
  status: string;
  prompt: { changed: boolean; patch: string | null };
  response: { changed: boolean; parts: Part[] };
  settings: { key: string; a: unknown; b: unknown }[];
}
interface DiffJson {
  ok: boolean;
  a: { id: number; workflow: string | null; status: string; started_at: string };
  b: { id: number; workflow: string | null; status: string; started_at: string };
  files: { path: string; change: string; a: string | null; b: string | null }[];
  inputs: { key: string; a: unknown; b: unknown }[];
  steps: StepJson[];
}
interface ErrorJson { ok: false; error: { code: string; message: string; hint?: string } }

let mock: MockLlm;
const temp: TempWorkspace[] = [];
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
afterEach(() => {
  while (temp.length) temp.pop()!.cleanup();
});

function workspace(files: Record<string, string> = FILES): TempWorkspace {
  const ws = makeWorkspace(files);
  temp.push(ws);
  return ws;
}

/** Records a run; returns its id. */
async function record(ws: TempWorkspace, workflow: string, inputs: string[], { endpoint = mock.url, expectOk = true } = {}): Promise<number> {
  const result = await runCliAsync(['-w', ws.root, 'run', workflow, ...inputs.flatMap((i) => ['--input', i]), '--endpoint', `5001=${endpoint}`, '--json']);
  expect(result.code, result.stderr).toBe(expectOk ? 0 : 1);
  return (JSON.parse(result.stdout) as { run_id: number }).run_id;
}

const diffJson = (ws: TempWorkspace, ...ids: string[]) => {
  const result = runCli(['-w', ws.root, 'diff', ...ids, '--json']);
  return { code: result.code, body: JSON.parse(result.stdout) as DiffJson & ErrorJson, stderr: result.stderr };
};

/** What `quire show` says each step sent and answered. */
function shown(ws: TempWorkspace, id: number): Map<string, { prompt: string; content: string }> {
  const body = JSON.parse(runCli(['-w', ws.root, 'show', String(id), '--json']).stdout) as { responses: { prompt: string; content: string; metadata: { step: string } }[] };
  return new Map(body.responses.map((r) => [r.metadata.step, { prompt: r.prompt, content: r.content }]));
}

const sideOf = (parts: Part[], side: 'a' | 'b') => parts.filter((p) => p.kind !== (side === 'a' ? 'added' : 'removed')).map((p) => p.text).join('');

/** Two runs of `flow` with a changed block, a changed payload temperature, another input, and a step added. */
async function twoRuns() {
  const ws = workspace();
  const a = await record(ws, 'flow', ['text=The quick brown fox jumps over the lazy dog.']);
  ws.write('blocks/persona.md', 'You are terse and kind.\n');
  ws.write('workflows/critique.payload.yaml', 'model_format: llama3\nresponse_length: 50\ntemperature: 0.2\nblocks: [critique]\n');
  ws.write('workflows/flow.workflow.yaml', FILES['workflows/flow.workflow.yaml']!.replace('payloads:\n', 'payloads:\n  - name: intro\n    blocks: [{ text: "Hello" }]\n'));
  const b = await record(ws, 'flow', ['text=The quick red fox jumps over the lazy cat.']);
  return { ws, a, b };
}

describe('quire diff', () => {
  it('--json: changed files, inputs, and per step the prompt patch, response parts and settings', async () => {
    const { ws, a, b } = await twoRuns();
    const { code, body } = diffJson(ws, String(a), String(b));
    expect(code).toBe(0);
    expect(body.ok).toBe(true);
    expect(body.a).toMatchObject({ id: a, workflow: 'flow', status: 'completed' });
    expect(body.b).toMatchObject({ id: b, workflow: 'flow', status: 'completed' });
    expect(body.files.map((f) => [f.path, f.change])).toEqual([
      ['blocks/persona.md', 'changed'],
      ['workflows/critique.payload.yaml', 'changed'],
      ['workflows/flow.workflow.yaml', 'changed'],
    ]);
    expect(body.files[0]!.a).toMatch(/\S/);
    expect(body.files[0]!.a).not.toBe(body.files[0]!.b);
    expect(body.inputs).toEqual([{ key: 'text', a: 'The quick brown fox jumps over the lazy dog.', b: 'The quick red fox jumps over the lazy cat.' }]);

    // Steps in run b's order; the new first step is added, the rest keep their names though their positions moved.
    expect(body.steps.map((s) => [s.name, s.a_index, s.b_index, s.status])).toEqual([
      ['intro', null, 0, 'added'],
      ['summarize', 0, 1, 'changed'],
      ['critique', 1, 2, 'changed'],
      ['echo', 2, 3, 'unchanged'],
    ]);
    const [, summarize, critique, echo] = body.steps;
    expect(summarize!.prompt.patch).toContain('\n-You are terse.<|im_end|>\n+You are terse and kind.<|im_end|>\n');
    expect(summarize!.prompt.patch).toMatch(new RegExp(`^--- run-${a}/summarize\\n\\+\\+\\+ run-${b}/summarize\\n@@ `));
    expect(summarize!.settings).toEqual([]);
    expect(critique!.settings).toEqual([{ key: 'sampler.temperature', a: 0.6, b: 0.2 }]);
    expect(echo).toMatchObject({ prompt: { changed: false, patch: null }, response: { changed: false }, settings: [] });

    // The parts rebuild exactly what each run recorded.
    const [before, after] = [shown(ws, a), shown(ws, b)];
    for (const step of [summarize!, critique!]) {
      expect(step.response.changed).toBe(true);
      expect(sideOf(step.response.parts, 'a')).toBe(before.get(step.name)!.content);
      expect(sideOf(step.response.parts, 'b')).toBe(after.get(step.name)!.content);
    }
    expect(summarize!.response.parts).toContainEqual({ kind: 'removed', text: 'brown' });
    expect(summarize!.response.parts).toContainEqual({ kind: 'added', text: 'red' });
  });

  it('in a terminal: a compact view with word changes marked, unchanged steps in one line', async () => {
    const { ws, a, b } = await twoRuns();
    const result = runCli(['-w', ws.root, 'diff', String(a), String(b)]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).not.toContain('\u001b[');
    expect(out.split('\n')[0]).toBe(`run #${a} flow → run #${b} flow`);
    expect(out).toContain('files: 3 differ\n  changed  blocks/persona.md\n');
    expect(out).toContain('inputs:\n  text: "The quick brown fox jumps over the lazy dog." → "The quick red fox jumps over the lazy cat."\n');
    expect(out).toContain(`+ step intro: only in run #${b}\n`);
    expect(out).toMatch(/── summarize ─+\nprompt:\n@@ [^\n]+ @@\n <\|im_start\|>system\n-You are terse\.<\|im_end\|>\n\+You are terse and kind\.<\|im_end\|>\n/);
    expect(out).toContain('response:\necho: The quick [-brown-]{+red+} fox jumps over the lazy [-dog-]{+cat+}.\n');
    expect(out).toContain('settings:\n  sampler.temperature: 0.6 → 0.2\n');
    expect(out.trimEnd().split('\n').at(-1)).toBe('= 1 step unchanged: echo');
    // The runs are named once, in the heading, not again per patch.
    expect(out).not.toContain('+++ ');
  });

  it('in a terminal: a long response keeps only the text around each change', async () => {
    const ws = workspace();
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`);
    const a = await record(ws, 'flow', [`text=${words.join(' ')}`]);
    words[30] = 'CHANGED';
    const b = await record(ws, 'flow', [`text=${words.join(' ')}`]);
    const out = runCli(['-w', ws.root, 'diff', String(a), String(b)]).stdout;
    const line = out.split('\n').find((l) => l.includes('[-word30-]{+CHANGED+}') && l.startsWith('…'))!;
    expect(line).toBeDefined();
    // Whole words on either side of the change, the ends of the response elided.
    expect(line).toMatch(/^… word\d+ .*word29 \[-word30-\]\{\+CHANGED\+\} word31 .* word\d+ …$/);
    expect(line.length).toBeLessThan(200);
    expect(line).not.toContain('word0 ');
    expect(line).not.toContain('word59');
  });

  it('with one run id, compares with the previous completed run of its workflow, skipping failed runs and other workflows', async () => {
    const ws = workspace({ ...FILES, 'workflows/other.workflow.yaml': 'name: other\npayloads:\n  - name: solo\n    blocks: [{ text: "Solo" }]\n' });
    const first = await record(ws, 'flow', ['text=one']);
    await record(ws, 'flow', ['text=broken'], { endpoint: `${mock.url}/__fault/status=500`, expectOk: false });
    await record(ws, 'other', []);
    const last = await record(ws, 'flow', ['text=two']);
    const alone = diffJson(ws, String(last));
    expect(alone.code).toBe(0);
    expect([alone.body.a.id, alone.body.b.id]).toEqual([first, last]);
    expect(alone.body).toEqual(diffJson(ws, String(first), String(last)).body);
    expect(alone.body.inputs).toEqual([{ key: 'text', a: 'one', b: 'two' }]);
    expect(alone.body.files).toEqual([]);

    const none = diffJson(ws, String(first));
    expect(none.code).toBe(1);
    expect(none.body.error.code).toBe('NOT_FOUND');
    expect(none.body.error.message).toContain('flow');
    expect(none.body.error.hint).toContain(`quire diff <run-a> ${first}`);
    expect(none.body.error.hint).toContain('quire runs --workflow flow');
    const text = runCli(['-w', ws.root, 'diff', String(first)]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^error: no completed run of workflow "flow" before run #\d+/);
    expect(text.stderr).toContain('hint: name both runs');
  });

  it('compares runs of two workflows: steps paired by name, then by position', async () => {
    const ws = workspace({
      ...FILES,
      'workflows/other.workflow.yaml': 'name: other\ninputs:\n  text: { type: string }\n  words: { type: integer }\npayloads:\n  - payload: summarize\n    as: short\n  - critique\n',
    });
    const a = await record(ws, 'flow', ['text=Same text.']);
    const b = await record(ws, 'other', ['text=Same text.', 'words=12']);
    const { code, body } = diffJson(ws, String(a), String(b));
    expect(code).toBe(0);
    expect([body.a.workflow, body.b.workflow]).toEqual(['flow', 'other']);
    expect(body.steps.map((s) => [s.a_name, s.name, s.a_index, s.b_index, s.status])).toEqual([
      ['summarize', 'short', 0, 0, 'changed'],
      ['critique', 'critique', 1, 1, 'unchanged'],
      ['echo', 'echo', 2, null, 'removed'],
    ]);
    // Paired by position with another name, and otherwise the same.
    expect(body.steps[0]).toMatchObject({ prompt: { changed: false }, response: { changed: false }, settings: [] });
    expect(body.files.map((f) => [f.path, f.change])).toEqual([
      ['workflows/flow.workflow.yaml', 'removed'],
      ['workflows/other.workflow.yaml', 'added'],
    ]);
    const text = runCli(['-w', ws.root, 'diff', String(a), String(b)]).stdout;
    expect(text).toContain(`── short (run #${a}: summarize) `);
    expect(text).toContain(`- step echo: only in run #${a}\n`);
  });

  it('shows a chat prompt (JSON messages) message by message, so a changed line is one line', async () => {
    const ws = workspace({ ...FILES, 'quire.yaml': 'llm:\n  api: openai-chat\n  retries: 0\n' });
    const a = await record(ws, 'flow', ['text=First line.']);
    ws.write('blocks/summarize.md', 'Summarize in about {{input.words}} words:\n{{input.text}}\n');
    const b = await record(ws, 'flow', ['text=First line.']);
    const summarize = diffJson(ws, String(a), String(b)).body.steps.find((s) => s.name === 'summarize')!;
    expect(summarize.prompt.patch).toContain('\n [system]\n You are terse.\n [user]\n-Summarize in 12 words:\n+Summarize in about 12 words:\n First line.\n');
  });

  it('refuses bad run ids as usage errors (exit 2) and names unknown runs (NOT_FOUND)', async () => {
    const ws = workspace();
    const id = await record(ws, 'flow', ['text=x']);
    for (const bad of [['abc'], ['0'], ['1.5'], ['-3'], [String(id), '2x'], ['1e2']]) {
      const result = runCli(['-w', ws.root, 'diff', ...bad, '--json']);
      expect(result.code, bad.join(' ')).toBe(2);
      expect((JSON.parse(result.stdout) as ErrorJson).error.code).toBe('USAGE');
    }
    expect(runCli(['-w', ws.root, 'diff']).code).toBe(2);
    const unknown = diffJson(ws, String(id), String(id + 40));
    expect(unknown.code).toBe(1);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND', message: `no run #${id + 40}` });
    expect(unknown.body.error.hint).toContain('quire runs');
    expect(diffJson(ws, String(id + 41), String(id)).body.error.message).toBe(`no run #${id + 41}`);
    const same = runCli(['-w', ws.root, 'diff', String(id), String(id)]);
    expect(same.stdout.trimEnd().split('\n').at(-1)).toBe('= 3 steps unchanged: summarize, critique, echo');
  });

  it('without a database: NOT_FOUND, and no database is created', () => {
    const ws = workspace();
    const result = diffJson(ws, '1', '2');
    expect(result.code).toBe(1);
    expect(result.body.error.code).toBe('NOT_FOUND');
    expect(result.body.error.message).toContain('no database');
    expect(runCli(['-w', ws.root, 'diff', '1']).stderr).toContain('hint: run `quire sync`');
    expect(existsSync(ws.dbPath)).toBe(false);
  });
});
