/**
 * One contract for every LLM adapter, run over real HTTP against the mock server
 * (src/mock-llm), plus retries/faults and API auto-detection.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import { BUILTIN_FORMATS, renderMessages, stopSequences } from '../src/core/formats/index.js';
import type { ApiKind, ChatMessage } from '../src/core/llm.js';
import {
  clearDetectedApis, createLlmClient, describeErrorBody, detectApi, LlmError, resolveLlmClient,
} from '../src/adapters/llm/index.js';
import { readNdjson } from '../src/adapters/llm/ndjson.js';
import { readSse } from '../src/adapters/llm/sse.js';
import { createStopFilter } from '../src/adapters/llm/stop.js';
import {
  countTokens, echoText, FAULT_HEADER, FAULT_QUERY, mockReply, OLLAMA_MOCK_TEMPLATE, replyLine, startMockLlm, type MockApiMode,
} from '../src/mock-llm/index.js';
import { API_CASES, GENERIC_PARAMS, requestFor } from './helpers/llm-cases.js';
import { startFakeKobold, type FakeKoboldOptions } from './helpers/llm-fake-kobold.js';
import { useSharedMockLlm } from './helpers/shared-mock.js';

const llm = useSharedMockLlm();
const clientFor = llm.clientFor.bind(llm);



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
    expect(llm.mock.requests.filter((r) => r.path === c.path.whole)).toHaveLength(1);
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
    expect(llm.mock.requests.filter((r) => r.path === c.path.stream)).toHaveLength(1);
    // Only KoboldCpp needs the follow-up for its counts, and it comes after the stream.
    expect(llm.mock.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      [`POST ${c.path.stream}`, ...(c.api === 'kobold' ? ['GET /api/extra/perf'] : [])]);
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
    if (c.api === 'kobold') {
      // The raw reason stays KoboldCpp's "length"; 4 tokens of 50 shows a stop string fired.
      expect(streamed.rawFinishReason).toBe('length');
      expect(streamed.completionTokens).toBe(4);
    }
  });

  it('maps generic params to the API\'s field names', async () => {
    const request = requestFor('map me', { maxTokens: 8, stop: ['###'], params: GENERIC_PARAMS });
    await clientFor(c.api).complete(request);

    const sent = llm.mock.requests.find((r) => r.path === c.path.whole)!.body as Record<string, unknown>;
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
      const genkey = (llm.mock.requests.find((r) => r.path === c.path.stream)!.body as { genkey: string }).genkey;
      const abort = llm.mock.requests.find((r) => r.path === '/api/extra/abort');
      expect(abort?.body).toEqual({ genkey });
    }
  });

  it('cancels a non-streaming request on abort', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 60);
    const error = await failure(clientFor(c.api, { fault: 'latency=40' }).complete(requestFor('w1 w2 w3 w4 w5 w6 w7 w8 w9 w10'), {
      signal: controller.signal,
    }));

    expect(error.code).toBe('CANCELLED');
    expect((error as LlmError).attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(40 * 11 - 100); // the whole reply would take 440 ms
    const sent = llm.mock.requests.filter((r) => r.path === c.path.whole);
    expect(sent).toHaveLength(1); // a cancellation is not retried
    if (c.api === 'kobold') {
      const abort = llm.mock.requests.find((r) => r.path === '/api/extra/abort');
      expect(abort?.body).toEqual({ genkey: (sent[0]!.body as { genkey: string }).genkey });
    }
  });

  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    for (const onToken of [undefined, () => undefined]) {
      const error = await failure(clientFor(c.api).complete(requestFor('never sent'), { signal: controller.signal, ...(onToken ? { onToken } : {}) }));
      expect(error.code).toBe('CANCELLED');
      expect((error as LlmError).attempts).toBe(0);
    }
    expect(llm.mock.requests).toEqual([]); // no request, and so no KoboldCpp abort either
  });

  it('inspects the context where the server can tell', async () => {
    const request = requestFor('count these words please');
    const info = await clientFor(c.api).inspectContext(request.prompt);
    expect(info).toEqual({
      ...(c.inspects.contextLength ? { contextLength: 4096 } : {}),
      ...(c.inspects.promptTokens ? { promptTokens: countTokens(request.prompt) } : {}),
    });
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
    expect(llm.mock.requests.filter((r) => r.path === '/completion')).toHaveLength(1);
  });

  it('reports a context overflow as LLM_CONTEXT', async () => {
    const error = await failure(clientFor('llamacpp', { fault: 'ctx=3' }).complete(requestFor('far too many words here')));
    expect(error.code).toBe('LLM_CONTEXT');
  });

  it('times out a server that never answers', async () => {
    const error = await failure(clientFor('ollama', { fault: 'hang', timeoutMs: 200 }).complete(requestFor('hello')));
    expect(error.code).toBe('LLM_TIMEOUT');
    expect(llm.mock.requests.filter((r) => r.path === '/api/generate')).toHaveLength(1); // timeouts are not retried
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

describe('the mock\'s reply rule', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Line one\nSummarize: the fox.' },
  ];

  it.each(Object.keys(BUILTIN_FORMATS))('answers the last user line of a prompt in the %s format', async (name) => {
    const format = BUILTIN_FORMATS[name]!;
    const prompt = renderMessages(format, messages, { includeBos: false });
    const stop = stopSequences(format);
    expect(echoText(prompt)).toBe('echo: Summarize: the fox.');
    expect(mockReply(prompt, { stop }).text).toBe('echo: Summarize: the fox.');
    // End to end, with the format's stop strings, as a demo would run it.
    const result = await clientFor('kobold').complete({ ...requestFor(''), prompt, stop }, { onToken: () => undefined });
    expect(result.text).toBe('echo: Summarize: the fox.');
    expect(result.finishReason).toBe('stop');
  });

  it('strips special tokens and role headers, then takes the last line left', () => {
    expect(replyLine('<|im_start|>assistant\n')).toBe('');
    expect(echoText('<s>[INST] <<SYS>>\n<</SYS>>\n\n [/INST]')).toBe('echo:');
    expect(echoText('### Instruction:\nName a colour.\n\n### Response:\n')).toBe('echo: Name a colour.');
    expect(echoText('USER: hi there ASSISTANT:')).toBe('echo: hi there');
    expect(echoText('Human:\nWhat is 2+2?\nAssistant:')).toBe('echo: What is 2+2?');
    expect(echoText('<think>\nplan</think>\nThe answer')).toBe('echo: The answer');
    // Only markup goes: ordinary text with colons, brackets and tags stays.
    expect(echoText('Note: keep <b>bold</b> and [links]')).toBe('echo: Note: keep <b>bold</b> and [links]');
    expect(echoText('Users: many\nassistant manager')).toBe('echo: assistant manager');
  });

  it('shows when Ollama applied its template (a client that forgot raw:true)', async () => {
    expect(echoText(OLLAMA_MOCK_TEMPLATE('hello'))).toBe('echo: (mock template applied)');
    const reply = await fetch(`${llm.mock.url}/api/generate`, {
      method: 'POST', body: JSON.stringify({ model: 'mock-model', prompt: 'hello', stream: false }),
    }).then((r) => r.json() as Promise<{ response: string }>);
    expect(reply.response).toBe('echo: (mock template applied)');
  });
});

describe('mock fault controls', () => {
  const post = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(llm.mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ prompt: 'x' }) });

  it('takes a fault spec from the x-mock-fault header', async () => {
    const response = await post('/v1/completions', { [FAULT_HEADER]: 'status=502,retryAfter=7' });
    expect(response.status).toBe(502);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({ error: { message: 'Bad gateway.', type: 'server_error', param: null, code: null } });
    expect(llm.mock.requests[0]?.fault).toBe('status=502,retryAfter=7');
  });

  it('takes a fault spec from the mock-fault query parameter', async () => {
    const response = await post(`/api/v1/generate?${FAULT_QUERY}=${encodeURIComponent('status=503')}`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ detail: { msg: 'Server is busy; please try again later.', type: 'service_unavailable' } });
  });

  it('lets the query override the header, and the header the path prefix, key by key', async () => {
    const spec = (s: string) => encodeURIComponent(s);
    const all = await post(`/__fault/${spec('status=500,latency=0')}/completion?${FAULT_QUERY}=${spec('status=429')}`, { [FAULT_HEADER]: 'status=503' });
    expect(all.status).toBe(429);
    const two = await post(`/__fault/${spec('status=500')}/completion`, { [FAULT_HEADER]: 'status=503' });
    expect(two.status).toBe(503);
    // The header sets only `drop`: the path's status still applies.
    const merged = await post(`/__fault/${spec('status=418')}/completion`, { [FAULT_HEADER]: 'drop=1' });
    expect(merged.status).toBe(418);
  });

  it('counts failFirst per spec when it comes from a header', async () => {
    const headers = { [FAULT_HEADER]: 'status=500,failFirst=1,id=header' };
    expect((await post('/completion', headers)).status).toBe(500);
    expect((await post('/completion', headers)).status).toBe(200);
  });

  it('refuses an unknown fault key, and leaves info routes alone', async () => {
    const bad = await post('/completion', { [FAULT_HEADER]: 'stauts=500' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('unknown fault "stauts"');
    const info = await fetch(`${llm.mock.url}/api/extra/version?${FAULT_QUERY}=status%3D500`);
    expect(info.status).toBe(200);
  });
});

describe('KoboldCpp stream counts from /api/extra/perf', () => {
  it('the mock reports its last generation there', async () => {
    const server = await startMockLlm({ api: 'kobold' });
    try {
      const perf = async () => (await fetch(`${server.url}/api/extra/perf`)).json() as Promise<Record<string, unknown>>;
      expect(await perf()).toMatchObject({ last_token_count: 0, last_input_count: 0, stop_reason: -1, total_gens: 0, idle: 1 });
      const request = requestFor('alpha beta ### gamma', { stop: ['###'] });
      await createLlmClient({ api: 'kobold', url: server.url, timeoutMs: 1_000, retries: 0 }).complete(request);
      expect(await perf()).toMatchObject({
        last_token_count: 4, last_input_count: countTokens(request.prompt), stop_reason: 2, total_gens: 1, idle: 1,
        last_eval_time: 0.04, last_process_time: countTokens(request.prompt) / 1000,
      });
    } finally {
      await server.close();
    }
  });

  it('keeps "length" when the generation used all its tokens', async () => {
    const result = await clientFor('kobold').complete(requestFor('a b c d e f g', { maxTokens: 3 }), { onToken: () => undefined });
    expect(result).toMatchObject({ finishReason: 'length', rawFinishReason: 'length', completionTokens: 3 });
  });

  /** A stream of three tokens ending in "length" (maxTokens 50) from a scripted server. */
  async function streamFrom(options: Partial<FakeKoboldOptions>, timeoutMs = 1_000) {
    const server = await startFakeKobold({ tokens: ['echo:', ' a', ' b'], finishReason: 'length', perf: 'missing', ...options });
    try {
      const started = Date.now();
      const result = await createLlmClient({ api: 'kobold', url: server.url, timeoutMs, retries: 2, retryBaseMs: 5 })
        .complete(requestFor('a b', { stop: ['###'] }), { onToken: () => undefined });
      return { result, requests: server.requests, ms: Date.now() - started };
    } finally {
      await server.close();
    }
  }

  it('does without counts when the route is missing (no retry, no error)', async () => {
    const { result, requests } = await streamFrom({ perf: 'missing' });
    expect(result.text).toBe('echo: a b');
    expect(result.promptTokens).toBeUndefined();
    expect(result.completionTokens).toBeUndefined();
    expect(result).toMatchObject({ finishReason: 'length', rawFinishReason: 'length' });
    expect(requests).toEqual(['POST /api/extra/generate/stream', 'GET /api/extra/perf']);
  });

  it('waits only briefly for a perf route that never answers', async () => {
    const { result, ms } = await streamFrom({ perf: 'hang' }, 300);
    expect(result.text).toBe('echo: a b');
    expect(result.completionTokens).toBeUndefined();
    expect(ms).toBeLessThan(1_000);
  });

  it('ignores counts that cannot be this generation\'s', async () => {
    const { result } = await streamFrom({ perf: { last_token_count: 0, last_input_count: 0, stop_reason: -1 } });
    expect(result.completionTokens).toBeUndefined();
    expect(result.finishReason).toBe('length');
  });

  it('takes the completion count alone from a build without last_input_count', async () => {
    const { result } = await streamFrom({ perf: { last_token_count: 4, stop_reason: 2 } });
    expect(result).toMatchObject({ completionTokens: 4, finishReason: 'stop', rawFinishReason: 'length' });
    expect(result.promptTokens).toBeUndefined();
  });

  it('does not ask when the client cut the stream at a stop string', async () => {
    const { result, requests } = await streamFrom({ tokens: ['echo:', ' a', ' ###', ' b'], perf: { last_token_count: 3, last_input_count: 9 } });
    expect(result).toMatchObject({ text: 'echo: a ', finishReason: 'stop' });
    expect(result.completionTokens).toBeUndefined();
    expect(requests).toEqual(['POST /api/extra/generate/stream']);
  });
});

