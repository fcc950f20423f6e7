/**
 * The `quire test` benchmark (`--only test`): `quire test --concurrency 8 --json` on a small
 * generated workspace (quire.yaml `api: openai`, so --concurrency is the only limit; workflow
 * bench-test: one inline step `answer`, chatml, `response_length: 1`, temperature 0, prompt
 * "Reply to: {{input.text}}", no `expect` of its own) with one tests file of N cases (default
 * 200; --test-cases N), against the mock LLM in its own process (workers/batch-mock.mjs,
 * `latency=50`). The mock answers `echo: <last line>` one token per word, capped at max_tokens:
 * here the one token "echo:", so one generation takes 50 ms plus the mock's own time (L, its
 * median measured at the mock per run, as bench/batch.mjs does). Two workspaces, identical
 * but for the tests file:
 *
 *   checks     every case has 6 checks on its step (contains, not_contains, max_words, regex,
 *              similar with metric rouge_l, starts_with): text checks only, none that makes a
 *              request (judge, embedding_similar); all pass on the mock's answer.
 *   plain      the same cases (names, inputs) with no `expect`: no check runs.
 *
 * Every quire run gets a fresh copy of a database `quire sync` made once for its workspace
 * (no run syncs the files, none inherits the runs of another).
 *
 *   parallelism  N x L / wall, wall = the first generation request's start at the mock (its
 *                `request` event) to the last one's end (res.end()), so the same clock and the
 *                same span for quire and its baseline, and quire's start-up (module load,
 *                sync check, planning the cases) left out (`quire test --json` prints one
 *                document at the end: no start event to time from). Target on the checks
 *                workspace; the plain one is shown too. Baseline: workers/fetch-pool.mjs,
 *                a global-fetch pool with 8 requests in flight doing the same N requests (the
 *                route and body quire sent, captured at the mock in a warm-up) in a fresh
 *                process, timed the same way at the mock (its own loop as info);
 *                workers/http-pool.mjs (node:http keep-alive, quire's HTTP stack) as info, and
 *                `quire run bench-test --batch records.jsonl --concurrency 8 --quiet` on the same
 *                N inputs (the batch path `quire test` runs on, without checks) as info.
 *                Info: N x L / (process exit - first request at the mock), the other wall the
 *                issue allows.
 *   checks cost  the process wall (spawn to exit: everything a user waits for, the checks'
 *                share of reading the workspace included) of the checks workspace over the plain
 *                one's. Target on the median of the run-by-run ratios (the two runs of a pair go
 *                back to back, so load that drifts over the benchmark falls on both alike; on
 *                the shared 2-core machine the load moves walls by 10-20% from minute to
 *                minute, more than the 5% measured); the ratio of the medians as info. Split
 *                into spawn to the first request, first to last generation at the mock, and the
 *                last generation's end to exit (info), to say where a difference is.
 *
 * Correctness, every quire run: exit code 0, the `--json` report says ok, N passed, 0 failed,
 * 0 errors, N cases, each passed with the checks expected (its step's 6, all passed; or no step
 * listed, as a case without checks reports none), and the mock saw N generation requests (else
 * the benchmark stops). The batch runs: `quire batches --json` says completed, N records, N
 * completed, and the mock saw N generation requests. The pools: the mock saw N generation
 * requests. Runs are interleaved (checks, plain, batch, fetch pool, node:http pool; the order
 * reversed every other run), at least 9 of each (--runs above that; ~1.5 minutes on 2 cores).
 * --profile: CPU profiles of one checks run and one plain run, summarized (the .cpuprofile
 * files in <os tmpdir>/quire-bench-profiles/).
 *
 * Only the current build is measured: with a baseline (--baseline, --dist-baseline) its rows
 * have no "before".
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, breathe, fmt, round, rssMethod, runNode, stats } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { intOption, ratioRow, row, startMockProcess, writeBatchWorkspace } from './batch-lib.mjs';
import { summarizeProfile } from './profile.mjs';

const FETCH_POOL = join(BENCH_DIR, 'workers', 'fetch-pool.mjs');
const HTTP_POOL = join(BENCH_DIR, 'workers', 'http-pool.mjs');
const PROFILE_DIR = join(tmpdir(), 'quire-bench-profiles');

export const TEST_TARGETS = {
  /** Requests in flight on average (N x L / wall) with --concurrency 8: at least. */
  parallelism: 7.5,
  /** Process wall with 6 checks per case over the same cases without checks (median of the run-by-run ratios): at most. */
  checksRatio: 1.05,
};

