/**
 * Issue 7 through the built CLI, where a user meets it: `quire run ... --json` against the
 * mock server with faults, recording into a real SQLite file.
 */
import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_FORMS, startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { runCliAsync } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const ONE_STEP: Record<string, string> = {
  'blocks/ask.md': '{{input.text}}\n',
  'workflows/ask.payload.yaml': 'model_format: chatml\nresponse_length: 50\nblocks: [ask]\n',
  'workflows/flow.workflow.yaml': 'name: flow\ninputs:\n  text: { type: string }\npayloads:\n  - ask\n',
};

const APIS = ['kobold', 'openai', 'openai-chat', 'llamacpp', 'ollama'] as const;

let mock: MockLlm;
const temp: TempWorkspace[] = [];
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
afterEach(() => {
  mock.reset();
  while (temp.length) temp.pop()!.cleanup();
});

function workspace(config: string): TempWorkspace {
  const ws = makeWorkspace({ ...ONE_STEP, 'quire.yaml': config });
  temp.push(ws);
  return ws;
}

interface RunJson {
  ok: boolean;
  status: string;
  error?: { code: string; message: string };
  steps: { content: string; finish_reason: string }[];
}

async function runFlow(ws: TempWorkspace, url: string, text = 'one two three four five six', env: Record<string, string | undefined> = {}) {
  const result = await runCliAsync(['-w', ws.root, 'run', 'flow', '--input', `text=${text}`, '--json', '--endpoint', `5001=${url}`], { env });
  return { ...result, body: JSON.parse(result.stdout) as RunJson };
}

/** The runs and responses rows as the database holds them. */
function recorded(ws: TempWorkspace) {
  const db = new Database(ws.dbPath, { readonly: true });
  try {
    return {
      runs: db.prepare('SELECT status, metadata FROM runs').all() as { status: string; metadata: string }[],
      responses: db.prepare('SELECT content, metadata FROM responses').all() as { content: string; metadata: string }[],
    };
  } finally {
    db.close();
  }
}

describe('quire run: replies that are not a whole stream', () => {
  it.each(APIS)('%s: a 200 text/html page fails the run with LLM_PROTOCOL instead of completing it empty', async (api) => {
    const ws = workspace(`llm:\n  api: ${api}\n  retries: 0\nendpoints:\n  5001: { model: mock-model }\n`);
    const { code, body } = await runFlow(ws, `${mock.url}/__fault/html`);
    expect(code).toBe(1);
    expect(body.status).toBe('failed');
    expect(body.error?.code).toBe('LLM_PROTOCOL');
    expect(body.error?.message).toMatch(/expected a stream \(.+\) but the server answered 200 text\/html: Sign in/);
    const { runs, responses } = recorded(ws);
    expect(runs.map((r) => r.status)).toEqual(['failed']);
    expect(responses).toEqual([]);
  });

  it.each(APIS)('%s: a stream that ends cleanly after 3 tokens without its end fails the run instead of recording the truncated text', async (api) => {
    const ws = workspace(`llm:\n  api: ${api}\n  retries: 0\nendpoints:\n  5001: { model: mock-model }\n`);
    const { code, body } = await runFlow(ws, `${mock.url}/__fault/cut=3`);
    expect(code).toBe(1);
    expect(body.status).toBe('failed');
    expect(body.error?.code).toBe('LLM_PROTOCOL');
    expect(body.error?.message).toContain('the stream was cut: it ended after 3 text messages');
    const { runs, responses } = recorded(ws);
    expect(runs.map((r) => r.status)).toEqual(['failed']);
    expect(JSON.parse(runs[0]!.metadata)).toMatchObject({ failed_step: { index: 0, name: 'ask' }, error: expect.stringContaining('stream was cut') });
    expect(responses).toEqual([]);
  });
});

