/**
 * One contract for every LLM adapter, run over real HTTP against the mock server
 * (src/mock-llm), plus retries/faults and API auto-detection.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import type { ApiKind } from '../src/core/llm.js';
import {
  clearDetectedApis, createLlmClient, describeErrorBody, detectApi, LlmError, resolveLlmClient, type LlmClientOptions,
} from '../src/adapters/llm/index.js';
import { readNdjson } from '../src/adapters/llm/ndjson.js';
import { readSse } from '../src/adapters/llm/sse.js';
import { createStopFilter } from '../src/adapters/llm/stop.js';
import { countTokens, mockReply, startMockLlm, type MockApiMode, type MockLlm } from '../src/mock-llm/index.js';
import { API_CASES, GENERIC_PARAMS, requestFor } from './helpers/llm-cases.js';

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

/** A client for the shared mock; `fault` puts a `/__fault/<spec>` prefix on its base URL. */
function clientFor(api: ApiKind, options: Partial<LlmClientOptions> & { fault?: string } = {}) {
  const { fault, ...rest } = options;
  return createLlmClient({
    api,
    url: fault ? `${mock.url}/__fault/${fault}` : mock.url,
    model: 'mock-model',
    timeoutMs: 2_000,
    retries: 2,
    retryBaseMs: 5,
    ...rest,
  });
}

/** The rejection of a promise, asserted to be an AppError. */
async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe.each(API_CASES)('adapter contract: $api', (c) => {
  it('returns the reply, token counts and finish reason without streaming', async () => {
    const request = requestFor('hello there world');
    const result = await clientFor(c.api).complete(request);
    const expected = mockReply(c.promptSeen(request), { maxTokens: request.maxTokens });

    expect(result.text).toBe('echo: hello there world');
    expect(result.text).toBe(expected.text);
    expect(result.finishReason).toBe('stop');
    expect(result.rawFinishReason).toBe(c.rawEos);
    expect(result.promptTokens).toBe(countTokens(c.promptSeen(request)));
    expect(result.completionTokens).toBe(4);
    expect(result.attempts).toBe(1);
    expect(result.totalMs).toBeGreaterThanOrEqual(0);
    if (c.serverTimings) {
      // The mock reports 1 ms per prompt token and 10 ms per generated one (Ollama in ns, llama.cpp in ms).
      expect(result.promptMs).toBe(expected.promptTokens);
      expect(result.generationMs).toBe(40);
      expect(result.timeToFirstTokenMs).toBe(c.api === 'ollama' ? expected.promptTokens + 1 : expected.promptTokens);
    }
    expect(mock.requests.filter((r) => r.path === c.path.whole)).toHaveLength(1);
  });

  it('streams the tokens in order, and they add up to the final text', async () => {
    const request = requestFor('one two three four five');
    const pieces: string[] = [];
    const result = await clientFor(c.api).complete(request, { onToken: (t) => pieces.push(t) });

    expect(pieces).toEqual(mockReply(c.promptSeen(request)).pieces);
    expect(pieces.join('')).toBe(result.text);
    expect(result.text).toBe('echo: one two three four five');
    expect(result.finishReason).toBe('stop');
    expect(result.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    if (c.streamCounts) {
      expect(result.promptTokens).toBe(countTokens(c.promptSeen(request)));
      expect(result.completionTokens).toBe(6);
    }
    expect(mock.requests.filter((r) => r.path === c.path.stream)).toHaveLength(1);
  });

  it('respects max tokens and reports "length", streaming or not', async () => {
    const request = requestFor('a b c d e f g', { maxTokens: 3 });
    const whole = await clientFor(c.api).complete(request);
    const streamed = await clientFor(c.api).complete(request, { onToken: () => undefined });

    for (const result of [whole, streamed]) {
      expect(result.text).toBe('echo: a b');
      expect(result.finishReason).toBe('length');
    }
    expect(whole.completionTokens).toBe(3);
  });

  it('ends at a stop sequence, without the stop string', async () => {
    const request = requestFor('alpha beta ### gamma delta', { stop: ['###'] });
    const whole = await clientFor(c.api).complete(request);
    const pieces: string[] = [];
    const streamed = await clientFor(c.api).complete(request, { onToken: (t) => pieces.push(t) });

    expect(whole.text).toBe('echo: alpha beta ');
    expect(whole.finishReason).toBe('stop');
    expect(streamed.text).toBe('echo: alpha beta ');
    expect(pieces.join('')).toBe(streamed.text);
    expect(streamed.finishReason).toBe(c.streamStopFinish);
  });

  it('maps generic params to the API\'s field names', async () => {
    const request = requestFor('map me', { maxTokens: 8, stop: ['###'], params: GENERIC_PARAMS });
    await clientFor(c.api).complete(request);

    const sent = mock.requests.find((r) => r.path === c.path.whole)!.body as Record<string, unknown>;
    expect(sent).toMatchObject(c.mappedBody);
    for (const name of c.renamedAway) expect(sent).not.toHaveProperty(name);
    if (c.api === 'kobold') expect(sent['genkey']).toMatch(/^quire-/);
    if (c.api === 'openai-chat') expect(sent['messages']).toEqual(request.messages);
    else expect(sent['prompt']).toBe(request.prompt);
  });

  it('cancels on abort, and the promise rejects with CANCELLED', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pieces: string[] = [];
    const error = await failure(clientFor(c.api, { fault: 'latency=40' }).complete(requestFor('w1 w2 w3 w4 w5 w6 w7 w8 w9 w10'), {
      signal: controller.signal,
      onToken: (t) => {
        pieces.push(t);
        controller.abort();
      },
    }));

    expect(error.code).toBe('CANCELLED');
    expect(pieces).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(40 * 11); // well before the full reply
    if (c.api === 'kobold') {
      const genkey = (mock.requests.find((r) => r.path === c.path.stream)!.body as { genkey: string }).genkey;
      const abort = mock.requests.find((r) => r.path === '/api/extra/abort');
      expect(abort?.body).toEqual({ genkey });
    }
  });

  it('inspects the context where the server can tell', async () => {
    const request = requestFor('count these words please');
    const info = await clientFor(c.api).inspectContext(request.prompt);
    expect(info).toEqual(c.inspects ? { contextLength: 4096, promptTokens: countTokens(request.prompt) } : {});
  });
});

