/**
 * `quire test` and `expect:` through the built CLI against a real mock-llm: checks on a
 * step recorded with its response, test cases (inline and from a dataset), a judge
 * payload, embeddings, golden outputs (--update, then a prompt change that fails), JUnit
 * XML, exit codes, and the validation of checks and test files.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { runCli, runCliAsync } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm({ api: 'openai' });
});
afterAll(async () => {
  await mock.close();
});

const temp: TempWorkspace[] = [];
afterAll(() => temp.forEach((ws) => ws.cleanup()));

/** The mock answers `echo: <the prompt's last line>`, one token per word. */
function workspace(extra: Record<string, string> = {}): TempWorkspace {
  const ws = makeWorkspace({
    'quire.yaml': `llm:\n  api: openai\n  retries: 0\nendpoints:\n  "5001": { urls: ["${mock.url}"], concurrency: 4 }\n`,
    'blocks/ask.md': 'Tell me about {{input.topic}}\n',
    'workflows/ask.payload.yaml': 'response_length: 20\ntemperature: 0\nblocks: [ask]\n',
    'workflows/grader.payload.yaml': 'response_length: 20\ntemperature: 0\nblocks: [{ text: "Grade this: {{output}}" }]\n',
    'workflows/topic.workflow.yaml': 'name: topic\ninputs:\n  topic: { type: string }\npayloads:\n  - payload: ask\n    expect:\n      - contains: echo\n      - max_words: 30\n',
    ...extra,
  });
  temp.push(ws);
  return ws;
}

const quire = (ws: TempWorkspace, ...args: string[]) => runCliAsync(['-w', ws.root, ...args]);

function responsesOf(dbPath: string) {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT run_id, content, metadata FROM responses ORDER BY id').all() as { run_id: number; content: string; metadata: string }[];
  db.close();
  return rows.map((r) => ({ runId: r.run_id, content: r.content, metadata: JSON.parse(r.metadata) as Record<string, unknown> }));
}

describe('expect on a workflow step', () => {
  it('runs the checks after the step, records them with the response and prints the failing ones', async () => {
    const ws = workspace({ 'workflows/strict.workflow.yaml': 'name: strict\ninputs:\n  topic: { type: string }\npayloads:\n  - payload: ask\n    expect:\n      - contains: echo\n      - not_contains: cats\n      - { max_words: 2, weight: 2 }\n' });
    const result = await quire(ws, 'run', 'strict', '--input', 'topic=cats');
    expect(result.code, result.stderr).toBe(0); // checks do not fail a run; `quire test` judges
    expect(result.stderr).toContain('✗ checks 1/3 passed');
    expect(result.stderr).toMatch(/✗ not_contains: .*"cats"/);
    const [response] = responsesOf(ws.dbPath);
    expect(response!.metadata['checks']).toMatchObject({ step: 'ask', pass: false, checks: [{ check: 'contains', pass: true }, { check: 'not_contains', pass: false }, { check: 'max_words', pass: false, weight: 2 }] });
  });

  it('an unknown check name is a validation error at its line and column, with "did you mean"', () => {
    const ws = workspace({ 'workflows/typo.workflow.yaml': 'name: typo\npayloads:\n  - payload: ask\n    expect:\n      - contans: fox\n' });
    const result = runCli(['-w', ws.root, 'validate']);
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toMatch(/workflows\/typo\.workflow\.yaml:5:9: unknown check "contans"; did you mean "contains"\?/);
  });
});

