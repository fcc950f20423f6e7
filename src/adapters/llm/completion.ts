/**
 * The part of a completion every API shares: send, stream or read the reply, cut at
 * stop strings, time it, and cancel. Each adapter supplies a `Dialect` that knows
 * only its own paths, request fields and reply fields.
 */
import { AppError } from '../../core/errors.js';
import type {
  ApiKind, CompletionOptions, CompletionRequest, CompletionResult, ContextInfo, FinishReason, LlmClient,
} from '../../core/llm.js';
import { describeErrorBody, describeErrorValue, isContextOverflow, llmError, LlmError, type FailureContext } from './failure.js';
import { isRecord, type Json } from './fields.js';
import { createHttpClient, type HttpClient, type HttpExchange } from './http.js';
import { readNdjson } from './ndjson.js';
import { stopsOf } from './params.js';
import { readSse } from './sse.js';
import { createStopFilter, cutAtStop } from './stop.js';
import { normalizeBaseUrl } from './url.js';

/** Options every adapter factory takes. */
export interface AdapterOptions {
  /** Base URL, e.g. http://127.0.0.1:5001 (a trailing slash is fine). */
  url: string;
  /** Default model name, for servers that need one (Ollama, vLLM); a request's `model` wins. */
  model?: string | undefined;
  /** Sent as `Authorization: Bearer`; never logged or shown. */
  apiKey?: string | undefined;
  timeoutMs: number;
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

/**
 * What a server can tell about its context, for `inspectContext`. Each probe returns
 * undefined when the server does not say (a missing route or an odd answer may also
 * throw LLM_HTTP / LLM_PROTOCOL: both mean "unknown"); connection failures, timeouts
 * and cancellation throw.
 */
export interface ContextProbes {
  /** The context size in tokens. Asked once per client: the answer, "unknown" included, is kept. */
  contextLength(signal: AbortSignal | undefined): Promise<number | undefined>;
  /** The prompt's token count, as the generation route would count it (special tokens included). */
  countTokens?(prompt: string, signal: AbortSignal | undefined): Promise<number | undefined>;
}

/**
 * Tokens a prompt may hold beyond one per byte: the BOS (and EOS) a server adds and a
 * tokenizer's dummy prefix cover no byte of the prompt text.
 */
const TOKENS_WITHOUT_BYTES = 4;

/** An LlmClient from a dialect, the HTTP client for its server and what it can tell about its context. */
export function createDialectClient(dialect: Dialect, http: HttpClient, probes?: ContextProbes): LlmClient {
  return {
    api: dialect.api,
    url: http.baseUrl,
    complete: (request, options) => runCompletion(dialect, http, request, options),
    inspectContext: probes ? createInspector(probes) : async () => ({}),
  };
}

/**
 * The shared `inspectContext`: the context size is probed once (a failed or missing probe
 * is kept as unknown; a connection failure, timeout or cancellation is not kept), and the
 * prompt is counted only when it might not fit. With `reserveTokens`, a prompt of B UTF-8
 * bytes surely fits when B + reserveTokens (+ a few special tokens) <= the context: every
 * token of a byte-level tokenizer covers at least one byte. Without it, always counted.
 */
function createInspector(probes: ContextProbes): LlmClient['inspectContext'] {
  const contextLength = once((signal) => optionalProbe(() => probes.contextLength(signal)));
  const countTokens = probes.countTokens?.bind(probes);
  const count = (prompt: string, signal: AbortSignal | undefined): Promise<number | undefined> =>
    countTokens ? optionalProbe(() => countTokens(prompt, signal)) : Promise.resolve(undefined);

  return async (prompt, options = {}) => {
    const { signal, reserveTokens } = options;
    if (reserveTokens === undefined) {
      const [length, tokens] = await Promise.all([contextLength(signal), count(prompt, signal)]);
      return contextInfo(length, tokens);
    }
    const length = await contextLength(signal);
    // Unknown size: a count could not be checked against anything.
    if (length === undefined) return {};
    if (!countTokens || Buffer.byteLength(prompt, 'utf8') + TOKENS_WITHOUT_BYTES + reserveTokens <= length) return { contextLength: length };
    return contextInfo(length, await count(prompt, signal));
  };
}

/**
 * A probe run once: concurrent callers share the pending answer, and the answer is kept.
 * A failure is not kept; a caller whose own signal did not fire retries when the shared
 * probe was cancelled by another caller's.
 */
function once<T>(probe: (signal: AbortSignal | undefined) => Promise<T>): (signal: AbortSignal | undefined) => Promise<T> {
  let known: { value: T } | undefined;
  let pending: Promise<T> | undefined;
  return async (signal) => {
    for (;;) {
      if (known) return known.value;
      pending ??= probe(signal).then(
        (value) => {
          known = { value };
          pending = undefined;
          return value;
        },
        (error: unknown) => {
          pending = undefined;
          throw error;
        },
      );
      try {
        return await pending;
      } catch (error) {
        if (error instanceof AppError && error.code === 'CANCELLED' && !signal?.aborted) continue;
        throw error;
      }
    }
  };
}

export async function runCompletion(
  dialect: Dialect,
  http: HttpClient,
  request: CompletionRequest,
  options: CompletionOptions = {},
): Promise<CompletionResult> {
  const started = performance.now();
  const streaming = options.onToken !== undefined;
  const body = dialect.body(request, streaming);
  try {
    const exchange = await http.send({ method: 'POST', path: dialect.path(streaming), body, signal: options.signal });
    if (!streaming) {
      const reading = await readWhole(dialect, exchange, request);
      return toResult(reading, exchange.attempts, performance.now() - started);
    }
    const { reading, ended, textMessages } = await readStream(dialect, exchange, request, options.onToken!, started);
    const totalMs = performance.now() - started; // the generation's time: without the follow-up below
    const completed = ended && dialect.afterStream
      ? await dialect.afterStream(http, reading, { textMessages }, request, options.signal).catch(() => reading)
      : reading;
    return toResult(completed, exchange.attempts, totalMs);
  } catch (error) {
    // Closing the connection stops most servers; KoboldCpp also gets its abort call.
    if (dialect.cancel && error instanceof LlmError && error.code === 'CANCELLED' && error.attempts > 0) {
      await dialect.cancel(http, body).catch(() => undefined);
    }
    throw error;
  }
}

async function readWhole(dialect: Dialect, exchange: HttpExchange, request: CompletionRequest): Promise<Reading> {
  const reply = await exchange.json();
  if (!isRecord(reply)) throw unexpected(exchange, reply);
  failOnErrorObject(exchange.where, reply, exchange.attempts);
  const reading = dialect.readReply(reply, request);
  if (reading.text === undefined) throw unexpected(exchange, reply);
  const cut = cutAtStop(reading.text, stopsOf(request));
  return cut.stopped ? { ...reading, text: cut.text, finishReason: 'stop' } : reading;
}

async function readStream(
  dialect: Dialect,
  exchange: HttpExchange,
  request: CompletionRequest,
  onToken: (text: string) => void,
  started: number,
): Promise<{ reading: Reading; ended: boolean; textMessages: number }> {
  const filter = createStopFilter(stopsOf(request));
  const reading: Reading = {};
  let text = '';
  let textMessages = 0;
  let firstTokenMs: number | undefined;
  const emit = (piece: string): void => {
    if (piece === '') return;
    text += piece;
    onToken(piece);
  };

  // Whether the server ended the generation: then the connection is kept for the next request.
  let complete = false;
  try {
    for await (const message of messages(dialect, exchange)) {
      if (message.done) {
        complete = true;
        break;
      }
      const chunk = parseChunk(exchange, message.data);
      failOnErrorObject(exchange.where, chunk, exchange.attempts);
      const { text: piece, done, ...fields } = dialect.readChunk(chunk, request);
      mergeDefined(reading, fields);
      if (piece) {
        textMessages++;
        firstTokenMs ??= performance.now() - started;
        emit(filter.push(piece));
        if (filter.stopped) break; // closing the stream (finally) ends the generation server-side
      }
      if (done) {
        complete = true;
        break;
      }
    }
    if (!filter.stopped) complete = true; // the stream ended
  } finally {
    if (complete) await exchange.drain();
    else exchange.close();
  }
  emit(filter.flush());
  return {
    reading: {
      ...reading,
      text,
      ...(filter.stopped ? { finishReason: 'stop' as const } : {}),
      timeToFirstTokenMs: firstTokenMs === undefined ? reading.timeToFirstTokenMs : Math.round(firstTokenMs),
    },
    // A stream cut here at a stop string ended early: the server's own end was not seen.
    ended: !filter.stopped,
    textMessages,
  };
}

/** Stream messages as JSON text; `done` for an SSE `[DONE]`. SSE `error` events become errors. */
async function* messages(dialect: Dialect, exchange: HttpExchange): AsyncGenerator<{ data: string; done?: boolean }> {
  if (dialect.streamFormat === 'ndjson') {
    for await (const line of readNdjson(exchange.chunks())) yield { data: line };
    return;
  }
  for await (const event of readSse(exchange.chunks())) {
    if (event.event === 'error') throw streamError(exchange.where, describeErrorBody(event.data), exchange.attempts);
    if (event.data.trim() === '[DONE]') {
      yield { data: '', done: true };
      return;
    }
    if (event.data.trim() === '') continue;
    yield { data: event.data };
  }
}

function parseChunk(exchange: HttpExchange, data: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    throw llmError(exchange.where, 'LLM_PROTOCOL', `invalid JSON in the stream: ${clip(data)}`, { attempts: exchange.attempts, cause: error });
  }
  if (!isRecord(value)) throw unexpected(exchange, value);
  return value;
}

