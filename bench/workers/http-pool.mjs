/**
 * fetch-pool.mjs with node:http(s) instead of the global fetch: one keep-alive Agent
 * (maxSockets = the concurrency), as quire's LLM adapters use (adapters/llm/http.ts), so it
 * shows what the HTTP stack quire is built on costs without quire. `concurrency` lanes take
 * the next of `n` steps until none is left (1 lane: a sequential loop). Headers as the fetch
 * workers send them plus content-length; each reply read to the end (whole replies with
 * JSON.parse, streamed ones chunk by chunk). No prompt building, no database, no output.
 *
 *   node http-pool.mjs <plan.json> <n> <concurrency>
 *
 * plan.json and the printed JSON line: as fetch-pool.mjs.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [planFile, count, lanesArg] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const n = Number(count);
const lanes = Number(lanesArg ?? 1);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(lanes) || lanes < 1) {
  process.stderr.write('usage: node http-pool.mjs <plan.json> <n> <concurrency>\n');
  process.exit(2);
}
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
const secure = plan.base.startsWith('https:');
const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: lanes }) : new HttpAgent({ keepAlive: true, maxSockets: lanes });
const send = secure ? httpsRequest : httpRequest;
const stages = plan.stages.map((stage) => stage.map((r) => {
  const url = new URL(plan.base + r.path);
  const body = r.body !== undefined ? Buffer.from(JSON.stringify(r.body)) : undefined;
  return {
    options: {
      protocol: url.protocol, hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: r.method, agent,
      headers: { accept: 'application/json, text/event-stream, application/x-ndjson', ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}) },
    },
    body,
    stream: Boolean(r.stream),
  };
}));

let bytes = 0;
function request({ options, body, stream }) {
  return new Promise((resolve, reject) => {
    const req = send(options, (res) => {
      const chunks = [];
      res.on('data', (chunk) => {
        if (stream) bytes += chunk.length;
        else chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode < 200 || res.statusCode >= 300) return reject(new Error(`${options.method} ${options.path}: ${res.statusCode}`));
        if (!stream) {
          const text = Buffer.concat(chunks).toString('utf8');
          JSON.parse(text);
          bytes += text.length;
        }
        resolve();
      });
    });
    req.on('error', reject);
    req.end(body);
  });
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
agent.destroy();
const sorted = Float64Array.from(times).sort();
const mid = sorted.length >> 1;
process.stdout.write(`${JSON.stringify({
  startupMs, loopStartT, loopEndT, loopMs, lanes, n,
  stepMedianMs: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, stepMinMs: sorted[0], stepMaxMs: sorted.at(-1),
  maxInFlight, bytes, totalMs: performance.now(), maxRssMb: process.resourceUsage().maxRSS / 1024,
})}\n`);
