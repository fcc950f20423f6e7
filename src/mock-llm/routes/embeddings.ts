/**
 * Embedding routes, one per API family, all answering with the same deterministic vectors:
 *  - OpenAI-style `POST /v1/embeddings` (vLLM, LM Studio, KoboldCpp with `--embeddingsmodel`,
 *    llama-server): `{model?, input: string | string[]}` -> `{object:"list", data:[{object:
 *    "embedding", index, embedding}], model, usage}`; `encoding_format` is ignored (always floats);
 *  - llama-server's native `POST /embedding`: `{content: string | string[]}` -> the current
 *    builds' shape, a list of `{index, embedding: [[...]]}` (one pooled vector per input);
 *  - Ollama's `POST /api/embed`: `{model, input: string | string[]}` -> `{model, embeddings:
 *    [[...]], total_duration, load_duration, prompt_eval_count}`; `model` is required (any
 *    name is "installed", as for `/api/show`).
 *
 * The vector (`mockEmbedding`): a hashed bag of words in 64 dimensions. The text is
 * lower-cased and split into words (runs of Unicode letters and digits; everything else
 * separates them). Each word adds 1 to dimension `fnv1a32(word) % 64` (FNV-1a over the
 * word's UTF-8 bytes), and the counts are L2-normalized. A text without words counts as the
 * one word "" (the empty string), so no vector is ever all zeros. Hence equal texts (up to
 * case and punctuation) have cosine 1, texts sharing most words a high cosine, and texts
 * with no word in common a low one (only hash collisions add to it).
 *
 * An input that is neither a string nor a list of strings (token ids, say) or an empty list
 * is answered 400 in the route's error shape. Faults apply as on generation routes: `status`,
 * `failFirst`, `retryAfter` and `echoKey` (server.ts), and here `hang`, `html`, `malformed`
 * and `latency` (once, before the answer); the streaming faults have no effect.
 */
import type { Route, RouteContext } from '../context.js';
import { stringField } from '../fields.js';
import { LOGIN_PAGE, sendJson, sendText } from '../output.js';
import { countTokens } from '../reply.js';

/** The mock embedding's dimensions (also what Ollama's `/api/show` reports as `embedding_length`). */
export const MOCK_EMBEDDING_DIMENSIONS = 64;

/** The mock's embedding of `text` (see the header). */
export function mockEmbedding(text: string): number[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [''];
  const counts = new Array<number>(MOCK_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of words) counts[fnv1a32(word) % MOCK_EMBEDDING_DIMENSIONS]! += 1;
  const norm = Math.sqrt(counts.reduce((sum, c) => sum + c * c, 0));
  return counts.map((c) => c / norm);
}

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The inputs of a request: a string or a non-empty list of strings; undefined otherwise. */
function inputsOf(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v): v is string => typeof v === 'string')) return value;
  return undefined;
}

/** The playback faults that make sense for one JSON answer; true when the fault answered (or never will). */
async function faulted(ctx: RouteContext): Promise<boolean> {
  const { faults, res } = ctx;
  if (faults.hang) return true; // never answer; the server's close() destroys the socket
  if (faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
  if (faults.html) {
    sendText(res, 200, LOGIN_PAGE, 'text/html');
    return true;
  }
  if (faults.malformed) {
    sendText(res, 200, '{"data": [{"embedding": [0.1, ', 'application/json');
    return true;
  }
  return false;
}

const usage = (inputs: string[]) => {
  const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  return { prompt_tokens: tokens, total_tokens: tokens };
};

/** OpenAI-style `POST /v1/embeddings`. */
export const openaiEmbeddings: Route = {
  method: 'POST', path: '/v1/embeddings', family: 'openai', generation: true,
  async handle(ctx) {
    const inputs = inputsOf(ctx.body['input']);
    if (!inputs) return ctx.fail(400, '`input` must be a string or a non-empty list of strings.', ctx.mode === 'llamacpp' ? undefined : 'BadRequestError');
    if (await faulted(ctx)) return;
    sendJson(ctx.res, 200, {
      object: 'list',
      data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: mockEmbedding(text) })),
      model: stringField(ctx.body['model']) ?? ctx.model,
      usage: usage(inputs),
    });
  },
};

/** llama-server's native `POST /embedding` (`content`; `input` is read too, as the server does). */
export const llamacppEmbedding: Route = {
  method: 'POST', path: '/embedding', family: 'llamacpp', generation: true,
  async handle(ctx) {
    const inputs = inputsOf(ctx.body['content'] ?? ctx.body['input']);
    if (!inputs) return ctx.fail(400, '"input" or "content" must be provided');
    if (await faulted(ctx)) return;
    sendJson(ctx.res, 200, inputs.map((text, index) => ({ index, embedding: [mockEmbedding(text)] })));
  },
};

/** Ollama's `POST /api/embed`. */
export const ollamaEmbed: Route = {
  method: 'POST', path: '/api/embed', family: 'ollama', generation: true,
  async handle(ctx) {
    const model = stringField(ctx.body['model']);
    if (!model) return ctx.fail(400, 'model is required');
    const inputs = inputsOf(ctx.body['input']);
    if (!inputs) return ctx.fail(400, 'invalid input type');
    if (await faulted(ctx)) return;
    const tokens = usage(inputs).prompt_tokens;
    sendJson(ctx.res, 200, {
      model,
      embeddings: inputs.map(mockEmbedding),
      total_duration: 1_000_000 + tokens * 1e6, load_duration: 1_000_000, prompt_eval_count: tokens,
    });
  },
};
