/**
 * The part of a completion every API shares: send, read the reply (whole here, streamed
 * in reply-stream.ts), cut at stop strings, time it, and cancel. Each adapter supplies a
 * `Dialect` that knows only its own paths, request fields and reply fields.
 */
import type {
  ApiKind, CompletionOptions, CompletionRequest, CompletionResult, FinishReason, LlmClient,
} from '../../core/llm.js';
import { createInspector, type ContextProbes } from './context-probe.js';
import { cancelledError, failOnErrorObject, LlmError, llmError, unexpectedReply } from './failure.js';
import { isRecord, type Json } from './fields.js';
import { createHttpClient, type HttpClient, type HttpExchange } from './http.js';
import { stopsOf } from './params.js';
import { readStream } from './reply-stream.js';
import { cutAtStop } from './stop.js';
import { normalizeBaseUrl } from './url.js';

/** Options every adapter factory takes. */
export interface AdapterOptions {
  /** Base URL, e.g. http://127.0.0.1:5001 (a trailing slash is fine). */
  url: string;
  /** Default model name, for servers that need one (Ollama, vLLM); a request's `model` wins. */
  model?: string | undefined;
  /** Sent as `Authorization: Bearer`; never logged or shown. */
  apiKey?: string | undefined;
  /** Time allowed for the response headers, then between body chunks (a gap, not a total). */
  timeoutMs: number;
  /**
   * Total time one completion may take, from sending the request (after any wait for a
   * concurrency slot) to the end of the reply, retries and backoff included; then the request
   * is stopped (KoboldCpp also gets its abort call) and fails with LLM_TIMEOUT. Bounds a
   * server that ignores max tokens and streams forever, which `timeoutMs` never catches.
   * Default DEFAULT_DEADLINE_MS (30 minutes).
   */
  deadlineMs?: number | undefined;
  /** Extra attempts on connection errors, 429 and 5xx. */
  retries: number;
  /** First backoff delay (default 500 ms). */
  retryBaseMs?: number | undefined;
  /**
   * Cap on the connections kept to the server (default 16). Set it above the endpoint's
   * concurrency: context probes go beside the generations.
   */
  maxSockets?: number | undefined;
}

/** The default `deadlineMs`: 30 minutes, far beyond any normal generation, short of forever. */
export const DEFAULT_DEADLINE_MS = 30 * 60_000;

/** What a reply, or one streamed message, says in the contract's terms. */
export interface Reading {
  text?: string | undefined;
  finishReason?: FinishReason | undefined;
  rawFinishReason?: string | undefined;
  promptTokens?: number | undefined;
  completionTokens?: number | undefined;
  timeToFirstTokenMs?: number | undefined;
  promptMs?: number | undefined;
  generationMs?: number | undefined;
  model?: string | undefined;
  /** Streaming: this message ends the generation. */
  done?: boolean | undefined;
}

export interface Dialect {
  readonly api: ApiKind;
  /** The streaming wire format. */
  readonly streamFormat: 'sse' | 'ndjson';
  /**
   * How a complete stream of this API ends, for the message when one ends without it. The
   * check itself is shared: a stream is complete when it carried `[DONE]`, a message the
   * dialect marks `done`, or a finish reason.
   */
  readonly streamEnd: string;
  path(stream: boolean): string;
  body(request: CompletionRequest, stream: boolean): Json;
  /** A whole (non-streaming) reply; undefined `text` means the shape is not this API's. */
  readReply(reply: Json, request: CompletionRequest): Reading;
  /** One streamed message. */
  readChunk(chunk: Json, request: CompletionRequest): Reading;
  /** Stops the generation on the server after a cancellation (KoboldCpp); gets the body that was sent. */
  cancel?(http: HttpClient, body: Json): Promise<void>;
  /**
   * After a stream the server ended (not one the client cut at a stop string): fills in
   * what the stream did not carry (KoboldCpp's token counts). Best-effort: must not throw.
   */
  afterStream?(http: HttpClient, reading: Reading, stream: StreamSummary, request: CompletionRequest, signal: AbortSignal | undefined): Promise<Reading>;
}

/** How a stream went, for `Dialect.afterStream`. */
export interface StreamSummary {
  /** Streamed messages that carried text. */
  textMessages: number;
}

/** The HTTP client an adapter talks through, labelled with its API for messages. */
export function createAdapterHttp(api: ApiKind, options: AdapterOptions): HttpClient {
  return createHttpClient({
    label: api,
    baseUrl: normalizeBaseUrl(options.url),
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    retryBaseMs: options.retryBaseMs,
    maxSockets: options.maxSockets,
  });
}

/** An LlmClient from a dialect, the HTTP client for its server and what it can tell about its context. */
export function createDialectClient(dialect: Dialect, http: HttpClient, probes?: ContextProbes, limits: CompletionLimits = {}): LlmClient {
  return {
    api: dialect.api,
    url: http.baseUrl,
    complete: (request, options) => runCompletion(dialect, http, request, options, limits),
    inspectContext: probes ? createInspector(probes, () => cancelledError({ label: http.label, method: 'GET', path: http.baseUrl })) : async () => ({}),
    close: async () => http.close(),
  };
}

