/**
 * The batch benchmark (`--only batch`): `quire run <workflow> --batch <records.jsonl>` on a
 * small generated workspace (quire.yaml `api: openai`; workflow bench-batch: one inline step,
 * chatml, `response_length: 1`, temperature 0, prompt "Reply to: {{input.text}}"), one input
 * record per run of the workflow, against the mock LLM in its own process
 * (workers/batch-mock.mjs; one mock with `latency=50`, one with none). The mock answers
 * `echo: <last line>` one token per word, capped at max_tokens: here the one token "echo:", so
 * with latency=50 (a 50 ms wait before each token) one generation takes 50 ms plus the mock's
 * own time (its median is measured at the mock, per run: L below). Records (JSONL,
 * {"text": ...}) are generated in the run's temp dir; every quire run gets a fresh copy of a
 * database `quire sync` made once (no run has to sync, none inherits the runs of another).
 *
 *   parallelism  N records (default 1000; --batch-records N), `--concurrency 8 --json`, mock at
 *                latency=50. Effective parallelism = N x L / wall, where L is the median
 *                server-side time of one generation request in that run (the mock's `request`
 *                event to its res.end()) and wall is quire's batch-start to batch-end events
 *                as this process read them from the child's stdout (CLOCK_MONOTONIC; so
 *                process start and the endpoint lookup before batch-start are left out).
 *                Baseline: workers/fetch-pool.mjs, a plain global-fetch pool with 8 requests in
 *                flight doing the same N requests (the route and body quire sent, captured at
 *                the mock in a warm-up), in a fresh process; its wall is its own loop (first
 *                request started to last reply read). Info: workers/http-pool.mjs, the same pool
 *                over node:http with a keep-alive Agent, which is what quire's LLM adapters send
 *                with (the global fetch costs more per request here). Also: the mock's own average of
 *                generations in flight (sum of server-side times / wall), records/s, spawn to
 *                the first request and to the first generation at the mock.
 *   overhead     the same N records at zero latency, `--concurrency 1 --quiet`, whole process
 *                wall (spawn to exit) / N, against workers/fetch-loop.mjs doing the same N
 *                generation requests one after another (whole process wall / N); target on
 *                the ratio. Info: http-pool.mjs with one lane (node:http, sequential). "Steady"
 *                (info) leaves out spawn to the first generation request.
 *   memory       peak RSS (GNU time, else the exit hook) of `quire run --batch` over 10,000
 *                and 100,000 records (--batch-big N), zero latency, `--concurrency 16 --quiet`;
 *                the big size once, between the 10k runs (at most 3; the 100k run takes 1.5–3
 *                minutes on the 2-core machine, the whole benchmark 3.5–6). workers/mem-hook.mjs
 *                samples RSS and the V8 heap every 100 ms and `node --trace-gc` gives the live
 *                heap after each full GC, to tell growth from GC slack.
 * Correctness, every quire run: `quire batches --json` says the batch ended `completed` with
 * N records, N completed, and the mock saw N generation requests (else the benchmark stops).
 * Runs of quire and its baseline are interleaved, alternating which goes first.
 * --profile: CPU profiles of one zero-latency `--concurrency 1` batch and one latency=50
 * `--concurrency 8` batch, summarized (the .cpuprofile files in <os tmpdir>/quire-bench-profiles/).
 *
 * Only the current build is measured: with a baseline (--baseline, --dist-baseline) its rows
 * have no "before" (a build from before batches has none to measure).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, breathe, fmt, monoMs, planChild, round, rssMethod, runNode, stats } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { intOption, ratioRow, row, startMockProcess, writeBatchRecords, writeBatchWorkspace } from './batch-lib.mjs';
import { summarizeProfile } from './profile.mjs';

const FETCH_POOL = join(BENCH_DIR, 'workers', 'fetch-pool.mjs');
const HTTP_POOL = join(BENCH_DIR, 'workers', 'http-pool.mjs');
const FETCH_LOOP = join(BENCH_DIR, 'workers', 'fetch-loop.mjs');
const MEM_HOOK = join(BENCH_DIR, 'workers', 'mem-hook.mjs');
const PROFILE_DIR = join(tmpdir(), 'quire-bench-profiles');

export const BATCH_TARGETS = {
  /** Requests in flight on average (N x L / wall) with --concurrency 8: at least. */
  parallelism: 7.5,
  /** quire's whole-process wall over the sequential fetch loop's, zero latency, --concurrency 1. */
  overheadRatio: 1.4,
  /** Peak RSS at the big size: below. */
  rssMb: 250,
  /** Peak RSS big / 10k. */
  rssGrowth: 1.1,
};

