/**
 * `LlmClient.close()`: every adapter, the lazily detected `auto` client, pools, the
 * concurrency cap and the client factory release their connections to the server.
 * Real HTTP against mock-llm, through a TCP relay that counts the open connections.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearDetectedApis, createLlmClient, LlmError } from '../src/adapters/llm/index.js';
import { createClientFactory, limitConcurrency } from '../src/app/clients.js';
import type { ResolvedEndpoint } from '../src/app/endpoints.js';
import type { LlmClient } from '../src/core/llm.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { API_CASES, requestFor } from './helpers/llm-cases.js';

/** Relays TCP to `port`; `open()` is the number of client connections not yet closed. */
interface Relay {
  url: string;
  port: number;
  open(): number;
  close(): Promise<void>;
}

async function startRelay(port: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const upstream = connect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const end = (): void => {
      sockets.delete(socket);
      socket.destroy();
      upstream.destroy();
    };
    socket.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${own}`,
    port: own,
    open: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function until(condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Uses a client the way a run does: context, then a streamed and a whole completion. */
async function use(client: LlmClient): Promise<void> {
  await client.inspectContext('a b', { reserveTokens: 5 });
  expect((await client.complete(requestFor('one two'), { onToken: () => undefined })).text).toBe('echo: one two');
  expect((await client.complete(requestFor('three'))).text).toBe('echo: three');
}

let mock: MockLlm;
let relay: Relay;
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
// A relay per test: connections one test leaves open do not count in the next.
beforeEach(async () => {
  clearDetectedApis();
  mock.reset();
  relay = await startRelay(mock.port);
});
afterEach(async () => {
  await relay.close();
});

describe('close() releases the connections', () => {
  it.each(API_CASES.map((c) => c.api))('%s adapter', async (api) => {
    const client = createLlmClient({ api, url: relay.url, model: 'mock-model', timeoutMs: 2_000, retries: 0 });
    await use(client);
    await pause(50);
    expect(relay.open()).toBeGreaterThan(0); // kept alive for the next request
    await client.close();
    await until(() => relay.open() === 0);
    await client.close(); // twice is fine
  });

  it.each(['openai', 'ollama'] as const)('%s adapter that looked its model up', async (api) => {
    const client = createLlmClient({ api, url: relay.url, timeoutMs: 2_000, retries: 0 });
    await use(client);
    expect(relay.open()).toBeGreaterThan(0);
    await client.close();
    await until(() => relay.open() === 0);
  });

  it('an `auto` client, and it still works afterwards', async () => {
    const client = createLlmClient({ api: 'auto', url: relay.url, timeoutMs: 2_000, retries: 0 });
    await use(client);
    expect(client.api).toBe('kobold');
    expect(relay.open()).toBeGreaterThan(0);
    await client.close();
    await until(() => relay.open() === 0);
    expect((await client.complete(requestFor('again'))).text).toBe('echo: again');
    await client.close();
    await until(() => relay.open() === 0);
  });

  it.each(['openai', 'kobold'] as const)('%s: cuts a request in flight (CANCELLED) instead of leaving its connection open', async (api) => {
    const client = createLlmClient({ api, url: `${relay.url}/__fault/latency=50`, model: 'mock-model', timeoutMs: 5_000, retries: 0 });
    const pending = client.complete(requestFor('w1 w2 w3 w4 w5 w6 w7 w8'));
    await until(() => relay.open() === 1);
    await pause(30);
    await client.close();
    const error = await pending.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).code).toBe('CANCELLED');
    expect((error as LlmError).message).toContain('client closed');
    // KoboldCpp also gets its abort call, on a connection that is not kept either.
    if (api === 'kobold') await until(() => mock.requests.some((r) => r.path === '/api/extra/abort'));
    await until(() => relay.open() === 0);
  });
});

describe('wrappers and the client factory', () => {
  it('the concurrency cap closes its client and cancels what waits for a slot', async () => {
    const client = createLlmClient({ api: 'llamacpp', url: `${relay.url}/__fault/latency=50`, timeoutMs: 5_000, retries: 0 });
    const limited = limitConcurrency(client, 1);
    const running = limited.complete(requestFor('w1 w2 w3 w4 w5 w6')).then(() => undefined, (e: unknown) => e);
    const queued = limited.complete(requestFor('never sent')).then(() => undefined, (e: unknown) => e);
    await until(() => relay.open() === 1);
    await limited.close();
    for (const error of [await running, await queued]) expect((error as LlmError).code).toBe('CANCELLED');
    await until(() => relay.open() === 0);
    expect(mock.requests.some((r) => JSON.stringify(r.body ?? '').includes('never sent'))).toBe(false);
  });

  it('closes every client it made: pools of `auto` members included', async () => {
    const second = await startRelay(mock.port);
    try {
      const getClient = createClientFactory();
      const pool: ResolvedEndpoint = { port: 5002, urls: [relay.url, second.url], api: 'auto', timeoutMs: 2_000, retries: 0, concurrency: 4 };
      const single: ResolvedEndpoint = { port: 5003, urls: [relay.url], api: 'llamacpp', timeoutMs: 2_000, retries: 0, concurrency: 2 };
      const pooled = await getClient(pool);
      await use(pooled); // two completions: one per member
      await use(await getClient(single));
      expect(relay.open()).toBeGreaterThan(1);
      expect(second.open()).toBeGreaterThan(0);

      await getClient.close();
      await until(() => relay.open() === 0 && second.open() === 0);
      // Forgotten: the next call makes (and probes) a new client.
      const fresh = await getClient(single);
      expect(fresh).not.toBe(pooled);
      await use(fresh);
      await getClient.close();
      await until(() => relay.open() === 0);
    } finally {
      await second.close();
    }
  });

  it('stops a client still being set up: its caller gets CANCELLED and the probing connection ends', async () => {
    // Detection asks /api/extra/version first; this server never answers it.
    const silent = createHttpServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const gate = await startRelay((silent.address() as { port: number }).port);
    try {
      const getClient = createClientFactory();
      const endpoint: ResolvedEndpoint = { port: 5004, urls: [gate.url], api: 'auto', timeoutMs: 5_000, retries: 0, concurrency: 1 };
      const pending = getClient(endpoint).then(() => undefined, (e: unknown) => e);
      await until(() => gate.open() === 1);
      await getClient.close();
      expect(((await pending) as LlmError).code).toBe('CANCELLED');
      await until(() => gate.open() === 0);
    } finally {
      await gate.close();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