/** A 200 reply or stream message that carries an error (llama.cpp and Ollama report mid-stream failures this way). */
function failOnErrorObject(where: FailureContext, value: Json, attempts: number): void {
  if (value['error'] === undefined && value['detail'] === undefined) return;
  if (value['error'] === null) return;
  const message = describeErrorValue(value);
  if (message !== undefined) throw streamError(where, message, attempts);
}

function streamError(where: FailureContext, message: string, attempts: number): LlmError {
  return llmError(where, isContextOverflow(400, message) ? 'LLM_CONTEXT' : 'LLM_HTTP', `server error in the reply: ${message}`, { attempts });
}

function unexpected(exchange: HttpExchange, value: unknown): LlmError {
  return llmError(exchange.where, 'LLM_PROTOCOL', `unexpected reply shape (is this the right api?): ${clip(JSON.stringify(value) ?? String(value))}`, {
    attempts: exchange.attempts,
  });
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

function mergeDefined(target: Reading, source: Reading): void {
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}

function toResult(reading: Reading, attempts: number, totalMs: number): CompletionResult {
  const result: CompletionResult = {
    text: reading.text ?? '',
    finishReason: reading.finishReason ?? 'unknown',
    totalMs: Math.round(totalMs),
    attempts,
  };
  if (reading.rawFinishReason !== undefined) result.rawFinishReason = reading.rawFinishReason;
  if (reading.promptTokens !== undefined) result.promptTokens = reading.promptTokens;
  if (reading.completionTokens !== undefined) result.completionTokens = reading.completionTokens;
  if (reading.timeToFirstTokenMs !== undefined) result.timeToFirstTokenMs = reading.timeToFirstTokenMs;
  if (reading.promptMs !== undefined) result.promptMs = reading.promptMs;
  if (reading.generationMs !== undefined) result.generationMs = reading.generationMs;
  if (reading.model !== undefined) result.model = reading.model;
  return result;
}

/** For inspectContext: run a probe and turn "endpoint missing / odd answer" into undefined. Connection failures and cancellation still throw. */
export async function optionalProbe<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await probe();
  } catch (error) {
    if (error instanceof AppError && (error.code === 'LLM_HTTP' || error.code === 'LLM_PROTOCOL')) return undefined;
    throw error;
  }
}

