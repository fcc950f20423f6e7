/**
 * Reading a streamed completion: SSE or NDJSON messages in, the dialect's readings merged,
 * tokens passed on as they come, cut at stop strings. The connection is kept for the next
 * request when the server ended the stream, and closed (ending the generation) when the
 * client cut it short.
 */
import type { CompletionRequest } from '../../core/llm.js';
import type { Dialect, Reading } from './completion.js';
import { clip, describeErrorBody, failOnErrorObject, llmError, replyError, unexpectedReply } from './failure.js';
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
    if (event.event === 'error') throw replyError(exchange.where, describeErrorBody(event.data), exchange.attempts);
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
  if (!isRecord(value)) throw unexpectedReply(exchange.where, value, exchange.attempts);
  return value;
}

function mergeDefined(target: Reading, source: Reading): void {
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}
