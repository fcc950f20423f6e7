/**
 * The runner benchmarks (`quire run` and process start), each its own --only name:
 *
 *   steps          per-step overhead of a 500-step workflow against the mock LLM at zero
 *                  latency, for api kobold and openai, streaming and --no-stream, against
 *                  a plain `fetch` loop of the same 500 generation requests (same route,
 *                  body and reading mode) in a fresh process (the target's baseline), and,
 *                  for diagnosis, a fetch loop replaying every request of a quire step
 *                  (context probes, generation, follow-ups) with the same parallelism.
 *                  per step = (run wall − spawn to first request) / 500, the same formula
 *                  for all three: what is left is the steady state plus process exit.
 *   startup        `quire --version` wall time against `node -e 0`.
 *   first-request  `quire run` on the 10k-block workspace, spawn to the first request (and
 *                  the first POST) arriving at the mock: with an already-synced database
 *                  (warm parse cache) and with a new one (cold).
 * Each also reports the peak RSS of the processes it starts.
 *
 * The mock for `steps` runs in its own process (bench/workers/mock-worker.mjs) so it does
 * not share an event loop with the measured process or the baseline; for `first-request`
 * it runs in this process (the child is spawned asynchronously) since only arrival times
 * are measured. Arrival times are CLOCK_MONOTONIC (process.hrtime), comparable across processes.
 *
 * With a baseline build in the context, each runs for both builds, taking turns run by run
 * (per mode, for steps), each build with its own databases; the current build's mock serves both.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, breathe, buildOrder, combineBuilds, fmt, monoMs, round, rssMethod, runNode, runNodeAsync, stats } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { summarizeProfile } from './profile.mjs';

const MOCK_WORKER = join(BENCH_DIR, 'workers', 'mock-worker.mjs');
const FETCH_LOOP = join(BENCH_DIR, 'workers', 'fetch-loop.mjs');
const PROFILE_DIR = join(tmpdir(), 'quire-bench-profiles');

export const RUN_TARGETS = {
  /** quire's per-step time over the fetch loop's per-request time. */
  stepRatio: 1.4,
  versionMs: 150,
  firstRequestWarmMs: 400,
};

export const STEP_COUNT = 500;

/** The generation route per API and mode (what the fetch loop replays). */
const GENERATION_PATH = {
  kobold: { stream: '/api/extra/generate/stream', whole: '/api/v1/generate' },
  openai: { stream: '/v1/completions', whole: '/v1/completions' },
};

/**
 * The requests of one quire step as the adapters send them today (stages in order, the
 * requests of a stage in parallel), for the replay baseline. When what the mock saw
 * differs, the replay falls back to the order observed, one request at a time.
 */
function knownStepPattern(mode) {
  const generation = { method: 'POST', path: GENERATION_PATH[mode.api][mode.stream ? 'stream' : 'whole'], stream: mode.stream };
  if (mode.api === 'kobold') {
    return [
      [{ method: 'GET', path: '/api/extra/true_max_context_length' }, { method: 'POST', path: '/api/extra/tokencount' }],
      [generation],
      ...(mode.stream ? [[{ method: 'GET', path: '/api/extra/perf' }]] : []),
    ];
  }
  return [[{ method: 'GET', path: '/v1/models' }, { method: 'POST', path: '/tokenize' }], [generation]];
}

/** The replay plan: the known pattern if it matches the routes seen, else the order of a middle step. */
function replayPlan(mode, list, bodies, steps) {
  const key = (r) => `${r.method} ${r.path}`;
  const seen = {};
  for (const r of list) seen[key(r)] = (seen[key(r)] ?? 0) + 1;
  const known = knownStepPattern(mode);
  const knownKeys = known.flat().map(key);
  const matches = Object.keys(seen).length === knownKeys.length && knownKeys.every((k) => seen[k] === steps);
  let stages = known;
  if (!matches) {
    const genKey = `POST ${GENERATION_PATH[mode.api][mode.stream ? 'stream' : 'whole']}`;
    const gens = list.map((r, i) => (key(r) === genKey ? i : -1)).filter((i) => i >= 0);
    const mid = gens.length >> 1;
    const from = gens[mid - 1] + 1;
    const before = list.slice(from, gens[mid]);
    const after = list.slice(gens[mid] + 1, gens[mid + 1]).filter((r) => !before.some((b) => key(b) === key(r)));
    stages = [...before, list[gens[mid]], ...after].map((r) => [{ method: r.method, path: r.path, stream: key(r) === genKey && mode.stream }]);
  }
  return {
    derived: !matches,
    stages: stages.map((stage) => stage.map((r) => ({ ...r, ...(r.method === 'POST' ? { body: bodies[key(r)] } : {}) }))),
  };
}

