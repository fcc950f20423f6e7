#!/usr/bin/env node
/**
 * quire benchmarks. `npm run bench` builds first, then runs this.
 *
 *   node bench/run.mjs [--json] [--runs N] [--profile] [--keep] [--strict] [--only sync,...] [--dist DIR]
 *                      [--baseline <git-ref> | --dist-baseline DIR]
 *
 * --json     print the results as JSON (stdout) instead of the table
 * --runs N   runs per measurement (default 5); medians are reported
 * --profile  also CPU-profile the in-process sync and `quire run` (steps, first-request) and summarize the hottest functions
 *            (the .cpuprofile files go to <os tmpdir>/quire-bench-profiles/, for Chrome DevTools)
 * --keep     keep the generated workspace and databases (path printed)
 * --strict   exit 1 when any target is missed
 * --only     comma-separated benchmark names (default: all): sync, steps, startup, first-request, watch, batch, test, view, workers
 *            (watch: `quire watch` save -> first request, warm applySave, RSS over saves, no-op sync budget;
 *            --watch-saves N sets the saves before the last RSS reading, default 100; current build only),
 *            batch (`quire run --batch`: effective parallelism at --concurrency 8 against a fetch pool, per-record
 *            overhead at --concurrency 1 against a fetch loop (node:http pool and loop as info), peak RSS over 10k and 100k records;
 *            --batch-records N sets the records of the first two, default 1000; --batch-big N the big
 *            memory size, default 100000; current build only),
 *            test (`quire test`: effective parallelism at --concurrency 8 (latency=50) against a fetch pool, and the
 *            process wall of cases with 6 text checks each over the same cases without checks; interleaved runs, at
 *            least 9; every run checked ok with all cases passed; --test-cases N sets the cases, default 200; current build only),
 *            view (`quire view` on a database of 100,000 runs: server time of the runs list and batch results pages, first
 *            paint in headless chromium; skipped without /usr/bin/chromium; current build only),
 *            workers (a throwaway PostgreSQL cluster, stopped at the end: records/s of one `quire run --batch
 *            --concurrency 8` on SQLite vs four `quire worker --concurrency 8 --until-empty` on one batch queued with
 *            --workers in Postgres, latency=50, with the CPU time of every process and of the machine; rows written/s
 *            by a zero-latency batch in each store, by registering 100,000 records --workers, and by migrate-store
 *            both ways; `quire results` of 100,000 records from each store; peak RSS of every process; these
 *            run --runs times, at most 3;
 *            --workers-records N sets the throughput batch, default 10000, run once (--workers-throughput-runs N
 *            repeats it); --workers-big N the registered, copied and exported size, default 100000; current build only)
 * --dist DIR measure another build (a dist/ folder; default the repo's), e.g. to try a change
 * --baseline <git-ref>
 *            also measure that commit of this repo, side by side with the build measured
 *            (git archive of the ref into the run's temp dir, the repo's node_modules linked in,
 *            built with the repo's tsc -p tsconfig.build.json; removed at the end). Every
 *            measurement runs for both builds in turn, run by run (alternating which goes first),
 *            so load on this machine hits both alike. Each row then shows before (the baseline),
 *            after (the build measured) and after/before; targets are judged on "after".
 *            Compare like this: a claim that a change is faster needs both builds in one run.
 * --dist-baseline DIR
 *            the same with an already-built dist/ folder as the baseline
 *
 * The latest results are always written to bench/results/latest.json.
 * Each benchmark is a sibling module exporting an async function that returns
 * { name, rows: [{ id, label, unit, median, min, max, runs, target, pass }], ... }; a row's
 * optional targetOp ('>=', '<'; default '<=') says how its median meets the target.
 * With a baseline, each row also has baseline: { median, min, max, runs, samples, pass },
 * ratio (median / baseline.median) and pairedRatio (median of the run-by-run ratios), each benchmark a `baseline` object with the baseline
 * build's other fields, and the results a top-level `baseline` saying what was compared.
 */
import { existsSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_DIR, CLI, fmt, formatTable, git, writeJson } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { benchFirstRequest, benchStartup, benchSteps, describeFirstRequest, describeSteps } from './run-steps.mjs';
import { benchSync, describeSync } from './sync.mjs';
import { benchWatch, describeWatch } from './watch.mjs';
import { benchBatch, describeBatch } from './batch.mjs';
import { benchTest, describeTest } from './test.mjs';
import { benchView, describeView } from './view.mjs';
import { benchWorkers, describeWorkers } from './workers.mjs';

const BENCHMARKS = [
  { name: 'sync', run: benchSync, describe: describeSync },
  { name: 'steps', run: benchSteps, describe: describeSteps },
  { name: 'startup', run: benchStartup },
  { name: 'first-request', run: benchFirstRequest, describe: describeFirstRequest },
  { name: 'watch', run: benchWatch, describe: describeWatch },
  { name: 'batch', run: benchBatch, describe: describeBatch },
  { name: 'test', run: benchTest, describe: describeTest },
  { name: 'view', run: benchView, describe: describeView },
  { name: 'workers', run: benchWorkers, describe: describeWorkers },
];