export const TEST_WORKFLOW = 'bench-test';
const STEP = 'answer';
const DEFAULT_CASES = 200;
const CONCURRENCY = 8;
const LATENCY_MS = 50;
/** Runs of each measurement at least (a 5% difference of a ~2 s wall needs a few to be seen through the noise). */
const MIN_RUNS = 9;
/** The mock's answer to every case: one token of `echo: Reply to: ...` (response_length 1). */
const ANSWER = 'echo:';
/** The checks of every case in the checks workspace (their names, in order, as the report lists them). */
const CHECK_NAMES = ['contains', 'not_contains', 'max_words', 'regex', 'similar', 'starts_with'];


const WORDS = ['sea', 'harbour', 'lighthouse', 'gull', 'tide', 'anchor', 'sail', 'reef', 'storm', 'keel', 'buoy', 'pier'];

/** Case i's input text. */
const caseText = (i) => `Case ${i}: the ${WORDS[i % WORDS.length]} and the ${WORDS[(i * 7 + 3) % WORDS.length]} at ${i % 24}h.`;

/**
 * A workspace: quire.yaml, the one-step workflow (no `expect`), and a tests file of `cases`
 * cases, with the 6 checks each (`checks`) or none. The check values vary a little from case
 * to case (as hand-written cases do); every one passes on "echo:".
 */
function generateTestWorkspace(root, cases, checks) {
  writeBatchWorkspace(root, TEST_WORKFLOW, STEP);
  const lines = [`workflow: ${TEST_WORKFLOW}`, 'cases:'];
  for (let i = 1; i <= cases; i++) {
    const a = WORDS[i % WORDS.length];
    const b = WORDS[(i * 7 + 3) % WORDS.length];
    lines.push(`  - name: case ${i} (${a})`, `    inputs: { text: "${caseText(i)}" }`);
    if (!checks) continue;
    lines.push(
      '    expect:',
      `      ${STEP}:`,
      '        - contains: "echo"',
      `        - not_contains: "${i % 2 ? 'As an AI' : `the ${b}`}"`,
      `        - max_words: ${3 + (i % 5)}`,
      `        - regex: ${i % 3 ? '"^echo:?$"' : '{ pattern: "^ECHO", flags: i }'}`,
      `        - similar: { to: "${i % 4 ? 'echo:' : 'echo: reply'}", metric: rouge_l, threshold: ${i % 4 ? 0.8 : 0.6} }`,
      `        - starts_with: "${i % 2 ? 'echo' : 'ec'}"`,
    );
  }
  writeFileSync(join(root, 'workflows', `${TEST_WORKFLOW}.tests.yaml`), `${lines.join('\n')}\n`);
}


