/**
 * KoboldCpp native API (protocols.md §1): `/api/v1/generate`, SSE `/api/extra/generate/stream`,
 * abort by genkey, context from `/api/extra/true_max_context_length` + `/api/extra/tokencount`,
 * and a streamed generation's token counts from `/api/extra/perf`.
 */
import { randomUUID } from 'node:crypto';
import type { CompletionRequest, FinishReason, LlmClient } from '../../core/llm.js';
import { createAdapterHttp, createDialectClient, type AdapterOptions, type Dialect, type Reading, type StreamSummary } from './completion.js';
import type { ContextProbes } from './context-probe.js';
import { first, num, record, str, type Json } from './fields.js';
import type { HttpClient } from './http.js';
import { mapParams, stopsOf } from './params.js';

/** How long a cancelled run waits for KoboldCpp to confirm the abort. */
const ABORT_TIMEOUT_MS = 2_000;

/** How long a finished stream waits for `/api/extra/perf` before doing without its counts. */
const PERF_TIMEOUT_MS = 1_000;

/**
 * KoboldCpp reports "length" when a text stop sequence fired (only EOS gives "stop").
 * The token count tells them apart: fewer tokens than asked for means it stopped early.
 * Non-streaming replies carry the count (1.102+); for streams it comes from
 * `/api/extra/perf`, and without it "length" is reported as is.
 */
function finish(raw: string | undefined, completionTokens: number | undefined, maxTokens: number): FinishReason | undefined {
  if (raw === undefined || raw === 'null') return undefined;
  if (raw === 'stop') return 'stop';
  if (raw === 'length') return completionTokens !== undefined && completionTokens < maxTokens ? 'stop' : 'length';
  return 'unknown';
}

/**
 * Token counts for a stream the server ended, from `GET /api/extra/perf` (protocols.md §1.3):
 * `last_token_count` (generated) and `last_input_count` (prompt; 1.102+). Best-effort: a
 * missing route, a slow answer or an odd body leaves the reading as it was. The route
 * describes the server's *last* generation, so counts that cannot be this one's (fewer
 * tokens than the text messages received, as before any generation) are ignored.
 */
async function countsFromPerf(
  http: HttpClient, reading: Reading, stream: StreamSummary, request: CompletionRequest, signal: AbortSignal | undefined, timeoutMs: number,
): Promise<Reading> {
  if (reading.promptTokens !== undefined && reading.completionTokens !== undefined) return reading;
  let perf: Json;
  try {
    const exchange = await http.send({ method: 'GET', path: '/api/extra/perf', signal, timeoutMs, retries: 0 });
    perf = record(await exchange.json());
  } catch {
    return reading;
  }
  const completionTokens = num(perf['last_token_count']);
  if (completionTokens === undefined || completionTokens < stream.textMessages) return reading;
  const promptTokens = num(perf['last_input_count']);
  return {
    ...reading,
    completionTokens: reading.completionTokens ?? completionTokens,
    ...(reading.promptTokens === undefined && promptTokens !== undefined && promptTokens >= 0 ? { promptTokens } : {}),
    finishReason: finish(reading.rawFinishReason, completionTokens, request.maxTokens) ?? reading.finishReason,
  };
}

export function koboldDialect(options: { perfTimeoutMs?: number } = {}): Dialect {
  return {
    api: 'kobold',
    streamFormat: 'sse',
    streamEnd: 'a last event with a finish_reason',
    path: (stream) => (stream ? '/api/extra/generate/stream' : '/api/v1/generate'),
    body: (request: CompletionRequest) => ({
      ...mapParams('kobold', request.params),
      prompt: request.prompt,
      max_length: request.maxTokens,
      temperature: request.temperature,
      stop_sequence: stopsOf(request),
      // Sent explicitly: the default flipped between versions (false in 1.76, true in 1.102).
      trim_stop: true,
      // Otherwise `{{[INPUT]}}`-style text in user content is rewritten by the server.
      replace_instruct_placeholders: false,
      // Lets a cancellation abort exactly this generation, even with others queued.
      genkey: `quire-${randomUUID()}`,
    }),
    readReply(reply: Json, request): Reading {
      const result = first(reply['results']);
      const completionTokens = num(result?.['completion_tokens']);
      const raw = str(result?.['finish_reason']);
      return {
        text: str(result?.['text']),
        finishReason: finish(raw, completionTokens, request.maxTokens),
        rawFinishReason: raw,
        promptTokens: num(result?.['prompt_tokens']),
        completionTokens,
      };
    },
    readChunk(chunk: Json, request): Reading {
      // 1.76 put the string "null" in interim events.
      const raw = str(chunk['finish_reason']);
      const ended = raw !== undefined && raw !== 'null';
      return {
        text: str(chunk['token']),
        ...(ended ? { finishReason: finish(raw, undefined, request.maxTokens), rawFinishReason: raw, done: true } : {}),
      };
    },
    afterStream: (http, reading, stream, request, signal) =>
      countsFromPerf(http, reading, stream, request, signal, options.perfTimeoutMs ?? PERF_TIMEOUT_MS),
    async cancel(http: HttpClient, body: Json) {
      await http.send({
        method: 'POST', path: '/api/extra/abort', body: { genkey: body['genkey'] },
        timeoutMs: ABORT_TIMEOUT_MS, retries: 0, allowErrorStatus: true,
      }).then((exchange) => exchange.text());
    },
  };
}

/** The context from `/api/extra/true_max_context_length`, counts from `/api/extra/tokencount`. */
export function koboldContext(http: HttpClient): ContextProbes {
  return {
    async contextLength(signal) {
      const reply = record(await (await http.send({ method: 'GET', path: '/api/extra/true_max_context_length', signal })).json());
      return positive(reply['value']);
    },
    async countTokens(prompt, signal) {
      const reply = record(await (await http.send({ method: 'POST', path: '/api/extra/tokencount', body: { prompt }, signal })).json());
      const value = num(reply['value']);
      return value !== undefined && value >= 0 ? value : undefined;
    },
  };
}

export function createKoboldClient(options: AdapterOptions): LlmClient {
  const http = createAdapterHttp('kobold', options);
  const dialect = koboldDialect({ perfTimeoutMs: Math.min(PERF_TIMEOUT_MS, options.timeoutMs) });
  return createDialectClient(dialect, http, koboldContext(http), { deadlineMs: options.deadlineMs });
}

function positive(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && n > 0 ? n : undefined;
}
