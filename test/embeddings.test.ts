/**
 * Embeddings for the `embedding_similar` check: the client of each API against the real mock
 * (over HTTP), the answer shapes llama-server builds differ in, refusals of servers that serve
 * no embeddings (with the hint), and the API key (sent, never shown).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddingClient, type EmbeddingClient, type EmbeddingClientOptions } from '../src/adapters/llm/index.js';
import { AppError } from '../src/core/errors.js';
import type { ApiKind } from '../src/core/llm.js';
import { ECHO_FORMS, startMockLlm, type MockApiMode, type MockLlm } from '../src/mock-llm/index.js';
import { mockEmbedding } from '../src/mock-llm/routes/embeddings.js';

function cosine(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then((value) => ({ resolved: value }), (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const clients: EmbeddingClient[] = [];
function client(options: EmbeddingClientOptions): EmbeddingClient {
  const made = createEmbeddingClient({ timeoutMs: 2_000, retries: 0, ...options });
  clients.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** Each API, the mock mode that stands for its server, and the route it must use. */
const CASES: { api: ApiKind; mode: MockApiMode; path: string }[] = [
  { api: 'llamacpp', mode: 'llamacpp', path: '/embedding' },
  { api: 'ollama', mode: 'ollama', path: '/api/embed' },
  { api: 'openai', mode: 'openai', path: '/v1/embeddings' },
  { api: 'openai-chat', mode: 'openai', path: '/v1/embeddings' },
  { api: 'kobold', mode: 'kobold', path: '/v1/embeddings' },
];

const A = 'The quick brown fox jumps over the lazy dog';
const A_AGAIN = 'the quick brown fox jumps over the lazy dog.';
const SIMILAR = 'The quick brown fox jumps over the sleepy dog';
const UNRELATED = 'Quarterly revenue grew eleven percent in Europe';

describe.each(CASES)('embeddings: $api against the mock ($mode)', ({ api, mode, path }) => {
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm({ api: mode });
  });
  afterAll(async () => {
    await mock.close();
  });

  it('equal texts have cosine 1, similar ones more than unrelated ones', async () => {
    mock.reset();
    const [a, again, similar, unrelated] = await client({ api, url: mock.url }).embed([A, A_AGAIN, SIMILAR, UNRELATED]);
    expect(a).toHaveLength(64);
    expect(cosine(a!, again!)).toBeCloseTo(1, 10);
    expect(cosine(a!, similar!)).toBeGreaterThan(0.8);
    expect(cosine(a!, unrelated!)).toBeLessThan(0.5);
    expect(cosine(a!, similar!)).toBeGreaterThan(cosine(a!, unrelated!));
    const posts = mock.requests.filter((r) => r.method === 'POST');
    expect(posts.every((r) => r.path === path)).toBe(true);
    // llama-server's native route gets one text per request; the others one request for all.
    expect(posts).toHaveLength(api === 'llamacpp' ? 4 : 1);
  });

  it('keeps the order of several inputs in one call', async () => {
    const texts = ['gamma ray', 'alpha beta', 'alpha beta', 'delta', 'epsilon zeta eta'];
    const vectors = await client({ api, url: mock.url }).embed(texts);
    expect(vectors).toEqual(texts.map(mockEmbedding));
    const one = client({ api, url: mock.url });
    for (const [i, text] of texts.entries()) expect(await one.embed([text])).toEqual([vectors[i]]);
  });

  it('sends the request shape of its API', async () => {
    mock.reset();
    await client({ api, url: mock.url }).embed(['one', 'two']);
    const bodies = mock.requests.filter((r) => r.method === 'POST').map((r) => r.body);
    if (api === 'llamacpp') expect(bodies).toEqual([{ content: 'one' }, { content: 'two' }]);
    else if (api === 'ollama') expect(bodies).toEqual([{ model: 'mock-model', input: ['one', 'two'] }]);
    else if (api === 'kobold') expect(bodies).toEqual([{ input: ['one', 'two'], encoding_format: 'float' }]);
    else expect(bodies).toEqual([{ model: 'mock-model', input: ['one', 'two'], encoding_format: 'float' }]);
  });

  it('answers no texts without a request, and a cancelled call with CANCELLED', async () => {
    mock.reset();
    const embedder = client({ api, url: mock.url });
    expect(await embedder.embed([])).toEqual([]);
    expect(mock.requests).toHaveLength(0);
    const controller = new AbortController();
    controller.abort();
    expect((await failure(embedder.embed(['x'], controller.signal))).code).toBe('CANCELLED');
  });

  it('retries a 503 like the other clients', async () => {
    mock.reset();
    const vectors = await client({ api, url: `${mock.url}/__fault/status=503,failFirst=1,id=${api}`, model: 'm', retries: 2, retryBaseMs: 5 }).embed(['x']);
    expect(vectors).toEqual([mockEmbedding('x')]);
    expect(mock.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });
});

