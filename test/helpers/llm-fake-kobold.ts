/**
 * A scripted KoboldCpp stand-in for what the mock cannot be made to do: a stream whose
 * `/api/extra/perf` is missing, slow, stale or from an old version, or a stream that
 * leaves the stop string in (KoboldCpp 1.76 without `trim_stop`).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeKoboldOptions {
  /** The streamed token texts, in order. */
  tokens: string[];
  /** `finish_reason` of the last event. */
  finishReason: 'stop' | 'length';
  /** The `/api/extra/perf` answer: a body, `missing` (404) or `hang` (never answers). */
  perf: Record<string, unknown> | 'missing' | 'hang';
}

export interface FakeKobold {
  url: string;
  /** `METHOD /path` of every request, in arrival order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeKobold(options: FakeKoboldOptions): Promise<FakeKobold> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/extra/generate/stream') return stream(res, options);
      if (req.method === 'GET' && req.url === '/api/extra/perf' && options.perf !== 'missing') {
        if (options.perf === 'hang') return;
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(options.perf));
      }
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function stream(res: ServerResponse, options: FakeKoboldOptions): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (token: string, finish: string | null): string => `event: message\ndata: ${JSON.stringify({ token, finish_reason: finish })}\n\n`;
  res.end(options.tokens.map((token) => event(token, null)).join('') + event('', options.finishReason));
}
