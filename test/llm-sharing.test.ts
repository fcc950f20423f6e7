/**
 * Lookups shared by concurrent callers (an endpoint's client, API detection, the model
 * name, the context size): one caller's cancellation never fails the others. Real HTTP
 * against mock-llm, with generation latency so the calls overlap.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearDetectedApis, createLlmClient, detectApi, LlmError, resolveLlmClient } from '../src/adapters/llm/index.js';
import { createClientFactory } from '../src/app/clients.js';
import type { ResolvedEndpoint } from '../src/app/endpoints.js';
import { startMockLlm, type MockApiMode, type MockLlm } from '../src/mock-llm/index.js';
import { requestFor } from './helpers/llm-cases.js';

const servers = new Map<MockApiMode, MockLlm>();
const mock = (mode: MockApiMode): MockLlm => servers.get(mode)!;

beforeAll(async () => {
  for (const mode of ['kobold', 'openai', 'llamacpp'] as const) servers.set(mode, await startMockLlm({ api: mode }));
});
afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()));
});
beforeEach(() => {
  clearDetectedApis();
  for (const server of servers.values()) server.reset();
});

/** The rejection of a promise (undefined when it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (e: unknown) => e);
}

function expectCancelled(error: unknown): void {
  expect(error).toBeInstanceOf(LlmError);
  expect((error as LlmError).code).toBe('CANCELLED');
}

/** Requests the server saw on `path`. */
const count = (server: MockLlm, path: string): number => server.requests.filter((r) => r.path === path).length;

describe('an endpoint client shared by concurrent callers', () => {
  it('survives the first caller\'s cancellation: the second gets the client and completes', async () => {
    const server = mock('kobold');
    const endpoint: ResolvedEndpoint = {
      port: server.port, urls: [`${server.url}/__fault/latency=20`], api: 'auto', timeoutMs: 5_000, retries: 0, concurrency: 4,
    };
    const getClient = createClientFactory();
    const first = new AbortController();
    const firstClient = getClient(endpoint, first.signal);
    const secondClient = getClient(endpoint, new AbortController().signal);
    first.abort(); // while the shared detection is still asking the server

    expectCancelled(await rejection(firstClient));
    const client = await secondClient;
    expect(client.api).toBe('kobold');
    const result = await client.complete(requestFor('still wanted'));
    expect(result.text).toBe('echo: still wanted');
    expect(count(server, '/api/extra/version')).toBe(1); // one detection, shared
    expect(await getClient(endpoint)).toBe(client); // and kept
  });

  it('cancels one of two completions sharing the client; the other completes', async () => {
    const server = mock('kobold');
    const endpoint: ResolvedEndpoint = {
      port: server.port, urls: [`${server.url}/__fault/latency=20`], api: 'auto', timeoutMs: 5_000, retries: 0, concurrency: 4,
    };
    const getClient = createClientFactory();
    const first = new AbortController();
    const run = async (line: string, signal?: AbortSignal) => {
      const client = await getClient(endpoint, signal);
      await client.inspectContext(line, { ...(signal ? { signal } : {}), reserveTokens: 50 });
      return client.complete(requestFor(line), { ...(signal ? { signal } : {}), onToken: () => undefined });
    };
    const cancelled = run('w1 w2 w3 w4 w5 w6 w7 w8', first.signal);
    const kept = run('w1 w2 w3 w4 w5 w6 w7 w8');
    setTimeout(() => first.abort(), 60); // mid-generation

    expectCancelled(await rejection(cancelled));
    expect((await kept).text).toBe('echo: w1 w2 w3 w4 w5 w6 w7 w8');
    expect(count(server, '/api/extra/true_max_context_length')).toBe(1);
  });
});

