/**
 * Reading a streamed completion: SSE or NDJSON messages in, the dialect's readings merged,
 * tokens passed on as they come, cut at stop strings. The connection is kept for the next
 * request when the server ended the stream, and closed (ending the generation) when the
 * client cut it short.
 *
 * A reply is taken as a stream only when it says so: `text/event-stream` for the SSE APIs,
 * NDJSON (or, as KoboldCpp's Ollama imitation sends, plain JSON) for Ollama; a reply with
 * no content type is read and judged by its messages. And a stream counts as complete only
 * when it carried the API's end (`[DONE]`, the final message, or a finish reason): one that
 * just stops (a proxy or server that closed it early) fails with LLM_PROTOCOL instead of
 * passing its truncated text off as the answer.
 */
import type { CompletionRequest } from '../../core/llm.js';
import type { Dialect, Reading } from './completion.js';
import { clip, describeErrorBody, failOnErrorObject, llmError, replyError, unexpectedReply, type LlmError } from './failure.js';
import { isRecord, type Json } from './fields.js';
import type { HttpExchange } from './http.js';
import { readNdjson } from './ndjson.js';
import { stopsOf } from './params.js';
import { readSse } from './sse.js';
import { createStopFilter } from './stop.js';

export interface StreamReading {
  reading: Reading;
  /** Whether the server ended the stream (false when it was cut here at a stop string). */
  ended: boolean;
  /** Streamed messages that carried text. */
  textMessages: number;
}