describe('quire run: a total deadline per request', () => {
  it('deadline_ms under llm: stops a server that streams forever, which timeout_ms alone never does', async () => {
    const ws = workspace('llm:\n  api: kobold\n  retries: 0\n  timeout_ms: 5000\n  deadline_ms: 800\n');
    const started = Date.now();
    const { code, body } = await runFlow(ws, `${mock.url}/__fault/endless,latency=20`);
    expect(code).toBe(1);
    expect(body.status).toBe('failed');
    expect(body.error).toEqual({
      code: 'LLM_TIMEOUT',
      message: '[llm:kobold] POST /api/extra/generate/stream -> no complete reply within 800 ms (the endpoint\'s deadline_ms); the request was stopped',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(recorded(ws).runs.map((r) => r.status)).toEqual(['failed']);
    // The generation was stopped on the server too.
    expect(mock.requests.some((r) => r.path === '/api/extra/abort')).toBe(true);
  });

  it('deadline_ms of an endpoint overrides the one under llm:', async () => {
    const ws = workspace('llm:\n  api: openai\n  retries: 0\n  deadline_ms: 600000\nendpoints:\n  5001: { model: mock-model, deadline_ms: 700 }\n');
    const { code, body } = await runFlow(ws, `${mock.url}/__fault/endless,latency=20`);
    expect(code).toBe(1);
    expect(body.error?.code).toBe('LLM_TIMEOUT');
    expect(body.error?.message).toContain('no complete reply within 700 ms');
  });

  it('deadline_ms is checked: a whole number of ms from 1 to a day', async () => {
    const ok = workspace('llm:\n  deadline_ms: 1000\nendpoints:\n  5001: { deadline_ms: 86400000 }\n');
    const valid = await runCliAsync(['-w', ok.root, 'validate']);
    expect(valid.code, valid.stderr).toBe(0);
    const bad = workspace('llm:\n  deadline_ms: 0\nendpoints:\n  5001: { deadline_ms: 1.5 }\n  5002: { deadline_ms: 86400001 }\n');
    const invalid = await runCliAsync(['-w', bad.root, 'validate']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.split('\n').filter((line) => line.startsWith('quire.yaml:'))).toHaveLength(3);
    expect(invalid.stderr).toContain('deadline_ms');
  });
});

describe('quire run: a server that ignores max tokens', () => {
  it.each(APIS)('%s: the step fails once the stream passes 4 text messages per token of response_length', async (api) => {
    // A deadline far off: the length cap, not the clock, ends it.
    const ws = workspace(`llm:\n  api: ${api}\n  retries: 0\n  deadline_ms: 15000\nendpoints:\n  5001: { model: mock-model }\n`);
    const started = Date.now();
    const { code, body } = await runFlow(ws, `${mock.url}/__fault/endless`);
    expect(code).toBe(1);
    expect(body.status).toBe('failed');
    expect(body.error?.code).toBe('LLM_PROTOCOL');
    expect(body.error?.message).toMatch(/-> the server ignored max tokens \(50\): more than 200 text messages \(4 per token asked for\); the request was stopped$/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const { runs, responses } = recorded(ws);
    expect(runs.map((r) => r.status)).toEqual(['failed']);
    expect(responses).toEqual([]);
  });
});

describe('quire run: an API key a server echoes back', () => {
  const KEY = "sk-test/SECRET+key=1 ~!*'9";
  /** The key in every form the mock can echo, and the telltale parts of each. */
  const forms = [
    KEY, 'SECRET', encodeURIComponent(KEY), encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    new URLSearchParams([['k', KEY]]).toString().slice(2), Buffer.from(`Bearer ${KEY}`).toString('base64').slice(4, -4),
  ];
  const leaks = (text: string) => forms.filter((form) => text.includes(form) || text.replace(/\p{Cf}/gu, '').includes(form));

  it.each(ECHO_FORMS)('reaches neither --json output, stderr, runs/show nor the database when echoed %s in an error body', async (form) => {
    const ws = workspace('llm:\n  api: openai\n  retries: 0\n  api_key_env: QUIRE_TEST_KEY\nendpoints:\n  5001: { model: mock-model }\n');
    const env = { QUIRE_TEST_KEY: KEY };
    const { code, body, stdout, stderr } = await runFlow(ws, `${mock.url}/__fault/echoKey=${form}`, 'hello', env);
    expect(code).toBe(1);
    expect(body.error?.code).toBe('LLM_HTTP');
    expect(body.error?.message).toBe('[llm:openai] POST /v1/completions -> 401: Invalid API key: *** (authentication_error)');
    const shown = [stdout, stderr];
    for (const args of [['runs', '--json'], ['show', '1', '--json'], ['runs'], ['show', '1']]) {
      const result = await runCliAsync(['-w', ws.root, ...args]);
      expect(result.code, result.stderr).toBe(0);
      shown.push(result.stdout, result.stderr);
    }
    expect(shown.join('\n')).toContain('Invalid API key: ***');
    const dataDir = join(ws.root, 'data');
    const stored = readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name)).toString('utf8')).join('\n');
    expect(stored).toContain('Invalid API key: ***');
    expect(leaks(shown.join('\n'))).toEqual([]);
    expect(leaks(stored)).toEqual([]);
  });
});
