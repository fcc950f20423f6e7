/**
 * The per-request baseline for `quire run`: a plain Node loop of sequential requests with
 * the global fetch, quire's headers and the bodies quire sent, each reply read to the end
 * (streamed replies chunk by chunk through the body reader, as quire reads them; whole
 * replies with text() + JSON.parse). No prompt building, no database, no output.
 *
 *   node fetch-loop.mjs <plan.json> <n>
 *
 * plan.json: { base, stages: [[{ method, path, body?, stream? }, ...], ...] }. One step is
 * the stages in order, the requests of a stage in parallel; the loop runs n steps. The
 * plain baseline is one stage of one request (the generation); a "replay" plan repeats the
 * whole request pattern of a quire step. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [planFile, count] = process.argv.slice(2);
const startupMs = performance.now();
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const n = Number(count);
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

const times = [];
const loopStart = performance.now();
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  for (const stage of stages) {
    if (stage.length === 1) await request(stage[0]);
    else await Promise.all(stage.map(request));
  }
  times.push(performance.now() - t0);
}
const loopMs = performance.now() - loopStart;
const afterFirst = times.slice(1).reduce((a, b) => a + b, 0);
process.stdout.write(`${JSON.stringify({
  startupMs, firstStepMs: times[0], loopMs, perStepAfterFirstMs: afterFirst / Math.max(1, n - 1), bytes,
  totalMs: performance.now(), maxRssMb: process.resourceUsage().maxRSS / 1024,
})}\n`);