const args = process.argv.slice(2);
const has = (flag) => args.includes(flag);
const value = (flag) => (has(flag) ? args[args.indexOf(flag) + 1] : undefined);
const usage = (message) => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};
for (const flag of ['--runs', '--only', '--dist', '--baseline', '--dist-baseline', '--batch-records', '--batch-big', '--test-cases', '--workers-records', '--workers-big', '--workers-throughput-runs']) {
  if (has(flag) && (value(flag) === undefined || value(flag).startsWith('--'))) usage(`${flag} needs a value`);
}
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
if (has('--baseline') && has('--dist-baseline')) usage('--baseline and --dist-baseline: one or the other');
if (has('--dist-baseline') && !existsSync(join(resolve(value('--dist-baseline')), 'cli', 'bin.js'))) {
  usage(`--dist-baseline: ${join(resolve(value('--dist-baseline')), 'cli', 'bin.js')} not found (give a built dist/ folder)`);
}
if (has('--baseline')) {
  try {
    git(['rev-parse', '--verify', '--end-of-options', `${value('--baseline')}^{commit}`]);
  } catch {
    usage(`--baseline: ${JSON.stringify(value('--baseline'))} is not a commit of this repo`);
  }
}
const baseline = has('--baseline') ? { ref: value('--baseline') } : has('--dist-baseline') ? { dist: resolve(value('--dist-baseline')) } : undefined;

const started = Date.now();
const loadStart = loadavg()[0];
const results = [];
const context = createBenchContext({ keep: has('--keep'), log, ...(value('--dist') ? { dist: resolve(value('--dist')) } : {}), ...(baseline ? { baseline } : {}) });
// Interrupted (Ctrl-C, kill): the temp dir, with the baseline's tree and build, goes too.
const onSignal = (signal) => {
  context.cleanup();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
let baselineInfo = null;
try {
  if (baseline) {
    context.builds(); // build the baseline first: a ref that does not build fails before anything is measured
    baselineInfo = context.baselineInfo();
  }
  for (const bench of BENCHMARKS) {
    if (only && !only.includes(bench.name)) continue;
    log(`== ${bench.name}`);
    results.push({ ...(await bench.run({ runs, keep: has('--keep'), profile: has('--profile'), log, context })), describe: bench.describe });
  }
} finally {
  context.cleanup();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
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
  ...(baselineInfo ? { baseline: baselineInfo } : {}),
};
writeJson(join(BENCH_DIR, 'results', 'latest.json'), output);

if (json) {
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
} else {
  if (baselineInfo) {
    const cur = baselineInfo.current;
    const curHead = cur.head.commit ? `${cur.head.commit.slice(0, 10)}${cur.head.dirty ? ' + uncommitted changes' : ''}` : '?';
    process.stdout.write(`\nbefore = ${baselineInfo.ref !== undefined ? `${baselineInfo.ref} (${baselineInfo.commit.slice(0, 10)} ${baselineInfo.subject})` : baselineInfo.dist}\n` +
      `after  = ${cur.dist} (HEAD ${curHead})\n` +
      'both measured in this run, taking turns run by run; ratio = after / before (< 1: after is smaller); target and result judge "after"\n');
  }
  const target = (r) => (r.target === null ? '' : `${r.targetOp ?? '<='} ${r.target}${r.unit ? ` ${r.unit}` : ''}`);
  const range = (min, max, digits) => (Number.isFinite(min) && Number.isFinite(max) ? `${fmt(min, '', digits)}–${fmt(max, '', digits)}` : '');
  for (const result of results) {
    let header;
    let rows;
    if (baselineInfo) {
      header = ['measurement', 'before', 'after', 'ratio', 'before min–max', 'after min–max', 'runs', 'target', 'result'];
      rows = result.rows.map((r) => {
        const b = r.baseline ?? {};
        const digits = r.digits ?? (r.unit === 'x' ? 2 : 1);
        return [
          r.label,
          fmt(b.median, r.unit, digits),
          fmt(r.median, r.unit, digits),
          r.ratio === null || r.ratio === undefined ? '-' : fmt(r.ratio, 'x', 2),
          range(b.min, b.max, r.digits ?? 1),
          range(r.min, r.max, r.digits ?? 1),
          b.runs !== undefined && b.runs !== r.runs ? `${b.runs}/${r.runs}` : String(r.runs),
          target(r),
          r.pass === null ? '' : r.pass ? 'pass' : 'FAIL',
        ];
      });
    } else {
      header = ['measurement', 'median', 'min', 'max', 'runs', 'target', 'result'];
      rows = result.rows.map((r) => [
        r.label,
        fmt(r.median, r.unit, r.digits ?? (r.unit === 'x' ? 2 : 1)),
        fmt(r.min, r.unit === 'x' ? '' : r.unit, r.digits ?? 1),
        fmt(r.max, r.unit === 'x' ? '' : r.unit, r.digits ?? 1),
        String(r.runs),
        target(r),
        r.pass === null ? '' : r.pass ? 'pass' : 'FAIL',
      ]);
    }
    process.stdout.write(`\n${result.name}\n${formatTable(header, rows)}\n`);
    if (result.describe) {
      if (result.baseline) {
        process.stdout.write(`\nafter:\n${result.describe(result)}\n`);
        process.stdout.write(`\nbefore:\n${result.describe({ name: result.name, rows: [], ...result.baseline })}\n`);
      } else {
        process.stdout.write(`\n${result.describe(result)}\n`);
      }
    }
  }
  const busiest = Math.max(output.env.loadAvg1mStart, output.env.loadAvg1mEnd);
  if (busiest > output.env.cpus) {
    process.stdout.write(`\nwarning: the machine was busy (1-min load average ${busiest} on ${output.env.cpus} CPUs); timings are inflated, rerun when idle\n`);
  }
  const failed = results.flatMap((r) => r.rows.filter((row) => row.pass === false).map((row) => `${r.name}/${row.id}`));
  process.stdout.write(`\n${failed.length ? `missed targets: ${failed.join(', ')}` : 'all targets met'} (${output.durationS} s; results in bench/results/latest.json)\n`);
}
if (has('--strict') && !output.pass) process.exitCode = 1;
