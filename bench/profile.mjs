/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time,
 * top quire functions by inclusive time, and self time per package / dist module.
 * Also usable alone: node bench/profile.mjs <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per node: each sample's time delta goes to the node it landed in.
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const delta = (timeDeltas[i + 1] ?? 0) / 1000; // the delta after a sample is the time spent in it
    self.set(samples[i], (self.get(samples[i]) ?? 0) + delta);
  }
  const totalMs = [...self.values()].reduce((a, b) => a + b, 0);

  const keyOf = (n) => `${n.callFrame.functionName || '(anonymous)'}\u0000${n.callFrame.url}\u0000${n.callFrame.lineNumber}`;
  const whereOf = (n) => (n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '');

  const bySelf = new Map();
  const byModule = new Map();
  for (const [id, ms] of self) {
    const n = nodes.get(id);
    const key = keyOf(n);
    const entry = bySelf.get(key) ?? { name: n.callFrame.functionName || '(anonymous)', where: whereOf(n), selfMs: 0, totalMs: 0 };
    entry.selfMs += ms;
    bySelf.set(key, entry);
    const module = moduleOf(n.callFrame);
    byModule.set(module, (byModule.get(module) ?? 0) + ms);
  }

  // Inclusive time per function: a sample counts once for every distinct function on its stack.
  const inclusive = new Map();
  for (const [id, ms] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = nodes.get(cur);
      const key = keyOf(n);
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { name: n.callFrame.functionName || '(anonymous)', where: whereOf(n), totalMs: 0, quire: n.callFrame.url.includes('/dist/') };
      entry.totalMs += ms;
      inclusive.set(key, entry);
    }
  }
  for (const [key, entry] of bySelf) entry.totalMs = inclusive.get(key)?.totalMs ?? entry.selfMs;

  // Timeline: when each quire function was first and last on the stack (ms since the profile started).
  const spans = new Map();
  let now = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    now += timeDeltas[i] ?? 0;
    const seen = new Set();
    for (let cur = samples[i]; cur !== undefined; cur = parent.get(cur)) {
      const n = nodes.get(cur);
      if (!n.callFrame.url.includes('/dist/')) continue;
      const key = keyOf(n);
      if (seen.has(key)) continue;
      seen.add(key);
      const span = spans.get(key) ?? { name: n.callFrame.functionName || '(anonymous)', where: whereOf(n), firstMs: (now - profile.startTime) / 1000, lastMs: 0 };
      span.lastMs = (now - profile.startTime) / 1000;
      spans.set(key, span);
    }
  }
  const endMs = (now - profile.startTime) / 1000;

  const r = (x) => Math.round(x * 10) / 10;
  return {
    endMs: r(endMs),
    /** The quire functions with the most inclusive time, in the order they first ran. */
    timeline: [...inclusive.entries()].filter(([, e]) => e.quire).sort((a, b) => b[1].totalMs - a[1].totalMs).slice(0, top)
      .map(([key, e]) => ({ ...spans.get(key), totalMs: r(e.totalMs) }))
      .sort((a, b) => a.firstMs - b.firstMs)
      .map((e) => ({ ...e, firstMs: r(e.firstMs), lastMs: r(e.lastMs) })),
    file,
    totalMs: r(totalMs),
    topSelf: [...bySelf.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top).map((e) => ({ ...e, selfMs: r(e.selfMs), totalMs: r(e.totalMs) })),
    topQuireInclusive: [...inclusive.values()].filter((e) => e.quire).sort((a, b) => b.totalMs - a.totalMs).slice(0, top).map(({ quire, ...e }) => ({ ...e, totalMs: r(e.totalMs) })),
    byModule: [...byModule].sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, ms]) => ({ module, selfMs: r(ms) })),
  };
}

function shortUrl(url) {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  const bench = url.lastIndexOf('/bench/');
  if (bench !== -1) return url.slice(bench + 1);
  return url;
}

function moduleOf(frame) {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return 'node:internal';
  return shortUrl(url);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top = '25'] = process.argv.slice(2);
  const summary = summarizeProfile(file, Number(top));
  console.log(`total sampled: ${summary.totalMs} ms\n\ntop self time:`);
  for (const f of summary.topSelf) console.log(`${String(f.selfMs).padStart(8)} ms self ${String(f.totalMs).padStart(8)} ms total  ${f.name}  ${f.where}`);
  console.log('\nquire functions by inclusive time:');
  for (const f of summary.topQuireInclusive) console.log(`${String(f.totalMs).padStart(8)} ms  ${f.name}  ${f.where}`);
  console.log(`\nquire functions in the order they first ran (ms since the profile started; it ended at ${summary.endMs}):`);
  for (const f of summary.timeline) console.log(`${String(f.firstMs).padStart(8)} - ${String(f.lastMs).padStart(8)}  ${String(f.totalMs).padStart(7)} ms  ${f.name}  ${f.where}`);
  console.log('\nself time by module:');
  for (const m of summary.byModule) console.log(`${String(m.selfMs).padStart(8)} ms  ${m.module}`);
}
