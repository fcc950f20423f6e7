/**
 * quire's mock LLM server (dist/mock-llm/index.js startMockLlm) in its own process for the
 * batch benchmark, with a server-wide `latency` fault and a compact request log that stays
 * small over 100k requests. Start with child_process.fork; talks over IPC:
 *   -> { type: 'ready', url }   once listening
 *   <- { type: 'take' }  -> { type: 'requests', ...summary }   (everything since the last take, then forgotten)
 *   <- { type: 'close' }   stops the server and exits
 * The summary:
 *   total, byRoute { 'METHOD path': count }, bodies { 'METHOD path': the last body seen },
 *   firstT (the first request of any kind), firstGenT, lastGenT (arrivals of the first and last
 *   generation request), generations: { count, firstStartT, lastEndT, sumMs, medianMs, minMs,
 *   maxMs } (per generation request, server side: from the server's `request` event to the
 *   reply's res.end(), so the latency sleep and the writing of the reply), peak (the mock's
 *   own count of generations at once, mock.generations().peak).
 * Every `t` is process.hrtime (CLOCK_MONOTONIC, the same clock in every process on the machine)
 * in milliseconds. Arrivals are noted when the mock recorded the request (its body read).
 *
 *   argv: --latency <ms per generated token> (default 0), --api <mode> (default all)
 *
 * The generation routes are the mock's text-generating routes (the list below): only they
 * are timed.
 */
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_DIR } from '../lib.mjs';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const dist = (rel) => pathToFileURL(join(process.env.QUIRE_BENCH_DIST ?? join(REPO_DIR, 'dist'), rel)).href;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const GENERATION_PATHS = new Set(['/api/v1/generate', '/api/extra/generate/stream', '/v1/completions', '/v1/chat/completions', '/completion', '/api/generate']);
const T0 = Symbol('batch-mock.t0');

// Server-side timing of every generation request: the `request` event (before the body is
// read) to res.end(). Patched on the prototypes before the mock's server exists.
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function patchedEmit(event, req, ...rest) {
  if (event === 'request') req[T0] = nowMs();
  return emit.call(this, event, req, ...rest);
};
let durations = [];
let firstStartT = Infinity;
let lastEndT = -Infinity;
const end = http.ServerResponse.prototype.end;
http.ServerResponse.prototype.end = function patchedEnd(...endArgs) {
  const req = this.req;
  if (req && req[T0] !== undefined && !this.writableEnded) {
    const path = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
    if (req.method === 'POST' && GENERATION_PATHS.has(path)) {
      const t = nowMs();
      durations.push(t - req[T0]);
      if (req[T0] < firstStartT) firstStartT = req[T0];
      if (t > lastEndT) lastEndT = t;
    }
  }
  return end.apply(this, endArgs);
};

const { startMockLlm } = await import(dist('mock-llm/index.js'));
const latency = Number(option('--latency') ?? 0);
const mock = await startMockLlm({ api: option('--api') ?? 'all', ...(latency > 0 ? { faults: { latencyMs: latency } } : {}) });

let total = 0;
let byRoute = {};
const bodies = {};
let firstT = NaN;
let firstGenT = NaN;
let lastGenT = NaN;
// The server pushes every request it receives onto this live array: count it and note the time.
mock.requests.push = (...items) => {
  const t = nowMs();
  for (const r of items) {
    total++;
    const key = `${r.method} ${r.path}`;
    byRoute[key] = (byRoute[key] ?? 0) + 1;
    bodies[key] = r.body;
    if (Number.isNaN(firstT)) firstT = t;
    if (r.method === 'POST' && GENERATION_PATHS.has(r.path)) {
      if (Number.isNaN(firstGenT)) firstGenT = t;
      lastGenT = t;
    }
  }
  return 0; // nothing is kept in the mock's own list (it would grow for the whole benchmark)
};

function median(values) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

process.on('message', async (message) => {
  if (message?.type === 'take') {
    let sumMs = 0;
    let minMs = Infinity;
    let maxMs = -Infinity;
    for (const d of durations) {
      sumMs += d;
      if (d < minMs) minMs = d;
      if (d > maxMs) maxMs = d;
    }
    process.send({
      type: 'requests', total, byRoute, bodies, firstT, firstGenT, lastGenT,
      generations: { count: durations.length, firstStartT, lastEndT, sumMs, medianMs: median(durations), minMs, maxMs },
      peak: mock.generations().peak,
    });
    total = 0;
    byRoute = {};
    firstT = NaN;
    firstGenT = NaN;
    lastGenT = NaN;
    durations = [];
    firstStartT = Infinity;
    lastEndT = -Infinity;
    mock.reset();
  } else if (message?.type === 'close') {
    await mock.close();
    process.disconnect();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', url: mock.url });