/** Bounds on one completion (see AdapterOptions). */
export interface CompletionLimits {
  deadlineMs?: number | undefined;
}

export async function runCompletion(
  dialect: Dialect,
  http: HttpClient,
  request: CompletionRequest,
  options: CompletionOptions = {},
  limits: CompletionLimits = {},
): Promise<CompletionResult> {
  const started = performance.now();
  const streaming = options.onToken !== undefined;
  const body = dialect.body(request, streaming);
  const path = dialect.path(streaming);
  const deadlineMs = limits.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const deadline = startDeadline(options.signal, deadlineMs);
  try {
    const limit = maxBodyBytes(request.maxTokens, Buffer.byteLength(JSON.stringify(body), 'utf8'));
    const exchange = await http.send({ method: 'POST', path, body, signal: deadline.signal, maxBodyBytes: limit });
    if (!streaming) {
      const reading = await readWhole(dialect, exchange, request);
      return toResult(reading, exchange.attempts, performance.now() - started, http.redact);
    }
    const { reading, ended, textMessages } = await readStream(dialect, exchange, request, options.onToken!, started);
    const totalMs = performance.now() - started; // the generation's time: without the follow-up below
    const completed = ended && dialect.afterStream
      ? await dialect.afterStream(http, reading, { textMessages }, request, deadline.signal).catch(() => reading)
      : reading;
    return toResult(completed, exchange.attempts, totalMs, http.redact);
  } catch (error) {
    // Closing the connection stops most servers; KoboldCpp also gets its abort call.
    const stopped = error instanceof LlmError && error.code === 'CANCELLED';
    if (dialect.cancel && error instanceof LlmError && (stopped || error.abandoned) && error.attempts > 0) {
      await dialect.cancel(http, body).catch(() => undefined);
    }
    // The deadline, not the caller, stopped it: a failure, not a cancellation.
    if (stopped && deadline.expired() && !options.signal?.aborted) {
      throw llmError({ label: http.label, method: 'POST', path }, 'LLM_TIMEOUT', `no complete reply within ${deadlineMs} ms (the endpoint's deadline_ms); the request was stopped`, {
        attempts: error.attempts,
        hint: 'the server may ignore max tokens or be very slow; raise deadline_ms (quire.yaml llm: or the endpoint) if generations this long are expected',
      });
    }
    throw error;
  } finally {
    deadline.clear();
  }
}

/**
 * The most a generation's body may hold, streamed or whole, before reading stops (LLM_PROTOCOL):
 * 1 MiB, plus 8 KiB per token asked for (per-message JSON, per-token logprobs), plus 8 times
 * the request (llama.cpp echoes the prompt and settings in its final message, JSON-escaped).
 * Far above any real reply; it bounds the memory a server that never stops, or never ends a
 * line, can take.
 */
export function maxBodyBytes(maxTokens: number, requestBytes: number): number {
  return maxTokens > 0 ? 1_048_576 + 8_192 * maxTokens + 8 * requestBytes : Infinity;
}

/** The caller's signal, also fired `ms` after the start. */
function startDeadline(signal: AbortSignal | undefined, ms: number): { signal: AbortSignal; expired(): boolean; clear(): void } {
  const controller = new AbortController();
  let expired = false;
  const onAbort = (): void => controller.abort();
  if (signal?.aborted) controller.abort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  // setTimeout fires at once past 2^31 - 1 ms (24.8 days): cap there.
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, Math.min(ms, 2 ** 31 - 1));
  return {
    signal: controller.signal,
    expired: () => expired,
    clear: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

async function readWhole(dialect: Dialect, exchange: HttpExchange, request: CompletionRequest): Promise<Reading> {
  const reply = await exchange.json();
  if (!isRecord(reply)) throw unexpectedReply(exchange.where, reply, exchange.attempts);
  failOnErrorObject(exchange.where, reply, exchange.attempts);
  const reading = dialect.readReply(reply, request);
  if (reading.text === undefined) throw unexpectedReply(exchange.where, reply, exchange.attempts);
  const cut = cutAtStop(reading.text, stopsOf(request));
  return cut.stopped ? { ...reading, text: cut.text, finishReason: 'stop' } : reading;
}

/**
 * The contract's result. The server's own labels (model, raw finish reason) are recorded, so
 * they are masked like error text; the reply text is the model's answer and is kept as is.
 */
function toResult(reading: Reading, attempts: number, totalMs: number, redact: (text: string) => string): CompletionResult {
  const result: CompletionResult = {
    text: reading.text ?? '',
    finishReason: reading.finishReason ?? 'unknown',
    totalMs: Math.round(totalMs),
    attempts,
  };
  if (reading.rawFinishReason !== undefined) result.rawFinishReason = redact(reading.rawFinishReason);
  if (reading.promptTokens !== undefined) result.promptTokens = reading.promptTokens;
  if (reading.completionTokens !== undefined) result.completionTokens = reading.completionTokens;
  if (reading.timeToFirstTokenMs !== undefined) result.timeToFirstTokenMs = reading.timeToFirstTokenMs;
  if (reading.promptMs !== undefined) result.promptMs = reading.promptMs;
  if (reading.generationMs !== undefined) result.generationMs = reading.generationMs;
  if (reading.model !== undefined) result.model = redact(reading.model);
  return result;
}
