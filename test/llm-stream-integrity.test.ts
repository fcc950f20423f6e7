/**
 * Issue 7: a reply that is not a stream, or a stream that stops without the API's end, is a
 * failure (LLM_PROTOCOL), never a completed reply with empty or truncated text. Run over real
 * HTTP against the mock (faults `html` and `cut=N`) for every API, plus small scripted servers
 * for what real servers send that the mock does not (content-type parameters, no `[DONE]`...).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import type { ApiKind } from '../src/core/llm.js';
import { createLlmClient } from '../src/adapters/llm/index.js';
import { mockReply, parseFaultSpec } from '../src/mock-llm/index.js';
import { API_CASES, requestFor } from './helpers/llm-cases.js';
import { useSharedMockLlm } from './helpers/shared-mock.js';
import { scripted } from './helpers/scripted-server.js';

const llm = useSharedMockLlm();
const clientFor = llm.clientFor.bind(llm);



async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then((value) => ({ resolved: value }), (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe.each(API_CASES)('stream integrity: $api', (c) => {
  it('fails a 200 text/html page sent in answer to a streaming request, quoting the page', async () => {
    const pieces: string[] = [];
    const error = await failure(clientFor(c.api, { fault: 'html' }).complete(requestFor('hello'), { onToken: (t) => pieces.push(t) }));
    expect(error.code).toBe('LLM_PROTOCOL');
    expect(error.message).toBe(
      `[llm:${c.api}] POST ${c.path.stream} -> expected a stream (${c.api === 'ollama' ? 'application/x-ndjson' : 'text/event-stream'}) ` +
      'but the server answered 200 text/html: Sign in Sign in to continue');
    expect(error.hint).toMatch(/login proxy/);
    expect(pieces).toEqual([]);
    expect(llm.mock.requests.filter((r) => r.path === c.path.stream)).toHaveLength(1); // not retried
  });

  it('fails a 200 text/html page sent instead of a whole reply', async () => {
    const error = await failure(clientFor(c.api, { fault: 'html' }).complete(requestFor('hello')));
    expect(error.code).toBe('LLM_PROTOCOL');
    expect(error.message).toContain('(text/html)');
  });

  it('fails a stream that ends cleanly after 3 tokens without the API\'s end, keeping none of it as the answer', async () => {
    const request = requestFor('one two three four five six');
    const pieces: string[] = [];
    const error = await failure(clientFor(c.api, { fault: 'cut=3' }).complete(request, { onToken: (t) => pieces.push(t) }));
    expect(error.code).toBe('LLM_PROTOCOL');
    expect(error.message).toMatch(/-> the stream was cut: it ended after 3 text messages without .+, so the reply is incomplete$/);
    expect(pieces).toEqual(mockReply(c.promptSeen(request)).pieces.slice(0, 3)); // what was shown live, before the cut
    expect(llm.mock.requests.filter((r) => r.path === c.path.stream)).toHaveLength(1);
  });

  it('fails a stream that carried every token but not the API\'s end', async () => {
    const error = await failure(clientFor(c.api, { fault: 'cut=100' }).complete(requestFor('short'), { onToken: () => undefined }));
    expect(error.code).toBe('LLM_PROTOCOL');
    expect(error.message).toContain('the stream was cut: it ended after 2 text messages');
  });
});

describe('what real servers send is still accepted', () => {
  it('a stream the client cut at a stop string needs no end from the server', async () => {
    // A server that ignores the stop string, then closes without a finish_reason.
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(['echo:', ' a', ' ###', ' b'].map((token) => `event: message\n${sse({ token, finish_reason: null })}`).join(''));
    });
    try {
      const result = await clientAt('kobold', server.url).complete(requestFor('a', { stop: ['###'] }), { onToken: () => undefined });
      expect(result).toMatchObject({ text: 'echo: a ', finishReason: 'stop' });
    } finally {
      await server.close();
    }
  });

  it('text/event-stream with parameters (vLLM, text-generation-webui: "; charset=utf-8")', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' });
      res.end(`${sse({ choices: [{ text: 'hi', finish_reason: null }] })}${sse({ choices: [{ text: ' there', finish_reason: 'stop' }] })}data: [DONE]\n\n`);
    });
    try {
      const result = await clientAt('openai', server.url).complete(requestFor('x'), { onToken: () => undefined });
      expect(result).toMatchObject({ text: 'hi there', finishReason: 'stop' });
    } finally {
      await server.close();
    }
  });

  it('an OpenAI stream that ends with a finish_reason and no [DONE] (ik_llama.cpp)', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(sse({ choices: [{ delta: { content: 'done' }, finish_reason: null }] }) + sse({ choices: [{ delta: {}, finish_reason: 'length' }] }));
    });
    try {
      const result = await clientAt('openai-chat', server.url).complete(requestFor('x'), { onToken: () => undefined });
      expect(result).toMatchObject({ text: 'done', finishReason: 'length' });
    } finally {
      await server.close();
    }
  });

  it('an OpenAI stream with [DONE] but no finish_reason', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${sse({ choices: [{ text: 'ok', finish_reason: null }] })}data: [DONE]`); // KoboldCpp 1.76: no blank line after [DONE]
    });
    try {
      const result = await clientAt('openai', server.url).complete(requestFor('x'), { onToken: () => undefined });
      expect(result).toMatchObject({ text: 'ok', finishReason: 'unknown' });
    } finally {
      await server.close();
    }
  });

  it('a stream without a content type, judged by its messages', async () => {
    const server = await scripted((_req, res) => {
      res.removeHeader('content-type');
      res.writeHead(200);
      res.end(sse({ content: 'fine', stop: false }) + sse({ content: '', stop: true, stop_type: 'eos' }));
    });
    try {
      const result = await clientAt('llamacpp', server.url).complete(requestFor('x'), { onToken: () => undefined });
      expect(result).toMatchObject({ text: 'fine', finishReason: 'stop' });
    } finally {
      await server.close();
    }
  });

  it('ollama: one application/json object instead of NDJSON (KoboldCpp\'s Ollama imitation never streams)', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model: 'm', response: 'whole', done: true, done_reason: 'stop', prompt_eval_count: 3, eval_count: 1 }));
    });
    try {
      const result = await clientAt('ollama', server.url).complete(requestFor('x'), { onToken: () => undefined });
      expect(result).toMatchObject({ text: 'whole', finishReason: 'stop', completionTokens: 1 });
    } finally {
      await server.close();
    }
  });

  it('a 200 JSON error in answer to a streaming request reports the server\'s message', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'model is loading', type: 'unavailable_error' } }));
    });
    try {
      const error = await failure(clientAt('openai', server.url).complete(requestFor('x'), { onToken: () => undefined }));
      expect(error.code).toBe('LLM_HTTP');
      expect(error.message).toBe('[llm:openai] POST /v1/completions -> server error in the reply: model is loading (unavailable_error)');
    } finally {
      await server.close();
    }
  });
});

describe('mock faults html and cut', () => {
  it('parse, and the html page comes with 200 text/html on every generation route', async () => {
    expect(parseFaultSpec('html,cut=2')).toEqual({ html: true, cutAfter: 2 });
    for (const path of ['/api/v1/generate', '/completion', '/v1/completions']) {
      const response = await fetch(`${llm.mock.url}/__fault/html${path}`, { method: 'POST', body: JSON.stringify({ prompt: 'x', stream: true }) });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await response.text()).toContain('<title>Sign in</title>');
    }
  });

  it('cut ends an OpenAI stream with neither a finish_reason nor [DONE]', async () => {
    const response = await fetch(`${llm.mock.url}/__fault/cut=1/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'a b c', stream: true, max_tokens: 10 }) });
    const body = await response.text();
    expect(body.match(/^data: /gm)).toHaveLength(1);
    expect(body).not.toContain('[DONE]');
    expect(body).toContain('"finish_reason":null');
  });
});

function clientAt(api: ApiKind, url: string) {
  return createLlmClient({ api, url, model: 'm', timeoutMs: 1_000, retries: 0 });
}

function sse(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

