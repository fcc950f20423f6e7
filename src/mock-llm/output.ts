/** Writing replies: JSON, error shapes, and the token playback with latency and faults. */
import type { ServerResponse } from 'node:http';
import type { Generation, MockApiMode, MockFamily, RouteContext } from './context.js';
import type { MockReply } from './reply.js';
import { recordGeneration } from './stats.js';

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain'): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Error parsing input.',
  401: 'Authentication key is missing or invalid.',
  404: 'Not found.',
  429: 'Too many requests, please slow down.',
  500: 'Simulated server failure.',
  502: 'Bad gateway.',
  503: 'Server is busy; please try again later.',
};

const KOBOLD_TYPES: Record<number, string> = { 400: 'bad_input', 401: 'unauthorized', 429: 'rate_limited', 500: 'bad_input', 503: 'service_unavailable' };
const LLAMACPP_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  500: 'server_error', 501: 'not_supported_error', 503: 'unavailable_error',
};
const OPENAI_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error', 429: 'rate_limit_error' };

export function defaultMessage(status: number): string {
  return DEFAULT_MESSAGES[status] ?? `Simulated HTTP ${status}.`;
}

/**
 * The error body each real server sends (protocols.md §7.10): KoboldCpp `{detail:{msg,type}}`,
 * llama.cpp `{error:{code,message,type}}`, Ollama native `{error:"..."}`, OpenAI-style
 * `{error:{message,type,param,code}}` (llama-server's OAI routes use its own shape).
 */
export function errorBody(family: MockFamily, mode: MockApiMode, status: number, message: string, type?: string): unknown {
  if (family === 'kobold') return { detail: { msg: message, type: type ?? KOBOLD_TYPES[status] ?? 'server_error' } };
  if (family === 'ollama') return { error: message };
  if (family === 'llamacpp' || mode === 'llamacpp') {
    return { error: { code: status, message, type: type ?? LLAMACPP_TYPES[status] ?? 'server_error' } };
  }
  return { error: { message, type: type ?? OPENAI_TYPES[status] ?? 'server_error', param: null, code: null } };
}

/** Server-side timings the mock reports: 1 ms per prompt token, `latency` (or 10) ms per generated token. */
export function mockTimings(reply: MockReply, latencyMs: number | undefined): { promptMs: number; predictedMs: number } {
  return { promptMs: reply.promptTokens, predictedMs: reply.completionTokens * (latencyMs || 10) };
}

/** How one generation route writes its reply. */
export interface PlaybackSpec {
  /** `false` for one JSON reply, else the streaming wire format. */
  stream: false | 'sse' | 'ndjson';
  /** SSE `event:` name (KoboldCpp sends `message`). */
  sseEvent?: string;
  /** The streamed message for one token. */
  chunk?(piece: string, index: number): unknown;
  /** Streamed messages after the last token (final event, usage chunk...). */
  final?(reply: MockReply): unknown[];
  /** End an SSE stream with `data: [DONE]` (OpenAI routes). */
  done?: boolean;
  /** The non-streaming reply body. */
  body?(reply: MockReply): unknown;
  /** KoboldCpp genkey, so `/api/extra/abort` can stop this generation. */
  genkey?: string;
  headers?: Record<string, string>;
}

/** What the `html` fault answers: a login proxy's page, served with 200. */
export const LOGIN_PAGE = '<!doctype html>\n<html><head><title>Sign in</title></head>\n<body><h1>Sign in to continue</h1>\n<form method="post" action="/login"><input name="user"><input name="password" type="password"></form></body></html>\n';

/**
 * Plays a reply token by token (waiting `latency` ms before each), then writes it
 * in the route's format, applying the `hang`, `html`, `endless`, `drop`, `cut` and `malformed` faults.
 * A client disconnect or a KoboldCpp abort stops the playback early; the reply is then cut
 * at the tokens already generated.
 */
export async function play(ctx: RouteContext, reply: MockReply, spec: PlaybackSpec): Promise<void> {
  const { res, faults } = ctx;
  if (faults.hang) return; // never answer; the server's close() destroys the socket
  if (faults.html) return sendText(ctx.res, 200, LOGIN_PAGE, 'text/html');
  const generation: Generation = { stopped: false };
  if (spec.genkey) ctx.generations.set(spec.genkey, generation);
  res.on('close', () => { generation.stopped = true; });
  ctx.stats.active++;
  ctx.stats.peakActive = Math.max(ctx.stats.peakActive, ctx.stats.active);
  try {
    if (spec.stream === false) await playWhole(ctx, reply, spec, generation);
    else await playStream(ctx, reply, spec, generation);
  } finally {
    ctx.stats.active--;
    if (spec.genkey && ctx.generations.get(spec.genkey) === generation) ctx.generations.delete(spec.genkey);
  }
}