export async function benchTest({ runs = 5, keep = false, profile = false, log = () => {}, context, cases: casesArg } = {}) {
  const n = casesArg ?? intOption('--test-cases', DEFAULT_CASES);
  const loops = Math.max(runs, MIN_RUNS);
  const ctx = context ?? createBenchContext({ keep, log });
  const dir = mkdtempSync(join(ctx.dir, 'test-'));
  const baselineBuild = ctx.builds().find((b) => b.key === 'baseline');
  const baselineNote = !baselineBuild ? undefined
    : existsSync(join(baselineBuild.dist, 'app', 'test.js'))
      ? 'only the current build is measured (this benchmark does not run the baseline build; its rows show no "before")'
      : 'only the current build is measured: the baseline build has no `quire test` (its rows show no "before")';
  const { cli, dist } = ctx.build();

  const spaces = {};
  for (const variant of ['checks', 'plain']) {
    const root = join(dir, `ws-${variant}`);
    generateTestWorkspace(root, n, variant === 'checks');
    const template = join(dir, `template-${variant}.db`);
    const sync = runNode([cli, '-w', root, '--db', template, 'sync'], { measureRss: false, allowFail: true });
    if (sync.status !== 0) throw new Error(`generated ${variant} workspace does not sync:\n${(sync.stdout + sync.stderr).slice(0, 3000)}`);
    spaces[variant] = { root, template };
  }
  // The same inputs as records, for `quire run --batch` (info: the batch path the test cases run on).
  writeFileSync(join(dir, 'records.jsonl'), Array.from({ length: n }, (_, k) => `${JSON.stringify({ text: caseText(k + 1) })}\n`).join(''));
  let dbCounter = 0;
  const dropDb = (file) => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true }));
  const freshDb = (variant) => {
    const db = join(dir, `run-${++dbCounter}.db`);
    for (const s of ['', '-wal', '-shm']) if (existsSync(spaces[variant].template + s)) copyFileSync(spaces[variant].template + s, db + s);
    return db;
  };

  let mock;
  const killOnExit = () => mock?.kill();
  process.once('exit', killOnExit);
  const res = { checks: [], plain: [], batch: [], pool: [], http: [] };
  const checked = [];
  let requests;
  let body;
  let profiles;
  try {
    mock = await startMockProcess(dist, LATENCY_MS);
    log(`mock-llm (own process): latency=${LATENCY_MS} at ${mock.url}; workflow ${TEST_WORKFLOW}, ${n} cases, with ${CHECK_NAMES.length} checks each and without; ${loops} runs`);

    /** The report and the mock agree that every case ran and passed with the checks expected; else throws. */
    const check = (variant, result, seen, what) => {
      let report;
      try {
        report = JSON.parse(result.stdout);
      } catch {
        throw new Error(`${what}: quire test --json printed no JSON document (exit ${result.status})\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
      }
      const problems = [];
      if (result.status !== 0) problems.push(`exit code ${result.status}`);
      if (report.ok !== true || report.passed !== n || report.failed !== 0 || report.errors !== 0) {
        problems.push(`report ok ${report.ok}, passed ${report.passed}, failed ${report.failed}, errors ${report.errors} (expected ok, ${n} passed)`);
      }
      if (report.cases?.length !== n) problems.push(`${report.cases?.length} cases in the report`);
      const want = variant === 'checks' ? CHECK_NAMES : [];
      // With checks: the one step and its checks, all passed. Without: no step is listed (a step without checks is not reported).
      const stepOk = (steps) => (want.length === 0 ? steps.every((s) => s.checks.length === 0)
        : steps.length === 1 && steps[0].step === STEP && steps[0].pass === true && steps[0].checks.length === want.length && steps[0].checks.every((k, i) => k.check === want[i] && k.pass === true));
      const bad = (report.cases ?? []).find((c) => c.status !== 'passed' || !stepOk(c.steps));
      if (bad) problems.push(`case ${JSON.stringify(bad.name)}: ${JSON.stringify(bad).slice(0, 800)}`);
      if (seen.generations.count !== n) problems.push(`the mock saw ${seen.generations.count} generation requests (${JSON.stringify(seen.byRoute)})`);
      if (problems.length > 0) throw new Error(`${what}: ${problems.join('; ')}\n${result.stderr.slice(-2000)}`);
      checked.push({ what, variant, passed: report.passed, checks: report.cases.reduce((sum, c) => sum + c.steps.reduce((k, step) => k + step.checks.length, 0), 0) });
      return report;
    };

    /** One `quire test` of a workspace on a fresh database; timings at the mock and of the process. */
    const quireRun = async (variant, what, nodeArgs = []) => {
      await mock.take();
      const db = freshDb(variant);
      const result = runNode([cli, '-w', spaces[variant].root, '--db', db, 'test', '--concurrency', String(CONCURRENCY), '--json', '--endpoint', `5001=${mock.url}`], { nodeArgs, allowFail: true });
      const seen = await mock.take();
      const report = check(variant, result, seen, what);
      dropDb(db);
      const g = seen.generations;
      const spanMs = g.lastEndT - g.firstStartT;
      const exitT = result.startedAtMs + result.wallMs;
      return {
        seen,
        wallMs: result.wallMs,
        spanMs,
        latencyMs: g.medianMs,
        parallelism: (n * g.medianMs) / spanMs,
        parallelismNominal: (n * LATENCY_MS) / spanMs,
        parallelismToExit: (n * g.medianMs) / (exitT - seen.firstT),
        serverInFlight: g.sumMs / spanMs,
        gapMs: (CONCURRENCY * spanMs - g.sumMs) / n,
        peakAtMock: seen.peak,
        firstRequestMs: seen.firstT - result.startedAtMs,
        firstGenerationMs: g.firstStartT - result.startedAtMs,
        tailMs: exitT - g.lastEndT,
        reportMs: report.duration_ms,
        rssMb: result.rssMb,
      };
    };

    // Warm-up (not counted): both workspaces once; captures the generation request the pools replay.
    log('warm-up: one quire test of each workspace (captures the request quire sends)');
    for (const variant of ['plain', 'checks']) {
      const warm = await quireRun(variant, `warm-up (${variant})`);
      if (variant !== 'plain') continue;
      const route = Object.keys(warm.seen.byRoute).find((k) => k.startsWith('POST ') && warm.seen.bodies[k]?.max_tokens !== undefined) ?? Object.keys(warm.seen.byRoute).find((k) => k.startsWith('POST '));
      if (!route) throw new Error(`warm-up: no generation request seen (${JSON.stringify(warm.seen.byRoute)})`);
      const [method, path] = route.split(' ');
      body = warm.seen.bodies[route];
      requests = { byRoute: warm.seen.byRoute, total: warm.seen.total, perCase: round(warm.seen.total / n, 3) };
      writeFileSync(join(dir, 'plan.json'), JSON.stringify({ base: mock.url, stages: [[{ method, path, body, stream: body?.stream === true }]] }));
    }

    const poolRun = async (worker) => {
      await mock.take();
      const result = runNode([worker, join(dir, 'plan.json'), String(n), String(CONCURRENCY)]);
      const seen = await mock.take();
      if (seen.generations.count !== n) throw new Error(`${worker}: expected ${n} generation requests, the mock saw ${seen.generations.count}`);
      const inner = JSON.parse(result.stdout.trim().split('\n').at(-1));
      const g = seen.generations;
      const spanMs = g.lastEndT - g.firstStartT;
      return {
        wallMs: result.wallMs,
        spanMs,
        loopMs: inner.loopEndT - inner.loopStartT,
        latencyMs: g.medianMs,
        parallelism: (n * g.medianMs) / spanMs,
        parallelismNominal: (n * LATENCY_MS) / spanMs,
        parallelismLoop: (n * g.medianMs) / (inner.loopEndT - inner.loopStartT),
        serverInFlight: g.sumMs / spanMs,
        gapMs: (CONCURRENCY * spanMs - g.sumMs) / n,
        peakAtMock: seen.peak,
        rssMb: result.rssMb,
      };
    };

    /** `quire run --batch` of the same N inputs (the plain workspace, records.jsonl), timed the same way at the mock. */
    const batchRun = async () => {
      await mock.take();
      const db = freshDb('plain');
      const result = runNode([cli, '-w', spaces.plain.root, '--db', db, 'run', TEST_WORKFLOW, '--batch', join(dir, 'records.jsonl'), '--concurrency', String(CONCURRENCY), '--quiet', '--endpoint', `5001=${mock.url}`]);
      const seen = await mock.take();
      const listed = runNode([cli, '-w', spaces.plain.root, '--db', db, 'batches', '--json', '--limit', '1'], { measureRss: false });
      const batch = JSON.parse(listed.stdout).batches?.[0];
      if (!batch || batch.status !== 'completed' || batch.records !== n || batch.completed !== n || seen.generations.count !== n) {
        throw new Error(`quire run --batch: expected a completed batch of ${n} records, all completed, and ${n} generation requests at the mock; ` +
          `quire batches says ${JSON.stringify(batch ?? null)}, the mock saw ${seen.generations.count} (${JSON.stringify(seen.byRoute)})`);
      }
      checked.push({ what: 'batch run', variant: 'batch', completed: batch.completed });
      dropDb(db);
      const g = seen.generations;
      const spanMs = g.lastEndT - g.firstStartT;
      return {
        wallMs: result.wallMs,
        spanMs,
        latencyMs: g.medianMs,
        parallelism: (n * g.medianMs) / spanMs,
        serverInFlight: g.sumMs / spanMs,
        gapMs: (CONCURRENCY * spanMs - g.sumMs) / n,
        peakAtMock: seen.peak,
        firstRequestMs: seen.firstT - result.startedAtMs,
        rssMb: result.rssMb,
      };
    };

    for (let i = 0; i < loops; i++) {
      await breathe();
      const steps = [
        async () => res.checks.push(await quireRun('checks', `run ${i + 1} (checks)`)),
        async () => res.plain.push(await quireRun('plain', `run ${i + 1} (plain)`)),
        async () => res.batch.push(await batchRun()),
        async () => res.pool.push(await poolRun(FETCH_POOL)),
        async () => res.http.push(await poolRun(HTTP_POOL)),
      ];
      const order = i % 2 === 0 ? steps : [...steps].reverse();
      log(`run ${i + 1}/${loops}: ${n} cases, concurrency ${CONCURRENCY}, latency=${LATENCY_MS}: ${i % 2 === 0 ? 'checks, plain, batch, fetch pool, node:http pool' : 'node:http pool, fetch pool, batch, plain, checks'}`);
      for (const step of order) await step();
      const c = res.checks.at(-1);
      const p = res.plain.at(-1);
      log(`  parallelism checks ${fmt(c.parallelism, '', 2)}, plain ${fmt(p.parallelism, '', 2)}, run --batch ${fmt(res.batch.at(-1).parallelism, '', 2)}, fetch pool ${fmt(res.pool.at(-1).parallelism, '', 2)}, node:http pool ${fmt(res.http.at(-1).parallelism, '', 2)}; ` +
        `process wall checks ${fmt(c.wallMs, 'ms', 0)}, plain ${fmt(p.wallMs, 'ms', 0)} (${fmt(c.wallMs / p.wallMs, 'x', 3)})`);
    }

    if (profile) {
      log('cpu profiles of quire test (checks, plain)');
      profiles = {};
      for (const variant of ['checks', 'plain']) {
        const file = `test-${variant}.cpuprofile`;
        rmSync(join(PROFILE_DIR, file), { force: true });
        await quireRun(variant, `profile (${variant})`, ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', file]);
        profiles[variant] = summarizeProfile(join(PROFILE_DIR, file));
      }
    }
  } finally {
    process.removeListener('exit', killOnExit);
    await mock?.close();
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }

  const values = (list, key) => list.map((r) => r[key]);
  const med = (list, key) => stats(values(list, key)).median;
  const quirePar = med(res.checks, 'parallelism');
  const poolPar = med(res.pool, 'parallelism');
  const wallRatio = med(res.checks, 'wallMs') / med(res.plain, 'wallMs');
  const pairedWall = stats(res.checks.map((c, i) => c.wallMs / res.plain[i].wallMs)).median;
  const spanRatio = med(res.checks, 'spanMs') / med(res.plain, 'spanMs');
  const pairedPar = stats(res.checks.map((c, i) => c.parallelism / res.pool[i].parallelism)).median;
  const pairedBatch = stats(res.checks.map((c, i) => c.parallelism / res.batch[i].parallelism)).median;
  const rows = [
    row('par.quire', `effective parallelism, quire test --concurrency ${CONCURRENCY}, ${n} cases with checks (N x L / first..last generation at the mock)`, '', values(res.checks, 'parallelism'), { target: TEST_TARGETS.parallelism, op: '>=', digits: 2 }),
    row('par.plain', '  the same, cases without checks (info)', '', values(res.plain, 'parallelism'), { digits: 2 }),
    row('par.pool', `  baseline: fetch pool, ${CONCURRENCY} in flight, the same N requests (same span at the mock)`, '', values(res.pool, 'parallelism'), { digits: 2 }),
    ratioRow('par.ratio', '  quire (checks) / fetch pool (medians; info)', quirePar / poolPar, res.checks.length, undefined, 3),
    row('par.batch', `  info: quire run --batch of the same ${n} inputs (records.jsonl, no checks), --concurrency ${CONCURRENCY}, same span`, '', values(res.batch, 'parallelism'), { digits: 2 }),
    ratioRow('par.batch.ratio', '  quire test (checks) / quire run --batch, median of run-by-run ratios (info)', pairedBatch, res.checks.length, undefined, 3),
    row('par.http', `  info: node:http keep-alive pool, ${CONCURRENCY} in flight (quire's HTTP stack without quire)`, '', values(res.http, 'parallelism'), { digits: 2 }),
    row('par.toexit', '  info: quire (checks), N x L / (process exit - first request at the mock)', '', values(res.checks, 'parallelismToExit'), { digits: 2 }),
    row('par.pool.loop', '  info: fetch pool, N x L / its own loop', '', values(res.pool, 'parallelismLoop'), { digits: 2 }),
    row('par.server.quire', '  generations in flight at the mock, quire checks (sum of server times / span; info)', '', values(res.checks, 'serverInFlight'), { digits: 2 }),
    row('par.server.pool', '  generations in flight at the mock, fetch pool (info)', '', values(res.pool, 'serverInFlight'), { digits: 2 }),
    row('par.gap.quire', `  per request, a slot not at the mock, quire checks: (${CONCURRENCY} x span - sum of server times) / N (info)`, 'ms', values(res.checks, 'gapMs'), { digits: 2 }),
    row('par.gap.batch', '  the same, quire run --batch (info)', 'ms', values(res.batch, 'gapMs'), { digits: 2 }),
    row('par.gap.pool', '  the same, fetch pool (info)', 'ms', values(res.pool, 'gapMs'), { digits: 2 }),
    row('par.gap.http', '  the same, node:http pool (info)', 'ms', values(res.http, 'gapMs'), { digits: 2 }),
    row('par.latency', `  L: one generation at the mock, median (latency=${LATENCY_MS}, 1 token)`, 'ms', [...values(res.checks, 'latencyMs'), ...values(res.plain, 'latencyMs'), ...values(res.batch, 'latencyMs'), ...values(res.pool, 'latencyMs')], { digits: 2 }),
    row('par.span.quire', `  span at the mock, quire checks (first generation start..last end, ${n} requests)`, 'ms', values(res.checks, 'spanMs'), { digits: 0 }),
    row('par.span.pool', '  span at the mock, fetch pool', 'ms', values(res.pool, 'spanMs'), { digits: 0 }),
    row('chk.wall.checks', `process wall, quire test, ${n} cases x ${CHECK_NAMES.length} checks (spawn to exit)`, 'ms', values(res.checks, 'wallMs'), { digits: 0 }),
    row('chk.wall.plain', `  the same ${n} cases without checks`, 'ms', values(res.plain, 'wallMs'), { digits: 0 }),
    ratioRow('chk.ratio', '  checks / no checks, median of the run-by-run ratios (each pair run back to back)', pairedWall, res.checks.length, TEST_TARGETS.checksRatio, 3),
    ratioRow('chk.ratio.medians', '  checks / no checks, ratio of the medians (info; drifting load moves it more)', wallRatio, res.checks.length, undefined, 3),
    row('chk.first.checks', '  spawn to first request at the mock, checks (info)', 'ms', values(res.checks, 'firstRequestMs'), { digits: 0 }),
    row('chk.first.plain', '  spawn to first request at the mock, no checks (info)', 'ms', values(res.plain, 'firstRequestMs'), { digits: 0 }),
    row('chk.span.checks', '  first..last generation at the mock, checks (info)', 'ms', values(res.checks, 'spanMs'), { digits: 0 }),
    row('chk.span.plain', '  first..last generation at the mock, no checks (info)', 'ms', values(res.plain, 'spanMs'), { digits: 0 }),
    ratioRow('chk.span.ratio', '  span checks / no checks (medians; info)', spanRatio, res.checks.length, undefined, 3),
    row('chk.tail.checks', '  last generation end to exit, checks (info)', 'ms', values(res.checks, 'tailMs'), { digits: 0 }),
    row('chk.tail.plain', '  last generation end to exit, no checks (info)', 'ms', values(res.plain, 'tailMs'), { digits: 0 }),
    row('chk.report.checks', '  report duration_ms, checks (info)', 'ms', values(res.checks, 'reportMs'), { digits: 0 }),
    row('chk.report.plain', '  report duration_ms, no checks (info)', 'ms', values(res.plain, 'reportMs'), { digits: 0 }),
    row('rss.checks', '  peak RSS, quire test with checks (info)', 'MB', values(res.checks, 'rssMb')),
    row('rss.plain', '  peak RSS, quire test without checks (info)', 'MB', values(res.plain, 'rssMb')),
  ];
  const r3 = (list) => list.map(({ seen: _seen, ...r }) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v])));
  return {
    name: 'test',
    rssMethod: rssMethod(),
    workload: { workflow: TEST_WORKFLOW, cases: n, concurrency: CONCURRENCY, latencyMs: LATENCY_MS, checks: CHECK_NAMES, answer: ANSWER, runs: loops, requests, generationBody: body },
    detail: {
      checks: r3(res.checks), plain: r3(res.plain), batch: r3(res.batch), pool: r3(res.pool), http: r3(res.http),
      pairedParallelismRatio: round(pairedPar, 3),
      checked,
    },
    baselineNote,
    ...(profiles ? { profiles } : {}),
    rows: baselineBuild ? rows.map((r) => ({ ...r, baseline: null, ratio: null, pairedRatio: null })) : rows,
  };
}

