/**
 * Issue 7: bounds a long-lived process needs on one request. `timeoutMs` only measures the gaps
 * between chunks, so a server that ignores max tokens and streams forever (mock fault `endless`)
 * is stopped by the total deadline (`deadlineMs`, quire.yaml `deadline_ms`).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import type { ApiKind } from '../src/core/llm.js';
import { createLlmClient, LlmError, type LlmClientOptions } from '../src/adapters/llm/index.js';
import { parseFaultSpec, startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { API_CASES, requestFor } from './helpers/llm-cases.js';

let mock: MockLlm;

beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  mock.reset();
});

function clientFor(api: ApiKind, options: Partial<LlmClientOptions> & { fault?: string } = {}) {
  const { fault, ...rest } = options;
  return createLlmClient({
    api, url: fault ? `${mock.url}/__fault/${fault}` : mock.url, model: 'mock-model', timeoutMs: 2_000, retries: 0, retryBaseMs: 5, ...rest,
  });
}

/** The rejection of a promise; a guard signal turns "never ends" (the bug) into a failed expectation, not a hung test. */
async function failure(run: (guard: AbortSignal) => Promise<unknown>, guardMs = 3_000): Promise<AppError> {
  const guard = AbortSignal.timeout(guardMs);
  const error = await run(guard).then((value) => ({ resolved: value }), (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(API_CASES)('deadline: $api', (c) => {
  it('stops a stream that never ends (tokens keep coming, so timeoutMs never fires) with LLM_TIMEOUT', async () => {
    const pieces: string[] = [];
    const started = Date.now();
    const error = await failure((guard) => clientFor(c.api, { fault: 'endless,latency=5', deadlineMs: 400 })
      .complete(requestFor('go on', { maxTokens: 5 }), { signal: guard, onToken: (t) => pieces.push(t) }));
    expect(error.code).toBe('LLM_TIMEOUT');
    expect(error.message).toBe(`[llm:${c.api}] POST ${c.path.stream} -> no complete reply within 400 ms (the endpoint's deadline_ms); the request was stopped`);
    expect(error.hint).toMatch(/raise deadline_ms/);
    expect((error as LlmError).attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(pieces.length).toBeGreaterThan(5); // the server ignored max tokens: that is why it never ended
    if (c.api === 'kobold') {
      // KoboldCpp is also told to stop this generation.
      const genkey = (mock.requests.find((r) => r.path === c.path.stream)!.body as { genkey: string }).genkey;
      await waitFor(() => mock.requests.some((r) => r.path === '/api/extra/abort'));
      expect(mock.requests.find((r) => r.path === '/api/extra/abort')?.body).toEqual({ genkey });
    }
  });

  it('stops a whole reply that never comes, within the deadline', async () => {
    const error = await failure((guard) => clientFor(c.api, { fault: 'endless', deadlineMs: 300 }).complete(requestFor('go on'), { signal: guard }));
    expect(error.code).toBe('LLM_TIMEOUT');
    expect(error.message).toContain(`POST ${c.path.whole} -> no complete reply within 300 ms`);
  });
});

describe('deadline', () => {
  it('counts retries and backoff: a server that keeps asking to wait fails at the deadline, not after every retry', async () => {
    const started = Date.now();
    const error = await failure((guard) => clientFor('openai', { fault: 'status=503,retryAfter=1', retries: 5, deadlineMs: 500 })
      .complete(requestFor('x'), { signal: guard }), 8_000);
    expect(error.code).toBe('LLM_TIMEOUT');
    expect((error as LlmError).attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000); // five retries would take five seconds
  });

  it('is a cancellation, not a timeout, when the caller aborts first', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(() => clientFor('llamacpp', { fault: 'endless,latency=5', deadlineMs: 2_000 })
      .complete(requestFor('x'), { signal: controller.signal, onToken: () => undefined }));
    expect(error.code).toBe('CANCELLED');
  });

  it('leaves a normal reply alone, and defaults to 30 minutes', async () => {
    const result = await clientFor('kobold', { deadlineMs: 5_000 }).complete(requestFor('quick one'), { onToken: () => undefined });
    expect(result.text).toBe('echo: quick one');
    const plain = await clientFor('ollama').complete(requestFor('no deadline given'));
    expect(plain.text).toBe('echo: no deadline given');
  });
});

describe('mock fault endless', () => {
  it('parses, and streams past max tokens until the client goes', async () => {
    expect(parseFaultSpec('endless')).toEqual({ endless: true });
    const controller = new AbortController();
    const response = await fetch(`${mock.url}/__fault/endless/v1/completions`, {
      method: 'POST', body: JSON.stringify({ prompt: 'a', max_tokens: 2, stream: true }), signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = '';
    while ((text.match(/^data: /gm) ?? []).length < 50) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).not.toContain('[DONE]');
    expect(text).toContain('" more"');
  });
});
