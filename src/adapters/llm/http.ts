/**
 * HTTP for the LLM adapters: fetch with a timeout, retries with exponential backoff
 * and jitter, Retry-After, cancellation, and error bodies turned into readable messages.
 *
 * Retried: connection failures, 429 and 5xx (except 501, which will not change).
 * Not retried: other 4xx, timeouts (a hung generation would hang again, and the
 * wait already was `timeoutMs`), cancellations, and failures after the response
 * started (a half-streamed generation cannot be replayed without duplicating tokens).
 */
import { describeErrorBody, isContextOverflow, llmError, type FailureContext, type LlmError } from './failure.js';

export interface HttpClientOptions {
  /** `[llm:<label>]` in messages: the ApiKind, or `auto` while detecting. */
  label: string;
  /** Base URL without a trailing slash or credentials. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; never appears in messages. */
  apiKey?: string | undefined;
  /** Time allowed for the response headers, then for the whole body (or between stream chunks). */
  timeoutMs: number;
  /** Extra attempts after the first. */
  retries: number;
  /** First backoff delay; doubles per attempt, with jitter. Default 500 ms. */
  retryBaseMs?: number | undefined;
  /** Cap on one backoff delay. Default 30 s. */
  retryMaxMs?: number | undefined;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Overrides for quick probes. */
  timeoutMs?: number;
  retries?: number;
  /** Hand back non-2xx responses (after retrying the retryable ones) instead of throwing. */
  allowErrorStatus?: boolean;
}

export interface HttpExchange {
  readonly status: number;
  readonly ok: boolean;
  /** Attempts made, 1 when the first succeeded. */
  readonly attempts: number;
  /** The whole body (the timeout keeps running). */
  text(): Promise<string>;
  /** The whole body as JSON; LLM_PROTOCOL when it is not JSON. */
  json(): Promise<unknown>;
  /** The body as decoded text chunks; the timeout restarts on every chunk. Stopping early closes the connection. */
  chunks(): AsyncGenerator<string>;
  /** Closes the connection (and the server generation with it) if still open. */
  close(): void;
  readonly where: FailureContext;
}

export interface HttpClient {
  readonly label: string;
  readonly baseUrl: string;
  send(request: HttpRequest): Promise<HttpExchange>;
}

/** Longest Retry-After we wait for; a server asking for more is treated as down for now. */
const MAX_RETRY_AFTER_MS = 60_000;

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const baseMs = options.retryBaseMs ?? 500;
  const maxMs = options.retryMaxMs ?? 30_000;
  const backoffMs = (attempt: number): number => {
    const full = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
    return full / 2 + Math.random() * (full / 2); // jitter: spread clients that failed together
  };

  async function send(request: HttpRequest): Promise<HttpExchange> {
    const where: FailureContext = { label: options.label, method: request.method, path: request.path, apiKey: options.apiKey };
    const retries = Math.max(0, request.retries ?? options.retries);
    const timeoutMs = request.timeoutMs ?? options.timeoutMs;
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream, application/x-ndjson' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (options.apiKey) headers['authorization'] = `Bearer ${options.apiKey}`;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    if (request.signal?.aborted) throw llmError(where, 'CANCELLED', 'cancelled', { attempts: 0 });

    for (let attempt = 1; ; attempt++) {
      const timer = startAttempt(timeoutMs, request.signal);
      let response: Response;
      try {
        response = await fetch(options.baseUrl + request.path, { method: request.method, headers, body, signal: timer.signal });
      } catch (error) {
        timer.release();
        const failure = fetchFailure(where, timer.reason(), error, attempt, timeoutMs, options.baseUrl);
        if (failure.code !== 'LLM_CONNECT' || attempt > retries) throw failure;
        await pause(backoffMs(attempt), request.signal, where, attempt);
        continue;
      }

      if (!response.ok && isRetryable(response.status) && attempt <= retries) {
        const asked = parseRetryAfter(response.headers.get('retry-after'));
        if (asked === undefined || asked <= MAX_RETRY_AFTER_MS) {
          await response.body?.cancel().catch(() => undefined);
          timer.release();
          await pause(asked ?? backoffMs(attempt), request.signal, where, attempt);
          continue;
        }
      }

      const exchange = createExchange(response, timer, attempt, where, timeoutMs);
      if (response.ok || request.allowErrorStatus) return exchange;
      throw statusFailure(where, response, await exchange.text(), attempt);
    }
  }

  return { label: options.label, baseUrl: options.baseUrl, send };
}

function isRetryable(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/** Retry-After in ms: delay-seconds (fractions accepted) or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

interface AttemptTimer {
  readonly signal: AbortSignal;
  /** Restarts the timeout: streaming readers call it for every chunk. */
  touch(): void;
  /** Stops the timer and closes the connection if it is still open. */
  release(): void;
  /** Why the attempt's signal fired, if it did. */
  reason(): 'cancelled' | 'timeout' | undefined;
}