export function describeTest(result) {
  const w = result.workload;
  const d = result.detail;
  const med = (list, key) => stats(list.map((r) => r[key])).median;
  const lines = [
    `workspace: workflow ${w.workflow} (one inline step, response_length 1, temperature 0, no expect of its own), quire.yaml api: openai; ` +
      `${w.cases} cases in one tests file; mock (own process, latency=${w.latencyMs}) answers "${w.answer}" to each. Peak RSS via ${result.rssMethod}.`,
    `checks workspace: per case ${w.checks.join(', ')} (similar with metric rouge_l; values vary a little by case; all pass); plain workspace: the same cases without expect.`,
    `requests per case (warm-up): ${fmt(w.requests?.perCase, '', 3)} (${Object.entries(w.requests?.byRoute ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')}); ` +
      'the pools replay only the generation request with the body quire sent.',
    `parallelism: L = median server-side time of a generation in that run; wall = the first generation's start to the last one's end at the mock, for quire test, quire run --batch and the pools alike ` +
      `(quire test prints no start event, so its start-up is left out this way). With the nominal L = ${w.latencyMs} ms: quire ${fmt(med(d.checks, 'parallelismNominal'), '', 2)}, ` +
      `pool ${fmt(med(d.pool, 'parallelismNominal'), '', 2)}; paired quire/pool ${fmt(d.pairedParallelismRatio, 'x', 2)}. ` +
      `Most generations at once at the mock: quire ${Math.max(...d.checks.map((r) => r.peakAtMock))}, pool ${Math.max(...d.pool.map((r) => r.peakAtMock))}.`,
    `checks cost: process wall spawn to exit, fresh copy of a synced database per run, ${w.runs} interleaved runs (checks, plain, batch, pools; reversed every other run).`,
    `checked: ${d.checked.filter((c) => c.variant !== 'batch').length} quire test runs (warm-ups included): exit 0, ok, ${w.cases} passed, the expected checks on every case, ${w.cases} generation requests at the mock; ` +
      `${d.checked.filter((c) => c.variant === 'batch').length} quire run --batch runs: the batch completed with ${w.cases} records completed (quire batches --json), ${w.cases} generation requests at the mock`,
  ];
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