const MODES = [
  { id: 'kobold.nostream', api: 'kobold', stream: false },
  { id: 'kobold.stream', api: 'kobold', stream: true },
  { id: 'openai.nostream', api: 'openai', stream: false },
  { id: 'openai.stream', api: 'openai', stream: true },
];

// --- steps ---

/** The small workspace: one block, one payload, a workflow of `steps` steps of it. */
export function generateStepsWorkspace(root, api, steps = STEP_COUNT) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'blocks'), { recursive: true });
  mkdirSync(join(root, 'workflows'), { recursive: true });
  writeFileSync(join(root, 'quire.yaml'), `llm:\n  api: ${api}\n`);
  writeFileSync(join(root, 'blocks', 'small.md'), '---\ntitle: Small\n---\nWrite one short sentence about the sea.\n');
  writeFileSync(join(root, 'workflows', 'x.payload.yaml'), 'model_format: chatml\nresponse_length: 16\nllm_port: 5001\nblocks:\n  - small\n');
  const lines = ['payloads:'];
  for (let i = 0; i < steps; i++) lines.push('  - payload: x', `    as: s${i}`);
  writeFileSync(join(root, 'workflows', 'steps.workflow.yaml'), `${lines.join('\n')}\n`);
}

/** Starts mock-worker.mjs; resolves to { url, take(), close() }. */
async function startMockProcess(dist) {
  const child = fork(MOCK_WORKER, [], { env: { ...process.env, QUIRE_BENCH_DIST: dist }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = [];
  child.on('message', (message) => waiters.shift()?.(message));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  const ready = await Promise.race([
    next(),
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`mock worker exited (${code}) before it was ready`)))),
  ]);
  return {
    url: ready.url,
    /** Requests since the last take: { list: [{ t, method, path }], bodies }. */
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
  };
}

