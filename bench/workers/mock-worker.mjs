/**
 * quire's mock LLM server (dist/mock-llm/index.js startMockLlm) in its own process, so it
 * does not share an event loop with what is measured, recording when each request arrived.
 * Start with child_process.fork; talks over IPC:
 *   -> { type: 'ready', url }                      once listening
 *   <- { type: 'take' }  -> { type: 'requests', list: [{ t, method, path }], bodies: { 'METHOD path': body } }
 *                          (every request since the last take, then forgotten; `bodies` holds
 *                          the last body seen per route, for the baseline to replay)
 *   <- { type: 'close' }   stops the server and exits
 * `t` is process.hrtime (CLOCK_MONOTONIC, the same clock in every process on the machine)
 * in milliseconds, taken when the mock recorded the request (its body read, before the reply).
 * Options (argv): --api <mode> (default all), --context <tokens>.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_DIR } from '../lib.mjs';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const dist = (rel) => pathToFileURL(join(process.env.QUIRE_BENCH_DIST ?? join(REPO_DIR, 'dist'), rel)).href;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const { startMockLlm } = await import(dist('mock-llm/index.js'));
const mock = await startMockLlm({ api: option('--api') ?? 'all', ...(option('--context') ? { contextLength: Number(option('--context')) } : {}) });

let arrivals = [];
const bodies = {};
// The server pushes every request it receives onto this live array: note the time there.
mock.requests.push = (...items) => {
  const t = nowMs();
  for (const r of items) {
    arrivals.push({ t, method: r.method, path: r.path });
    bodies[`${r.method} ${r.path}`] = r.body;
  }
  return 0; // nothing is kept in the mock's own list (it would grow for the whole benchmark)
};

process.on('message', async (message) => {
  if (message?.type === 'take') {
    const list = arrivals;
    arrivals = [];
    process.send({ type: 'requests', list, bodies });
  } else if (message?.type === 'close') {
    await mock.close();
    process.disconnect();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', url: mock.url });