describe('quire test', () => {
  it('runs inline and dataset cases with their checks, a judge and embeddings; exit 1 on a failure; JUnit XML', async () => {
    const ws = workspace({
      'data/topics.jsonl': '{"topic": "owls"}\n{"topic": "bats"}\n',
      'workflows/topic.tests.yaml': [
        'workflow: topic',
        'cases:',
        '  - name: cats pass',
        '    inputs: { topic: cats }',
        '    expect:',
        '      ask:',
        '        - icontains: CATS',
        '        - judge: { payload: grader, pass: "^echo: Grade this" }',
        '        - embedding_similar: { to: "echo: Tell me about cats", threshold: 0.9 }',
        '  - name: dogs fail',
        '    inputs: { topic: dogs }',
        '    expect:',
        '      ask: [{ contains: cats }]',
        '  - name: from a file',
        '    dataset: data/topics.jsonl',
        '',
      ].join('\n'),
    });
    const junit = join(ws.root, 'results.xml');
    const result = await quire(ws, 'test', '--junit', junit);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/PASS\s+cats pass/);
    expect(result.stdout).toMatch(/FAIL\s+dogs fail/);
    expect(result.stdout).toMatch(/PASS\s+from a file #1/);
    expect(result.stdout).toMatch(/PASS\s+from a file #2/);
    expect(result.stdout).toContain('3 passed, 1 failed');
    expect(result.stdout).toMatch(/contains: output does not contain "cats"/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite [^>]*name="topic"[^>]*tests="4"[^>]*failures="1"[^>]*errors="0"/);
    expect(xml).toContain('<testcase name="dogs fail"');
    // The judge's own call is recorded in the run, after the step it judged.
    const judge = responsesOf(ws.dbPath).find((r) => r.metadata['judge_for'] === 'ask');
    expect(judge).toMatchObject({ content: expect.stringMatching(/^echo: Grade this: echo: Tell me about cats/) });
    expect(mock.requests.some((r) => r.path === '/v1/embeddings')).toBe(true);
  });

  it('--json is one stable document; every case passing exits 0', async () => {
    const ws = workspace({ 'workflows/topic.tests.yaml': 'workflow: topic\ncases:\n  - name: one\n    inputs: { topic: cats }\n' });
    const result = await quire(ws, 'test', '--json');
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { ok: boolean; passed: number; cases: { name: string; status: string; steps: { checks: { check: string }[] }[] }[] };
    expect(doc).toMatchObject({ ok: true, passed: 1, failed: 0, errors: 0 });
    // The workflow's own checks ran in the case.
    expect(doc.cases[0]!.steps[0]!.checks.map((c) => c.check)).toEqual(['contains', 'max_words']);
  });

  it('golden outputs: --update approves passing outputs in a reviewable file; a prompt change then fails the approved check', async () => {
    const ws = workspace({ 'workflows/topic.tests.yaml': 'workflow: topic\ncases:\n  - name: golden\n    inputs: { topic: cats }\n    expect:\n      ask: [{ approved: true }]\n' });
    const first = await quire(ws, 'test');
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('no approved output yet');
    const update = await quire(ws, 'test', '--update');
    expect(update.code, update.stdout + update.stderr).toBe(0);
    const approved = readFileSync(join(ws.root, 'workflows/topic.approved.yaml'), 'utf8');
    expect(approved).toContain('golden:');
    expect(approved).toContain('echo: Tell me about cats');
    expect((await quire(ws, 'test')).code).toBe(0);
    ws.write('blocks/ask.md', 'Tell me everything about {{input.topic}}\n');
    const changed = await quire(ws, 'test');
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/approved: /);
  });

  it('a tests file naming an unknown workflow, or a step the workflow lacks, is a located validation error', () => {
    const ws = workspace({ 'workflows/bad.tests.yaml': 'workflow: topik\ncases:\n  - name: x\n', 'workflows/topic.tests.yaml': 'workflow: topic\ncases:\n  - name: y\n    inputs: { topic: a }\n    expect:\n      asq: [{ contains: a }]\n' });
    const result = runCli(['-w', ws.root, 'validate']);
    expect(result.code).toBe(1);
    const out = result.stderr + result.stdout;
    expect(out).toMatch(/workflows\/bad\.tests\.yaml:1:11: unknown workflow "topik"; did you mean "topic"\?/);
    expect(out).toMatch(/workflows\/topic\.tests\.yaml:6:\d+: case "y": workflow "topic" has no step "asq"; did you mean "ask"\?/);
  });
});
