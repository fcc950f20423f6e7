/**
 * Live pages: the database's data version, polled on the viewer's read-only connection
 * (~4 times a second, only while a page listens), sent to every open page as server-sent
 * events. A page gets the version when it connects and again each time another process
 * commits; the page then fetches its own live region again.
 */

export interface LiveHub {
  /** An event stream for one page (`text/event-stream`); it ends when the page goes or the hub closes. */
  stream(): ReadableStream<Uint8Array>;
  /** Ends every stream and stops polling. */
  close(): void;
}

/** A comment line every ~15 s keeps proxies and idle timers from closing a quiet stream. */
const PING_EVERY_MS = 15_000;

export function createLiveHub(readVersion: () => Promise<number>, pollMs = 250): LiveHub {
  const encoder = new TextEncoder();
  const listeners = new Set<{ send(text: string): void; end(): void }>();
  let timer: NodeJS.Timeout | undefined;
  let last: number | undefined;
  let sincePing = 0;
  let polling = false;
  let closed = false;

  const broadcast = (text: string) => {
    for (const listener of listeners) listener.send(text);
  };
  const poll = async () => {
    if (polling) return; // a slow read is never overlapped by the next tick
    polling = true;
    try {
      const version = await readVersion();
      if (version !== last) {
        last = version;
        broadcast(`event: version\ndata: ${version}\n\n`);
      }
      sincePing += pollMs;
      if (sincePing >= PING_EVERY_MS) {
        sincePing = 0;
        broadcast(': ping\n\n');
      }
    } catch {
      // The store is closing: the streams end with the hub.
    } finally {
      polling = false;
    }
  };
  const stopIfIdle = () => {
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
      last = undefined;
    }
  };

  return {
    stream() {
      let listener: { send(text: string): void; end(): void } | undefined;
      return new ReadableStream<Uint8Array>({
        start(controller) {
          if (closed) {
            controller.close();
            return;
          }
          listener = {
            send: (text) => controller.enqueue(encoder.encode(text)),
            end: () => controller.close(),
          };
          listeners.add(listener);
          // Reconnect soon after a restart of the viewer; the version comes at once.
          controller.enqueue(encoder.encode('retry: 1000\n\n'));
          void readVersion().then((version) => {
            last ??= version; // the first poll then reports only a change
            if (listener && listeners.has(listener)) listener.send(`event: version\ndata: ${version}\n\n`);
          }, () => {});
          timer ??= setInterval(() => void poll(), pollMs);
        },
        cancel() {
          if (listener) listeners.delete(listener);
          stopIfIdle();
        },
      });
    },
    close() {
      closed = true;
      for (const listener of listeners) {
        try {
          listener.end();
        } catch {
          // already closed by the page
        }
      }
      listeners.clear();
      stopIfIdle();
    },
  };
}
