/**
 * Embeddings, for the `embedding_similar` check: texts -> vectors, from a server that serves
 * an embedding model. One route per API (protocols.md has no embeddings section; these are
 * the servers' documented APIs, as of the versions protocols.md names):
 *
 *  - `llamacpp`: `POST /embedding {content: "<text>"}`, one request per text (older builds
 *    take only one string). The answer's shape depends on the build:
 *      current:  `[{index: 0, embedding: [[...floats]]}]` (one pooled vector in a list);
 *      `--pooling none`: the same with one vector per token: they are averaged here, which is
 *        what `--pooling mean` does before normalizing (cosine does not see the scale);
 *      older:    `{embedding: [...floats]}`;
 *    a build started without `--embeddings` answers 501 ("This server does not support
 *    embeddings. Start it with `--embeddings`"), and old builds a vector of zeros, which is
 *    refused below as well. (llama-server also serves `/v1/embeddings`, but refuses it under
 *    `--pooling none`; the native route works with every build.)
 *  - `ollama`: `POST /api/embed {model, input: [...texts]}` -> `{embeddings: [[...], ...]}`
 *    in input order (Ollama 0.3.0 and later). The model is required: the configured one, else
 *    from `GET /api/tags` the first whose name contains "embed" (nomic-embed-text,
 *    mxbai-embed-large...), else the first listed (a chat model embeds too, poorly).
 *  - `openai`, `openai-chat` (vLLM, LM Studio) and `kobold` (KoboldCpp started with
 *    `--embeddingsmodel`): `POST /v1/embeddings {model?, input: [...texts], encoding_format:
 *    "float"}` -> `{data: [{index, embedding}]}`, put in order by `index`. The model: the
 *    configured one, else (not for KoboldCpp, which ignores it) the first id of `GET /v1/models`
 *    containing "embed", else the first listed, else none. A base64 `embedding` (float32,
 *    little-endian) is decoded too.
 *
 * Requests go through http.ts (timeouts, retries on connection failures, 429 and 5xx, the
 * API key as `Authorization: Bearer` and masked in every message). A refusal (4xx other than
 * 401/403/429, 5xx, 501) is reported as an LLM_HTTP error saying the server may serve no
 * embeddings, with a hint on how to start it with an embedding model. Every vector is
 * checked: finite numbers, not empty, not all zeros, one length for all.
 */
import { AppError } from '../../core/errors.js';
import type { ApiKind } from '../../core/llm.js';
import { cancelledError, failOnErrorObject, LlmError, llmError, unexpectedReply, type FailureContext } from './failure.js';
import { isRecord, record, str } from './fields.js';
import { createHttpClient, type HttpClient } from './http.js';
import { sharedLookup, type SharedLookup } from './shared-lookup.js';
import { normalizeBaseUrl } from './url.js';

export interface EmbeddingClientOptions {
  api: ApiKind;
  /** Base URL, e.g. http://127.0.0.1:8080 (a trailing slash is fine; credentials go in apiKey). */
  url: string;
  /** The embedding model's name (Ollama needs one; vLLM and LM Studio use it to pick a model). */
  model?: string | undefined;
  /** Sent as `Authorization: Bearer`; never shown. */
  apiKey?: string | undefined;
  /** Time allowed for the response headers, then between body chunks. Default 120 000 ms. */
  timeoutMs?: number | undefined;
  /** Extra attempts on connection failures, 429 and 5xx (not 501). Default 2. */
  retries?: number | undefined;
  /** First backoff delay between attempts (default 500 ms, doubling). */
  retryBaseMs?: number | undefined;
}

export interface EmbeddingClient {
  readonly api: ApiKind;
  /** Base URL (never contains credentials). */
  readonly url: string;
  /**
   * One vector per text, in the order of `texts` (all of one length); `[]` for no texts,
   * without a request. Rejects with LLM_HTTP / LLM_CONNECT / LLM_TIMEOUT / LLM_PROTOCOL /
   * LLM_CONTEXT, or CANCELLED when `signal` fires.
   */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  /** Releases the connections; requests in flight fail with CANCELLED. The client still works afterwards. */
  close(): Promise<void>;
}

export const DEFAULT_EMBEDDING_TIMEOUT_MS = 120_000;
export const DEFAULT_EMBEDDING_RETRIES = 2;

/** How to get embeddings out of each server, for the hint of a refusal. */
const HINTS: Record<ApiKind, string> = {
  llamacpp: 'start llama-server with --embeddings and an embedding model (e.g. `llama-server -m nomic-embed-text-v1.5.Q8_0.gguf --embeddings`)',
  ollama: 'pull an embedding model and name it: `ollama pull nomic-embed-text`, then set `model: nomic-embed-text` (Ollama 0.3.0 or later serves /api/embed)',
  kobold: 'KoboldCpp: start it with an embeddings model, --embeddingsmodel <file.gguf>',
  openai: 'serve an embedding model and set `model:` to it (vLLM: `vllm serve <embedding model>`; LM Studio: load an embedding model)',
  'openai-chat': 'serve an embedding model and set `model:` to it (vLLM: `vllm serve <embedding model>`; LM Studio: load an embedding model)',
};

