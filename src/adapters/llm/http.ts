/**
 * HTTP for the LLM adapters: node:http(s) over one keep-alive Agent per client, with a
 * timeout, retries with exponential backoff and jitter, Retry-After, cancellation, and
 * error bodies turned into readable messages.
 *
 * Retried: connection failures, 429 and 5xx (except 501, which will not change).
 * Not retried: other 4xx, timeouts (a hung generation would hang again, and the
 * wait already was `timeoutMs`), cancellations, and failures after the response
 * started (a half-streamed generation cannot be replayed without duplicating tokens).
 * A kept-alive socket the server closed while it sat idle is replaced once at once,
 * without counting as an attempt (the server never saw the request).
 *
 * Idle kept-alive sockets are unref'd by node's Agent, so they never keep the process
 * alive; `close()` destroys them at once, cutting requests still in flight (CANCELLED,
 * "client closed"). A client used after `close()` still works, but keeps no connection.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { describeErrorBody, isContextOverflow, llmError, LlmError, type FailureContext } from './failure.js';
import { createRedactor, redactHead } from './redact.js';

export interface HttpClientOptions {
  /** `[llm:<label>]` in messages: the ApiKind, or `auto` while detecting. */
  label: string;
  /** Base URL without a trailing slash or credentials. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; never appears in messages. */
  apiKey?: string | undefined;
  /** Time allowed for the response headers, then between body chunks (a whole body or a stream). */
  timeoutMs: number;
  /** Extra attempts after the first. */
  retries: number;
  /** First backoff delay; doubles per attempt, with jitter. Default 500 ms. */
  retryBaseMs?: number | undefined;
  /** Cap on one backoff delay. Default 30 s. */
  retryMaxMs?: number | undefined;
  /** Connections open at once to the server (more requests wait for one, untimed). Default 16. */
  maxSockets?: number | undefined;
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
  /** Cap on the body's size in bytes: past it the connection is closed and reading fails with LLM_PROTOCOL. */
  maxBodyBytes?: number;
}

export interface HttpExchange {
  readonly status: number;
  readonly ok: boolean;
  /** The media type of `content-type`, lower-cased, without parameters (`text/event-stream`); undefined when the server sent none. */
  readonly contentType: string | undefined;
  /** Attempts made, 1 when the first succeeded. */
  readonly attempts: number;
  /** The whole body (the timeout restarts on every chunk). */
  text(): Promise<string>;
  /** The whole body as JSON; LLM_PROTOCOL when it is not JSON. */
  json(): Promise<unknown>;
  /**
   * The body as decoded text chunks; the timeout restarts on every chunk. A reader that
   * stops early ends with `drain()` (the reply is complete) or `close()` (it is not).
   */
  chunks(): AsyncGenerator<string>;
  /**
   * The reader has all it needs and the server said so: reads what is left (normally just
   * the end of the stream) so the connection can be reused; closes it if that takes long.
   */
  drain(): Promise<void>;
  /** Closes the connection (and the server generation with it) if the body is not complete. */
  close(): void;
  readonly where: FailureContext;
}

export interface HttpClient {
  readonly label: string;
  readonly baseUrl: string;
  /** Masks the client's API key (in every form redact.ts knows) in text taken from a reply. */
  redact(text: string): string;
  send(request: HttpRequest): Promise<HttpExchange>;
  /**
   * Destroys the client's connections: idle ones, and those of requests still in flight
   * (they fail with CANCELLED, "client closed"; backoff waits end too). Later requests
   * each get a connection of their own, closed when they are done.
   */
  close(): void;
}

/** Longest Retry-After we wait for; a server asking for more is treated as down for now. */
const MAX_RETRY_AFTER_MS = 60_000;

/** Default cap on the connections to one server. */
const DEFAULT_MAX_SOCKETS = 16;

/** How long `drain()` waits for the rest of a reply before closing the connection. */
const DRAIN_MS = 1_000;

const ACCEPT = 'application/json, text/event-stream, application/x-ndjson';

/** Where requests go: the parts of the base URL node:http wants. */
interface Target {
  secure: boolean;
  hostname: string;
  port: number;
  /** The base URL's path, without a trailing slash ('' for none). */
  prefix: string;
}