describe('the model', () => {
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm({ api: 'all' });
  });
  afterAll(async () => {
    await mock.close();
  });

  it('is the configured one when there is one, and is not looked up then', async () => {
    mock.reset();
    await client({ api: 'ollama', url: mock.url, model: 'nomic-embed-text' }).embed(['x']);
    await client({ api: 'openai', url: mock.url, model: 'bge-m3' }).embed(['x']);
    await client({ api: 'kobold', url: mock.url, model: 'k' }).embed(['x']);
    expect(mock.requests.map((r) => [r.method, r.path, (r.body as { model?: string } | undefined)?.model])).toEqual([
      ['POST', '/api/embed', 'nomic-embed-text'], ['POST', '/v1/embeddings', 'bge-m3'], ['POST', '/v1/embeddings', 'k'],
    ]);
  });

  it('is looked up once per client otherwise (Ollama: /api/tags; OpenAI: /v1/models)', async () => {
    mock.reset();
    const ollama = client({ api: 'ollama', url: mock.url });
    await Promise.all([ollama.embed(['a']), ollama.embed(['b'])]);
    await ollama.embed(['c']);
    expect(mock.requests.filter((r) => r.path === '/api/tags')).toHaveLength(1);
    mock.reset();
    const openai = client({ api: 'openai', url: mock.url });
    await openai.embed(['a']);
    await openai.embed(['b']);
    expect(mock.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/embeddings', '/v1/embeddings']);
  });

  it('prefers a listed model whose name says "embed"', async () => {
    const seen: unknown[] = [];
    const server = await jsonServer((req, body) => {
      if (req.url === '/api/tags') return [200, { models: [{ name: 'llama3.1:8b' }, { name: 'nomic-embed-text:latest' }] }];
      if (req.url === '/v1/models') return [200, { data: [{ id: 'qwen2.5-7b-instruct' }, { id: 'text-embedding-nomic-embed-text-v1.5' }] }];
      seen.push(body);
      return req.url === '/api/embed' ? [200, { embeddings: [[1, 0]] }] : [200, { data: [{ index: 0, embedding: [1, 0] }] }];
    });
    try {
      await client({ api: 'ollama', url: server.url }).embed(['x']);
      await client({ api: 'openai', url: server.url }).embed(['x']);
      expect(seen).toMatchObject([{ model: 'nomic-embed-text:latest' }, { model: 'text-embedding-nomic-embed-text-v1.5' }]);
    } finally {
      await server.close();
    }
  });

  it('Ollama without models: a clear error with the hint', async () => {
    const server = await jsonServer(() => [200, { models: [] }]);
    try {
      const error = await failure(client({ api: 'ollama', url: server.url }).embed(['x']));
      expect(error.code).toBe('LLM_PROTOCOL');
      expect(error.message).toMatch(/has no models/);
      expect(error.hint).toMatch(/ollama pull nomic-embed-text/);
    } finally {
      await server.close();
    }
  });
});