describe('retries and faults', () => {
  it('retries a 500 and succeeds on the second attempt', async () => {
    const result = await clientFor('kobold', { fault: 'status=500,failFirst=1' }).complete(requestFor('again'));
    expect(result.text).toBe('echo: again');
    expect(result.attempts).toBe(2);
  });

  it('honours Retry-After on 429', async () => {
    const started = Date.now();
    const result = await clientFor('openai', { fault: 'status=429,retryAfter=1,failFirst=1' }).complete(requestFor('later'));
    expect(result.attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // backoff alone would be ~5 ms
  });

  it('retries KoboldCpp\'s 503 busy, then reports its message', async () => {
    const ok = await clientFor('kobold', { fault: 'status=503,failFirst=2' }).complete(requestFor('busy'));
    expect(ok.attempts).toBe(3);

    const error = await failure(clientFor('kobold', { fault: 'status=503', retries: 1 }).complete(requestFor('busy')));
    expect(error.code).toBe('LLM_HTTP');
    expect(error.message).toBe(
      '[llm:kobold] POST /api/v1/generate -> 503: Server is busy; please try again later. (service_unavailable) [2 attempts]');
    expect((error as LlmError).attempts).toBe(2);
  });

  it('does not retry a 400', async () => {
    const error = await failure(clientFor('llamacpp', { fault: 'status=400' }).complete(requestFor('bad')));
    expect(error.code).toBe('LLM_HTTP');
    expect(error.message).toBe('[llm:llamacpp] POST /completion -> 400: Error parsing input. (invalid_request_error)');
    expect(mock.requests.filter((r) => r.path === '/completion')).toHaveLength(1);
  });

  it('reports a context overflow as LLM_CONTEXT', async () => {
    const error = await failure(clientFor('llamacpp', { fault: 'ctx=3' }).complete(requestFor('far too many words here')));
    expect(error.code).toBe('LLM_CONTEXT');
  });

  it('times out a server that never answers', async () => {
    const error = await failure(clientFor('ollama', { fault: 'hang', timeoutMs: 200 }).complete(requestFor('hello')));
    expect(error.code).toBe('LLM_TIMEOUT');
    expect(mock.requests.filter((r) => r.path === '/api/generate')).toHaveLength(1); // timeouts are not retried
  });

  it.each([['kobold'], ['ollama']] as const)('fails when the connection drops mid-stream (%s)', async (api) => {
    const pieces: string[] = [];
    const error = await failure(clientFor(api, { fault: 'drop=2' }).complete(requestFor('a b c d e'), { onToken: (t) => pieces.push(t) }));
    expect(error.code).toBe('LLM_CONNECT');
    expect(error.message).toContain('connection dropped');
    expect(pieces.join('')).toBe('echo: a');
  });

  it('reports malformed JSON as LLM_PROTOCOL, streaming or not', async () => {
    const whole = await failure(clientFor('openai', { fault: 'malformed' }).complete(requestFor('x')));
    expect(whole.code).toBe('LLM_PROTOCOL');
    const streamed = await failure(clientFor('llamacpp', { fault: 'malformed' }).complete(requestFor('x'), { onToken: () => undefined }));
    expect(streamed.code).toBe('LLM_PROTOCOL');
  });

  it('gives LLM_CONNECT after retrying a refused connection', async () => {
    const port = await closedPort();
    const client = createLlmClient({ api: 'kobold', url: `http://127.0.0.1:${port}`, timeoutMs: 1_000, retries: 2, retryBaseMs: 5 });
    const error = await failure(client.complete(requestFor('anyone?')));
    expect(error.code).toBe('LLM_CONNECT');
    expect(error.message).toMatch(/^\[llm:kobold\] POST \/api\/v1\/generate -> cannot connect \(ECONNREFUSED\) \[3 attempts\]$/);
  });

  it('sends the API key as a Bearer token and never shows it', async () => {
    const locked = await startMockLlm({ api: 'openai', apiKey: 'sekrit-key' });
    try {
      const base = { api: 'openai' as const, url: locked.url, timeoutMs: 1_000, retries: 0 };
      const ok = await createLlmClient({ ...base, apiKey: 'sekrit-key' }).complete(requestFor('let me in'));
      expect(ok.text).toBe('echo: let me in');
      const error = await failure(createLlmClient({ ...base, apiKey: 'wrong-key' }).complete(requestFor('let me in')));
      expect(error.message).toContain('-> 401:');
      expect(error.message).not.toContain('wrong-key');
      expect(JSON.stringify(locked.requests)).not.toContain('sekrit-key');
    } finally {
      await locked.close();
    }
  });

  it('reads all four error body shapes', () => {
    expect(describeErrorBody('{"detail":{"msg":"Server is busy; please try again later.","type":"service_unavailable"}}'))
      .toBe('Server is busy; please try again later. (service_unavailable)');
    expect(describeErrorBody('{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}')).toBe('Loading model (unavailable_error)');
    expect(describeErrorBody('{"error":"model \\"x\\" not found"}')).toBe('model "x" not found');
    expect(describeErrorBody('{"object":"error","message":"bad model","type":"NotFoundError","param":null,"code":404}')).toBe('bad model (NotFoundError)');
    expect(describeErrorBody('<html><body>Not Found</body></html>')).toBe('Not Found');
  });

  it('reads SSE and NDJSON the way servers send them', async () => {
    // A ping comment, `data:` without a space, CRLF, an event name, a split event, and a last event with no blank line.
    const sse = [': ping\n\n', 'event: message\r\ndata:{"a":1}\r\n\r\n', 'data: {"b"', ':2}\n\n', 'data: [DONE]'];
    const events: { event?: string | undefined; data: string }[] = [];
    for await (const event of readSse(chunks(sse))) events.push(event);
    expect(events).toEqual([{ event: 'message', data: '{"a":1}' }, { event: undefined, data: '{"b":2}' }, { event: undefined, data: '[DONE]' }]);

    const lines: string[] = [];
    for await (const line of readNdjson(chunks(['{"a":1}\n{"b"', ':2}\n\n{"c":3}']))) lines.push(line);
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('never shows a stop string split across streamed pieces', () => {
    const filter = createStopFilter(['</s>']);
    expect(['Hi <', '/', 's> more'].map((p) => filter.push(p)).join('') + filter.flush()).toBe('Hi ');
    const open = createStopFilter(['</s>']);
    expect(['a <', 'b'].map((p) => open.push(p)).join('') + open.flush()).toBe('a <b');
  });
});

describe('api auto-detection', () => {
  beforeEach(() => clearDetectedApis());

  it.each<[MockApiMode, ApiKind]>([
    ['kobold', 'kobold'],
    ['llamacpp', 'llamacpp'],
    ['ollama', 'ollama'],
    ['openai', 'openai'],
    ['all', 'kobold'],
  ])('detects a %s server as %s', async (mode, expected) => {
    const server = await startMockLlm({ api: mode });
    try {
      expect(await detectApi(server.url, { timeoutMs: 1_000 })).toBe(expected);
      await detectApi(server.url); // cached: no second round of probes
      expect(server.requests.filter((r) => r.path === '/api/extra/version')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('runs an `auto` client against the detected API', async () => {
    const server = await startMockLlm({ api: 'ollama' });
    try {
      const options = { api: 'auto' as const, url: server.url, model: 'mock-model', timeoutMs: 1_000, retries: 0 };
      const lazy = createLlmClient(options);
      expect((await lazy.complete(requestFor('who are you'))).text).toBe('echo: who are you');
      expect(lazy.api).toBe('ollama');
      expect((await resolveLlmClient(options)).api).toBe('ollama');
      expect(server.requests.at(-1)?.path).toBe('/api/generate');
    } finally {
      await server.close();
    }
  });
});

async function* chunks(parts: string[]): AsyncGenerator<string> {
  yield* parts;
}

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
