/**
 * A deterministic fake LLM server on 127.0.0.1 that speaks the KoboldCpp, OpenAI,
 * Ollama and llama.cpp APIs, for tests, demos and benchmarks without a model.
 * Replies follow `mockReply` (reply.ts); faults follow faults.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Generation, MockApiMode, MockFamily, Route, RouteContext } from './context.js';
import { echoedKey, errorStatusFor, FAULT_HEADER, FAULT_QUERY, mergeFaults, parseFaultSpec, splitFaultPrefix, type MockFaults } from './faults.js';
import { defaultMessage, errorBody, sendJson, sendText } from './output.js';
import { llamacppEmbedding, ollamaEmbed, openaiEmbeddings } from './routes/embeddings.js';
import { koboldPropsImitation, koboldRoutes } from './routes/kobold.js';
import { llamacppRoutes } from './routes/llamacpp.js';
import { ollamaRoutes } from './routes/ollama.js';
import { openaiRoutes, tokenizeEitherShape, vllmRoutes } from './routes/openai.js';
import { createStats } from './stats.js';

export interface MockLlmOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Which server to pretend to be (see MockApiMode); default `all`. */
  api?: MockApiMode;
  /** Context size reported and enforced, in mock tokens (words); default 4096. */
  contextLength?: number;
  /** Model name reported by the info routes; default `mock-model`. */
  model?: string;
  /** When set, every route answers 401 unless `Authorization: Bearer <apiKey>` is sent. */
  apiKey?: string;
  /** Server-wide faults for generation routes (see faults.ts). */
  faults?: MockFaults;
}

export interface RecordedRequest {
  method: string;
  /** The path without the `/__fault/<spec>` prefix and trailing slashes. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names; `authorization` is left out. */
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
  /** The fault spec given by path prefix, header or query, if any. */
  fault?: string;
  /** Which TCP connection it came on (1, 2, ... in the order they were opened): shows keep-alive reuse. */
  connection: number;
}

export interface MockLlm {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  port: number;
  /** Every request received, in arrival order (live array; `reset()` empties it). */
  requests: RecordedRequest[];
  /** Replaces the server-wide faults and resets the `failFirst` counters. */
  setFaults(faults: MockFaults): void;
  /** Empties `requests` and resets the `failFirst` counters and the peak of generations at once. */
  reset(): void;
  /** Generations in progress now, and the most at once since the start or the last reset. */
  generations(): { active: number; peak: number };
  /** Destroys open connections (hung requests included) and stops listening. */
  close(): Promise<void>;
}

function routesFor(mode: MockApiMode): Route[] {
  switch (mode) {
    case 'kobold': return [...koboldRoutes, ...openaiRoutes, koboldPropsImitation, openaiEmbeddings];
    case 'llamacpp': return [...llamacppRoutes, ...openaiRoutes, llamacppEmbedding, openaiEmbeddings];
    case 'ollama': return [...ollamaRoutes, ...openaiRoutes, ollamaEmbed];
    case 'openai': return [...openaiRoutes, ...vllmRoutes, openaiEmbeddings];
    // `/tokenize` answers in llama.cpp's or vLLM's shape depending on the body.
    case 'all': return [
      tokenizeEitherShape, ...koboldRoutes, ...llamacppRoutes, ...ollamaRoutes, ...openaiRoutes, ...vllmRoutes,
      llamacppEmbedding, ollamaEmbed, openaiEmbeddings,
    ];
  }
}

/** Starts the mock on 127.0.0.1. */
export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const mode = options.api ?? 'all';
  const routes = routesFor(mode);
  const requests: RecordedRequest[] = [];
  const counters = new Map<string, number>();
  const generations = new Map<string, Generation>();
  const stats = createStats();
  let serverFaults: MockFaults = options.faults ?? {};
  const connectionIds = new WeakMap<object, number>();
  let connections = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://mock.invalid');
    const split = splitFaultPrefix(url.pathname);
    const path = split.path.length > 1 ? split.path.replace(/\/+$/, '') : split.path;
    const text = await readBody(req);
    const parsed = parseJson(text);
    const headerSpec = header(req, FAULT_HEADER);
    const querySpec = url.searchParams.get(FAULT_QUERY) ?? undefined;
    const specs = [split.spec, headerSpec, querySpec].filter((s): s is string => s !== undefined);
    requests.push({
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(url.searchParams),
      headers: recordedHeaders(req),
      body: text === '' ? undefined : parsed.ok ? parsed.value : text,
      ...(specs.length > 0 ? { fault: specs.join(',') } : {}),
      connection: connectionIds.get(req.socket) ?? 0,
    });

    const route = routes.find((r) => r.method === req.method && r.path === path);
    const family: MockFamily = route?.family ?? (mode === 'all' ? 'openai' : mode);

    let faults: MockFaults = {};
    if (route?.generation) {
      try {
        faults = mergeFaults(serverFaults, ...specs.map(parseFaultSpec));
      } catch (error) {
        return sendText(res, 400, (error as Error).message);
      }
    }
    const ctx: RouteContext = {
      req, res, faults, mode, generations, stats,
      body: parsed.ok && isRecord(parsed.value) ? parsed.value : {},
      contextLength: faults.contextLength ?? options.contextLength ?? 4096,
      model: options.model ?? 'mock-model',
      fail: (status, message, type) => sendJson(res, status, errorBody(family, mode, status, message ?? defaultMessage(status), type),
        faults.retryAfter === undefined ? {} : { 'retry-after': faults.retryAfter }),
    };

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return ctx.fail(401, family === 'kobold' ? 'Authentication key is missing or invalid.' : 'Invalid API key.');
    }
    if (!route) return sendText(res, 404, `Not Found: ${req.method} ${path}`);
    if (text !== '' && !parsed.ok) return ctx.fail(family === 'kobold' ? 500 : 400, family === 'kobold' ? 'Error parsing input.' : 'Invalid JSON body.');
    if (route.generation && faults.echoKey !== undefined) {
      return ctx.fail(faults.status ?? 401, `Invalid API key: ${echoedKey(req.headers.authorization, faults.echoKey)}`);
    }
    if (route.generation) {
      const status = errorStatusFor(faults, counters);
      if (status !== undefined) return ctx.fail(status);
    }
    await route.handle(ctx);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendText(res, 500, `mock-llm bug: ${String(error)}`));
  });
  server.on('connection', (socket) => connectionIds.set(socket, ++connections));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setFaults(faults) {
      serverFaults = faults;
      counters.clear();
    },
    reset() {
      requests.length = 0;
      counters.clear();
      stats.peakActive = stats.active;
    },
    generations() {
      return { active: stats.active, peak: stats.peakActive };
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Headers for assertions; the credential is never recorded. */
function recordedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization' || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