describe('api detection shared by concurrent callers', () => {
  it('goes on for the others when one caller stops waiting', async () => {
    const server = mock('llamacpp');
    const first = new AbortController();
    const detections = [detectApi(server.url, { timeoutMs: 2_000 }, first.signal), detectApi(server.url, { timeoutMs: 2_000 })];
    first.abort();
    expectCancelled(await rejection(detections[0]!));
    expect(await detections[1]).toBe('llamacpp');
    expect(count(server, '/api/extra/version')).toBe(1);
  });

  it('an `auto` client: a cancelled first call does not fail a concurrent one', async () => {
    const server = mock('llamacpp');
    const client = createLlmClient({ api: 'auto', url: server.url, timeoutMs: 2_000, retries: 0 });
    const first = new AbortController();
    const calls = [client.complete(requestFor('one'), { signal: first.signal }), client.complete(requestFor('two'))];
    first.abort();
    expectCancelled(await rejection(calls[0]!));
    expect((await calls[1])?.text).toBe('echo: two');
    expect(client.api).toBe('llamacpp');
    expect((await resolveLlmClient({ api: 'auto', url: server.url, timeoutMs: 2_000, retries: 0 })).api).toBe('llamacpp');
    expect(count(server, '/props')).toBe(1); // detected once for the URL
  });
});

describe('the model lookup shared by concurrent callers', () => {
  it.each(['openai', 'openai-chat'] as const)('%s: a cancelled first caller does not fail the second, and the model is asked once', async (api) => {
    const server = mock('openai');
    const client = createLlmClient({ api, url: `${server.url}/__fault/latency=10`, timeoutMs: 2_000, retries: 0 });
    const first = new AbortController();
    const calls = [client.complete(requestFor('one'), { signal: first.signal }), client.complete(requestFor('two'))];
    first.abort(); // the /v1/models lookup is in flight

    expectCancelled(await rejection(calls[0]!));
    const result = await calls[1]!;
    expect(result.text).toBe('echo: two');
    expect(count(server, '/v1/models')).toBe(1);
    const path = api === 'openai' ? '/v1/completions' : '/v1/chat/completions';
    expect(server.requests.filter((r) => r.path === path).map((r) => (r.body as { model?: string }).model)).toEqual(['mock-model']);
  });
});

/**
 * A server whose routes answer after a delay (or never, without a reply): records the paths
 * asked and how many requests are still open.
 */
interface SlowServer {
  url: string;
  paths: string[];
  open(): number;
  close(): Promise<void>;
}

async function startSlowServer(routes: Record<string, { delayMs: number; reply: unknown } | 'hang'>): Promise<SlowServer> {
  const paths: string[] = [];
  const pending = new Set<IncomingMessage>();
  const server = createHttpServer((req, res) => {
    paths.push(req.url ?? '');
    pending.add(req);
    res.on('close', () => pending.delete(req));
    const route = routes[req.url ?? ''];
    if (route === 'hang') return;
    if (!route) return void res.writeHead(404).end();
    const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(route.reply)), route.delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    open: () => pending.size,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the context probe shared by concurrent callers', () => {
  it('is not cancelled (and asked again) because one caller stopped waiting', async () => {
    const server = await startSlowServer({ '/props': { delayMs: 150, reply: { n_ctx: 2048 } } });
    try {
      const client = createLlmClient({ api: 'llamacpp', url: server.url, timeoutMs: 2_000, retries: 0 });
      const first = new AbortController();
      const started = Date.now();
      const inspections = [client.inspectContext('x', { signal: first.signal, reserveTokens: 1 }), client.inspectContext('x', { reserveTokens: 1 })];
      setTimeout(() => first.abort(), 50);
      expectCancelled(await rejection(inspections[0]!));
      expect(Date.now() - started).toBeLessThan(140); // the cancelled caller did not wait for the answer
      expect(await inspections[1]).toEqual({ contextLength: 2048 });
      expect(server.paths).toEqual(['/props']); // asked once: the probe went on for the second caller
    } finally {
      await server.close();
    }
  });
});

describe('a lookup every caller left', () => {
  it('stops only when the last caller stops waiting', async () => {
    const server = await startSlowServer({ '/v1/models': 'hang' });
    try {
      const client = createLlmClient({ api: 'openai', url: server.url, timeoutMs: 5_000, retries: 0 });
      const first = new AbortController();
      const second = new AbortController();
      const calls = [client.complete(requestFor('one'), { signal: first.signal }), client.complete(requestFor('two'), { signal: second.signal })];
      await until(() => server.open() === 1);

      first.abort();
      expectCancelled(await rejection(calls[0]!));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.open()).toBe(1); // still asked for the second caller

      second.abort();
      expectCancelled(await rejection(calls[1]!));
      await until(() => server.open() === 0); // nobody wants the answer: the request is dropped
      expect(server.paths).toEqual(['/v1/models']);
    } finally {
      await server.close();
    }
  });
});

async function until(condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
