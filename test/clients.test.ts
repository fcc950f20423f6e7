/**
 * Endpoint clients: pools of servers (`urls:`) and the per-endpoint concurrency cap,
 * against real mock-llm servers.
 */
import Database from 'better-sqlite3';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient, LlmError } from '../src/adapters/llm/index.js';
import { createPool, limitConcurrency } from '../src/app/clients.js';
import type { LlmClient } from '../src/core/llm.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { runCliAsync } from './helpers/cli.js';
import { requestFor } from './helpers/llm-cases.js';
import { makeWorkspace } from './helpers/workspace.js';

let a: MockLlm;
let b: MockLlm;
beforeAll(async () => {
  [a, b] = await Promise.all([startMockLlm({ api: 'openai' }), startMockLlm({ api: 'openai' })]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

const FOUR_STEPS = {
  'blocks/say.md': 'Say {{vars.word}}.\n',
  'workflows/say.payload.yaml': 'llm_port: 5002\nresponse_length: 8\nblocks: [say]\n',
  'workflows/four.workflow.yaml': ['payloads:', ...['one', 'two', 'three', 'four'].map((w) => `  - { payload: say, as: ${w}, vars: { word: ${w} } }`), ''].join('\n'),
};

async function freePortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

function endpointsOfResponses(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  const rows = (db.prepare('SELECT metadata FROM responses ORDER BY id').all() as { metadata: string }[]).map((r) => (JSON.parse(r.metadata) as { endpoint: string }).endpoint);
  db.close();
  return rows;
}

describe('pools', () => {
  it('spreads sequential steps over the members and records which one answered', async () => {
    a.reset();
    b.reset();
    const ws = makeWorkspace({ ...FOUR_STEPS, 'quire.yaml': `llm: { retries: 0 }\nendpoints:\n  5002: { api: openai, urls: [${a.url}, ${b.url}] }\n` });
    try {
      const result = await runCliAsync(['-w', ws.root, 'run', 'four']);
      expect(result.code, result.stderr).toBe(0);
      const generations = (m: MockLlm) => m.requests.filter((r) => r.path === '/v1/completions').length;
      expect([generations(a), generations(b)]).toEqual([2, 2]);
      expect(endpointsOfResponses(ws.dbPath)).toEqual([a.url, b.url, a.url, b.url]);
    } finally {
      ws.cleanup();
    }
  });

  it('moves past a member that does not answer', async () => {
    a.reset();
    const dead = await freePortUrl();
    const ws = makeWorkspace({ ...FOUR_STEPS, 'quire.yaml': `llm: { retries: 0 }\nendpoints:\n  5002: { api: openai, urls: [${dead}, ${a.url}] }\n` });
    try {
      const result = await runCliAsync(['-w', ws.root, 'run', 'four']);
      expect(result.code, result.stderr).toBe(0);
      expect(endpointsOfResponses(ws.dbPath)).toEqual([a.url, a.url, a.url, a.url]);
    } finally {
      ws.cleanup();
    }
  });
});

describe('pool circuit breaker', () => {
  it('a member answering 5xx: each request moves to the next member; after 3 in a row it rests, and its work goes elsewhere', async () => {
    a.reset();
    b.reset();
    const failing = createLlmClient({ api: 'openai', url: `${a.url}/__fault/status=503`, timeoutMs: 2_000, retries: 0 });
    const healthy = createLlmClient({ api: 'openai', url: b.url, timeoutMs: 2_000, retries: 0 });
    const pool = createPool([failing, healthy]);
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await pool.complete(requestFor(`line ${i}`)));
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 8 }, (_, i) => `echo: line ${i}`));
    expect(results.every((r) => r.endpoint === b.url)).toBe(true);
    // Sequential requests alternate between members while both are up: the failing one was
    // tried until its third failure in a row, then skipped.
    expect(a.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
    await pool.close();
  });

  it('a request the server rejects as wrong (4xx) is not retried on the other members', async () => {
    a.reset();
    b.reset();
    const rejecting = createLlmClient({ api: 'openai', url: `${a.url}/__fault/status=400`, timeoutMs: 2_000, retries: 0 });
    const other = createLlmClient({ api: 'openai', url: `${b.url}/__fault/status=400`, timeoutMs: 2_000, retries: 0 });
    const pool = createPool([rejecting, other]);
    await expect(pool.complete(requestFor('x'))).rejects.toBeInstanceOf(LlmError);
    expect([...a.requests, ...b.requests].filter((r) => r.method === 'POST')).toHaveLength(1);
    await pool.close();
  });
});

