/**
 * The concurrency baseline for `quire run --batch`: a plain Node pool of `concurrency` lanes,
 * each taking the next of `n` steps until none is left, so that `concurrency` steps are in
 * flight at every moment (the best any client can do against a server with that limit).
 * Global fetch, quire's headers and the body quire sent; each reply read to the end
 * (streamed replies chunk by chunk, whole replies with text() + JSON.parse), as fetch-loop.mjs
 * does. No prompt building, no database, no output.
 *
 *   node fetch-pool.mjs <plan.json> <n> <concurrency>
 *
 * plan.json: the same as fetch-loop.mjs's, { base, stages: [[{ method, path, body?, stream? }, ...], ...] }:
 * one step is the stages in order, the requests of a stage in parallel. Prints one JSON line:
 * startupMs (process start to the pool's start, performance.now()), loopStartT and loopEndT
 * (the first step started, the last ended: process.hrtime in ms, CLOCK_MONOTONIC, comparable
 * with the other processes), loopMs, stepMedianMs / stepMinMs / stepMaxMs (one step's time in
 * its lane), maxInFlight, bytes, totalMs, maxRssMb.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [planFile, count, lanesArg] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const n = Number(count);
const lanes = Number(lanesArg ?? 1);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(lanes) || lanes < 1) {
  process.stderr.write('usage: node fetch-pool.mjs <plan.json> <n> <concurrency>\n');
  process.exit(2);
}
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
const stages = plan.stages.map((stage) => stage.map((r) => ({
  url: plan.base + r.path,
  init: {
    method: r.method,
    headers: { accept: 'application/json, text/event-stream, application/x-ndjson', ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
  },
  stream: Boolean(r.stream),
})));

let bytes = 0;
async function request({ url, init, stream }) {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init.method} ${url}: ${response.status} ${await response.text()}`);
  if (stream) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const step = await reader.read();
      if (step.done) break;
      bytes += decoder.decode(step.value, { stream: true }).length;
    }
  } else {
    const text = await response.text();
    JSON.parse(text);
    bytes += text.length;
  }
}

const times = new Float64Array(n);
let next = 0;
let inFlight = 0;
let maxInFlight = 0;
async function lane() {
  while (next < n) {
    const i = next++;
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    const t0 = performance.now();
    for (const stage of stages) {
      if (stage.length === 1) await request(stage[0]);
      else await Promise.all(stage.map(request));
    }
    times[i] = performance.now() - t0;
    inFlight--;
  }
}

const startupMs = performance.now();
const loopStartT = monoMs();
const loopStart = performance.now();
await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
const loopMs = performance.now() - loopStart;
const loopEndT = monoMs();
const sorted = Float64Array.from(times).sort();
const mid = sorted.length >> 1;
process.stdout.write(`${JSON.stringify({
  startupMs, loopStartT, loopEndT, loopMs, lanes, n,
  stepMedianMs: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, stepMinMs: sorted[0], stepMaxMs: sorted.at(-1),
  maxInFlight, bytes, totalMs: performance.now(), maxRssMb: process.resourceUsage().maxRSS / 1024,
})}\n`);
