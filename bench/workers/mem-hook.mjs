/**
 * Loaded with `node --import` into a measured process: every $QUIRE_BENCH_MEM_MS ms (default
 * 500; an unref'd timer, so it never keeps the process alive) and once at exit, appends one
 * JSON line to $QUIRE_BENCH_MEM_FILE: { t, rss, heapTotal, heapUsed, external, arrayBuffers }
 * (t: process.hrtime in ms, CLOCK_MONOTONIC; sizes in MB, from process.memoryUsage()). Says
 * how RSS moves over a long run and how much of it is V8's heap and how much is native
 * (SQLite's page cache, buffers, code).
 */
import { appendFileSync } from 'node:fs';

const target = process.env.QUIRE_BENCH_MEM_FILE;
if (target) {
  const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const sample = () => {
    try {
      const m = process.memoryUsage();
      const line = { t: Number(process.hrtime.bigint()) / 1e6, rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) };
      appendFileSync(target, `${JSON.stringify(line)}\n`);
    } catch {
      // best effort: the benchmark reports what it has
    }
  };
  setInterval(sample, Number(process.env.QUIRE_BENCH_MEM_MS ?? 500)).unref();
  process.on('exit', sample);
}