export function createEmbeddingClient(options: EmbeddingClientOptions): EmbeddingClient {
  const { api } = options;
  const http = createHttpClient({
    label: api,
    baseUrl: normalizeBaseUrl(options.url),
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? DEFAULT_EMBEDDING_TIMEOUT_MS,
    retries: options.retries ?? DEFAULT_EMBEDDING_RETRIES,
    retryBaseMs: options.retryBaseMs,
  });
  const model = modelSource(api, http, options.model);
  const { path, embedAll } = api === 'llamacpp' ? { path: '/embedding', embedAll: embedLlamaCpp }
    : api === 'ollama' ? { path: '/api/embed', embedAll: embedOllama }
    : { path: '/v1/embeddings', embedAll: embedOpenAi };

  return {
    api,
    url: http.baseUrl,
    async embed(texts, signal) {
      if (texts.length === 0) return [];
      const where: FailureContext = { label: api, method: 'POST', path };
      if (signal?.aborted) throw cancelledError(where);
      return checkVectors(await embedAll({ http, api }, texts, model, signal), api, where);
    },
    async close() {
      await model?.reset();
      http.close();
    },
  };
}

/** The model to name: none needed (llamacpp, kobold), configured, or looked up once. */
function modelSource(api: ApiKind, http: HttpClient, configured: string | undefined): SharedLookup<string | undefined> | undefined {
  if (api === 'llamacpp' || (api === 'kobold' && !configured)) return undefined;
  return sharedLookup(async (signal) => configured ?? (api === 'ollama' ? ollamaModel(http, signal) : listedModel(http, signal)), {
    cancelled: () => cancelledError({ label: api, method: 'GET', path: http.baseUrl }),
  });
}

/** The HTTP client and the API it speaks. */
interface Server {
  http: HttpClient;
  api: ApiKind;
}

/** A request's reply as JSON, a refusal turned into a message about embeddings. */
async function post(
  { http, api }: Server, path: string, body: unknown, signal: AbortSignal | undefined,
): Promise<{ value: unknown; attempts: number; where: FailureContext }> {
  try {
    const exchange = await http.send({ method: 'POST', path, body, signal });
    const value = await exchange.json();
    if (isRecord(value)) failOnErrorObject(exchange.where, value, exchange.attempts);
    return { value, attempts: exchange.attempts, where: exchange.where };
  } catch (error) {
    throw explainRefusal(error, api);
  }
}

/** LLM_HTTP for a status that means "no embeddings here" gets that said, and the API's hint. */
function explainRefusal(error: unknown, api: ApiKind): unknown {
  if (!(error instanceof LlmError)) return error;
  if (error.code === 'LLM_CONTEXT') {
    return new LlmError(error.code, error.message, {
      status: error.status, attempts: error.attempts, cause: error,
      hint: 'the text is longer than the embedding model takes; shorten it, or use a model with a longer context',
    });
  }
  const status = error.status;
  if (error.code !== 'LLM_HTTP' || status === undefined || status === 401 || status === 403 || status === 429 || status < 400) return error;
  const hint = HINTS[api];
  return new LlmError('LLM_HTTP', `${error.message} (does this server serve embeddings?)`, {
    status, attempts: error.attempts, cause: error,
    hint: status === 404 ? `${hint}; or check the endpoint's \`api\` setting` : hint,
  });
}

// ---- llama.cpp -------------------------------------------------------------------------------

async function embedLlamaCpp(server: Server, texts: string[], _model: unknown, signal: AbortSignal | undefined): Promise<number[][]> {
  const vectors: number[][] = [];
  for (const text of texts) {
    const { value, attempts, where } = await post(server, '/embedding', { content: text }, signal);
    vectors.push(llamaCppVector(value, where, attempts));
  }
  return vectors;
}

/** One text's vector out of any of the shapes in the header. */
function llamaCppVector(reply: unknown, where: FailureContext, attempts: number): number[] {
  let embedding: unknown;
  if (Array.isArray(reply)) {
    // Current builds: a list with one entry per input (we send one).
    const entry = reply.find((item) => isRecord(item) && item['index'] === 0) ?? reply[0];
    if (reply.length !== 1 || !isRecord(entry)) throw unexpectedReply(where, reply, attempts);
    embedding = entry['embedding'];
  } else if (isRecord(reply)) {
    embedding = reply['embedding']; // older builds
  }
  if (isNumbers(embedding)) return embedding;
  if (Array.isArray(embedding) && embedding.length > 0 && embedding.every(isNumbers)) {
    // One pooled vector in a list, or (`--pooling none`) one per token: their mean.
    return embedding.length === 1 ? embedding[0]! : meanOf(embedding, where, attempts);
  }
  throw unexpectedReply(where, reply, attempts);
}

function meanOf(vectors: number[][], where: FailureContext, attempts: number): number[] {
  const size = vectors[0]!.length;
  if (vectors.some((v) => v.length !== size)) {
    throw llmError(where, 'LLM_PROTOCOL', 'per-token embeddings of different lengths in one reply', { attempts });
  }
  const mean = new Array<number>(size).fill(0);
  for (const vector of vectors) for (let i = 0; i < size; i++) mean[i]! += vector[i]! / vectors.length;
  return mean;
}