/** Removes undefined fields so results compare cleanly. */
export function contextInfo(contextLength: number | undefined, promptTokens: number | undefined): ContextInfo {
  return {
    ...(contextLength !== undefined ? { contextLength } : {}),
    ...(promptTokens !== undefined ? { promptTokens } : {}),
  };
}

/**
 * A client whose model name, when none is configured, is looked up once from the server
 * (the first model it lists) and then used for every request. `lookup` may answer
 * undefined: the requests then go without a model, as servers with one model accept.
 */
export function withLookedUpModel(
  api: ApiKind,
  http: HttpClient,
  lookup: (signal: AbortSignal | undefined) => Promise<string | undefined>,
  make: (model: string | undefined) => LlmClient,
): LlmClient {
  let pending: Promise<LlmClient> | undefined;
  const resolve = (signal?: AbortSignal): Promise<LlmClient> => {
    pending ??= lookup(signal).then(make);
    pending.catch(() => (pending = undefined)); // a failed lookup is retried by the next call
    return pending;
  };
  return {
    api,
    url: http.baseUrl,
    complete: async (request, options) => (request.model ? make(request.model) : await resolve(options?.signal)).complete(request, options),
    inspectContext: async (prompt, options) => (await resolve(options?.signal)).inspectContext(prompt, options),
  };
}
