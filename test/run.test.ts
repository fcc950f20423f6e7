/**
 * `quire run` end to end: the real CLI in a child process, talking over HTTP to the
 * real mock-llm server, recording into a real SQLite file.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { BIN, runCliAsync } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';
import { spawn } from 'node:child_process';

const THREE_STEPS: Record<string, string> = {
  'blocks/persona.md': 'You are terse.\n',
  'blocks/summarize.md': 'Summarize in {{input.words}} words:\n{{input.text}}\n',
  'blocks/critique.md': 'Critique ({{vars.tone}}):\n{{previous.output}}\n',
  'workflows/summarize.payload.yaml': 'model_format: chatml\nresponse_length: 50\nsystem: [persona]\nblocks: [summarize]\n',
  'workflows/critique.payload.yaml': 'model_format: llama3\nresponse_length: 50\nblocks: [critique]\n',
  'workflows/flow.workflow.yaml': [
    'name: flow',
    'inputs:',
    '  text: { type: string }',
    '  words: { type: integer, default: 12 }',
    'payloads:',
    '  - summarize',
    '  - payload: critique',
    '    as: review',
    '    vars: { tone: blunt }',
    '  - name: final',
    '    model_format: mistral',
    '    blocks:',
    '      - text: "Improve {{steps.summarize.output}} using {{steps.review.output}}"',
    '',
  ].join('\n'),
};

let mock: MockLlm;
const temp: TempWorkspace[] = [];
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
afterEach(() => {
  mock.setFaults({});
  mock.reset();
  while (temp.length) temp.pop()!.cleanup();
});

function workspace(files: Record<string, string> = THREE_STEPS, config = 'llm:\n  api: kobold\n  retries: 1\n'): TempWorkspace {
  const ws = makeWorkspace({ ...files, 'quire.yaml': config });
  temp.push(ws);
  return ws;
}

function open(ws: TempWorkspace) {
  return new Database(ws.dbPath, { readonly: true });
}

const run = (ws: TempWorkspace, args: string[], endpoint = mock.url) => runCliAsync(['-w', ws.root, 'run', ...args, '--endpoint', `5001=${endpoint}`]);

describe('quire run', () => {
  it('runs every step in order, feeds outputs forward, and records the run and each response', async () => {
    const ws = workspace();
    const result = await run(ws, ['flow', '--input', 'text=The fox jumps.', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as { run_id: number; status: string; steps: { name: string; content: string }[] };
    expect(body.status).toBe('completed');
    expect(body.steps.map((s) => s.name)).toEqual(['summarize', 'review', 'final']);

    const db = open(ws);
    const runRow = db.prepare('SELECT * FROM runs WHERE id = ?').get(body.run_id) as { status: string; completed_at: string; metadata: string; workflow_id: number };
    expect(runRow.status).toBe('completed');
    expect(runRow.completed_at).toBeTruthy();
    const meta = JSON.parse(runRow.metadata) as Record<string, unknown>;
    expect(meta).toMatchObject({ inputs: { text: 'The fox jumps.', words: 12 }, trigger: 'cli', quire_version: expect.any(String) });
    expect(Object.keys(meta['files'] as object).sort()).toEqual([
      'blocks/critique.md', 'blocks/persona.md', 'blocks/summarize.md', 'quire.yaml',
      'workflows/critique.payload.yaml', 'workflows/flow.workflow.yaml', 'workflows/summarize.payload.yaml',
    ]);
    expect(meta).toHaveProperty('git_commit');
    expect(meta).not.toHaveProperty('pid');

    const responses = db.prepare('SELECT r.*, p.name AS payload FROM responses r JOIN payloads p ON p.id = r.payload_id WHERE run_id = ? ORDER BY r.id').all(body.run_id) as { content: string; prompt: string; metadata: string; payload: string }[];
    expect(responses.map((r) => r.payload)).toEqual(['summarize', 'critique', 'flow/final']);
    // What was stored is what was sent: the mock saw exactly the stored prompts.
    const sent = mock.requests.filter((r) => r.path === '/api/extra/generate/stream').map((r) => (r.body as { prompt: string }).prompt);
    expect(sent).toEqual(responses.map((r) => r.prompt));
    expect(responses[0]!.prompt).toBe('<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nSummarize in 12 words:\nThe fox jumps.<|im_end|>\n<|im_start|>assistant\n');
    // Later steps read earlier outputs.
    // (llama3 trims message text, as its official template does)
    expect(responses[1]!.prompt).toContain(`Critique (blunt):\n${responses[0]!.content.trim()}`);
    expect(responses[2]!.prompt).toContain(`Improve ${responses[0]!.content} using ${responses[1]!.content}`);
    expect(responses.map((r) => r.content)).toEqual(body.steps.map((s) => s.content));
    const stepMeta = JSON.parse(responses[1]!.metadata) as Record<string, unknown>;
    expect(stepMeta).toMatchObject({ step: 'review', step_index: 1, api: 'kobold', endpoint: mock.url, model_format: 'llama3', attempts: 1, sampler: { temperature: 0.6, max_tokens: 50 } });
    expect(stepMeta['total_ms']).toEqual(expect.any(Number));
    expect(stepMeta['finish_reason']).toEqual(expect.any(String));
    db.close();
  });

  it('a rerun of an unchanged workspace sends the same prompts, and picks up an edit', async () => {
    const ws = workspace();
    const prompts = () => {
      const db = open(ws);
      const rows = (db.prepare('SELECT prompt FROM responses ORDER BY id').all() as { prompt: string }[]).map((r) => r.prompt);
      db.close();
      return rows;
    };
    expect((await run(ws, ['flow', '--input', 'text=Same.'])).code).toBe(0);
    // The second run reads the workflow, payloads and blocks from the database (nothing changed).
    expect((await run(ws, ['flow', '--input', 'text=Same.'])).code).toBe(0);
    const [first, second] = [prompts().slice(0, 3), prompts().slice(3, 6)];
    expect(second).toEqual(first);
    ws.write('blocks/persona.md', 'You are verbose.\n');
    expect((await run(ws, ['flow', '--input', 'text=Same.'])).code).toBe(0);
    expect(prompts()[6]).toContain('You are verbose.');
  });

  it('render and validate give the same answers from the parse cache of a sync', async () => {
    const ws = workspace();
    const before = await runCliAsync(['-w', ws.root, 'render', 'flow', '--input', 'text=Cached?', '--json']);
    expect(before.code, before.stderr).toBe(0);
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    const after = await runCliAsync(['-w', ws.root, 'render', 'flow', '--input', 'text=Cached?', '--json']);
    expect(after.stdout).toBe(before.stdout);
    ws.write('blocks/critique.md', 'Critique {{vars.tone}\n');
    const validate = await runCliAsync(['-w', ws.root, 'validate']);
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain('blocks/critique.md:1:');
  });

  it('prints whole responses when stdout is not a terminal, progress on stderr', async () => {
    const ws = workspace();
    const result = await run(ws, ['flow', '--input', 'text=Hi.']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(3);
    expect(result.stderr).toMatch(/\[1\/3\] summarize/);
    expect(result.stderr).toMatch(/run #1 completed/);
  });

  for (const api of ['kobold', 'openai', 'openai-chat', 'ollama', 'llamacpp', 'auto'] as const) {
    it(`talks to the ${api} API as configured in quire.yaml`, async () => {
      const ws = workspace(THREE_STEPS, `llm:\n  api: ${api}\n  retries: 0\nendpoints:\n  5001: { model: mock-model }\n`);
      const result = await run(ws, ['flow', '--input', 'text=Hello there.', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const paths = new Set(mock.requests.filter((r) => r.method === 'POST').map((r) => r.path));
      const expected = { kobold: '/api/extra/generate/stream', openai: '/v1/completions', 'openai-chat': '/v1/chat/completions', ollama: '/api/generate', llamacpp: '/completion', auto: '/api/extra/generate/stream' }[api];
      expect(paths).toContain(expected);
      const db = open(ws);
      const apis = (db.prepare('SELECT metadata FROM responses').all() as { metadata: string }[]).map((r) => (JSON.parse(r.metadata) as { api: string }).api);
      expect(apis).toEqual(Array(3).fill(api === 'auto' ? 'kobold' : api));
      db.close();
    });
  }

  it('rejects bad inputs before recording anything', async () => {
    const ws = workspace();
    const missing = await run(ws, ['flow']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('missing required input "text"');
    const wrong = await run(ws, ['flow', '--input', 'text=x', '--input', 'words=many', '--input', 'wrods=3']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('input "words" must be an integer');
    expect(wrong.stderr).toContain('unknown input "wrods"');
    const db = open(ws);
    expect(db.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 0 });
    db.close();
    expect(mock.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('--dry-run renders every step and records nothing', async () => {
    const ws = workspace();
    const result = await run(ws, ['flow', '--input', 'text=Dry.', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('<output of step summarize>');
    expect(result.stdout).toContain('[INST] Improve <output of step summarize> using <output of step review> [/INST]');
    expect(() => readFileSync(ws.dbPath)).toThrow();
    expect(mock.requests).toEqual([]);
  });

  it('a failing server ends the run failed with the error, keeping completed responses', async () => {
    const files = { ...THREE_STEPS, 'workflows/critique.payload.yaml': 'llm_port: 5002\nresponse_length: 50\nblocks: [critique]\n' };
    const ws = workspace(files, 'llm:\n  api: kobold\n  retries: 1\n');
    const result = await runCliAsync(['-w', ws.root, 'run', 'flow', '--input', 'text=x', '--endpoint', `5001=${mock.url}`, '--endpoint', `5002=${mock.url}/__fault/status=500`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/run #1 failed: .*500/);
    const db = open(ws);
    const runRow = db.prepare('SELECT status, metadata FROM runs').get() as { status: string; metadata: string };
    expect(runRow.status).toBe('failed');
    expect(JSON.parse(runRow.metadata)).toMatchObject({ failed_step: { index: 1, name: 'review' }, steps_completed: 1, error: expect.stringContaining('500') });
    expect(db.prepare('SELECT count(*) AS n FROM responses').get()).toEqual({ n: 1 });
    db.close();
    // retries: 1 -> two attempts at the failing step
    expect(mock.requests.filter((r) => r.fault === 'status=500' && r.method === 'POST' && r.path.includes('generate'))).toHaveLength(2);
  });

  it.each([
    ['status=500', /500/],
    ['status=503', /503|busy/i],
    ['status=429,retryAfter=0', /429/],
    ['hang', /no response within 700 ms/],
    ['drop=1', /dropped|connection/i],
    ['malformed', /JSON|malformed|invalid/i],
  ])('fault %s: the run ends failed with a useful error and keeps the completed step', async (fault, message) => {
    const files = { ...THREE_STEPS, 'workflows/critique.payload.yaml': 'llm_port: 5002\nresponse_length: 50\nblocks: [critique]\n' };
    const ws = workspace(files, 'llm:\n  api: kobold\n  retries: 1\n  timeout_ms: 700\n');
    const result = await runCliAsync(['-w', ws.root, 'run', 'flow', '--input', 'text=x', '--json', '--endpoint', `5001=${mock.url}`, '--endpoint', `5002=${mock.url}/__fault/${fault}`]);
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout) as { status: string; error: { message: string } };
    expect(body.status).toBe('failed');
    expect(body.error.message).toMatch(message);
    const db = open(ws);
    expect(db.prepare('SELECT status FROM runs').pluck().get()).toBe('failed');
    expect(db.prepare('SELECT count(*) FROM responses').pluck().get()).toBe(1);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('retries a busy server and records the attempts', async () => {
    const ws = workspace(THREE_STEPS, 'llm:\n  api: kobold\n  retries: 2\n');
    const result = await run(ws, ['flow', '--input', 'text=x', '--json'], `${mock.url}/__fault/status=503,failFirst=1`);
    expect(result.code, result.stderr).toBe(0);
    const db = open(ws);
    const attempts = (db.prepare('SELECT metadata FROM responses ORDER BY id').all() as { metadata: string }[]).map((r) => (JSON.parse(r.metadata) as { attempts: number }).attempts);
    expect(attempts).toEqual([2, 1, 1]);
    db.close();
  });

  it('fails a step whose prompt does not fit the context, before generating', async () => {
    const small = await startMockLlm({ api: 'all', contextLength: 40 });
    try {
      for (const api of ['kobold', 'llamacpp']) {
        const ws = workspace(THREE_STEPS, `llm:\n  api: ${api}\n  retries: 0\n`);
        const result = await run(ws, ['flow', '--input', 'text=x'], small.url);
        expect(result.code, api).toBe(1);
        expect(result.stderr).toMatch(/response_length is 50, but the server's context is 40 tokens/);
      }
      expect(small.requests.filter((r) => r.path === '/api/extra/generate/stream' || r.path === '/completion')).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('takes API keys only from the environment and never stores them', async () => {
    const secured = await startMockLlm({ api: 'openai', apiKey: 'sk-test-SECRET-123' });
    try {
      const ws = workspace(THREE_STEPS, 'llm:\n  api: openai\n  retries: 0\n  api_key_env: QUIRE_TEST_KEY\n');
      const without = await runCliAsync(['-w', ws.root, 'run', 'flow', '--input', 'text=x', '--endpoint', `5001=${secured.url}`], { env: { QUIRE_TEST_KEY: undefined } });
      expect(without.code).toBe(1);
      expect(without.stderr).toContain('QUIRE_TEST_KEY');
      const withKey = await runCliAsync(['-w', ws.root, 'run', 'flow', '--input', 'text=x', '--json', '--endpoint', `5001=${secured.url}`], { env: { QUIRE_TEST_KEY: 'sk-test-SECRET-123' } });
      expect(withKey.code, withKey.stderr).toBe(0);
      expect(withKey.stdout).not.toContain('SECRET');
      expect(readFileSync(ws.dbPath).includes('SECRET')).toBe(false);
      const show = await runCliAsync(['-w', ws.root, 'show', '1', '--json']);
      expect(show.stdout).not.toContain('SECRET');
    } finally {
      await secured.close();
    }
  });
});

describe('history', () => {
  it('runs and show print the documented --json documents', async () => {
    const ws = workspace();
    expect((await run(ws, ['flow', '--input', 'text=History.'])).code).toBe(0);
    const failing = { ...THREE_STEPS, 'workflows/critique.payload.yaml': 'llm_port: 5002\nresponse_length: 50\nblocks: [critique]\n' };
    for (const [path, text] of Object.entries(failing)) ws.write(path, text);
    await runCliAsync(['-w', ws.root, 'run', 'flow', '--input', 'text=x', '--endpoint', `5001=${mock.url}`, '--endpoint', `5002=${mock.url}/__fault/status=400`]);

    const runs = JSON.parse((await runCliAsync(['-w', ws.root, 'runs', '--json'])).stdout) as { ok: boolean; runs: Record<string, unknown>[] };
    expect(runs.ok).toBe(true);
    expect(runs.runs.map((r) => Object.keys(r).sort())).toEqual(Array(2).fill(['completed_at', 'error', 'host', 'id', 'started_at', 'status', 'steps', 'user', 'workflow']));
    expect(runs.runs.map((r) => [r['id'], r['status'], r['steps']])).toEqual([[2, 'failed', 1], [1, 'completed', 3]]);
    expect(runs.runs[0]!['error']).toMatch(/400/);
    const limited = JSON.parse((await runCliAsync(['-w', ws.root, 'runs', '--json', '--limit', '1', '--workflow', 'flow'])).stdout) as { runs: unknown[] };
    expect(limited.runs).toHaveLength(1);

    const show = JSON.parse((await runCliAsync(['-w', ws.root, 'show', '1', '--json'])).stdout) as { ok: boolean; run: Record<string, unknown>; responses: Record<string, unknown>[] };
    expect(Object.keys(show.run).sort()).toEqual(['completed_at', 'metadata', 'started_at', 'status', 'workflow', 'workflow_id', 'id'].sort());
    expect(show.responses.map((r) => Object.keys(r).sort())).toEqual(Array(3).fill(['content', 'created_at', 'id', 'metadata', 'payload', 'payload_id', 'prompt']));
    expect(show.responses.map((r) => r['payload'])).toEqual(['summarize', 'critique', 'flow/final']);

    const missing = await runCliAsync(['-w', ws.root, 'show', '99']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no run #99');
    const usage = await runCliAsync(['-w', ws.root, 'show', 'abc']);
    expect(usage.code).toBe(2);
  });
});

describe('terminal output', () => {
  const hasScript = existsSync('/usr/bin/script');

  it.skipIf(!hasScript)('streams tokens live to a terminal, each response printed once', async () => {
    const ws = workspace();
    const command = [process.execPath, BIN, '-w', ws.root, 'run', 'flow', '--input', "'text=one two three four five six'", '--endpoint', `5001=${mock.url}/__fault/latency=15`].join(' ');
    // util-linux `script` gives the child a real pseudo-terminal.
    const child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const output = chunks.join('');
    expect(code, output).toBe(0);
    const db = open(ws);
    const contents = (db.prepare('SELECT content FROM responses ORDER BY id').all() as { content: string }[]).map((r) => r.content);
    db.close();
    for (const content of contents) expect(output.split(content.trim()).length - 1, content).toBeGreaterThanOrEqual(1);
    // The first response arrived in pieces (streamed), not in one write after the step ended.
    const first = contents[0]!.trim().split(' ');
    const piecesWithWords = chunks.filter((chunk) => first.some((word) => chunk.includes(word))).length;
    expect(piecesWithWords).toBeGreaterThan(2);
  });
});

describe('interruptions', () => {
  it('Ctrl-C aborts the generation on the server and records the run cancelled', async () => {
    const ws = workspace();
    const child = spawn(process.execPath, [BIN, '-w', ws.root, 'run', 'flow', '--input', 'text=one two three four five', '--endpoint', `5001=${mock.url}/__fault/latency=400`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => mock.requests.some((r) => r.path === '/api/extra/generate/stream'));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(1);
    const abort = mock.requests.find((r) => r.path === '/api/extra/abort');
    const generate = mock.requests.find((r) => r.path === '/api/extra/generate/stream');
    expect(abort?.body).toMatchObject({ genkey: (generate!.body as { genkey: string }).genkey });
    const db = open(ws);
    expect(db.prepare('SELECT status FROM runs').get()).toEqual({ status: 'cancelled' });
    db.close();
  });

  it('SIGKILL mid-run keeps completed responses and a sound database; the next run marks it failed', async () => {
    const files = { ...THREE_STEPS, 'workflows/critique.payload.yaml': 'llm_port: 5002\nresponse_length: 50\nblocks: [critique]\n' };
    const ws = workspace(files);
    const child = spawn(process.execPath, [BIN, '-w', ws.root, 'run', 'flow', '--input', 'text=x', '--endpoint', `5001=${mock.url}`, '--endpoint', `5002=${mock.url}/__fault/hang`], { stdio: 'ignore' });
    await waitFor(() => mock.requests.some((r) => r.fault === 'hang' && r.method === 'POST'));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const db = new Database(ws.dbPath);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT status FROM runs').get()).toEqual({ status: 'running' });
    expect(db.prepare('SELECT count(*) AS n FROM responses').get()).toEqual({ n: 1 });
    db.close();
    const next = await runCliAsync(['-w', ws.root, 'run', 'flow', '--input', 'text=x', '--endpoint', `5001=${mock.url}`, '--endpoint', `5002=${mock.url}`]);
    expect(next.code, next.stderr).toBe(0);
    const after = open(ws);
    const first = after.prepare('SELECT status, metadata FROM runs WHERE id = 1').get() as { status: string; metadata: string };
    expect(first.status).toBe('failed');
    expect(JSON.parse(first.metadata).error).toMatch(/interrupted/);
    after.close();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
