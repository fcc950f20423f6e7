#!/usr/bin/env node
/**
 * quire benchmarks. `npm run bench` builds first, then runs this.
 *
 *   node bench/run.mjs [--json] [--runs N] [--profile] [--keep] [--strict] [--only sync,...] [--dist DIR]
 *
 * --json     print the results as JSON (stdout) instead of the table
 * --runs N   runs per measurement (default 5); medians are reported
 * --profile  also CPU-profile the in-process sync and `quire run` (steps, first-request) and summarize the hottest functions
 *            (the .cpuprofile files go to <os tmpdir>/quire-bench-profiles/, for Chrome DevTools)
 * --keep     keep the generated workspace and databases (path printed)
 * --strict   exit 1 when any target is missed
 * --only     comma-separated benchmark names (default: all): sync, steps, startup, first-request
 * --dist DIR measure another build (a dist/ folder; default the repo's), e.g. to try a change
 *
 * The latest results are always written to bench/results/latest.json.
 * Each benchmark is a sibling module exporting an async function that returns
 * { name, rows: [{ id, label, unit, median, min, max, runs, target, pass }], ... }.
 */
import { existsSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_DIR, CLI, fmt, formatTable, writeJson } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { benchFirstRequest, benchStartup, benchSteps, describeFirstRequest, describeSteps } from './run-steps.mjs';
import { benchSync, describeSync } from './sync.mjs';

const BENCHMARKS = [
  { name: 'sync', run: benchSync, describe: describeSync },
  { name: 'steps', run: benchSteps, describe: describeSteps },
  { name: 'startup', run: benchStartup },
  { name: 'first-request', run: benchFirstRequest, describe: describeFirstRequest },
];

const args = process.argv.slice(2);
const has = (flag) => args.includes(flag);
const value = (flag) => (has(flag) ? args[args.indexOf(flag) + 1] : undefined);
const json = has('--json');
const runs = Number(value('--runs') ?? 5);
const only = value('--only')?.split(',');
const log = json ? () => {} : (line) => process.stderr.write(`${line}\n`);

if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('--runs must be a positive integer\n');
  process.exit(2);
}
const unknown = (only ?? []).filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  process.stderr.write(`--only: unknown benchmark ${unknown.join(', ')} (known: ${BENCHMARKS.map((b) => b.name).join(', ')})\n`);
  process.exit(2);
}
if (!existsSync(value('--dist') ? join(resolve(value('--dist')), 'cli', 'bin.js') : CLI)) {
  process.stderr.write(`${CLI} not found: build first (npm run build), or use npm run bench\n`);
  process.exit(2);
}

const started = Date.now();
const loadStart = loadavg()[0];
const results = [];
const context = createBenchContext({ keep: has('--keep'), log, ...(value('--dist') ? { dist: resolve(value('--dist')) } : {}) });
try {
  for (const bench of BENCHMARKS) {
    if (only && !only.includes(bench.name)) continue;
    log(`== ${bench.name}`);
    results.push({ ...(await bench.run({ runs, keep: has('--keep'), profile: has('--profile'), log, context })), describe: bench.describe });
  }
} finally {
  context.cleanup();
}

const output = {
  date: new Date().toISOString(),
  durationS: Math.round((Date.now() - started) / 100) / 10,
  runs,
  env: {
    node: process.version, platform: `${platform()} ${release()} ${arch()}`, cpu: cpus()[0]?.model, cpus: cpus().length, memGb: Math.round(totalmem() / 2 ** 30),
    // Other processes competing for the CPUs inflate every number: recorded so results can be judged.
    loadAvg1mStart: Math.round(loadStart * 100) / 100, loadAvg1mEnd: Math.round(loadavg()[0] * 100) / 100,
  },
  benchmarks: results.map(({ describe, ...rest }) => rest),
  pass: results.every((r) => r.rows.every((row) => row.pass !== false)),
};
writeJson(join(BENCH_DIR, 'results', 'latest.json'), output);

if (json) {
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
} else {
  for (const result of results) {
    const header = ['measurement', 'median', 'min', 'max', 'runs', 'target', 'result'];
    const rows = result.rows.map((r) => [
      r.label,
      fmt(r.median, r.unit, r.digits ?? (r.unit === 'x' ? 2 : 1)),
      fmt(r.min, r.unit === 'x' ? '' : r.unit, r.digits ?? 1),
      fmt(r.max, r.unit === 'x' ? '' : r.unit, r.digits ?? 1),
      String(r.runs),
      r.target === null ? '' : `<= ${r.target} ${r.unit}`,
      r.pass === null ? '' : r.pass ? 'pass' : 'FAIL',
    ]);
    process.stdout.write(`\n${result.name}\n${formatTable(header, rows)}\n`);
    if (result.describe) process.stdout.write(`\n${result.describe(result)}\n`);
  }
  const busiest = Math.max(output.env.loadAvg1mStart, output.env.loadAvg1mEnd);
  if (busiest > output.env.cpus) {
    process.stdout.write(`\nwarning: the machine was busy (1-min load average ${busiest} on ${output.env.cpus} CPUs); timings are inflated, rerun when idle\n`);
  }
  const failed = results.flatMap((r) => r.rows.filter((row) => row.pass === false).map((row) => `${r.name}/${row.id}`));
  process.stdout.write(`\n${failed.length ? `missed targets: ${failed.join(', ')}` : 'all targets met'} (${output.durationS} s; results in bench/results/latest.json)\n`);
}
if (has('--strict') && !output.pass) process.exitCode = 1;