function startAttempt(timeoutMs: number, userSignal: AbortSignal | undefined): AttemptTimer {
  const controller = new AbortController();
  let why: 'cancelled' | 'timeout' | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      why ??= 'timeout';
      controller.abort();
    }, timeoutMs);
  };
  const onAbort = (): void => {
    why ??= 'cancelled';
    controller.abort();
  };
  userSignal?.addEventListener('abort', onAbort, { once: true });
  arm();
  return {
    signal: controller.signal,
    touch: arm,
    release() {
      clearTimeout(timer);
      userSignal?.removeEventListener('abort', onAbort);
      controller.abort();
    },
    reason: () => why,
  };
}

function createExchange(response: Response, timer: AttemptTimer, attempts: number, where: FailureContext, timeoutMs: number): HttpExchange {
  const readFailure = (error: unknown): LlmError => {
    const why = timer.reason();
    if (why === 'cancelled') return llmError(where, 'CANCELLED', 'cancelled', { attempts });
    if (why === 'timeout') return llmError(where, 'LLM_TIMEOUT', `no data for ${timeoutMs} ms while reading the reply`, { attempts, hint: TIMEOUT_HINT });
    return llmError(where, 'LLM_CONNECT', `connection dropped mid-response (${causeText(error)})`, { attempts, cause: error });
  };

  const text = async (): Promise<string> => {
    try {
      return await response.text();
    } catch (error) {
      throw readFailure(error);
    } finally {
      timer.release();
    }
  };

  return {
    status: response.status,
    ok: response.ok,
    attempts,
    where,
    text,
    async json() {
      const body = await text();
      try {
        return JSON.parse(body) as unknown;
      } catch (error) {
        throw llmError(where, 'LLM_PROTOCOL', `invalid JSON in the reply: ${snippet(body)}`, { attempts, cause: error });
      }
    },
    async *chunks() {
      if (!response.body) return timer.release();
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          timer.touch();
          let step: ReadableStreamReadResult<Uint8Array>;
          try {
            step = await reader.read();
          } catch (error) {
            throw readFailure(error);
          }
          if (step.done) break;
          const piece = decoder.decode(step.value, { stream: true });
          if (piece !== '') yield piece;
        }
        const tail = decoder.decode();
        if (tail !== '') yield tail;
      } finally {
        timer.release();
      }
    },
    close: () => timer.release(),
  };
}

const TIMEOUT_HINT = 'the server may be overloaded or stuck; raise llm.timeout_ms if generations are just slow';

function fetchFailure(
  where: FailureContext, why: 'cancelled' | 'timeout' | undefined, error: unknown, attempts: number, timeoutMs: number, baseUrl: string,
): LlmError {
  if (why === 'cancelled') return llmError(where, 'CANCELLED', 'cancelled', { attempts });
  if (why === 'timeout') return llmError(where, 'LLM_TIMEOUT', `no response within ${timeoutMs} ms`, { attempts, hint: TIMEOUT_HINT });
  return llmError(where, 'LLM_CONNECT', `cannot connect (${causeText(error)})${attemptsNote(attempts)}`, {
    attempts, cause: error, hint: `is the LLM server running at ${baseUrl}?`,
  });
}

function statusFailure(where: FailureContext, response: Response, body: string, attempts: number): LlmError {
  const status = response.status;
  const detail = describeErrorBody(body) || response.statusText || 'no details';
  const code = isContextOverflow(status, detail) ? 'LLM_CONTEXT' : 'LLM_HTTP';
  const hint = status === 401 || status === 403 ? 'check the API key (the endpoint\'s api_key_env variable)'
    : status === 404 ? 'check the endpoint\'s `api` setting (or use `api: auto`)'
    : code === 'LLM_CONTEXT' ? 'shorten the prompt or response_length, or give the server a larger context'
    : undefined;
  return llmError(where, code, `${status}: ${detail}${attemptsNote(attempts)}`, { status, attempts, ...(hint ? { hint } : {}) });
}

function attemptsNote(attempts: number): string {
  return attempts > 1 ? ` [${attempts} attempts]` : '';
}

/** The most specific code or message in an error's cause chain (ECONNREFUSED, UND_ERR_SOCKET...). */
function causeText(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors?.[0] as { code?: unknown } | undefined;
    if (typeof inner?.code === 'string') return inner.code;
  }
  return error instanceof Error ? error.message : String(error);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat === '' ? '(empty body)' : flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** Waits between attempts; cancellation ends the wait at once. */
function pause(ms: number, signal: AbortSignal | undefined, where: FailureContext, attempts: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(llmError(where, 'CANCELLED', 'cancelled', { attempts }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
