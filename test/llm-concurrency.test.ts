/**
 * The concurrency an endpoint gets when quire.yaml sets none: from the API the server
 * really speaks (after `auto` detection, or inherited from `llm.api`), KoboldCpp 1, others 4;
 * an explicit `concurrency:` always wins. Real HTTP against mock-llm, whose KoboldCpp
 * `/api/extra/perf` reports the generations in progress.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clearDetectedApis } from '../src/adapters/llm/index.js';
import { createClientFactory } from '../src/app/clients.js';
import { defaultConcurrency, resolveEndpoint } from '../src/app/endpoints.js';
import type { WorkspaceConfig } from '../src/core/types.js';
import { startMockLlm, type MockApiMode, type MockLlm } from '../src/mock-llm/index.js';
import { requestFor } from './helpers/llm-cases.js';

let mock: MockLlm | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
  clearDetectedApis();
});

function config(llm: Partial<WorkspaceConfig['llm']>, endpoints: WorkspaceConfig['endpoints'] = {}): WorkspaceConfig {
  return { llm: { host: '127.0.0.1', api: 'auto', timeout_ms: 5_000, retries: 0, ...llm }, endpoints };
}

/** The most generations the mock had in progress at once while `work` ran (polling its perf route). */
async function peakGenerations(server: MockLlm, work: () => Promise<unknown>): Promise<number> {
  let peak = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const perf = (await (await fetch(`${server.url}/api/extra/perf`)).json()) as { queue: number; idle: number };
      peak = Math.max(peak, perf.idle ? 0 : perf.queue + 1);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  try {
    await work();
  } finally {
    polling = false;
    await poll;
  }
  return peak;
}

/** Sends `n` completions at once through the client the factory makes for the port's endpoint. */
async function runConcurrently(server: MockLlm, workspace: WorkspaceConfig, n: number): Promise<number> {
  const getClient = createClientFactory();
  try {
    const endpoint = resolveEndpoint(workspace, server.port, new Map(), {});
    const client = await getClient(endpoint);
    return await peakGenerations(server, async () => {
      const results = await Promise.all(Array.from({ length: n }, (_, i) => client.complete(requestFor(`line ${i}`))));
      expect(results.map((r) => r.text)).toEqual(Array.from({ length: n }, (_, i) => `echo: line ${i}`));
    });
  } finally {
    await getClient.close();
  }
}

async function slowMock(api: MockApiMode): Promise<MockLlm> {
  mock = await startMockLlm({ api, faults: { latencyMs: 25 } });
  return mock;
}

describe('default concurrency from the API the server speaks', () => {
  it('KoboldCpp found by `api: auto` (the default) gets one request at a time', async () => {
    const server = await slowMock('kobold');
    expect(await runConcurrently(server, config({ api: 'auto' }), 4)).toBe(1);
  });

  it('KoboldCpp named by an inherited `llm.api: kobold` gets one request at a time', async () => {
    const server = await slowMock('kobold');
    expect(await runConcurrently(server, config({ api: 'kobold' }, { [String(server.port)]: { retries: 0 } }), 4)).toBe(1);
  });

  it('an explicit `concurrency:` wins over the detected API', async () => {
    const server = await slowMock('kobold');
    expect(await runConcurrently(server, config({ api: 'auto' }, { [String(server.port)]: { concurrency: 3 } }), 5)).toBe(3);
  });

  it('other servers get 4', async () => {
    // The `all` mock speaks OpenAI too, and its perf route counts generations on every route.
    const server = await slowMock('all');
    expect(await runConcurrently(server, config({ api: 'openai' }), 6)).toBe(4);
    expect([defaultConcurrency('openai'), defaultConcurrency('openai-chat'), defaultConcurrency('ollama'), defaultConcurrency('llamacpp'), defaultConcurrency('kobold')])
      .toEqual([4, 4, 4, 4, 1]);
  });

  it('leaves `concurrency` unset in the resolved endpoint unless quire.yaml sets it', () => {
    expect(resolveEndpoint(config({ api: 'kobold' }), 5001, new Map(), {}).concurrency).toBeUndefined();
    expect(resolveEndpoint(config({}, { 5001: { api: 'kobold', concurrency: 2 } }), 5001, new Map(), {}).concurrency).toBe(2);
  });
});