describe('inspectContext on vLLM and Ollama routes', () => {
  it('openai: max_model_len from /v1/models and the count from vLLM\'s /tokenize', async () => {
    const server = await startMockLlm({ api: 'openai', contextLength: 2048 });
    try {
      const client = createLlmClient({ api: 'openai', url: server.url, model: 'mock-model', timeoutMs: 1_000, retries: 0 });
      expect(await client.inspectContext('one two three')).toEqual({ contextLength: 2048, promptTokens: 3 });
      expect(server.requests.find((r) => r.path === '/tokenize')?.body).toEqual({ model: 'mock-model', prompt: 'one two three', add_special_tokens: true });
    } finally {
      await server.close();
    }
  });

  it.each<MockApiMode>(['kobold', 'ollama', 'llamacpp'])('openai: a %s server without those routes gives {}', async (mode) => {
    const server = await startMockLlm({ api: mode });
    try {
      const client = createLlmClient({ api: 'openai', url: server.url, model: 'mock-model', timeoutMs: 1_000, retries: 0 });
      expect(await client.inspectContext('one two three')).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('ollama: <arch>.context_length from /api/show, no prompt count', async () => {
    const server = await startMockLlm({ api: 'ollama', contextLength: 8192 });
    try {
      const client = createLlmClient({ api: 'ollama', url: server.url, model: 'mock-model', timeoutMs: 1_000, retries: 0 });
      expect(await client.inspectContext('one two three')).toEqual({ contextLength: 8192 });
      expect(server.requests.map((r) => [r.path, r.body])).toEqual([['/api/show', { model: 'mock-model' }]]);
    } finally {
      await server.close();
    }
  });

  it('ollama: without a model, uses the first one the server lists (asked once)', async () => {
    const server = await startMockLlm({ api: 'ollama', model: 'llama-test:8b' });
    try {
      const client = createLlmClient({ api: 'ollama', url: server.url, timeoutMs: 1_000, retries: 0 });
      await client.complete(requestFor('hello'));
      await client.complete(requestFor('again'));
      expect(server.requests.filter((r) => r.path === '/api/tags')).toHaveLength(1);
      expect(server.requests.filter((r) => r.path === '/api/generate').map((r) => (r.body as { model: string }).model)).toEqual(['llama-test:8b', 'llama-test:8b']);
    } finally {
      await server.close();
    }
  });

  it.each(['openai', 'openai-chat'] as const)('%s: without a model, uses the first one /v1/models lists (asked once)', async (api) => {
    const server = await startMockLlm({ api: 'openai', model: 'Org/Served-7B' });
    try {
      const client = createLlmClient({ api, url: server.url, timeoutMs: 1_000, retries: 0 });
      await client.complete(requestFor('hello'));
      await client.complete(requestFor('again'));
      expect(server.requests.filter((r) => r.path === '/v1/models')).toHaveLength(1);
      const path = api === 'openai' ? '/v1/completions' : '/v1/chat/completions';
      expect(server.requests.filter((r) => r.path === path).map((r) => (r.body as { model: string }).model)).toEqual(['Org/Served-7B', 'Org/Served-7B']);
    } finally {
      await server.close();
    }
  });

  it('ollama: {} without /api/show', async () => {
    const server = await startMockLlm({ api: 'openai' });
    try {
      expect(await createLlmClient({ api: 'ollama', url: server.url, model: 'm', timeoutMs: 1_000, retries: 0 }).inspectContext('x')).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('is cancelled by an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    for (const api of ['openai', 'ollama'] as const) {
      const error = await failure(clientFor(api).inspectContext('x', { signal: controller.signal }));
      expect(error.code).toBe('CANCELLED');
    }
  });
});

describe('inspectContext with reserveTokens', () => {
  const INSPECTING = [
    { api: 'kobold', context: '/api/extra/true_max_context_length', count: '/api/extra/tokencount' },
    { api: 'llamacpp', context: '/props', count: '/tokenize' },
    { api: 'openai', context: '/v1/models', count: '/tokenize' },
  ] as const;
  const paths = () => llm.mock.requests.map((r) => r.path);

  it.each(INSPECTING)('$api: asks the context size once, and counts only a prompt that might not fit', async ({ api, context, count }) => {
    const client = clientFor(api);
    expect(await client.inspectContext('count these words please', { reserveTokens: 50 })).toEqual({ contextLength: 4096 });
    expect(await client.inspectContext('and these', { reserveTokens: 50 })).toEqual({ contextLength: 4096 });
    expect(paths()).toEqual([context]);

    llm.mock.reset();
    // 4,060 bytes: 2,030 mock tokens, but it could be 4,060 for all the bytes tell.
    const long = 'w '.repeat(2_030);
    expect(await client.inspectContext(long, { reserveTokens: 50 })).toEqual({ contextLength: 4096, promptTokens: 2_030 });
    expect(await client.inspectContext(long, { reserveTokens: 5_000 })).toEqual({ contextLength: 4096, promptTokens: 2_030 });
    expect(await client.inspectContext('short', { reserveTokens: 4_092 })).toEqual({ contextLength: 4096, promptTokens: 1 }); // the special-token margin
    // Without reserveTokens: counted every time, as before.
    expect(await client.inspectContext('one two')).toEqual({ contextLength: 4096, promptTokens: 2 });
    expect(paths()).toEqual([count, count, count, count]);
  });

  it('keeps an unknown context size too, and then never counts', async () => {
    const server = await startMockLlm({ api: 'kobold' }); // no vLLM routes
    try {
      const client = createLlmClient({ api: 'openai', url: server.url, model: 'mock-model', timeoutMs: 1_000, retries: 0 });
      expect(await client.inspectContext('w '.repeat(5_000), { reserveTokens: 50 })).toEqual({});
      const asked = server.requests.length;
      expect(await client.inspectContext('w '.repeat(5_000), { reserveTokens: 50 })).toEqual({});
      expect(server.requests).toHaveLength(asked);
    } finally {
      await server.close();
    }
  });

  it('does not keep a connection failure', async () => {
    const port = await closedPort();
    const client = createLlmClient({ api: 'kobold', url: `http://127.0.0.1:${port}`, timeoutMs: 1_000, retries: 0 });
    expect((await failure(client.inspectContext('x', { reserveTokens: 1 }))).code).toBe('LLM_CONNECT');
    const server = await startMockLlm({ api: 'kobold', port, contextLength: 2048 });
    try {
      expect(await client.inspectContext('x', { reserveTokens: 1 })).toEqual({ contextLength: 2048 });
    } finally {
      await server.close();
    }
  });

  it('shares one pending probe between concurrent callers', async () => {
    const client = clientFor('llamacpp');
    const infos = await Promise.all([1, 2, 3].map(() => client.inspectContext('x', { reserveTokens: 1 })));
    expect(infos).toEqual([1, 2, 3].map(() => ({ contextLength: 4096 })));
    expect(paths()).toEqual(['/props']);
  });

  it('ollama: /api/show once; there is nothing to count with', async () => {
    const client = clientFor('ollama');
    for (const prompt of ['x', 'w '.repeat(5_000)]) expect(await client.inspectContext(prompt, { reserveTokens: 50 })).toEqual({ contextLength: 4096 });
    expect(paths()).toEqual(['/api/show']);
  });
});

describe('connections', () => {
  it('keeps one connection alive for a client\'s requests, streamed or not', async () => {
    const client = clientFor('kobold');
    await client.inspectContext('a b', { reserveTokens: 5 });
    for (let i = 0; i < 3; i++) {
      await client.complete(requestFor('one two'));
      await client.complete(requestFor('three four'), { onToken: () => undefined });
    }
    expect(llm.mock.requests).toHaveLength(1 + 3 * 3); // context, then generate, stream and perf
    expect(new Set(llm.mock.requests.map((r) => r.connection)).size).toBe(1);
  });

  it('closes the connection of a stream the client cut at a stop string (the generation ends with it)', async () => {
    // A server that ignores the stop string and goes on generating.
    const closed: boolean[] = [];
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const tokens = ['echo:', ' a', ' ###', ' b', ' c', ' d', ' e', ' f'];
        let i = 0;
        const timer = setInterval(() => {
          if (i < tokens.length) return void res.write(`data: ${JSON.stringify({ token: tokens[i++], finish_reason: null })}\n\n`);
          clearInterval(timer);
          res.end(`data: ${JSON.stringify({ token: '', finish_reason: 'length' })}\n\n`);
        }, 20);
        res.on('close', () => {
          clearInterval(timer);
          closed.push(i < tokens.length);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const client = createLlmClient({ api: 'kobold', url: `http://127.0.0.1:${port}`, timeoutMs: 1_000, retries: 0 });
      const result = await client.complete(requestFor('a', { stop: ['###'] }), { onToken: () => undefined });
      expect(result).toMatchObject({ text: 'echo: a ', finishReason: 'stop' });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(closed).toEqual([true]); // closed early, before the server's end
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('replaces a kept-alive connection the server closed, without counting an attempt', async () => {
    // Answers the first request on each connection, then drops the connection on the next one.
    const server = createHttpServer((req, res) => {
      const served = (req.socket as { served?: number }).served ?? 0;
      (req.socket as { served?: number }).served = served + 1;
      if (served > 0) return req.socket.destroy();
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ results: [{ text: 'fresh', finish_reason: 'stop' }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const client = createLlmClient({ api: 'kobold', url: `http://127.0.0.1:${port}`, timeoutMs: 1_000, retries: 0 });
      expect(await client.complete(requestFor('x'))).toMatchObject({ text: 'fresh', attempts: 1 });
      expect(await client.complete(requestFor('x'))).toMatchObject({ text: 'fresh', attempts: 1 });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('decodes UTF-8 characters split across network chunks', async () => {
    const event = Buffer.from(`data: ${JSON.stringify({ token: '€ ünïcødé 🙂', finish_reason: null })}\n\n`);
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let at = 0;
        const next = (): void => { // 3 bytes at a time: splits every multi-byte character somewhere
          if (at >= event.length) return void res.end(`data: ${JSON.stringify({ token: '', finish_reason: 'stop' })}\n\n`);
          res.write(event.subarray(at, (at += 3)));
          setTimeout(next, 1);
        };
        next();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const client = createLlmClient({ api: 'kobold', url: `http://127.0.0.1:${port}`, timeoutMs: 1_000, retries: 0 });
      const result = await client.complete(requestFor('x'), { onToken: () => undefined });
      expect(result.text).toBe('€ ünïcødé 🙂');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a connection dropped in the middle of a whole reply', async () => {
    const error = await failure(clientFor('openai', { fault: 'drop=1' }).complete(requestFor('a b c d')));
    expect(error.code).toBe('LLM_CONNECT');
    expect(error.message).toContain('connection dropped mid-response');
    expect(llm.mock.requests.filter((r) => r.path === '/v1/completions')).toHaveLength(1); // not retried
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