export async function readStream(
  dialect: Dialect,
  exchange: HttpExchange,
  request: CompletionRequest,
  onToken: (text: string) => void,
  started: number,
): Promise<StreamReading> {
  const filter = createStopFilter(stopsOf(request));
  const reading: Reading = {};
  let text = '';
  let textMessages = 0;
  let receivedChars = 0;
  const limits = textLimits(request.maxTokens);
  let firstTokenMs: number | undefined;
  const emit = (piece: string): void => {
    if (piece === '') return;
    text += piece;
    onToken(piece);
  };

  await assertStreamType(dialect, exchange);
  // Whether the server ended the generation: then the connection is kept for the next request.
  let complete = false;
  // Whether the stream carried the API's end: `[DONE]`, a final message, or a finish reason.
  let sawEnd = false;
  try {
    for await (const message of messages(dialect, exchange)) {
      if (message.done) {
        complete = sawEnd = true;
        break;
      }
      const chunk = parseChunk(exchange, message.data);
      failOnErrorObject(exchange.where, chunk, exchange.attempts);
      const { text: piece, done, ...fields } = dialect.readChunk(chunk, request);
      mergeDefined(reading, fields);
      if (fields.finishReason !== undefined) sawEnd = true;
      if (piece) {
        textMessages++;
        receivedChars += piece.length;
        if (textMessages > limits.messages || receivedChars > limits.chars) throw runaway(exchange, request.maxTokens, limits, textMessages > limits.messages);
        firstTokenMs ??= performance.now() - started;
        emit(filter.push(piece));
        if (filter.stopped) break; // closing the stream (finally) ends the generation server-side
      }
      if (done) {
        complete = sawEnd = true;
        break;
      }
    }
    if (!filter.stopped && !sawEnd) throw streamCut(dialect, exchange, textMessages);
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

/**
 * How much text a stream may carry for `maxTokens` before quire decides the server ignores
 * the limit and stops reading: more than 4 text messages per token asked for (every server
 * quire speaks sends at most one message per token: KoboldCpp batches several, none splits
 * one), or more than 64 characters of text per token (at least 4,096): no tokenizer's
 * tokens average that. Generous on purpose: only a server that ignores max tokens gets there.
 */
export const MESSAGES_PER_TOKEN = 4;
export const CHARS_PER_TOKEN = 64;
const MIN_CHARS = 4_096;

export interface TextLimits {
  messages: number;
  chars: number;
}

export function textLimits(maxTokens: number): TextLimits {
  if (!(maxTokens > 0)) return { messages: Infinity, chars: Infinity };
  return { messages: MESSAGES_PER_TOKEN * maxTokens, chars: Math.max(MIN_CHARS, CHARS_PER_TOKEN * maxTokens) };
}

/** A stream carrying far more text than was asked for: stopped (the connection closes; KoboldCpp is also aborted). */
function runaway(exchange: HttpExchange, maxTokens: number, limits: TextLimits, byMessages: boolean): LlmError {
  const over = byMessages
    ? `more than ${limits.messages} text messages (${MESSAGES_PER_TOKEN} per token asked for)`
    : `more than ${limits.chars} characters of text (${CHARS_PER_TOKEN} per token asked for, at least ${MIN_CHARS})`;
  return llmError(exchange.where, 'LLM_PROTOCOL', `the server ignored max tokens (${maxTokens}): ${over}; the request was stopped`, {
    attempts: exchange.attempts,
    abandoned: true,
    hint: 'the server does not honour the max tokens field quire sends for this API: check the endpoint\'s `api` (and the server\'s own limits)',
  });
}

/** Content types a stream of each wire format may come as (protocols.md §1.2, §2, §3, §4). */
const STREAM_TYPES: Record<Dialect['streamFormat'], readonly string[]> = {
  sse: ['text/event-stream'],
  // Ollama sends application/x-ndjson; KoboldCpp's imitation never streams and sends one JSON object.
  ndjson: ['application/x-ndjson', 'application/ndjson', 'application/json'],
};

/**
 * Fails a 200 reply that is not a stream (a login proxy's HTML page, a JSON reply to a
 * streaming request) with LLM_PROTOCOL, quoting the start of its body; a JSON body that
 * carries an error fails with that error instead.
 */
async function assertStreamType(dialect: Dialect, exchange: HttpExchange): Promise<void> {
  const type = exchange.contentType;
  const accepted = STREAM_TYPES[dialect.streamFormat];
  if (type === undefined || accepted.includes(type)) return;
  const body = await preview(exchange);
  if (type === 'application/json' || type.endsWith('+json')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      value = undefined;
    }
    if (isRecord(value)) failOnErrorObject(exchange.where, value, exchange.attempts);
  }
  const shown = describeErrorBody(body, exchange.where.apiKey);
  throw llmError(exchange.where, 'LLM_PROTOCOL',
    `expected a stream (${accepted[0]}) but the server answered ${exchange.status} ${type}${shown ? `: ${shown}` : ''}`, {
      attempts: exchange.attempts,
      hint: 'is a login proxy or another service answering at this URL? Check the endpoint\'s URL and `api`',
    });
}

/** The start of a body that is not what was expected (at most `max` characters); the connection is closed after. */
async function preview(exchange: HttpExchange, max = 4_096): Promise<string> {
  let text = '';
  try {
    for await (const chunk of exchange.chunks()) {
      text += chunk;
      if (text.length >= max) break;
    }
  } catch {
    // a broken body: show what came
  } finally {
    exchange.close();
  }
  return text.slice(0, max);
}

/** A stream that ended without the API's end: its text is not the whole reply. */
function streamCut(dialect: Dialect, exchange: HttpExchange, textMessages: number): LlmError {
  return llmError(exchange.where, 'LLM_PROTOCOL',
    `the stream was cut: it ended after ${textMessages} text message${textMessages === 1 ? '' : 's'} without ${dialect.streamEnd}, so the reply is incomplete`, {
      attempts: exchange.attempts,
      hint: 'the server or a proxy in between closed the stream early (a crash, a restart, a proxy timeout?); run the step again',
    });
}

/** Stream messages as JSON text; `done` for an SSE `[DONE]`. SSE `error` events become errors. */
async function* messages(dialect: Dialect, exchange: HttpExchange): AsyncGenerator<{ data: string; done?: boolean }> {
  if (dialect.streamFormat === 'ndjson') {
    for await (const line of readNdjson(exchange.chunks())) yield { data: line };
    return;
  }
  for await (const event of readSse(exchange.chunks())) {
    if (event.event === 'error') throw replyError(exchange.where, describeErrorBody(event.data, exchange.where.apiKey), exchange.attempts);
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
    throw llmError(exchange.where, 'LLM_PROTOCOL', `invalid JSON in the stream: ${clip(data, exchange.where.apiKey)}`, { attempts: exchange.attempts, cause: error });
  }
  if (!isRecord(value)) throw unexpectedReply(exchange.where, value, exchange.attempts);
  return value;
}

function mergeDefined(target: Reading, source: Reading): void {
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}