function targetOf(baseUrl: string): Target {
  const url = new URL(baseUrl);
  const secure = url.protocol === 'https:';
  return {
    secure,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), // IPv6 literals without brackets
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    prefix: url.pathname.replace(/\/+$/, ''),
  };
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const baseMs = options.retryBaseMs ?? 500;
  const maxMs = options.retryMaxMs ?? 30_000;
  const backoffMs = (attempt: number): number => {
    const full = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
    return full / 2 + Math.random() * (full / 2); // jitter: spread clients that failed together
  };
  const target = targetOf(options.baseUrl);
  const makeAgent = (keepAlive: boolean): HttpAgent => {
    const agentOptions = { keepAlive, maxSockets: Math.max(1, options.maxSockets ?? DEFAULT_MAX_SOCKETS) };
    return target.secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  };
  let agent = makeAgent(true);
  /** Fires on `close()`: ends the requests in flight and the backoff waits. */
  let closing = new AbortController();
  const baseHeaders: OutgoingHttpHeaders = { accept: ACCEPT, 'user-agent': 'quire' };
  if (options.apiKey) baseHeaders['authorization'] = `Bearer ${options.apiKey}`;

  async function send(request: HttpRequest): Promise<HttpExchange> {
    const where: FailureContext = { label: options.label, method: request.method, path: request.path, apiKey: options.apiKey };
    const retries = Math.max(0, request.retries ?? options.retries);
    const timeoutMs = request.timeoutMs ?? options.timeoutMs;
    // A string body goes out in one write with the head (a Buffer would be a second one).
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers = body === undefined
      ? baseHeaders
      : { ...baseHeaders, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body, 'utf8') };
    if (request.signal?.aborted) throw llmError(where, 'CANCELLED', 'cancelled', { attempts: 0 });
    const closed = closing.signal;
    const spec = { agent, target, method: request.method, path: target.prefix + request.path, headers, body, timeoutMs, signal: request.signal, closed };
    let replacedStale = false;

    for (let attempt = 1; ; attempt++) {
      const call = startCall(spec);
      let response: IncomingMessage;
      try {
        response = await call.response;
      } catch (error) {
        call.finish();
        if (call.reason() === undefined && call.reusedSocket() && !replacedStale && isStaleSocket(error)) {
          replacedStale = true;
          attempt--; // not an attempt: the request never reached the server
          continue;
        }
        const failure = connectFailure(where, call.reason(), error, attempt, timeoutMs, options.baseUrl);
        if (failure.code !== 'LLM_CONNECT' || attempt > retries) throw failure;
        await pause(backoffMs(attempt), request.signal, closed, where, attempt);
        continue;
      }

      const status = response.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const exchange = createExchange(call, response, status, ok, attempt, where, timeoutMs, request.maxBodyBytes);
      if (!ok && isRetryable(status) && attempt <= retries) {
        const asked = parseRetryAfter(headerText(response.headers['retry-after']));
        if (asked === undefined || asked <= MAX_RETRY_AFTER_MS) {
          exchange.close();
          await pause(asked ?? backoffMs(attempt), request.signal, closed, where, attempt);
          continue;
        }
      }
      if (ok || request.allowErrorStatus) return exchange;
      throw statusFailure(where, status, response, await exchange.text(), attempt);
    }
  }

  const close = (): void => {
    const stopping = closing;
    closing = new AbortController();
    stopping.abort();
    agent.destroy();
    agent = makeAgent(false);
  };

  return { label: options.label, baseUrl: options.baseUrl, redact: createRedactor(options.apiKey), send, close };
}