// ---- Ollama ----------------------------------------------------------------------------------

async function embedOllama(
  server: Server, texts: string[], model: SharedLookup<string | undefined> | undefined, signal: AbortSignal | undefined,
): Promise<number[][]> {
  const name = await model!.get(signal);
  const { value, attempts, where } = await post(server, '/api/embed', { model: name, input: texts }, signal);
  const embeddings = record(value)['embeddings'];
  if (!Array.isArray(embeddings) || !embeddings.every(isNumbers)) throw unexpectedReply(where, value, attempts);
  return countChecked(embeddings, texts.length, where, attempts);
}

/** Ollama's model when none is configured: an embedding model if one is pulled, else the first listed. */
async function ollamaModel(http: HttpClient, signal: AbortSignal): Promise<string> {
  const reply = record(await (await http.send({ method: 'GET', path: '/api/tags', signal })).json());
  const names = (Array.isArray(reply['models']) ? reply['models'] : [])
    .map((m) => str(record(m)['name']) ?? str(record(m)['model']))
    .filter((name): name is string => !!name);
  const name = preferEmbedding(names);
  if (!name) {
    throw new AppError('LLM_PROTOCOL', `[llm:ollama] ${http.baseUrl} has no models`, { hint: HINTS.ollama });
  }
  return name;
}

// ---- OpenAI-compatible -----------------------------------------------------------------------

async function embedOpenAi(
  server: Server, texts: string[], model: SharedLookup<string | undefined> | undefined, signal: AbortSignal | undefined,
): Promise<number[][]> {
  const name = await model?.get(signal);
  const body = { ...(name ? { model: name } : {}), input: texts, encoding_format: 'float' };
  const { value, attempts, where } = await post(server, '/v1/embeddings', body, signal);
  const data = record(value)['data'];
  if (!Array.isArray(data) || !data.every(isRecord)) throw unexpectedReply(where, value, attempts);
  const vectors: number[][] = new Array<number[]>(data.length);
  data.forEach((entry, position) => {
    const index = typeof entry['index'] === 'number' ? entry['index'] : position;
    const embedding = typeof entry['embedding'] === 'string' ? fromBase64(entry['embedding']) : entry['embedding'];
    if (!Number.isInteger(index) || index < 0 || index >= data.length || vectors[index] !== undefined || !isNumbers(embedding)) {
      throw unexpectedReply(where, value, attempts);
    }
    vectors[index] = embedding;
  });
  return countChecked(vectors, texts.length, where, attempts);
}

/** The first id `GET /v1/models` lists that looks like an embedding model, else the first, else none. */
async function listedModel(http: HttpClient, signal: AbortSignal): Promise<string | undefined> {
  let reply: Record<string, unknown>;
  try {
    reply = record(await (await http.send({ method: 'GET', path: '/v1/models', signal })).json());
  } catch (error) {
    // No list: send no model (servers with one model accept that). Connection failures still throw.
    if (error instanceof AppError && (error.code === 'LLM_HTTP' || error.code === 'LLM_PROTOCOL')) return undefined;
    throw error;
  }
  const ids = (Array.isArray(reply['data']) ? reply['data'] : []).map((m) => str(record(m)['id'])).filter((id): id is string => !!id);
  return preferEmbedding(ids);
}

/** float32 little-endian, as `encoding_format: "base64"` sends them. */
function fromBase64(text: string): number[] | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += 4) out.push(bytes.readFloatLE(at));
  return out;
}

// ---- shared ----------------------------------------------------------------------------------

function preferEmbedding(names: string[]): string | undefined {
  return names.find((name) => /embed/i.test(name)) ?? names[0];
}

function isNumbers(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

function countChecked(vectors: number[][], expected: number, where: FailureContext, attempts: number): number[][] {
  if (vectors.length !== expected) {
    throw llmError(where, 'LLM_PROTOCOL', `${vectors.length} embeddings for ${expected} inputs`, { attempts });
  }
  return vectors;
}

/** Every vector: not empty, finite, not all zeros; all of one length. */
function checkVectors(vectors: number[][], api: ApiKind, where: FailureContext): number[][] {
  const size = vectors[0]?.length ?? 0;
  vectors.forEach((vector, i) => {
    if (vector.length === 0) throw llmError(where, 'LLM_PROTOCOL', `the embedding of input ${i + 1} is empty`);
    if (vector.length !== size) {
      throw llmError(where, 'LLM_PROTOCOL', `embeddings of different lengths in one answer (${size} and ${vector.length})`);
    }
    if (!vector.every(Number.isFinite)) throw llmError(where, 'LLM_PROTOCOL', `the embedding of input ${i + 1} holds a value that is not a finite number`);
    if (vector.every((v) => v === 0)) {
      throw llmError(where, 'LLM_PROTOCOL', `the embedding of input ${i + 1} is all zeros (does this server serve embeddings?)`, { hint: HINTS[api] });
    }
  });
  return vectors;
}