export const BATCH_WORKFLOW = 'bench-batch';
const DEFAULT_RECORDS = 1000;
const SMALL_RECORDS = 10000;
const DEFAULT_BIG_RECORDS = 100000;
const CONCURRENCY = 8;
const MEMORY_CONCURRENCY = 16;
const LATENCY_MS = 50;
const WARMUP_RECORDS = 50;
/** How often mem-hook.mjs samples the memory runs, in ms. */
const MEM_SAMPLE_MS = 100;
/** The big run's duration above which the output suggests a smaller --batch-big. */
const BIG_SLOW_MS = 180000;


/** The child spawnWithEvents is waiting for, killed if this process exits first (a signal handled in run.mjs). */
let liveChild;

/**
 * `node <nodeArgs> <args>` as a child without blocking this process, like lib's runNodeAsync
 * (peak RSS the same way), but each stdout line that is a JSON event of one of `keep` types
 * is kept with t = monoMs() when this process read it. Resolves to { wallMs, startedAtMs,
 * rssMb, status, events: [{ t, ev }], stderr }; rejects when the child fails.
 */
function spawnWithEvents(args, { nodeArgs = [], env = {}, keep = new Set() } = {}) {
  const { method, command, argv, env: childEnv, rssFile } = planChild(args, { nodeArgs, env });
  return new Promise((resolve, reject) => {
    const startedAtMs = monoMs();
    const child = spawn(command, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChild = child;
    const events = [];
    let lines = 0;
    let buffer = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      const t = monoMs();
      buffer += chunk.toString('utf8');
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines++;
        // Cheap filter first: most lines are record-end events.
        if (!line.includes('"batch-')) continue;
        try {
          const ev = JSON.parse(line);
          if (keep.has(ev.type)) events.push({ t, ev });
        } catch {
          // not an event
        }
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20000);
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const wallMs = monoMs() - startedAtMs;
      liveChild = undefined;
      let rssMb = NaN;
      if (method === 'gnu-time') {
        const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
        if (match) rssMb = Number(match[1]) / 1024;
        const cut = stderr.lastIndexOf('\tCommand being timed:');
        if (cut !== -1) stderr = stderr.slice(0, cut);
      } else if (rssFile && existsSync(rssFile)) {
        rssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
        rmSync(rssFile, { force: true });
      }
      if (status !== 0) reject(new Error(`child failed (status ${status}): node ${args.join(' ')}\n${stderr.slice(-3000)}`));
      else resolve({ wallMs, startedAtMs, rssMb, status, events, lines, stderr });
    });
  });
}