export async function benchSteps({ runs = 5, profile = false, keep = false, log = () => {}, context, steps = STEP_COUNT } = {}) {
  const ctx = context ?? createBenchContext({ keep, log });
  const dir = mkdtempSync(join(ctx.dir, 'steps-'));
  const builds = ctx.builds();
  // The mock does not change between builds: the current build's serves both.
  const mock = await startMockProcess(ctx.build().dist);
  log(`mock-llm (own process) at ${mock.url}; ${steps} steps per run`);
  // Per build: its own workspaces and databases, samples and captured request bodies.
  const per = Object.fromEntries(builds.map((b) => [b.key, { build: b, perMode: {}, profiles: undefined }]));
  const tag = (b) => (builds.length > 1 ? `${b.key}-` : '');
  try {
    for (const b of builds) {
      for (const mode of MODES) {
        const root = join(dir, `ws-${tag(b)}${mode.api}`);
        generateStepsWorkspace(root, mode.api, steps);
        per[b.key].perMode[mode.id] = { mode, root, db: join(dir, `${tag(b)}${mode.id}.db`), quire: [], fetch: [], replay: [] };
      }
    }
    const quireArgs = (b, m) => [b.cli, '-w', m.root, '--db', m.db, 'run', 'steps', '--endpoint', `5001=${mock.url}`, ...(m.mode.stream ? [] : ['--no-stream'])];
    const genPath = (mode) => GENERATION_PATH[mode.api][mode.stream ? 'stream' : 'whole'];
    const who = (b, m) => (builds.length > 1 ? `${m.mode.id} (${b.key} build)` : m.mode.id);

    const runQuire = async (b, m, nodeArgs = []) => {
      await mock.take(); // forget anything earlier
      const result = runNode(quireArgs(b, m), { nodeArgs });
      const { list, bodies } = await mock.take();
      if (list.length === 0) throw new Error(`${who(b, m)}: the mock saw no request\n${result.stderr.slice(-1500)}`);
      const path = genPath(m.mode);
      const generations = list.filter((r) => r.method === 'POST' && r.path === path);
      if (generations.length !== steps) throw new Error(`${who(b, m)}: expected ${steps} generation requests at ${path}, the mock saw ${generations.length}\n${result.stderr.slice(-1500)}`);
      const firstRequestMs = list[0].t - result.startedAtMs;
      const byRoute = {};
      for (const r of list) byRoute[`${r.method} ${r.path}`] = (byRoute[`${r.method} ${r.path}`] ?? 0) + 1;
      return {
        wallMs: result.wallMs,
        rssMb: result.rssMb,
        firstRequestMs,
        firstGenerationMs: generations[0].t - result.startedAtMs,
        perStepMs: (result.wallMs - firstRequestMs) / steps,
        steadyStepMs: (generations.at(-1).t - generations[0].t) / (steps - 1),
        exitAfterLastMs: result.startedAtMs + result.wallMs - list.at(-1).t,
        requestsPerStep: list.length / steps,
        byRoute,
        body: bodies[`POST ${path}`],
        list,
        bodies,
      };
    };

    /** Runs a fetch-loop plan; `expect` is the number of requests the mock must see. */
    const runFetch = async (planFile, expect) => {
      await mock.take();
      const result = runNode([FETCH_LOOP, planFile, String(steps)]);
      const { list } = await mock.take();
      if (list.length !== expect) throw new Error(`fetch loop ${planFile}: expected ${expect} requests, the mock saw ${list.length}`);
      const inner = JSON.parse(result.stdout.trim().split('\n').at(-1));
      const firstRequestMs = list[0].t - result.startedAtMs;
      return {
        wallMs: result.wallMs,
        rssMb: result.rssMb,
        firstRequestMs,
        perRequestMs: (result.wallMs - firstRequestMs) / steps,
        steadyRequestMs: (list.at(-1).t - list[0].t) / (steps - 1),
        insidePerRequestMs: inner.perStepAfterFirstMs,
      };
    };

    // Warm-up: one run per mode (and build), not counted (syncs the small workspace, warms
    // the OS caches) and captures the bodies the fetch loops will replay.
    log('warm-up run per mode (captures the request bodies for the baselines)');
    for (const b of builds) {
      for (const m of Object.values(per[b.key].perMode)) {
        await mock.take();
        const warm = await runQuire(b, m);
        m.byRoute = warm.byRoute;
        m.requestsPerStep = warm.requestsPerStep;
        const generation = [[{ method: 'POST', path: genPath(m.mode), body: warm.body, stream: m.mode.stream }]];
        m.fetchPlan = join(dir, `${tag(b)}${m.mode.id}.fetch.json`);
        writeFileSync(m.fetchPlan, JSON.stringify({ base: mock.url, stages: generation }));
        const replay = replayPlan(m.mode, warm.list, warm.bodies, steps);
        m.replayDerived = replay.derived;
        m.replayShape = replay.stages.map((stage) => stage.map((r) => `${r.method} ${r.path}`).join(' + ')).join(' → ');
        m.replayRequests = replay.stages.flat().length;
        m.replayPlan = join(dir, `${tag(b)}${m.mode.id}.replay.json`);
        writeFileSync(m.replayPlan, JSON.stringify({ base: mock.url, stages: replay.stages }));
      }
    }

    for (let i = 0; i < runs; i++) {
      log(`run ${i + 1}/${runs}: ${MODES.map((mode) => mode.id).join(', ')} (quire, fetch loop, replay loop${builds.length > 1 ? `; ${buildOrder(builds, i).map((b) => b.key).join(' then ')} build per mode` : ''})`);
      for (const mode of MODES) {
        for (const b of buildOrder(builds, i)) {
          const m = per[b.key].perMode[mode.id];
          const { list: _list, bodies: _bodies, body: _body, ...measured } = await runQuire(b, m);
          m.quire.push(measured);
          m.fetch.push(await runFetch(m.fetchPlan, steps));
          m.replay.push(await runFetch(m.replayPlan, steps * m.replayRequests));
        }
      }
    }

    if (profile) {
      log('cpu profiles of quire run (kobold --no-stream, openai stream)');
      for (const b of builds) {
        const suffix = b.key === 'current' ? '' : `.${b.key}`;
        per[b.key].profiles = {};
        for (const id of ['kobold.nostream', 'openai.stream']) {
          const name = `run-steps-${id}${suffix}.cpuprofile`;
          rmSync(join(PROFILE_DIR, name), { force: true });
          await runQuire(b, per[b.key].perMode[id], ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', name]);
          per[b.key].profiles[id] = summarizeProfile(join(PROFILE_DIR, name));
        }
      }
    }
  } finally {
    await mock.close();
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }
  return combineBuilds(Object.fromEntries(Object.entries(per).map(([key, p]) => [key, stepsResult(p.perMode, steps, p.profiles)])));
}

/** One build's steps result from its per-mode samples. */
function stepsResult(perMode, steps, profiles) {
  const rows = [];
  const detail = {};
  for (const m of Object.values(perMode)) {
    const label = `${m.mode.api}, ${m.mode.stream ? 'streaming' : '--no-stream'}`;
    const quireStep = stats(m.quire.map((r) => r.perStepMs)).median;
    const fetchReq = stats(m.fetch.map((r) => r.perRequestMs)).median;
    rows.push(
      row(`${m.mode.id}.quire`, `quire run, per step (${label})`, 'ms', m.quire.map((r) => r.perStepMs), undefined, 2),
      row(`${m.mode.id}.fetch`, `  baseline: fetch loop, per request (${label})`, 'ms', m.fetch.map((r) => r.perRequestMs), undefined, 2),
      ratioRow(`${m.mode.id}.ratio`, `  ratio quire step / fetch request (${label})`, quireStep / fetchReq, m.quire.length, RUN_TARGETS.stepRatio),
      row(`${m.mode.id}.replay`, `  info: fetch loop replaying quire's ${m.replayRequests} requests/step`, 'ms', m.replay.map((r) => r.perRequestMs), undefined, 2),
    );
    detail[m.mode.id] = {
      requestsPerStep: m.requestsPerStep,
      requestsByRoute: m.byRoute,
      quire: summarize(m.quire, ['wallMs', 'firstRequestMs', 'firstGenerationMs', 'perStepMs', 'steadyStepMs', 'exitAfterLastMs', 'rssMb']),
      fetch: summarize(m.fetch, ['wallMs', 'firstRequestMs', 'perRequestMs', 'steadyRequestMs', 'insidePerRequestMs', 'rssMb']),
      replay: { shape: m.replayShape, derived: m.replayDerived, ...summarize(m.replay, ['wallMs', 'firstRequestMs', 'perRequestMs', 'steadyRequestMs', 'insidePerRequestMs', 'rssMb']) },
      quireOverReplay: round(quireStep / stats(m.replay.map((r) => r.perRequestMs)).median, 2),
    };
  }
  const all = Object.values(perMode);
  rows.push(
    row('first', `quire run, spawn to first request (info; ${steps}-step workspace)`, 'ms', all.flatMap((m) => m.quire.map((r) => r.firstRequestMs))),
    row('rss.quire', `peak RSS, quire run ${steps} steps (all modes)`, 'MB', all.flatMap((m) => m.quire.map((r) => r.rssMb))),
    row('rss.fetch', 'peak RSS, fetch loop (all modes)', 'MB', all.flatMap((m) => m.fetch.map((r) => r.rssMb))),
    row('rss.replay', 'peak RSS, replay loop (all modes)', 'MB', all.flatMap((m) => m.replay.map((r) => r.rssMb))),
  );
  return { name: 'steps', steps, rssMethod: rssMethod(), rows, detail, ...(profiles ? { profiles } : {}) };
}

export function describeSteps(result) {
  const lines = [
    `per step = (run wall − spawn to first request at the mock) / ${result.steps}, for quire and both loops alike; ` +
      'steady = interval between the first and last generation request (quire) or request (loops); in-loop = timed inside the loop process. ' +
      `Mock at zero latency in its own process. Peak RSS via ${result.rssMethod}.`,
    '',
    `  ${'mode'.padEnd(16)} ${'req/step'.padStart(8)} ${'quire'.padStart(7)} ${'steady'.padStart(7)} ${'fetch'.padStart(7)} ${'steady'.padStart(7)} ${'in-loop'.padStart(7)} ` +
      `${'replay'.padStart(7)} ${'in-loop'.padStart(7)} ${'q/replay'.padStart(8)} ${'q 1st req'.padStart(9)}  (ms per step or request)`,
  ];
  const f = (v, w = 7) => fmt(v, '', 3).padStart(w);
  for (const [id, d] of Object.entries(result.detail)) {
    lines.push(`  ${id.padEnd(16)} ${fmt(d.requestsPerStep, '', 2).padStart(8)} ${f(d.quire.perStepMs)} ${f(d.quire.steadyStepMs)} ${f(d.fetch.perRequestMs)} ${f(d.fetch.steadyRequestMs)} ` +
      `${f(d.fetch.insidePerRequestMs)} ${f(d.replay.perRequestMs)} ${f(d.replay.insidePerRequestMs)} ${fmt(d.quireOverReplay, 'x', 2).padStart(8)} ${fmt(d.quire.firstRequestMs, '', 1).padStart(9)}`);
  }
  lines.push('', '  replayed step shape (→ in order, + in parallel):');
  for (const [id, d] of Object.entries(result.detail)) lines.push(`  ${id.padEnd(16)} ${d.replay.shape}${d.replay.derived ? ' (derived from the order observed)' : ''}`);
  appendProfiles(lines, result.profiles);
  return lines.join('\n');
}

// --- startup ---

export async function benchStartup({ runs = 5, keep = false, log = () => {}, context } = {}) {
  const ctx = context ?? createBenchContext({ keep, log });
  try {
    const builds = ctx.builds();
    const count = Math.max(15, runs);
    log(`quire --version and node -e 0, ${count} runs each (interleaved${builds.length > 1 ? '; both builds, taking turns' : ''})`);
    const per = Object.fromEntries(builds.map((b) => [b.key, { version: [], node: [] }]));
    for (const b of builds) runNode([b.cli, '--version']); // warm the file cache
    for (let i = 0; i < count; i++) {
      await breathe();
      for (const b of buildOrder(builds, i)) {
        const v = runNode([b.cli, '--version']);
        if (!/\d+\.\d+\.\d+/.test(v.stdout)) throw new Error(`quire --version printed ${JSON.stringify(v.stdout)}${builds.length > 1 ? ` (${b.key} build)` : ''}`);
        per[b.key].version.push(v);
        per[b.key].node.push(runNode(['-e', '0']));
      }
    }
    return combineBuilds(Object.fromEntries(Object.entries(per).map(([key, { version, node }]) => {
      const diff = stats(version.map((r) => r.wallMs)).median - stats(node.map((r) => r.wallMs)).median;
      return [key, {
        name: 'startup',
        rssMethod: rssMethod(),
        rows: [
          row('version', 'quire --version, wall (fresh process)', 'ms', version.map((r) => r.wallMs), RUN_TARGETS.versionMs),
          row('node', 'baseline: node -e 0, wall', 'ms', node.map((r) => r.wallMs)),
          { ...row('version.overhead', 'quire --version − node -e 0 (medians)', 'ms', [diff]), runs: count },
          row('rss.version', 'peak RSS, quire --version', 'MB', version.map((r) => r.rssMb)),
          row('rss.node', 'peak RSS, node -e 0', 'MB', node.map((r) => r.rssMb)),
        ],
      }];
    })));
  } finally {
    if (!context) ctx.cleanup();
  }
}

// --- first-request ---

export const FIRST_REQUEST_WORKFLOW = 'bench-first-request';

/**
 * Adds a one-step workflow to the big workspace: an inline payload (llm_port 5001, chatml,
 * response_length 16) made of a block with includes. Returns the file (remove it afterwards).
 */
function addFirstRequestWorkflow(large) {
  const block = large.manifest.blocks.find((b) => b.includes.some((inc) => inc.block)) ?? large.manifest.blocks[0];
  const file = join(large.root, 'workflows', `${FIRST_REQUEST_WORKFLOW}.workflow.yaml`);
  writeFileSync(file, [
    'inputs:',
    '  text: { type: string, default: "The quick brown fox." }',
    '  words: { type: integer, default: 50 }',
    'payloads:',
    '  - name: first',
    '    model_format: chatml',
    '    response_length: 16',
    '    llm_port: 5001',
    '    vars: { tone: neutral }',
    '    blocks:',
    `      - ${JSON.stringify(block.key)}`,
    '',
  ].join('\n'));
  return { file, block: block.key };
}

export async function benchFirstRequest({ runs = 5, keep = false, profile = false, log = () => {}, context } = {}) {
  const ctx = context ?? createBenchContext({ keep, log });
  const dir = mkdtempSync(join(ctx.dir, 'first-request-'));
  const builds = ctx.builds();
  const { dist } = ctx.build();
  const large = ctx.largeWorkspace();
  const added = addFirstRequestWorkflow(large);
  // The mock does not change between builds: the current build's serves both.
  const { startMockLlm } = await import(pathToFileURL(join(dist, 'mock-llm', 'index.js')).href);
  const mock = await startMockLlm();
  let arrivals = [];
  mock.requests.push = (...items) => {
    const t = monoMs();
    for (const r of items) arrivals.push({ t, method: r.method, path: r.path });
    return 0;
  };
  log(`mock-llm (this process) at ${mock.url}; workflow ${FIRST_REQUEST_WORKFLOW} (block ${added.block})`);
  let dbCounter = 0;
  const newDb = (b) => join(dir, `run-${builds.length > 1 ? `${b.key}-` : ''}${++dbCounter}.db`);
  const dropDb = (file) => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true }));
  const per = Object.fromEntries(builds.map((b) => [b.key, { warm: [], cold: [], profiles: undefined }]));
  try {
    const once = async (b, db, nodeArgs = []) => {
      arrivals = [];
      const result = await runNodeAsync([b.cli, '-w', large.root, '--db', db, 'run', FIRST_REQUEST_WORKFLOW, '--endpoint', `5001=${mock.url}`, '--no-stream'], { nodeArgs });
      const list = arrivals;
      const firstPost = list.find((r) => r.method === 'POST');
      if (!firstPost) throw new Error(`first-request${builds.length > 1 ? ` (${b.key} build)` : ''}: the mock saw no POST\n${result.stderr.slice(-1500)}`);
      return {
        wallMs: result.wallMs,
        rssMb: result.rssMb,
        firstRequestMs: list[0].t - result.startedAtMs,
        firstPostMs: firstPost.t - result.startedAtMs,
        requests: list.map((r) => `${r.method} ${r.path}`),
      };
    };
    log('warm-up: first run syncs the database (not counted)');
    for (const b of builds) {
      per[b.key].warmDb = newDb(b);
      await once(b, per[b.key].warmDb);
    }
    for (let i = 0; i < runs; i++) {
      log(`run ${i + 1}/${runs}: warm database, then a new database${builds.length > 1 ? ` (${buildOrder(builds, i).map((b) => b.key).join(' then ')} build)` : ''}`);
      for (const b of buildOrder(builds, i)) {
        per[b.key].warm.push(await once(b, per[b.key].warmDb));
        const db = newDb(b);
        per[b.key].cold.push(await once(b, db));
        dropDb(db);
      }
    }
    if (profile) {
      log('cpu profiles of quire run (warm and cold database)');
      for (const b of builds) {
        const suffix = b.key === 'current' ? '' : `.${b.key}`;
        per[b.key].profiles = {};
        for (const [name, db] of [['warm', per[b.key].warmDb], ['cold', newDb(b)]]) {
          const file = `run-first-request-${name}${suffix}.cpuprofile`;
          rmSync(join(PROFILE_DIR, file), { force: true });
          await once(b, db, ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', file]);
          per[b.key].profiles[name] = summarizeProfile(join(PROFILE_DIR, file));
        }
      }
    }
  } finally {
    await mock.close();
    rmSync(added.file, { force: true });
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }
  return combineBuilds(Object.fromEntries(Object.entries(per).map(([key, { warm, cold, profiles }]) => [key, {
    name: 'first-request',
    workload: { ...large.manifest.counts, workflow: FIRST_REQUEST_WORKFLOW, block: added.block, requests: warm[0]?.requests },
    rssMethod: rssMethod(),
    rows: [
      row('warm.post', 'quire run, spawn to first POST, synced db (warm cache)', 'ms', warm.map((r) => r.firstPostMs), RUN_TARGETS.firstRequestWarmMs),
      row('warm.any', '  spawn to first request (any), warm', 'ms', warm.map((r) => r.firstRequestMs)),
      row('warm.wall', '  whole run wall (1 step), warm', 'ms', warm.map((r) => r.wallMs)),
      row('cold.post', 'quire run, spawn to first POST, new db (cold sync)', 'ms', cold.map((r) => r.firstPostMs)),
      row('cold.any', '  spawn to first request (any), cold', 'ms', cold.map((r) => r.firstRequestMs)),
      row('cold.wall', '  whole run wall (1 step), cold', 'ms', cold.map((r) => r.wallMs)),
      row('rss.warm', 'peak RSS, quire run, warm', 'MB', warm.map((r) => r.rssMb)),
      row('rss.cold', 'peak RSS, quire run, cold', 'MB', cold.map((r) => r.rssMb)),
    ],
    ...(profiles ? { profiles } : {}),
  }])));
}

