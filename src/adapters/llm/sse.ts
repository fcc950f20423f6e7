/**
 * Server-sent events from decoded text chunks (eventsource-parser does the framing).
 *
 * Handles what the servers actually send (protocols.md §2, §3, §7.9): comment pings
 * (`: ...`) are skipped, `data:` with or without a space, `event:` names are passed
 * on, CRLF or LF, a last event without its blank line (KoboldCpp 1.76's `data: [DONE]`),
 * and no `[DONE]` at all (KoboldCpp and llama.cpp `/completion` just close the socket).
 * Old llama.cpp builds sent errors as an `error:` field; it comes out as event `error`.
 */
import { createParser } from 'eventsource-parser';

export interface SseEvent {
  /** The `event:` name, if the server sent one. */
  event?: string | undefined;
  data: string;
}

export async function* readSse(chunks: AsyncIterable<string>): AsyncGenerator<SseEvent> {
  let ready: SseEvent[] = [];
  const parser = createParser({
    onEvent: (message) => ready.push({ event: message.event, data: message.data }),
    onError: (error) => {
      if (error.type === 'unknown-field' && error.field === 'error') ready.push({ event: 'error', data: error.value ?? '' });
    },
  });
  const drain = (): SseEvent[] => {
    const out = ready;
    ready = [];
    return out;
  };
  for await (const chunk of chunks) {
    parser.feed(chunk);
    yield* drain();
  }
  // The socket closed: a pending event without its blank line still counts.
  parser.feed('\n\n');
  yield* drain();
}