function isRetryable(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/** A kept-alive socket the server had already closed: the write or the first read fails at once. */
function isStaleSocket(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function headerText(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/** `Text/Event-Stream; charset=utf-8` -> `text/event-stream`. */
function mediaType(value: string | null): string | undefined {
  const type = value?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** Retry-After in ms: delay-seconds (fractions accepted) or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Why an attempt was stopped: its signal, its timer, or the client's `close()`. */
type StopReason = 'cancelled' | 'timeout' | 'closed';

interface CallSpec {
  agent: HttpAgent;
  target: Target;
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: string | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** The client's `close()`. */
  closed: AbortSignal;
}

/** One attempt: the request, its timer and its cancellation. */
interface Call {
  /** The response head; rejects on connection failure, timeout or cancellation. */
  readonly response: Promise<IncomingMessage>;
  /** Restarts the timeout (a chunk arrived); ignored while draining. */
  touch(): void;
  /** From now on the timeout is `ms` and chunks no longer restart it. */
  shorten(ms: number): void;
  /** The attempt is over: stops the timer and the cancellation listener. The connection is left alone. */
  finish(): void;
  /** Destroys the request (and its connection). */
  destroy(): void;
  /** Why the attempt was stopped, if it was. */
  reason(): StopReason | undefined;
  /** Whether it went out on a kept-alive socket. */
  reusedSocket(): boolean;
}

function startCall(spec: CallSpec): Call {
  const { target } = spec;
  const send = target.secure ? httpsRequest : httpRequest;
  const req: ClientRequest = send({
    agent: spec.agent, hostname: target.hostname, port: target.port, path: spec.path, method: spec.method, headers: spec.headers,
  });
  let why: StopReason | undefined;
  let fixed = false;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = (reason: StopReason): void => {
    why ??= reason;
    req.destroy();
  };
  const onAbort = (): void => stop('cancelled');
  const onClose = (): void => stop('closed');
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  spec.closed.addEventListener('abort', onClose, { once: true });
  // Timed from getting a connection: waiting for a free one (maxSockets) is not the server's fault.
  req.once('socket', () => {
    if (!finished && timer === undefined) timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    let settled = false;
    req.once('response', (res: IncomingMessage) => {
      settled = true;
      if (!fixed) timer?.refresh(); // the body gets its own timeout
      resolve(res);
    });
    // Stays attached for the whole call, so a late socket error is never unhandled.
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    req.once('close', () => {
      if (settled) return;
      settled = true;
      reject(Object.assign(new Error('socket closed before the response'), { code: 'ECONNRESET' }));
    });
  });
  if (spec.body === undefined) req.end();
  else req.end(spec.body, 'utf8');
  return {
    response,
    touch() {
      if (!fixed) timer?.refresh();
    },
    shorten(ms) {
      fixed = true;
      clearTimeout(timer);
      if (!finished) timer = setTimeout(() => stop('timeout'), ms);
    },
    finish() {
      finished = true;
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      spec.closed.removeEventListener('abort', onClose);
    },
    destroy: () => req.destroy(),
    reason: () => why,
    reusedSocket: () => req.reusedSocket,
  };
}

function createExchange(
  call: Call, res: IncomingMessage, status: number, ok: boolean, attempts: number, where: FailureContext, timeoutMs: number,
  maxBodyBytes = Infinity,
): HttpExchange {
  const readFailure = (error: unknown): LlmError => {
    if (error instanceof LlmError) return error;
    const why = call.reason();
    if (why === 'cancelled' || why === 'closed') return llmError(where, 'CANCELLED', cancelDetail(why), { attempts });
    if (why === 'timeout') return llmError(where, 'LLM_TIMEOUT', `no data for ${timeoutMs} ms while reading the reply`, { attempts, hint: TIMEOUT_HINT });
    return llmError(where, 'LLM_CONNECT', `connection dropped mid-response (${causeText(error)})`, { attempts, cause: error });
  };

  // The body, read as it comes (flowing), queued for `next()`; paused when the reader falls behind.
  const queue: Buffer[] = [];
  let ended = false;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  res.on('data', (chunk: Buffer) => {
    call.touch();
    queue.push(chunk);
    if (queue.length >= 64) res.pause();
    notify();
  });
  res.on('end', () => {
    ended = true;
    call.finish();
    notify();
  });
  res.on('error', (error) => {
    failed ??= error;
    notify();
  });
  res.on('close', () => {
    if (!ended) failed ??= Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    call.finish();
    notify();
  });

  let received = 0;
  /** The next body chunk, null at the end; throws the raw error when the connection broke, LLM_PROTOCOL past `maxBodyBytes`. */
  const next = async (): Promise<Buffer | null> => {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        received += chunk.length;
        if (received > maxBodyBytes) {
          call.finish();
          call.destroy();
          throw llmError(where, 'LLM_PROTOCOL', `the reply is larger than ${maxBodyBytes} bytes; stopped reading it`, {
            attempts, abandoned: true, hint: 'the server may be ignoring max tokens; check the endpoint\'s `api`',
          });
        }
        if (queue.length < 16 && res.isPaused()) res.resume();
        return chunk;
      }
      if (failed !== undefined) throw failed;
      if (ended) return null;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };

  const text = async (): Promise<string> => {
    const parts: Buffer[] = [];
    try {
      for (let chunk = await next(); chunk !== null; chunk = await next()) parts.push(chunk);
    } catch (error) {
      throw readFailure(error);
    } finally {
      call.finish();
    }
    const body = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
    return body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  };

  return {
    status,
    ok,
    contentType: mediaType(headerText(res.headers['content-type'])),
    attempts,
    where,
    text,
    async json() {
      const body = await text();
      try {
        return JSON.parse(body) as unknown;
      } catch (error) {
        const type = mediaType(headerText(res.headers['content-type']));
        const shown = type !== undefined && type !== 'application/json' ? ` (${type})` : '';
        throw llmError(where, 'LLM_PROTOCOL', `invalid JSON in the reply${shown}: ${snippet(body, where.apiKey)}`, { attempts, cause: error });
      }
    },
    async *chunks() {
      const decoder = new TextDecoder();
      for (;;) {
        let chunk: Buffer | null;
        try {
          chunk = await next();
        } catch (error) {
          call.finish();
          throw readFailure(error);
        }
        if (chunk === null) break;
        const piece = decoder.decode(chunk, { stream: true });
        if (piece !== '') yield piece;
      }
      const tail = decoder.decode();
      if (tail !== '') yield tail;
    },
    async drain() {
      if (!ended && failed === undefined) {
        call.shorten(DRAIN_MS);
        queue.length = 0;
        try {
          while ((await next()) !== null) queue.length = 0;
        } catch {
          // closed: nothing to reuse
        }
      }
      call.finish();
    },
    close() {
      call.finish();
      if (!ended) call.destroy();
    },
  };
}

const TIMEOUT_HINT = 'the server may be overloaded or stuck; raise llm.timeout_ms if generations are just slow';

function connectFailure(
  where: FailureContext, why: StopReason | undefined, error: unknown, attempts: number, timeoutMs: number, baseUrl: string,
): LlmError {
  if (why === 'cancelled' || why === 'closed') return llmError(where, 'CANCELLED', cancelDetail(why), { attempts });
  if (why === 'timeout') return llmError(where, 'LLM_TIMEOUT', `no response within ${timeoutMs} ms`, { attempts, hint: TIMEOUT_HINT });
  return llmError(where, 'LLM_CONNECT', `cannot connect (${causeText(error)})${attemptsNote(attempts)}`, {
    attempts, cause: error, hint: `is the LLM server running at ${baseUrl}?`,
  });
}

function statusFailure(where: FailureContext, status: number, response: IncomingMessage, body: string, attempts: number): LlmError {
  const detail = describeErrorBody(body, where.apiKey) || response.statusMessage || 'no details';
  const code = isContextOverflow(status, detail) ? 'LLM_CONTEXT' : 'LLM_HTTP';
  const location = headerText(response.headers.location);
  const hint = status === 401 || status === 403 ? 'check the API key (the endpoint\'s api_key_env variable)'
    : status === 404 ? 'check the endpoint\'s `api` setting (or use `api: auto`)'
    : code === 'LLM_CONTEXT' ? 'shorten the prompt or response_length, or give the server a larger context'
    : status >= 300 && status < 400 && location ? `the server redirects to ${location}; use that URL (redirects are not followed)`
    : undefined;
  return llmError(where, code, `${status}: ${detail}${attemptsNote(attempts)}`, { status, attempts, ...(hint ? { hint } : {}) });
}

function attemptsNote(attempts: number): string {
  return attempts > 1 ? ` [${attempts} attempts]` : '';
}

/** The most specific code or message in an error's cause chain (ECONNREFUSED, ECONNRESET...). */
function causeText(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors?.[0] as { code?: unknown } | undefined;
    if (typeof inner?.code === 'string') return inner.code;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Body text for a message: one line, at most 120 characters, `secret` masked before the cut. */
function snippet(text: string, secret: string | undefined): string {
  const flat = redactHead(text, secret).replace(/\s+/g, ' ').trim();
  return flat === '' ? '(empty body)' : flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** The CANCELLED detail: the request's signal, or the client's `close()`. */
function cancelDetail(why: 'cancelled' | 'closed'): string {
  return why === 'closed' ? 'client closed' : 'cancelled';
}

/** Waits between attempts; cancellation (or the client's `close()`) ends the wait at once. */
function pause(ms: number, signal: AbortSignal | undefined, closed: AbortSignal, where: FailureContext, attempts: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = (why: 'cancelled' | 'closed'): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      closed.removeEventListener('abort', onClose);
      reject(llmError(where, 'CANCELLED', cancelDetail(why), { attempts }));
    };
    const onAbort = (): void => stop('cancelled');
    const onClose = (): void => stop('closed');
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      closed.removeEventListener('abort', onClose);
      resolve();
    }, ms);
    if (signal?.aborted) return onAbort();
    if (closed.aborted) return onClose();
    signal?.addEventListener('abort', onAbort, { once: true });
    closed.addEventListener('abort', onClose, { once: true });
  });
}
