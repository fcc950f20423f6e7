/**
 * Issue 7: bounds a long-lived process needs on one request. `timeoutMs` only measures the gaps
 * between chunks, so a server that ignores max tokens and streams forever (mock fault `endless`)
 * is stopped by the total deadline (`deadlineMs`, quire.yaml `deadline_ms`), and sooner by the
 * length caps: 4 text messages or 64 characters per token asked for, and a body size cap.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import type { ApiKind } from '../src/core/llm.js';
import { createLlmClient, LlmError } from '../src/adapters/llm/index.js';
import { parseFaultSpec } from '../src/mock-llm/index.js';
import { API_CASES, requestFor } from './helpers/llm-cases.js';
import { useSharedMockLlm } from './helpers/shared-mock.js';
import { scripted } from './helpers/scripted-server.js';

const llm = useSharedMockLlm({ retries: 0 });
const clientFor = llm.clientFor.bind(llm);



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
      .complete(requestFor('go on', { maxTokens: 1_000 }), { signal: guard, onToken: (t) => pieces.push(t) }));
    expect(error.code).toBe('LLM_TIMEOUT');
    expect(error.message).toBe(`[llm:${c.api}] POST ${c.path.stream} -> no complete reply within 400 ms (the endpoint's deadline_ms); the request was stopped`);
    expect(error.hint).toMatch(/raise deadline_ms/);
    expect((error as LlmError).attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(pieces.length).toBeGreaterThan(3); // past the 3-token reply: it goes on and on
    if (c.api === 'kobold') {
      // KoboldCpp is also told to stop this generation.
      const genkey = (llm.mock.requests.find((r) => r.path === c.path.stream)!.body as { genkey: string }).genkey;
      await waitFor(() => llm.mock.requests.some((r) => r.path === '/api/extra/abort'));
      expect(llm.mock.requests.find((r) => r.path === '/api/extra/abort')?.body).toEqual({ genkey });
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

  it('leaves a normal reply alone, with a deadline given or the default one', async () => {
    const result = await clientFor('kobold', { deadlineMs: 5_000 }).complete(requestFor('quick one'), { onToken: () => undefined });
    expect(result.text).toBe('echo: quick one');
    const plain = await clientFor('ollama').complete(requestFor('no deadline given'));
    expect(plain.text).toBe('echo: no deadline given');
  });
});

describe.each(API_CASES)('max tokens ignored: $api', (c) => {
  it('stops a stream past 4 text messages per token asked for with LLM_PROTOCOL, long before any deadline', async () => {
    const pieces: string[] = [];
    const error = await failure((guard) => clientFor(c.api, { fault: 'endless' })
      .complete(requestFor('go on', { maxTokens: 5 }), { signal: guard, onToken: (t) => pieces.push(t) }));
    expect(error.code).toBe('LLM_PROTOCOL');
    expect(error.message).toBe(`[llm:${c.api}] POST ${c.path.stream} -> the server ignored max tokens (5): more than 20 text messages (4 per token asked for); the request was stopped`);
    expect(error.hint).toMatch(/does not honour the max tokens field/);
    expect(pieces).toHaveLength(20);
    if (c.api === 'kobold') {
      await waitFor(() => llm.mock.requests.some((r) => r.path === '/api/extra/abort'));
      const genkey = (llm.mock.requests.find((r) => r.path === c.path.stream)!.body as { genkey: string }).genkey;
      expect(llm.mock.requests.find((r) => r.path === '/api/extra/abort')?.body).toEqual({ genkey });
    }
  });
});

describe('length caps', () => {
  it('stops a stream whose few messages carry more than 64 characters per token asked for (at least 4,096)', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = `data: ${JSON.stringify({ choices: [{ text: 'x'.repeat(1_000), finish_reason: null }] })}\n\n`;
      res.end(event.repeat(6) + 'data: [DONE]\n\n');
    });
    try {
      const error = await failure((guard) => clientAt('openai', server.url).complete(requestFor('x', { maxTokens: 10 }), { signal: guard, onToken: () => undefined }));
      expect(error.code).toBe('LLM_PROTOCOL');
      expect(error.message).toContain('the server ignored max tokens (10): more than 4096 characters of text (64 per token asked for, at least 4096)');
    } finally {
      await server.close();
    }
  });

  it('accepts a reply right at the caps', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = (text: string, finish: string | null) => `data: ${JSON.stringify({ choices: [{ text, finish_reason: finish }] })}\n\n`;
      res.end(event('y'.repeat(2_048), null) + event('y'.repeat(2_048), 'length'));
    });
    try {
      const result = await clientAt('openai', server.url).complete(requestFor('x', { maxTokens: 1 }), { onToken: () => undefined });
      expect(result.text).toHaveLength(4_096);
    } finally {
      await server.close();
    }
  });

  it.each([
    ['a stream that never ends its line', true],
    ['a whole reply that never ends', false],
  ])('stops reading %s once the body passes 1 MiB + 8 KiB per token + 8 x the request', async (_name, stream) => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.write(stream ? 'data: {"content":"' : '{"content":"');
      const chunk = 'z'.repeat(64 * 1024);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    try {
      const request = requestFor('x', { maxTokens: 5 });
      const error = await failure((guard) => clientAt('llamacpp', server.url).complete(request, { signal: guard, ...(stream ? { onToken: () => undefined } : {}) }));
      expect(error.code).toBe('LLM_PROTOCOL');
      const sent = Buffer.byteLength(JSON.stringify({ prompt: request.prompt, n_predict: 5, temperature: 0.5, stop: [], stream }));
      expect(error.message).toBe(`[llm:llamacpp] POST /completion -> the reply is larger than ${1_048_576 + 8_192 * 5 + 8 * sent} bytes; stopped reading it`);
    } finally {
      await server.close();
    }
  });
});

describe('mock fault endless', () => {
  it('parses, and streams past max tokens until the client goes', async () => {
    expect(parseFaultSpec('endless')).toEqual({ endless: true });
    const controller = new AbortController();
    const response = await fetch(`${llm.mock.url}/__fault/endless/v1/completions`, {
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

function clientAt(api: ApiKind, url: string) {
  return createLlmClient({ api, url, model: 'm', timeoutMs: 2_000, retries: 0 });
}