export async function benchBatch({ runs = 5, keep = false, profile = false, log = () => {}, context, records: recordsArg, big: bigArg } = {}) {
  const records = recordsArg ?? intOption('--batch-records', DEFAULT_RECORDS);
  const big = bigArg ?? intOption('--batch-big', DEFAULT_BIG_RECORDS);
  if (big <= SMALL_RECORDS) throw new Error(`--batch-big must be more than ${SMALL_RECORDS} (the small size it is compared with)`);
  const ctx = context ?? createBenchContext({ keep, log });
  const dir = mkdtempSync(join(ctx.dir, 'batch-'));
  // With a baseline (built already by run.mjs), say why it has no numbers here.
  const baselineBuild = ctx.builds().find((b) => b.key === 'baseline');
  const baselineNote = !baselineBuild ? undefined
    : existsSync(join(baselineBuild.dist, 'app', 'batch.js'))
      ? 'only the current build is measured (this benchmark does not run the baseline build; its rows show no "before")'
      : 'only the current build is measured: the baseline build has no `quire run --batch` (its rows show no "before")';
  const { cli, dist } = ctx.build();
  const root = join(dir, 'ws');
  writeBatchWorkspace(root, BATCH_WORKFLOW);
  const files = { warm: join(dir, `records-${WARMUP_RECORDS}.jsonl`), main: join(dir, `records-${records}.jsonl`), small: join(dir, `records-${SMALL_RECORDS}.jsonl`), big: join(dir, `records-${big}.jsonl`) };
  writeBatchRecords(files.warm, WARMUP_RECORDS);
  writeBatchRecords(files.main, records);
  writeBatchRecords(files.small, SMALL_RECORDS);
  writeBatchRecords(files.big, big);
  const template = join(dir, 'template.db');
  runNode([cli, '-w', root, '--db', template, 'sync', '--json'], { measureRss: false });
  let dbCounter = 0;
  const dropDb = (file) => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true }));
  /** A fresh copy of the synced template database. */
  const freshDb = () => {
    const db = join(dir, `run-${++dbCounter}.db`);
    for (const s of ['', '-wal', '-shm']) if (existsSync(template + s)) copyFileSync(template + s, db + s);
    return db;
  };

  let slow;
  let fast;
  const killOnExit = () => {
    slow?.kill();
    fast?.kill();
    if (liveChild && liveChild.exitCode === null && liveChild.signalCode === null) liveChild.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const par = { quire: [], pool: [], http: [] };
  const seq = { quire: [], fetch: [], http: [] };
  const mem = [];
  const checked = [];
  let requestsPerRecord;
  let profiles;
  let body;
  try {
    [slow, fast] = await Promise.all([startMockProcess(dist, LATENCY_MS), startMockProcess(dist, 0)]);
    log(`mock-llm (own processes): latency=${LATENCY_MS} at ${slow.url}, none at ${fast.url}; workflow ${BATCH_WORKFLOW}, ${records} records; memory: ${SMALL_RECORDS} and ${big} records`);
    const quireArgs = (db, file, mock, concurrency, output) => [cli, '-w', root, '--db', db, 'run', BATCH_WORKFLOW, '--batch', file, '--concurrency', String(concurrency), output, '--endpoint', `5001=${mock.url}`];

    /** `quire batches --json` and the mock's count agree that all n records completed; else throws. */
    const check = (db, n, seen, what) => {
      const r = runNode([cli, '-w', root, '--db', db, 'batches', '--json', '--limit', '1'], { measureRss: false });
      const batch = JSON.parse(r.stdout).batches?.[0];
      const generations = seen.generations.count;
      if (!batch || batch.status !== 'completed' || batch.records !== n || batch.completed !== n || generations !== n) {
        throw new Error(`${what}: expected a completed batch of ${n} records, all completed, and ${n} generation requests at the mock; ` +
          `quire batches says ${JSON.stringify(batch ?? null)}, the mock saw ${generations} (${JSON.stringify(seen.byRoute)})`);
      }
      checked.push({ what, records: batch.records, completed: batch.completed, status: batch.status });
      return batch;
    };
    const genRoute = (seen) => Object.keys(seen.byRoute).find((k) => k.startsWith('POST ') && seen.bodies[k]?.max_tokens !== undefined) ?? Object.keys(seen.byRoute).find((k) => k.startsWith('POST '));

    // Warm-up (not counted): warms the OS caches and captures the generation request the baselines replay.
    log(`warm-up: ${WARMUP_RECORDS} records against each mock (captures the request quire sends)`);
    const plans = {};
    for (const [mock, concurrency] of [[slow, CONCURRENCY], [fast, 1]]) {
      await mock.take();
      const db = freshDb();
      runNode(quireArgs(db, files.warm, mock, concurrency, '--quiet'), { measureRss: false });
      const seen = await mock.take();
      check(db, WARMUP_RECORDS, seen, `warm-up (latency ${mock.latency})`);
      dropDb(db);
      const route = genRoute(seen);
      if (!route) throw new Error(`warm-up: no generation request seen (${JSON.stringify(seen.byRoute)})`);
      const [method, path] = route.split(' ');
      body = seen.bodies[route];
      requestsPerRecord = { byRoute: seen.byRoute, total: seen.total, perRecord: round(seen.total / WARMUP_RECORDS, 3) };
      plans[mock.latency] = join(dir, `plan-${mock.latency}.json`);
      writeFileSync(plans[mock.latency], JSON.stringify({ base: mock.url, stages: [[{ method, path, body, stream: body?.stream === true }]] }));
    }

    const quireParallel = async (nodeArgs = []) => {
      await slow.take();
      const db = freshDb();
      const result = await spawnWithEvents(quireArgs(db, files.main, slow, CONCURRENCY, '--json'), { nodeArgs, keep: new Set(['batch-start', 'batch-end']) });
      const seen = await slow.take();
      const batch = check(db, records, seen, 'parallelism run');
      dropDb(db);
      const start = result.events.find((e) => e.ev.type === 'batch-start');
      const end = result.events.find((e) => e.ev.type === 'batch-end');
      if (!start || !end) throw new Error(`quire --json printed no batch-start or batch-end event (${result.lines} lines)\n${result.stderr.slice(-2000)}`);
      const wallMs = end.t - start.t;
      const latencyMs = seen.generations.medianMs;
      return {
        batchId: batch.id,
        wallMs,
        processWallMs: result.wallMs,
        innerElapsedMs: end.ev.elapsedMs,
        latencyMs,
        parallelism: (records * latencyMs) / wallMs,
        parallelismNominal: (records * LATENCY_MS) / wallMs,
        serverInFlight: seen.generations.sumMs / wallMs,
        gapMs: (CONCURRENCY * wallMs - seen.generations.sumMs) / records,
        peakAtMock: seen.peak,
        recordsPerS: records / (wallMs / 1000),
        firstRequestMs: seen.firstT - result.startedAtMs,
        firstGenerationMs: seen.firstGenT - result.startedAtMs,
        startEventMs: start.t - result.startedAtMs,
        exitAfterEndMs: result.startedAtMs + result.wallMs - end.t,
        rssMb: result.rssMb,
      };
    };
    const poolParallel = async (worker = FETCH_POOL) => {
      await slow.take();
      const result = runNode([worker, plans[LATENCY_MS], String(records), String(CONCURRENCY)]);
      const seen = await slow.take();
      if (seen.generations.count !== records) throw new Error(`${worker}: expected ${records} generation requests, the mock saw ${seen.generations.count}`);
      const inner = JSON.parse(result.stdout.trim().split('\n').at(-1));
      const wallMs = inner.loopEndT - inner.loopStartT;
      const latencyMs = seen.generations.medianMs;
      return {
        wallMs,
        processWallMs: result.wallMs,
        latencyMs,
        parallelism: (records * latencyMs) / wallMs,
        parallelismNominal: (records * LATENCY_MS) / wallMs,
        serverInFlight: seen.generations.sumMs / wallMs,
        gapMs: (CONCURRENCY * wallMs - seen.generations.sumMs) / records,
        peakAtMock: seen.peak,
        recordsPerS: records / (wallMs / 1000),
        firstRequestMs: seen.firstT - result.startedAtMs,
        stepMedianMs: inner.stepMedianMs,
        rssMb: result.rssMb,
      };
    };
    const quireSequential = async (nodeArgs = []) => {
      await fast.take();
      const db = freshDb();
      const result = runNode(quireArgs(db, files.main, fast, 1, '--quiet'), { nodeArgs });
      const seen = await fast.take();
      check(db, records, seen, 'overhead run');
      dropDb(db);
      const firstGenerationMs = seen.firstGenT - result.startedAtMs;
      return {
        wallMs: result.wallMs,
        perRecordMs: result.wallMs / records,
        steadyMs: (result.wallMs - firstGenerationMs) / records,
        recordsPerS: records / (result.wallMs / 1000),
        firstRequestMs: seen.firstT - result.startedAtMs,
        firstGenerationMs,
        latencyMs: seen.generations.medianMs,
        rssMb: result.rssMb,
      };
    };
    const fetchSequential = async (worker = FETCH_LOOP) => {
      await fast.take();
      const result = runNode(worker === FETCH_LOOP ? [FETCH_LOOP, plans[0], String(records)] : [worker, plans[0], String(records), '1']);
      const seen = await fast.take();
      if (seen.generations.count !== records) throw new Error(`${worker}: expected ${records} generation requests, the mock saw ${seen.generations.count}`);
      const firstGenerationMs = seen.firstGenT - result.startedAtMs;
      return {
        wallMs: result.wallMs,
        perRecordMs: result.wallMs / records,
        steadyMs: (result.wallMs - firstGenerationMs) / records,
        recordsPerS: records / (result.wallMs / 1000),
        firstRequestMs: seen.firstT - result.startedAtMs,
        latencyMs: seen.generations.medianMs,
        rssMb: result.rssMb,
      };
    };

    for (let i = 0; i < runs; i++) {
      await breathe();
      const first = i % 2 === 0 ? 'quire' : 'baseline';
      log(`run ${i + 1}/${runs}: ${records} records, concurrency ${CONCURRENCY} at latency=${LATENCY_MS} (quire, fetch pool, node:http pool), ` +
        `then concurrency 1 at zero latency (quire, fetch loop, node:http loop); ${first} first`);
      const parallel = [
        async () => par.quire.push(await quireParallel()),
        async () => par.pool.push(await poolParallel()),
        async () => par.http.push(await poolParallel(HTTP_POOL)),
      ];
      const sequential = [
        async () => seq.quire.push(await quireSequential()),
        async () => seq.fetch.push(await fetchSequential()),
        async () => seq.http.push(await fetchSequential(HTTP_POOL)),
      ];
      for (const step of first === 'quire' ? parallel : [...parallel].reverse()) await step();
      for (const step of first === 'quire' ? sequential : [...sequential].reverse()) await step();
      const q = par.quire.at(-1);
      const p = par.pool.at(-1);
      log(`  parallelism quire ${fmt(q.parallelism, '', 2)} (${fmt(q.wallMs, 'ms', 0)}), fetch pool ${fmt(p.parallelism, '', 2)} (${fmt(p.wallMs, 'ms', 0)}), ` +
        `node:http pool ${fmt(par.http.at(-1).parallelism, '', 2)}; per record quire ${fmt(seq.quire.at(-1).perRecordMs, 'ms', 3)}, ` +
        `fetch loop ${fmt(seq.fetch.at(-1).perRecordMs, 'ms', 3)}, node:http loop ${fmt(seq.http.at(-1).perRecordMs, 'ms', 3)}`);
    }

    // Memory: the big size once, between runs of the 10k size (at most 3).
    const smallRuns = Math.min(Math.max(runs, 1), 3);
    const order = ['small', 'big', ...Array(smallRuns - 1).fill('small')];
    for (const size of order) {
      await breathe();
      const n = size === 'big' ? big : SMALL_RECORDS;
      log(`memory: ${n} records, concurrency ${MEMORY_CONCURRENCY}, zero latency${size === 'big' ? ' (takes a while)' : ''}`);
      await fast.take();
      const db = freshDb();
      const memFile = join(dir, `mem-${mem.length + 1}.jsonl`);
      const result = runNode(quireArgs(db, files[size], fast, MEMORY_CONCURRENCY, '--quiet'), {
        nodeArgs: ['--trace-gc', '--import', MEM_HOOK], env: { QUIRE_BENCH_MEM_FILE: memFile, QUIRE_BENCH_MEM_MS: String(MEM_SAMPLE_MS) },
      });
      const seen = await fast.take();
      check(db, n, seen, `memory run (${n} records)`);
      const dbMb = ['', '-wal'].reduce((sum, s) => sum + (existsSync(db + s) ? statSync(db + s).size : 0), 0) / 2 ** 20;
      dropDb(db);
      const series = existsSync(memFile) ? readFileSync(memFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
      const rel = series.map((s) => ({ ...s, t: round((s.t - result.startedAtMs) / 1000, 2) }));
      const gc = fullGcs(result.stdout);
      const maxSampled = rel.reduce((a, b) => (b.rss > (a?.rss ?? -1) ? b : a), undefined);
      mem.push({
        size, records: n, wallMs: result.wallMs, rssMb: result.rssMb, recordsPerS: n / (result.wallMs / 1000), dbMb: round(dbMb, 1),
        fullGcs: gc.length, liveMaxMb: gc.length ? Math.max(...gc.map((g) => g.after)) : NaN, liveLastMb: gc.at(-1)?.after ?? NaN,
        beforeGcMaxMb: gc.length ? Math.max(...gc.map((g) => g.before)) : NaN,
        maxSampledRssMb: maxSampled?.rss ?? NaN, maxSampledAtS: maxSampled?.t ?? NaN,
        series: rel,
      });
      log(`  peak RSS ${fmt(result.rssMb, 'MB')}, ${fmt(result.wallMs / 1000, 's')} (${fmt(n / (result.wallMs / 1000), 'records/s', 0)}); ` +
        `live heap after ${gc.length} full GCs: max ${fmt(mem.at(-1).liveMaxMb, 'MB')}, heap before them up to ${fmt(mem.at(-1).beforeGcMaxMb, 'MB')}`);
    }

    if (profile) {
      log('cpu profiles of quire run --batch (concurrency 1 at zero latency; concurrency 8 at latency=50)');
      profiles = {};
      for (const [name, fn] of [['overhead', quireSequential], ['parallelism', quireParallel]]) {
        const file = `batch-${name}.cpuprofile`;
        rmSync(join(PROFILE_DIR, file), { force: true });
        await fn(['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', file]);
        profiles[name] = summarizeProfile(join(PROFILE_DIR, file));
      }
    }
  } finally {
    process.removeListener('exit', killOnExit);
    await slow?.close();
    await fast?.close();
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }

  const values = (list, key) => list.map((r) => r[key]);
  const quirePar = stats(values(par.quire, 'parallelism')).median;
  const poolPar = stats(values(par.pool, 'parallelism')).median;
  const quireSeq = stats(values(seq.quire, 'wallMs')).median;
  const fetchSeq = stats(values(seq.fetch, 'wallMs')).median;
  const pairedSeq = stats(seq.quire.map((q, i) => q.wallMs / seq.fetch[i].wallMs)).median;
  const pairedPar = stats(par.quire.map((q, i) => q.parallelism / par.pool[i].parallelism)).median;
  const httpSeq = stats(values(seq.http, 'wallMs')).median;
  const smalls = mem.filter((m) => m.size === 'small');
  const bigRun = mem.find((m) => m.size === 'big');
  const smallRss = stats(values(smalls, 'rssMb')).median;
  const growth = bigRun ? bigRun.rssMb / smallRss : NaN;
  const rows = [
    row('par.quire', `effective parallelism, quire --concurrency ${CONCURRENCY} (N x L / batch-start..batch-end)`, '', values(par.quire, 'parallelism'), { target: BATCH_TARGETS.parallelism, op: '>=', digits: 2 }),
    row('par.pool', `  baseline: fetch pool, ${CONCURRENCY} in flight (N x L / its loop)`, '', values(par.pool, 'parallelism'), { digits: 2 }),
    ratioRow('par.ratio', '  quire / fetch pool (medians; info)', quirePar / poolPar, par.quire.length),
    row('par.http', `  info: node:http keep-alive pool, ${CONCURRENCY} in flight (quire's HTTP stack without quire)`, '', values(par.http, 'parallelism'), { digits: 2 }),
    row('par.server.quire', '  generations in flight at the mock, quire (sum of server times / wall; info)', '', values(par.quire, 'serverInFlight'), { digits: 2 }),
    row('par.server.pool', '  generations in flight at the mock, fetch pool (info)', '', values(par.pool, 'serverInFlight'), { digits: 2 }),
    row('par.gap.quire', `  per request, a slot not at the mock, quire: (${CONCURRENCY} x wall − sum of server times) / N (info)`, 'ms', values(par.quire, 'gapMs'), { digits: 2 }),
    row('par.gap.pool', '  the same, fetch pool (info)', 'ms', values(par.pool, 'gapMs'), { digits: 2 }),
    row('par.gap.http', '  the same, node:http pool (info)', 'ms', values(par.http, 'gapMs'), { digits: 2 }),
    row('par.step.pool', '  fetch pool: one request, client side (fetch to reply read), median (info)', 'ms', values(par.pool, 'stepMedianMs'), { digits: 2 }),
    row('par.latency', `  L: one generation at the mock, median (latency=${LATENCY_MS}, 1 token)`, 'ms', [...values(par.quire, 'latencyMs'), ...values(par.pool, 'latencyMs')], { digits: 2 }),
    row('par.wall.quire', `  quire batch wall, ${records} records (batch-start..batch-end)`, 'ms', values(par.quire, 'wallMs'), { digits: 0 }),
    row('par.wall.pool', '  fetch pool wall (its loop)', 'ms', values(par.pool, 'wallMs'), { digits: 0 }),
    row('par.rps.quire', '  records/s, quire (info)', '', values(par.quire, 'recordsPerS'), { digits: 1 }),
    row('par.rps.pool', '  requests/s, fetch pool (info)', '', values(par.pool, 'recordsPerS'), { digits: 1 }),
    row('par.rps.http', '  requests/s, node:http pool (info)', '', values(par.http, 'recordsPerS'), { digits: 1 }),
    row('par.first', '  quire: spawn to first request at the mock (info)', 'ms', values(par.quire, 'firstRequestMs')),
    row('par.firstgen', '  quire: spawn to first generation request (info)', 'ms', values(par.quire, 'firstGenerationMs')),
    row('seq.quire', `per record, quire --concurrency 1, zero latency (process wall / ${records})`, 'ms', values(seq.quire, 'perRecordMs'), { digits: 3 }),
    row('seq.fetch', '  baseline: fetch loop, sequential (process wall / N)', 'ms', values(seq.fetch, 'perRecordMs'), { digits: 3 }),
    ratioRow('seq.ratio', '  quire / fetch loop (medians of the walls)', quireSeq / fetchSeq, seq.quire.length, BATCH_TARGETS.overheadRatio),
    ratioRow('seq.ratio.paired', '  quire / fetch loop, median of run-by-run ratios (info)', pairedSeq, seq.quire.length),
    row('seq.http', '  info: node:http keep-alive loop, sequential (process wall / N)', 'ms', values(seq.http, 'perRecordMs'), { digits: 3 }),
    ratioRow('seq.ratio.http', '  quire / node:http loop (medians of the walls; info)', quireSeq / httpSeq, seq.quire.length),
    row('seq.quire.steady', '  quire, steady: (wall − spawn to first generation) / N (info)', 'ms', values(seq.quire, 'steadyMs'), { digits: 3 }),
    row('seq.fetch.steady', '  fetch loop, steady (info)', 'ms', values(seq.fetch, 'steadyMs'), { digits: 3 }),
    row('seq.http.steady', '  node:http loop, steady (info)', 'ms', values(seq.http, 'steadyMs'), { digits: 3 }),
    row('seq.wall.quire', `  quire process wall, ${records} records (info)`, 'ms', values(seq.quire, 'wallMs'), { digits: 0 }),
    row('seq.wall.fetch', '  fetch loop process wall (info)', 'ms', values(seq.fetch, 'wallMs'), { digits: 0 }),
    row('seq.rps', '  records/s, quire (info)', '', values(seq.quire, 'recordsPerS'), { digits: 1 }),
    row('seq.first', '  quire: spawn to first request at the mock (info)', 'ms', values(seq.quire, 'firstRequestMs')),
    row('mem.small', `peak RSS, quire run --batch ${SMALL_RECORDS} records, --concurrency ${MEMORY_CONCURRENCY}`, 'MB', values(smalls, 'rssMb')),
    row('mem.big', `peak RSS, ${big} records`, 'MB', bigRun ? [bigRun.rssMb] : [], { target: BATCH_TARGETS.rssMb, op: '<' }),
    ratioRow('mem.growth', `  ${big} / ${SMALL_RECORDS} records (median of the ${SMALL_RECORDS} runs)`, growth, mem.length, BATCH_TARGETS.rssGrowth),
    row('mem.live.small', `  live V8 heap after a full GC, highest, ${SMALL_RECORDS} records (--trace-gc; info)`, 'MB', values(smalls, 'liveMaxMb')),
    row('mem.live.big', `  live V8 heap after a full GC, highest, ${big} records (info)`, 'MB', bigRun ? [bigRun.liveMaxMb] : []),
    ratioRow('mem.live.growth', `  live heap ${big} / ${SMALL_RECORDS} records (info)`, bigRun ? bigRun.liveMaxMb / stats(values(smalls, 'liveMaxMb')).median : NaN, mem.length),
    row('mem.pregc.small', `  V8 heap just before a full GC, highest, ${SMALL_RECORDS} records (info)`, 'MB', values(smalls, 'beforeGcMaxMb')),
    row('mem.pregc.big', `  V8 heap just before a full GC, highest, ${big} records (info)`, 'MB', bigRun ? [bigRun.beforeGcMaxMb] : []),
    row('mem.wall.small', `  wall, ${SMALL_RECORDS} records`, 'ms', values(smalls, 'wallMs'), { digits: 0 }),
    row('mem.wall.big', `  wall, ${big} records`, 'ms', bigRun ? [bigRun.wallMs] : [], { digits: 0 }),
    row('mem.rps.big', `  records/s, ${big} records (info)`, '', bigRun ? [bigRun.recordsPerS] : [], { digits: 1 }),
    row('par.rss.quire', `peak RSS, quire ${records} records, concurrency ${CONCURRENCY}, latency=${LATENCY_MS} (info)`, 'MB', values(par.quire, 'rssMb')),
    row('par.rss.pool', '  peak RSS, fetch pool (info)', 'MB', values(par.pool, 'rssMb')),
    row('seq.rss.quire', `  peak RSS, quire ${records} records, concurrency 1, zero latency (info)`, 'MB', values(seq.quire, 'rssMb')),
    row('seq.rss.fetch', '  peak RSS, fetch loop (info)', 'MB', values(seq.fetch, 'rssMb')),
  ];
  const r3 = (list) => list.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v])));
  return {
    name: 'batch',
    rssMethod: rssMethod(),
    workload: {
      workflow: BATCH_WORKFLOW, records, concurrency: CONCURRENCY, latencyMs: LATENCY_MS, memory: { small: SMALL_RECORDS, big, concurrency: MEMORY_CONCURRENCY },
      requests: requestsPerRecord, generationBody: body,
    },
    detail: {
      parallelism: { quire: r3(par.quire), pool: r3(par.pool), http: r3(par.http), pairedRatio: round(pairedPar, 3) },
      overhead: { quire: r3(seq.quire), fetch: r3(seq.fetch), http: r3(seq.http) },
      memory: mem.map(({ series, ...m }) => ({ ...r3([m])[0], series: thin(series, 40) })),
      checked,
    },
    bigSlow: bigRun ? bigRun.wallMs > BIG_SLOW_MS : false,
    baselineNote,
    ...(profiles ? { profiles } : {}),
    rows: baselineBuild ? rows.map((r) => ({ ...r, baseline: null, ratio: null, pairedRatio: null })) : rows,
  };
}