/** Marks the generation finished with `reply` (what was generated), before its end is written. */
function finished(ctx: RouteContext, reply: MockReply): void {
  const seed = ctx.body['sampler_seed'] ?? ctx.body['seed'];
  recordGeneration(ctx.stats, reply, ctx.faults.latencyMs, typeof seed === 'number' && seed >= 0 ? seed : 0);
}

async function playWhole(ctx: RouteContext, reply: MockReply, spec: PlaybackSpec, generation: Generation): Promise<void> {
  const { res, faults } = ctx;
  if (faults.endless) {
    // A generation that never ends on its own: only a disconnect (or KoboldCpp's abort) stops it.
    while (!generation.stopped && !res.destroyed) await sleep(faults.latencyMs || 10);
    finished(ctx, reply);
    return sendJson(res, 200, spec.body!(reply), spec.headers);
  }
  let generated = 0;
  for (; generated < reply.pieces.length; generated++) {
    await sleep(faults.latencyMs);
    if (generation.stopped) break;
  }
  const final = generated < reply.pieces.length ? truncate(reply, generated) : reply;
  finished(ctx, final);
  if (res.destroyed) return;
  if (faults.malformed) return sendText(res, 200, '{"results": [{"text": "echo', 'application/json');
  const body = JSON.stringify(spec.body!(final));
  if (faults.dropAfter !== undefined) {
    // Promise the whole body, send half, then cut the connection.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.write(body.slice(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
    return;
  }
  sendJson(res, 200, JSON.parse(body), spec.headers);
}

async function playStream(ctx: RouteContext, reply: MockReply, spec: PlaybackSpec, generation: Generation): Promise<void> {
  const { res, faults } = ctx;
  const sse = spec.stream === 'sse';
  res.writeHead(200, {
    'content-type': sse ? 'text/event-stream' : 'application/x-ndjson',
    'cache-control': 'no-cache',
    ...spec.headers,
  });
  res.flushHeaders();
  /** Writes one message; false when the client is not keeping up (wait for `drain`). */
  const write = (value: unknown, raw?: string): boolean => {
    const data = raw ?? JSON.stringify(value);
    return sse ? res.write(`${spec.sseEvent ? `event: ${spec.sseEvent}\n` : ''}data: ${data}\n\n`) : res.write(`${data}\n`);
  };
  if (faults.malformed) {
    finished(ctx, reply);
    write(undefined, '{"not json');
    res.end();
    return;
  }

  if (faults.endless) return playEndless(ctx, reply, spec, generation, write);

  let sent = 0;
  for (; sent < reply.pieces.length; sent++) {
    if (faults.dropAfter !== undefined && sent >= faults.dropAfter) break;
    if (faults.cutAfter !== undefined && sent >= faults.cutAfter) break;
    await sleep(faults.latencyMs);
    if (generation.stopped || res.destroyed) break;
    write(spec.chunk!(reply.pieces[sent]!, sent));
  }
  const final = sent < reply.pieces.length ? truncate(reply, sent) : reply;
  finished(ctx, final);
  if (res.destroyed) return;
  if (faults.dropAfter !== undefined) return drop(res);
  if (faults.cutAfter !== undefined) return void res.end(); // a clean end, without the API's own
  for (const message of spec.final?.(final) ?? []) write(message);
  if (spec.done) write(undefined, '[DONE]');
  res.end();
}

/**
 * The `endless` fault: the reply's tokens, then ` more` forever, never an end, until the client
 * disconnects or (KoboldCpp) aborts. Paced by `latency`, else one token per event-loop turn and
 * never faster than the client reads, so the process stays responsive.
 */
async function playEndless(
  ctx: RouteContext, reply: MockReply, spec: PlaybackSpec, generation: Generation, write: (value: unknown) => boolean,
): Promise<void> {
  const { res, faults } = ctx;
  let sent = 0;
  for (; !generation.stopped && !res.destroyed; sent++) {
    if (faults.latencyMs) await sleep(faults.latencyMs);
    else await new Promise((resolve) => setImmediate(resolve));
    if (generation.stopped || res.destroyed) break;
    if (!write(spec.chunk!(reply.pieces[sent] ?? ' more', sent))) await drained(res);
  }
  finished(ctx, { ...truncate(reply, Math.min(sent, reply.pieces.length)), completionTokens: sent });
  if (!res.destroyed) res.end(); // an abort: the stream ends, still without the API's end
}

/** Resolves when the response can take more data, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Destroys the socket once what was written is flushed: the client sees a cut chunked body. */
function drop(res: ServerResponse): void {
  res.write('', () => res.socket?.destroy());
}

/** The reply as it stands after `generated` tokens, when a generation is stopped early. */
function truncate(reply: MockReply, generated: number): MockReply {
  const pieces = reply.pieces.slice(0, generated);
  return { ...reply, pieces, text: pieces.join(''), finish: 'eos', completionTokens: generated };
}

function sleep(ms: number | undefined): Promise<void> {
  if (!ms || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