export function describeFirstRequest(result) {
  const w = result.workload;
  const lines = [
    `workspace: the sync benchmark's (${w.blocks} blocks, ${w.files} files) plus workflow ${w.workflow} (one inline step using block "${w.block}"); ` +
      `quire.yaml api: auto, so the first request is the detection probe. Requests of one run: ${(w.requests ?? []).join(', ')}. Mock in this process; peak RSS via ${result.rssMethod}.`,
  ];
  appendProfiles(lines, result.profiles, { timeline: true });
  return lines.join('\n');
}

// --- shared ---

function appendProfiles(lines, profiles, { timeline = false } = {}) {
  if (!profiles) return;
  for (const [name, summary] of Object.entries(profiles)) {
    if (timeline) {
      lines.push('', `timeline, ${name}: quire functions in the order they first ran (ms since the profile started; it ended at ${fmt(summary.endMs, '', 0)}; first–last sample, inclusive time):`);
      for (const f of summary.timeline.slice(0, 18)) lines.push(`  ${fmt(f.firstMs, '', 0).padStart(6)} – ${fmt(f.lastMs, '', 0).padStart(6)}  ${fmt(f.totalMs).padStart(7)} ms  ${f.name}  ${f.where}`);
    }
    lines.push('', `cpu profile, ${name} (whole process ${fmt(summary.totalMs, 'ms', 0)}; top self time):`);
    for (const f of summary.topSelf.slice(0, 15)) lines.push(`  ${fmt(f.selfMs).padStart(8)} ms  ${f.name}  ${f.where}`);
    lines.push('  quire functions by inclusive time:');
    for (const f of summary.topQuireInclusive.slice(0, 15)) lines.push(`  ${fmt(f.totalMs).padStart(8)} ms  ${f.name}  ${f.where}`);
    lines.push('  by package/module (self time):');
    for (const m of summary.byModule.slice(0, 10)) lines.push(`  ${fmt(m.selfMs).padStart(8)} ms  ${m.module}`);
  }
}

function summarize(list, keys) {
  return Object.fromEntries(keys.map((k) => [k, round(stats(list.map((r) => r[k]).filter(Number.isFinite)).median, 3)]));
}

function row(id, label, unit, values, target, digits = 1) {
  const s = stats(values.filter((v) => Number.isFinite(v)));
  return {
    id, label, unit, ...s,
    median: round(s.median, digits), min: round(s.min, digits), max: round(s.max, digits),
    ...(digits !== 1 ? { digits } : {}),
    target: target === undefined ? null : target,
    pass: target === undefined ? null : s.median <= target,
  };
}

function ratioRow(id, label, value, runs, target) {
  return { id, label, unit: 'x', median: round(value, 2), min: null, max: null, runs, samples: [], target, pass: value <= target };
}