describe('concurrency cap', () => {
  /** The real adapter, with a count of the completions inside it at once. */
  function counted(client: LlmClient) {
    const stats = { active: 0, max: 0, calls: 0 };
    const wrapped: LlmClient = {
      api: client.api,
      url: client.url,
      async complete(request, options) {
        stats.calls++;
        stats.active++;
        stats.max = Math.max(stats.max, stats.active);
        try {
          return await client.complete(request, options);
        } finally {
          stats.active--;
        }
      },
      inspectContext: (prompt, options) => client.inspectContext(prompt, options),
      close: () => client.close(),
    };
    return { wrapped, stats };
  }

  it('lets at most `concurrency` completions run at once, and runs them all', async () => {
    const slow = createLlmClient({ api: 'openai', url: `${a.url}/__fault/latency=20`, timeoutMs: 5_000, retries: 0 });
    const capped = counted(slow);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => limitConcurrency(capped.wrapped, 2).complete(requestFor(`line ${i}`))));
    // A fresh limiter per call would not limit anything: check the shared one.
    const shared = counted(slow);
    const limited = limitConcurrency(shared.wrapped, 2);
    const sharedResults = await Promise.all(Array.from({ length: 6 }, (_, i) => limited.complete(requestFor(`line ${i}`))));
    expect(results).toHaveLength(6);
    expect(capped.stats.max).toBe(6);
    expect(sharedResults.map((r) => r.text)).toEqual(Array.from({ length: 6 }, (_, i) => `echo: line ${i}`));
    expect(shared.stats.max).toBe(2);
  });

  it('drops a queued request whose signal fires, at once and without taking a slot', async () => {
    a.reset();
    // ~7 tokens at 40 ms: the first request holds the only slot for about 280 ms.
    const slow = createLlmClient({ api: 'openai', url: `${a.url}/__fault/latency=40`, timeoutMs: 5_000, retries: 0 });
    const inner = counted(slow);
    const limited = limitConcurrency(inner.wrapped, 1);
    const first = limited.complete(requestFor('w1 w2 w3 w4 w5'));
    const controller = new AbortController();
    const queued = limited.complete(requestFor('never sent'), { signal: controller.signal });
    const third = limited.complete(requestFor('third'));
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);

    const error = await queued.then(() => undefined, (e: unknown) => e);
    const waitedMs = Date.now() - started;
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).code).toBe('CANCELLED');
    expect((error as LlmError).attempts).toBe(0);
    expect(waitedMs).toBeLessThan(150); // not when the slot frees
    // An already-aborted signal does not even join the queue.
    const late = await limited.complete(requestFor('never sent'), { signal: controller.signal }).then(() => undefined, (e: unknown) => e);
    expect((late as LlmError).code).toBe('CANCELLED');

    expect((await first).text).toBe('echo: w1 w2 w3 w4 w5');
    expect((await third).text).toBe('echo: third');
    expect(inner.stats.calls).toBe(2); // the cancelled requests never reached the client
    expect(inner.stats.max).toBe(1);
    const prompts = a.requests.filter((r) => r.path === '/v1/completions').map((r) => (r.body as { prompt: string }).prompt);
    expect(prompts.some((p) => p.includes('never sent'))).toBe(false);
  });
});