describe('a server that serves no embeddings', () => {
  it.each([
    { api: 'llamacpp' as const, mode: 'ollama' as const, path: '/embedding', hint: /--embeddings/ },
    { api: 'kobold' as const, mode: 'ollama' as const, path: '/v1/embeddings', hint: /--embeddingsmodel/ },
    { api: 'openai' as const, mode: 'ollama' as const, path: '/v1/embeddings', hint: /embedding model/ },
    { api: 'ollama' as const, mode: 'openai' as const, path: '/api/embed', hint: /ollama pull nomic-embed-text`, then set `model: nomic-embed-text`/ },
  ])('$api without the route (mock $mode): says so, with the hint', async ({ api, mode, path, hint }) => {
    const mock = await startMockLlm({ api: mode });
    try {
      const error = await failure(client({ api, url: mock.url, model: 'm', retries: 2, retryBaseMs: 5 }).embed(['x']));
      expect(error.code).toBe('LLM_HTTP');
      expect(error.message).toContain(`[llm:${api}] POST ${path} -> 404`);
      expect(error.message).toMatch(/does this server serve embeddings\?/);
      expect(error.hint).toMatch(hint);
      expect(mock.requests).toHaveLength(1); // a 404 is not retried
    } finally {
      await mock.close();
    }
  });

  it('llama-server started without --embeddings (501): its message and the hint, not retried', async () => {
    let requests = 0;
    const server = await jsonServer(() => {
      requests++;
      return [501, { error: { code: 501, message: 'This server does not support embeddings. Start it with `--embeddings`', type: 'not_supported_error' } }];
    });
    try {
      const error = await failure(client({ api: 'llamacpp', url: server.url, retries: 2 }).embed(['x']));
      expect(error.code).toBe('LLM_HTTP');
      expect(error.message).toMatch(/-> 501: This server does not support embeddings\. Start it with `--embeddings`/);
      expect(error.hint).toMatch(/start llama-server with --embeddings/);
      expect(requests).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('an old llama-server answering a vector of zeros: refused, with the hint', async () => {
    const server = await jsonServer(() => [200, { embedding: [0, 0, 0, 0] }]);
    try {
      const error = await failure(client({ api: 'llamacpp', url: server.url }).embed(['x']));
      expect(error.code).toBe('LLM_PROTOCOL');
      expect(error.message).toMatch(/all zeros/);
      expect(error.hint).toMatch(/--embeddings/);
    } finally {
      await server.close();
    }
  });
});

describe('answer shapes', () => {
  it('llama-server: the older {embedding}, the current [{index, embedding: [[...]]}], per-token vectors (averaged)', async () => {
    const replies: unknown[] = [
      { embedding: [0.6, 0.8] },
      [{ index: 0, embedding: [[0.6, 0.8]] }],
      [{ index: 0, embedding: [[1, 0], [0, 1], [2, 2]] }],
    ];
    let next = 0;
    const server = await jsonServer(() => [200, replies[next++]]);
    try {
      const vectors = await client({ api: 'llamacpp', url: server.url }).embed(['a', 'b', 'c']);
      expect(vectors).toEqual([[0.6, 0.8], [0.6, 0.8], [1, 1]]);
    } finally {
      await server.close();
    }
  });

  it.each([
    ['an unknown shape', { data: [[0.1, 0.2]] }],
    ['two entries for one text', [{ index: 0, embedding: [[1]] }, { index: 1, embedding: [[1]] }]],
    ['strings in the vector', { embedding: ['0.1', '0.2'] }],
    ['an empty vector', { embedding: [] }],
  ])('llama-server: %s fails clearly', async (_name, reply) => {
    const server = await jsonServer(() => [200, reply]);
    try {
      const error = await failure(client({ api: 'llamacpp', url: server.url }).embed(['x']));
      expect(error.code).toBe('LLM_PROTOCOL');
      expect(error.message).toMatch(/^\[llm:llamacpp\] POST \/embedding -> /);
    } finally {
      await server.close();
    }
  });

  it('OpenAI-style: entries are put in order by index; base64 vectors are decoded', async () => {
    const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');
    const server = await jsonServer(() => [200, {
      object: 'list',
      data: [{ index: 2, embedding: [0, 0, 1] }, { index: 0, embedding: f32([1, 0, 0]) }, { index: 1, embedding: [0, 1, 0] }],
    }]);
    try {
      expect(await client({ api: 'openai', url: server.url, model: 'm' }).embed(['a', 'b', 'c'])).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    } finally {
      await server.close();
    }
  });

  it.each([
    ['fewer entries than inputs', { data: [{ index: 0, embedding: [1, 0] }] }],
    ['a repeated index', { data: [{ index: 0, embedding: [1, 0] }, { index: 0, embedding: [0, 1] }] }],
    ['vectors of different lengths', { data: [{ index: 0, embedding: [1, 0] }, { index: 1, embedding: [0, 1, 0] }] }],
    ['no data', { embeddings: [[1, 0], [0, 1]] }],
  ])('OpenAI-style: %s fails clearly', async (_name, reply) => {
    const server = await jsonServer(() => [200, reply]);
    try {
      const error = await failure(client({ api: 'openai', url: server.url, model: 'm' }).embed(['a', 'b']));
      expect(error.code).toBe('LLM_PROTOCOL');
    } finally {
      await server.close();
    }
  });

  it('an error object in a 200 answer is an error', async () => {
    const server = await jsonServer(() => [200, { error: 'model "x" does not support embeddings' }]);
    try {
      const error = await failure(client({ api: 'ollama', url: server.url, model: 'x' }).embed(['a']));
      expect(error.code).toBe('LLM_HTTP');
      expect(error.message).toMatch(/does not support embeddings/);
    } finally {
      await server.close();
    }
  });
});

describe('the API key', () => {
  const KEY = "sk-embed/SECRET+key=1 ~!*'9";
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm({ api: 'all', apiKey: KEY });
  });
  afterAll(async () => {
    await mock.close();
  });

  function expectNoKey(text: string): void {
    for (const form of [KEY, encodeURIComponent(KEY), 'SECRET', Buffer.from(`Bearer ${KEY}`).toString('base64').slice(0, 16)]) {
      expect(text, `leaks ${JSON.stringify(form)}`).not.toContain(form);
    }
    expect(text.replace(/\p{Cf}/gu, '')).not.toContain(KEY);
  }

  it.each(CASES)('$api: is sent (the mock refuses requests without it) and not recorded', async ({ api }) => {
    mock.reset();
    const vectors = await client({ api, url: mock.url, apiKey: KEY }).embed([A]);
    expect(vectors).toEqual([mockEmbedding(A)]);
    expect(JSON.stringify(mock.requests)).not.toContain('SECRET');
  });

  it.each(CASES)('$api: a wrong key is a 401 with the key hint, and the key is not in the message', async ({ api }) => {
    const error = await failure(client({ api, url: mock.url, model: 'm', apiKey: `${KEY}-wrong` }).embed([A]));
    expect(error.code).toBe('LLM_HTTP');
    expect(error.message).toMatch(/-> 401: /);
    expect(error.hint).toMatch(/API key/);
    expectNoKey(`${error.message} ${error.hint ?? ''}`);
  });

  describe.each(CASES)('$api: a server quoting the key in its error', ({ api }) => {
    it.each(ECHO_FORMS)('shows *** in place of the key (%s)', async (form) => {
      const error = await failure(client({ api, url: `${mock.url}/__fault/echoKey=${form},status=400`, model: 'm', apiKey: KEY }).embed([A]));
      expect(error.code).toBe('LLM_HTTP');
      expect(error.message).toMatch(/-> 400: Invalid API key: \*\*\*/);
      expectNoKey(`${error.message} ${error.hint ?? ''}`);
    });
  });
});

/** A server on 127.0.0.1 answering every request with `reply(req, body)` as JSON (the body parsed). */
async function jsonServer(reply: (req: IncomingMessage, body: unknown) => [number, unknown]) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [status, value] = reply(req, text === '' ? undefined : JSON.parse(text));
      const body = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
