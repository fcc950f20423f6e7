/**
 * What the batch and test benchmarks share: their options, the mock in its own process
 * (workers/batch-mock.mjs), and their result rows.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, round, stats } from './lib.mjs';

const BATCH_MOCK = join(BENCH_DIR, 'workers', 'batch-mock.mjs');

/** A positive integer option from this process's arguments (run.mjs passes its argv through untouched). */
export function intOption(flag, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(flag);
  if (at === -1) return fallback;
  const n = Number(args[at + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer (got ${JSON.stringify(args[at + 1] ?? null)})`);
  return n;
}

/** Starts workers/batch-mock.mjs; resolves to { url, latency, take(), close() }. */
export async function startMockProcess(dist, latency) {
  const child = fork(BATCH_MOCK, ['--latency', String(latency)], { env: { ...process.env, QUIRE_BENCH_DIST: dist }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = [];
  child.on('message', (message) => waiters.shift()?.(message));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  const ready = await Promise.race([
    next(),
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`batch mock worker exited (${code}) before it was ready`)))),
  ]);
  return {
    url: ready.url,
    latency,
    /** What the mock saw since the last take (see batch-mock.mjs). */
    async take() {
      const reply = next();
      child.send({ type: 'take' });
      return reply;
    },
    async close() {
      if (!child.connected) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** A measurement row; `op` is how the median meets the target ('<=' unless said). */
export function row(id, label, unit, values, { target, op = '<=', digits = 1 } = {}) {
  const s = stats(values.filter((v) => Number.isFinite(v)));
  const pass = target === undefined || !Number.isFinite(s.median) ? (target === undefined ? null : false)
    : op === '>=' ? s.median >= target : op === '<' ? s.median < target : s.median <= target;
  return {
    id, label, unit, ...s,
    median: round(s.median, digits), min: round(s.min, digits), max: round(s.max, digits),
    ...(digits !== 1 ? { digits } : {}),
    target: target === undefined ? null : target,
    ...(target !== undefined && op !== '<=' ? { targetOp: op } : {}),
    pass,
  };
}

/** A ratio row (no samples of its own): passes when the value is at most the target. */
export function ratioRow(id, label, value, runs, target, digits = 2) {
  return { id, label, unit: 'x', median: round(value, digits), min: null, max: null, runs, samples: [], ...(digits !== 2 ? { digits } : {}), target: target ?? null, pass: target === undefined ? null : value <= target };
}