/**
 * The full GCs in `node --trace-gc` output: [{ atMs, before, after }] (heap used in MB before
 * and after each Mark-Compact). What is left after one is the live heap: flat over a run
 * when nothing accumulates, whatever the peaks in between.
 */
function fullGcs(text) {
  const list = [];
  for (const m of text.matchAll(/\s(\d+) ms: Mark-Compact(?: \([^)]*\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/g)) {
    list.push({ atMs: Number(m[1]), before: Number(m[2]), after: Number(m[3]) });
  }
  return list;
}

/** At most `count` evenly spaced items of `list` (the last one kept). */
function thin(list, count) {
  if (list.length <= count) return list;
  const step = (list.length - 1) / (count - 1);
  return Array.from({ length: count }, (_, k) => list[Math.round(k * step)]);
}

export function describeBatch(result) {
  const w = result.workload;
  const d = result.detail;
  const lines = [
    `workspace: workflow ${w.workflow} (one inline step, response_length 1, temperature 0), quire.yaml api: openai; mock (own process) answers one token "echo:"; ` +
      `latency=${w.latencyMs} = one ${w.latencyMs} ms wait per generated token. Peak RSS via ${result.rssMethod}.`,
    `requests per record (from a warm-up batch): ${fmt(w.requests?.perRecord, '', 3)} (${Object.entries(w.requests?.byRoute ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')}); ` +
      'the baselines replay only the generation request with the body quire sent.',
    `parallelism: L = median server-side time of a generation in that run; wall = batch-start to batch-end events as read from quire's stdout (--json), ` +
      `the fetch pool's own loop for the baseline. A slot not at the mock: the time between a reply leaving the mock and that slot's next request reaching it ` +
      '(reply and request through both HTTP stacks, the client\'s own work, scheduling of the processes). ' +
      `With the nominal L = ${w.latencyMs} ms: quire ${fmt(stats(d.parallelism.quire.map((r) => r.parallelismNominal)).median, '', 2)}, ` +
      `pool ${fmt(stats(d.parallelism.pool.map((r) => r.parallelismNominal)).median, '', 2)}; paired quire/pool ${fmt(d.parallelism.pairedRatio, 'x', 2)}. ` +
      `Most generations at once at the mock: quire ${Math.max(...d.parallelism.quire.map((r) => r.peakAtMock))}, pool ${Math.max(...d.parallelism.pool.map((r) => r.peakAtMock))}. ` +
      `quire process: spawn to batch-start ${fmt(stats(d.parallelism.quire.map((r) => r.startEventMs)).median, 'ms', 0)}, batch-end to exit ${fmt(stats(d.parallelism.quire.map((r) => r.exitAfterEndMs)).median, 'ms', 0)}.`,
    `overhead: whole process wall (spawn to exit) / ${w.records} for each; quire --quiet on a fresh copy of a synced database.`,
    'baselines: the targets compare with the global fetch (fetch-pool.mjs, fetch-loop.mjs); quire itself sends with node:http over a keep-alive Agent, ' +
      'so workers/http-pool.mjs (the same requests over node:http, keep-alive) is shown too, as info: what the HTTP stack under quire costs without quire.',
    `memory: --concurrency ${w.memory.concurrency}, zero latency, --quiet, node --trace-gc (full GCs: live heap after, heap before). ` +
      `RSS and V8 heap over each run (process.memoryUsage every ${MEM_SAMPLE_MS} ms; MB; s since spawn):`,
  ];
  for (const m of d.memory) {
    const s = m.series;
    const last = s.at(-1);
    const maxHeap = s.length ? Math.max(...s.map((x) => x.heapUsed)) : NaN;
    const pick = (frac) => s[Math.min(s.length - 1, Math.round(frac * (s.length - 1)))];
    const at = [0.1, 0.25, 0.5, 0.75, 1].map(pick).filter(Boolean);
    lines.push(`  ${String(m.records).padStart(7)} records: peak RSS ${fmt(m.rssMb, 'MB')}, ${fmt(m.wallMs / 1000, 's')}, ${fmt(m.recordsPerS, 'records/s', 0)}, database ${fmt(m.dbMb, 'MB')}; ` +
      `heapUsed max ${fmt(maxHeap, 'MB')}${last ? `, at exit rss ${fmt(last.rss, 'MB')} heapTotal ${fmt(last.heapTotal, 'MB')} heapUsed ${fmt(last.heapUsed, 'MB')} external ${fmt(last.external, 'MB')}` : ''}`);
    if (at.length) lines.push(`           rss/heapUsed at 10/25/50/75/100% of the run: ${at.map((x) => `${fmt(x.rss, '', 0)}/${fmt(x.heapUsed, '', 0)}`).join(', ')}; ` +
      `highest RSS sampled ${fmt(m.maxSampledRssMb, 'MB')} at ${fmt(m.maxSampledAtS, 's')}`);
    lines.push(`           ${m.fullGcs} full GCs: live heap after them max ${fmt(m.liveMaxMb, 'MB')}, after the last ${fmt(m.liveLastMb, 'MB')}; heap before them up to ${fmt(m.beforeGcMaxMb, 'MB')}`);
  }
  if (result.bigSlow) lines.push(`note: the big run took over ${BIG_SLOW_MS / 60000} minutes here; --batch-big N makes it smaller (e.g. 50000)`);
  lines.push(`checked: ${d.checked.length} quire batches (warm-ups included), each ended completed with all its records completed, and the mock saw one generation request per record`);
  if (result.baselineNote) lines.push(`note: ${result.baselineNote}`);
  for (const [name, summary] of Object.entries(result.profiles ?? {})) {
    lines.push('', `cpu profile, ${name} (whole process ${fmt(summary.totalMs, 'ms', 0)}; top self time):`);
    for (const f of summary.topSelf.slice(0, 15)) lines.push(`  ${fmt(f.selfMs).padStart(8)} ms  ${f.name}  ${f.where}`);
    lines.push('  quire functions by inclusive time:');
    for (const f of summary.topQuireInclusive.slice(0, 15)) lines.push(`  ${fmt(f.totalMs).padStart(8)} ms  ${f.name}  ${f.where}`);
    lines.push('  by package/module (self time):');
    for (const m of summary.byModule.slice(0, 12)) lines.push(`  ${fmt(m.selfMs).padStart(8)} ms  ${m.module}`);
  }
  return lines.join('\n');
}


