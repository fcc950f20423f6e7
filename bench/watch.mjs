/**
 * The watch benchmark (`--only watch`): the edit -> save -> new answer loop of `quire watch`
 * on the 10k-block workspace, with a one-step workflow added to it (an inline payload that
 * lists one block directly; removed afterwards, the block put back as it was).
 *
 *   cold start    `quire watch` on a new database, so its first sync (a full parse of 10k
 *                 files) runs in the watch process: time to ready and RSS after the first
 *                 run (info: V8 keeps the heap that parse grew, so this is the high mark).
 *   save -> POST  `node dist/cli/bin.js -w <ws> --db <db> watch bench-watch --json --endpoint
 *                 5001=<mock>` as a child, on a database `quire sync` has synced (how watch
 *                 starts on a workspace that was synced or run before); after its first run-end, the block is rewritten
 *                 (writeFileSync) once per rerun: each save waits for the previous rerun's
 *                 run-end plus a pause longer than the watcher's debounce. Per save: the time
 *                 from just before writeFileSync to the first generation POST arriving at the
 *                 mock (in this process; CLOCK_MONOTONIC both ends), and when the change and
 *                 run-end events came out on stdout. The first 20 saves are the measurement.
 *   warm resync  a worker (workers/watch-worker.mjs) opens the live model once and applies
 *                20 one-block saves with applySave(), as the watch session does; and per save
 *                the dependency analysis alone (workflowsAffectedBy on a fresh graph: the
 *                first call builds the reverse index, then a warm call).
 *   memory       the watch child's VmRSS (/proc/<pid>/status) after its first run and after
 *                N saves (default 100; --watch-saves N, 500 for the full check), and end/start.
 *   no-op sync   `quire sync` (CLI, fresh process) of an unchanged workspace against `node -e 0`,
 *                interleaved, at least 7 runs each: the budget is 1.5 x node -e 0 + 100 ms.
 *
 * Only the current build is measured: with a baseline (--baseline, --dist-baseline) its
 * rows have no "before" (a build from before `quire watch` has none to measure).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, breathe, fmt, monoMs, round, runNode, runNodeJson, stats } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { oneFileTarget } from './sync-workload.mjs';

const WATCH_WORKER = join(BENCH_DIR, 'workers', 'watch-worker.mjs');

export const WATCH_TARGETS = {
  /** Save (writeFileSync) to the first generation POST at the mock. */
  saveToPostMs: 150,
  /** applySave of a one-block save in a warm process. */
  applySaveMs: 30,
  /** workflowsAffectedBy, first call on a fresh graph (reverse index built) and warm. */
  affectedMs: 20,
  rssMb: 200,
  /** RSS after N saves / RSS after the first run. */
  rssGrowth: 1.1,
  /** No-op `quire sync` (CLI) <= noopFactor x `node -e 0` + noopPlusMs. */
  noopFactor: 1.5,
  noopPlusMs: 100,
};

export const WATCH_WORKFLOW = 'bench-watch';
/** Saves timed for the save -> POST target (and applied in the warm worker). */
const TIMED_SAVES = 20;
const DEFAULT_RSS_SAVES = 100;
/** Between a rerun's run-end and the next save: more than the watcher's 40 ms debounce (and its 60 ms settle after a change). */
const PAUSE_MS = 100;
const NOOP_RUNS = 7;
/** POST routes that generate text (the mock's `generation: true` routes). */
const GENERATION_PATHS = new Set(['/api/v1/generate', '/api/extra/generate/stream', '/v1/completions', '/v1/chat/completions', '/completion', '/api/generate']);

/** --watch-saves N from this process's arguments (run.mjs passes the rest of its argv through untouched). */
function savesOption(explicit) {
  if (explicit !== undefined) return explicit;
  const args = process.argv.slice(2);
  const at = args.indexOf('--watch-saves');
  if (at === -1) return DEFAULT_RSS_SAVES;
  const n = Number(args[at + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--watch-saves needs a positive integer (got ${JSON.stringify(args[at + 1] ?? null)})`);
  return n;
}

/**
 * The block the benchmark saves: one that includes other blocks by key ({{block}}), each of
 * them without includes of its own, so the prompt stays well inside the mock's 4096-token
 * context (tag includes expand to hundreds of blocks here); not the sync benchmark's
 * one-file target. Else a block without includes.
 */
function pickBlock(large) {
  const blocks = large.manifest.blocks;
  const byKey = new Map(blocks.map((b) => [b.key, b]));
  const avoid = oneFileTarget(large.manifest);
  const from = Math.floor(blocks.length / 4);
  const candidates = blocks.slice(from).filter((b) => join(large.root, b.path) !== avoid);
  return candidates.find((b) => b.includes.length > 0 && b.includes.every((inc) => inc.block && byKey.get(inc.block)?.includes.length === 0))
    ?? candidates.find((b) => b.includes.length === 0)
    ?? blocks[from];
}

/** A one-step workflow whose inline payload lists `block` directly. Returns the file (remove it afterwards). */
function addWatchWorkflow(large, block) {
  const file = join(large.root, 'workflows', `${WATCH_WORKFLOW}.workflow.yaml`);
  writeFileSync(file, [
    'inputs:',
    '  text: { type: string, default: "The quick brown fox." }',
    '  words: { type: integer, default: 50 }',
    'payloads:',
    '  - name: edit',
    '    model_format: chatml',
    '    response_length: 16',
    '    llm_port: 5001',
    '    vars: { tone: neutral }',
    '    blocks:',
    `      - ${JSON.stringify(block.key)}`,
    '',
  ].join('\n'));
  return file;
}

/** VmRSS of a live process in MB (/proc; `ps` where there is no /proc), NaN when unknown. */
function rssOf(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // no /proc here
  }
  const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  const kb = Number(ps.stdout?.trim());
  return ps.status === 0 && Number.isFinite(kb) && kb > 0 ? kb / 1024 : NaN;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class WaitTimeout extends Error {}

/**
 * `quire watch ... --json` as a child: its events (parsed stdout lines, each with t =
 * monoMs() when read) and the mock's arrivals, with waitFor() on either list.
 */
function startWatchChild(args, arrivals) {
  const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const startedAtMs = monoMs();
  const events = [];
  const checks = new Set();
  const notify = () => {
    for (const check of [...checks]) check();
  };
  let stderr = '';
  let buffer = '';
  let exit;
  const badLines = [];
  child.stdout.on('data', (chunk) => {
    const t = monoMs();
    buffer += chunk.toString('utf8');
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.trim()) continue;
      try {
        events.push({ t, ev: JSON.parse(line) });
      } catch {
        if (badLines.length < 5) badLines.push(line.slice(0, 300));
      }
    }
    notify();
  });
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8000);
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      notify();
      resolve(exit);
    });
    child.once('error', (error) => {
      exit = { code: null, signal: null, error };
      notify();
      resolve(exit);
    });
  });
  /** The first item of `list` from index `from` on that `pred` accepts: { ...item, index }. */
  const waitFor = (list, from, pred, timeoutMs, what) => new Promise((resolve, reject) => {
    let timer;
    const done = () => {
      clearTimeout(timer);
      checks.delete(check);
    };
    function check() {
      for (let k = from; k < list.length; k++) {
        if (pred(list[k])) {
          done();
          resolve({ ...list[k], index: k });
          return;
        }
      }
      if (exit) {
        done();
        reject(new Error(`quire watch exited (${exit.error?.message ?? exit.signal ?? exit.code}) while waiting for ${what}\n${stderr.slice(-3000)}`));
      }
    }
    timer = setTimeout(() => {
      done();
      reject(new WaitTimeout(`no ${what} within ${timeoutMs} ms (events so far: ${events.length}, last: ${events.slice(-5).map((e) => e.ev.type).join(', ')})\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    checks.add(check);
    check();
  });
  return {
    child,
    pid: child.pid,
    startedAtMs,
    events,
    badLines,
    notify,
    stderr: () => stderr,
    exited,
    alive: () => !exit,
    event: (from, pred, timeoutMs, what) => waitFor(events, from, (e) => pred(e.ev), timeoutMs, what),
    arrival: (from, pred, timeoutMs, what) => waitFor(arrivals, from, pred, timeoutMs, what),
    /** SIGTERM (what Ctrl-C does: cancel, close the watcher and the database), SIGKILL after `graceMs`. */
    async stop(graceMs = 10000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exit) child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    kill() {
      if (!exit && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export async function benchWatch({ runs = 5, keep = false, log = () => {}, context, watchSaves } = {}) {
  const rssSaves = Math.max(savesOption(watchSaves), TIMED_SAVES);
  const ctx = context ?? createBenchContext({ keep, log });
  const dir = mkdtempSync(join(ctx.dir, 'watch-'));
  // With a baseline (built already by run.mjs), say why it has no numbers here.
  const baselineBuild = ctx.builds().find((b) => b.key === 'baseline');
  const baselineNote = !baselineBuild ? undefined
    : existsSync(join(baselineBuild.dist, 'app', 'watch.js'))
      ? 'only the current build is measured (this benchmark does not run the baseline build; its rows show no "before")'
      : 'only the current build is measured: the baseline build has no `quire watch` (its rows show no "before")';
  const { cli, dist } = ctx.build();
  const large = ctx.largeWorkspace();
  const block = pickBlock(large);
  const blockFile = join(large.root, block.path);
  const original = readFileSync(blockFile, 'utf8');
  const workflowFile = addWatchWorkflow(large, block);
  const arrivals = [];
  let mock;
  let watch;
  // This process ends without the finally below (a signal handled in run.mjs): the child goes too.
  const killOnExit = () => watch?.kill();
  process.once('exit', killOnExit);

  const saves = [];
  const odd = [];
  const rssSeries = [];
  let start;
  let cold;
  let rerunRequests;
  let warm;
  const noop = { cli: [], node: [] };
  try {
    const { startMockLlm } = await import(pathToFileURL(join(dist, 'mock-llm', 'index.js')).href);
    mock = await startMockLlm();
    mock.requests.push = (...items) => {
      const t = monoMs();
      for (const r of items) arrivals.push({ t, method: r.method, path: r.path });
      watch?.notify();
      return arrivals.length;
    };
    log(`mock-llm (this process) at ${mock.url}; workflow ${WATCH_WORKFLOW} lists block "${block.key}" (${block.path})`);

    // --- 0: a first watch on a new database (the cold sync is in the watch process): time to ready and RSS, info.
    const coldDb = join(dir, 'cold.db');
    log(`quire watch ${WATCH_WORKFLOW} --json on a new database (the first sync is cold, in the watch process)`);
    watch = startWatchChild([cli, '-w', large.root, '--db', coldDb, 'watch', WATCH_WORKFLOW, '--json', '--endpoint', `5001=${mock.url}`], arrivals);
    const coldReady = await watch.event(0, (e) => e.type === 'ready' || e.type === 'problems', 120000, 'ready event (cold)');
    if (coldReady.ev.type !== 'ready') throw new Error(`quire watch reported problems at start: ${JSON.stringify(coldReady.ev).slice(0, 2000)}`);
    const coldEnd = await watch.event(coldReady.index, (e) => e.type === 'run-end' && e.workflow === WATCH_WORKFLOW, 60000, 'the first run-end (cold)');
    await sleep(PAUSE_MS);
    cold = { readyMs: coldReady.t - watch.startedAtMs, firstRunEndMs: coldEnd.t - watch.startedAtMs, rssMb: rssOf(watch.pid) };
    await watch.stop();
    log(`  ready after ${round(cold.readyMs, 0)} ms; RSS after the first run ${fmt(cold.rssMb, 'MB')}`);
    arrivals.length = 0;

    // --- 1 and 3: the watch child on a synced database (how watch starts after the workspace's first sync or run):
    // save -> first POST, and its RSS over the saves.
    const db = join(dir, 'watch.db');
    runNode([cli, '-w', large.root, '--db', db, 'sync', '--json'], { measureRss: false });
    const args = [cli, '-w', large.root, '--db', db, 'watch', WATCH_WORKFLOW, '--json', '--endpoint', `5001=${mock.url}`];
    log(`quire watch ${WATCH_WORKFLOW} --json (a synced database); then ${rssSaves} saves of ${block.path}, ${TIMED_SAVES} timed`);
    watch = startWatchChild(args, arrivals);
    const ready = await watch.event(0, (e) => e.type === 'ready' || e.type === 'problems', 120000, 'ready event');
    if (ready.ev.type !== 'ready') throw new Error(`quire watch reported problems at start: ${JSON.stringify(ready.ev).slice(0, 2000)}`);
    if (!ready.ev.workflows?.includes(WATCH_WORKFLOW)) throw new Error(`quire watch is not watching ${WATCH_WORKFLOW}: ${JSON.stringify(ready.ev).slice(0, 1000)}`);
    const firstEnd = await watch.event(ready.index, (e) => e.type === 'run-end' && e.workflow === WATCH_WORKFLOW, 60000, 'the first run-end');
    if (firstEnd.ev.status !== 'completed') throw new Error(`the first run of ${WATCH_WORKFLOW} ended ${firstEnd.ev.status}: ${firstEnd.ev.error ?? ''} ${firstEnd.ev.hint ?? ''}`);
    start = {
      readyMs: ready.t - watch.startedAtMs,
      firstRunEndMs: firstEnd.t - watch.startedAtMs,
      firstRunRequests: arrivals.map((r) => `${r.method} ${r.path}`),
    };
    await sleep(PAUSE_MS);
    rssSeries.push({ saves: 0, mb: rssOf(watch.pid) });
    log(`  ready after ${round(start.readyMs, 0)} ms, first run ended after ${round(start.firstRunEndMs, 0)} ms; RSS ${fmt(rssSeries[0].mb, 'MB')}`);

    for (let i = 1; i <= rssSaves; i++) {
      if (i % 25 === 0) log(`  save ${i}/${rssSaves}`);
      await breathe();
      const fromEvent = watch.events.length;
      const fromArrival = arrivals.length;
      const text = `${original}\nWatch save ${i} at ${process.hrtime.bigint()}: ${'z'.repeat(i % 11)}\n`;
      const t0 = monoMs();
      writeFileSync(blockFile, text);
      const sample = { save: i, postMs: NaN, changeMs: NaN, rerunMs: NaN, runStartMs: NaN, runEndMs: NaN };
      saves.push(sample);
      let outcome;
      try {
        outcome = await watch.event(fromEvent, (e) => (e.type === 'rerun' && e.workflow === WATCH_WORKFLOW) || e.type === 'problems' || e.type === 'error', 5000, `a rerun after save ${i}`);
      } catch (error) {
        if (!(error instanceof WaitTimeout)) throw error;
        const sawChange = watch.events.slice(fromEvent).some((e) => e.ev.type === 'change');
        odd.push(`save ${i}: no rerun within 5 s (${sawChange ? 'a change event came, no rerun' : 'no change event either'})`);
        if (odd.filter((o) => o.includes('no rerun')).length >= 3) throw new Error(`quire watch missed 3 saves; giving up\n${odd.join('\n')}`);
        await sleep(PAUSE_MS);
        rssSeries.push({ saves: i, mb: rssOf(watch.pid) });
        continue;
      }
      if (outcome.ev.type !== 'rerun') throw new Error(`save ${i}: quire watch answered ${JSON.stringify(outcome.ev).slice(0, 2000)}`);
      if (outcome.ev.because !== block.path) odd.push(`save ${i}: rerun because ${JSON.stringify(outcome.ev.because)}, expected ${block.path}`);
      const end = await watch.event(fromEvent, (e) => e.type === 'run-end' && e.workflow === WATCH_WORKFLOW, 30000, `the run-end after save ${i}`);
      // The mock records a request on arrival, before answering it: by run-end the generation POST is in.
      const post = arrivals.slice(fromArrival).find((r) => r.method === 'POST' && GENERATION_PATHS.has(r.path) && r.t >= t0);
      if (!post) {
        odd.push(`save ${i}: the rerun ended ${end.ev.status} without a generation request${end.ev.error ? `: ${end.ev.error}` : ''}`);
        if (odd.filter((o) => o.includes('without a generation request')).length >= 3) throw new Error(`3 reruns sent no generation request; giving up\n${odd.join('\n')}`);
        await sleep(PAUSE_MS);
        rssSeries.push({ saves: i, mb: rssOf(watch.pid) });
        continue;
      }
      // The pause before the next save; then what this save set off is counted (a save split into
      // two batches would show as two change events, a cancelled run as a second run-end).
      await sleep(PAUSE_MS);
      const during = watch.events.slice(fromEvent).map((e) => e.ev);
      const changes = during.filter((e) => e.type === 'change').length;
      const reruns = during.filter((e) => e.type === 'rerun').length;
      const ends = during.filter((e) => e.type === 'run-end');
      if (changes !== 1 || reruns !== 1 || ends.length !== 1) odd.push(`save ${i}: ${changes} change, ${reruns} rerun, ${ends.length} run-end events (expected one each)`);
      for (const e of ends) if (e.status !== 'completed') odd.push(`save ${i}: a run ended ${e.status}${e.error ? `: ${e.error}` : ''}`);
      const firstOf = (type) => watch.events.slice(fromEvent).find((e) => e.ev.type === type && (type === 'change' || e.ev.workflow === WATCH_WORKFLOW));
      Object.assign(sample, {
        postMs: post.t - t0,
        changeMs: (firstOf('change')?.t ?? NaN) - t0,
        rerunMs: outcome.t - t0,
        runStartMs: (firstOf('run-start')?.t ?? NaN) - t0,
        runEndMs: end.t - t0,
      });
      if (i === 1) rerunRequests = arrivals.slice(fromArrival).map((r) => `${r.method} ${r.path}`);
      rssSeries.push({ saves: i, mb: rssOf(watch.pid) });
    }
    const stopped = await watch.stop();
    if (stopped.code !== 130 && stopped.code !== 0) odd.push(`quire watch exited ${stopped.signal ?? stopped.code} on SIGTERM (expected 130)`);
    if (watch.badLines.length > 0) odd.push(`non-JSON stdout lines: ${watch.badLines.map((l) => JSON.stringify(l)).join(', ')}`);
    writeFileSync(blockFile, original);
    const timed = saves.slice(0, TIMED_SAVES);
    log(`  save -> first POST (saves 1–${TIMED_SAVES}): median ${fmt(stats(timed.map((s) => s.postMs).filter(Number.isFinite)).median, 'ms')}; RSS ${fmt(rssSeries[0].mb, 'MB')} -> ${fmt(rssSeries.at(-1).mb, 'MB')} after ${rssSeries.at(-1).saves} saves`);

    // --- 2: applySave and the dependency analysis in a warm process (its own database).
    log(`warm process: openLiveModel, then ${TIMED_SAVES} one-block applySave()s and workflowsAffectedBy on a fresh graph`);
    warm = runNodeJson([WATCH_WORKER, large.root, join(dir, 'worker.db'), block.path, WATCH_WORKFLOW, String(TIMED_SAVES)], { measureRss: false, env: { QUIRE_BENCH_DIST: dist } });
    for (const problem of warm.problems ?? []) odd.push(`warm worker: ${problem}`);
    log(`  applySave median ${fmt(stats(warm.applyMs).median, 'ms')}; workflowsAffectedBy first ${fmt(stats(warm.affectedFirstMs).median, 'ms', 2)}, warm ${fmt(stats(warm.affectedWarmMs).median, 'ms', 3)}`);

    // --- 4: no-op `quire sync` against `node -e 0`, interleaved; the workspace as the other benchmarks know it.
    rmSync(workflowFile, { force: true });
    const noopRuns = Math.max(NOOP_RUNS, runs);
    log(`no-op quire sync (CLI) and node -e 0, ${noopRuns} runs each, interleaved`);
    const syncDb = join(dir, 'watch.db'); // the watch child's database: one warm-up sync takes in the workflow's removal and the block's restore
    const expected = { blocks: large.manifest.counts.blocks, payloads: large.manifest.counts.payloads, workflows: large.manifest.counts.workflows };
    runNode([cli, '-w', large.root, '--db', syncDb, 'sync', '--json'], { measureRss: false });
    runNode(['-e', '0'], { measureRss: false });
    for (let i = 0; i < noopRuns; i++) {
      await breathe();
      const one = () => {
        const r = runNode([cli, '-w', large.root, '--db', syncDb, 'sync', '--json'], { measureRss: false });
        const report = JSON.parse(r.stdout);
        for (const kind of ['blocks', 'payloads', 'workflows']) {
          if (report?.[kind]?.unchanged !== expected[kind]) throw new Error(`no-op sync: expected ${kind}.unchanged = ${expected[kind]}, got ${JSON.stringify(report?.[kind])}`);
        }
        noop.cli.push(r.wallMs);
      };
      const node = () => noop.node.push(runNode(['-e', '0'], { measureRss: false }).wallMs);
      if (i % 2 === 0) {
        one();
        node();
      } else {
        node();
        one();
      }
    }
  } finally {
    process.removeListener('exit', killOnExit);
    if (watch?.alive()) await watch.stop(3000);
    writeFileSync(blockFile, original);
    rmSync(workflowFile, { force: true });
    await mock?.close();
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }

  const timed = saves.slice(0, TIMED_SAVES);
  const rest = saves.slice(TIMED_SAVES);
  const nodeMedian = stats(noop.node).median;
  const budget = round(WATCH_TARGETS.noopFactor * nodeMedian + WATCH_TARGETS.noopPlusMs, 1);
  const rssStart = rssSeries[0]?.mb;
  const rssEnd = rssSeries.at(-1)?.mb;
  const rssEndSaves = rssSeries.at(-1)?.saves ?? 0;
  // The heap grows and is collected in a sawtooth, so one reading depends on where in it it
  // falls: the lowest reading of the last quarter of saves against that of the first quarter
  // (the floor after collections) says more about a leak.
  const quarter = Math.max(1, Math.floor((rssSeries.length - 1) / 4));
  const floorFirst = Math.min(...rssSeries.slice(1, 1 + quarter).map((r) => r.mb));
  const floorLast = Math.min(...rssSeries.slice(-quarter).map((r) => r.mb));
  const rows = [
    row('save.post', `save -> first generation POST (saves 1–${TIMED_SAVES})`, 'ms', timed.map((s) => s.postMs), WATCH_TARGETS.saveToPostMs),
    row('save.change', '  save -> change event on stdout', 'ms', timed.map((s) => s.changeMs)),
    row('save.rerun', '  save -> rerun event on stdout (the save applied: read, checked, mirrored)', 'ms', timed.map((s) => s.rerunMs)),
    row('save.runstart', '  save -> run-start event on stdout', 'ms', timed.map((s) => s.runStartMs)),
    row('save.runend', '  save -> run-end event on stdout (1 step, mock at zero latency)', 'ms', timed.map((s) => s.runEndMs)),
    ...(rest.length > 0 ? [row('save.post.rest', `save -> first generation POST (saves ${TIMED_SAVES + 1}–${rssSaves}, info)`, 'ms', rest.map((s) => s.postMs))] : []),
    row('start.ready', 'spawn -> ready event (synced database, info)', 'ms', [start?.readyMs ?? NaN]),
    row('start.firstend', 'spawn -> first run-end (synced database, info)', 'ms', [start?.firstRunEndMs ?? NaN]),
    row('cold.ready', 'spawn -> ready event (new database: cold sync in the watch process, info)', 'ms', [cold?.readyMs ?? NaN]),
    row('warm.apply', `applySave, one-block save, warm process (${TIMED_SAVES} saves)`, 'ms', warm?.applyMs ?? [], WATCH_TARGETS.applySaveMs),
    row('warm.affected.first', '  workflowsAffectedBy, fresh graph, first call (builds reverse index)', 'ms', warm?.affectedFirstMs ?? [], WATCH_TARGETS.affectedMs, 2),
    row('warm.affected.warm', '  workflowsAffectedBy, same graph, warm call', 'ms', warm?.affectedWarmMs ?? [], WATCH_TARGETS.affectedMs, 3),
    row('warm.graph.create', '  createDependencyGraph (info)', 'ms', warm?.graphCreateMs ?? [], undefined, 2),
    row('warm.open', '  openLiveModel: full sync into a new database (info)', 'ms', [warm?.openMs ?? NaN]),
    row('rss.start', 'watch process RSS after the first run (synced database)', 'MB', [rssStart ?? NaN], WATCH_TARGETS.rssMb),
    row('rss.cold', '  watch process RSS after the first run, new database (cold sync in the process, info)', 'MB', [cold?.rssMb ?? NaN]),
    row('rss.end', `watch process RSS after ${rssEndSaves} saves`, 'MB', [rssEnd ?? NaN], WATCH_TARGETS.rssMb),
    ratioRow('rss.growth', `  RSS after ${rssEndSaves} saves / after the first run`, rssEnd / rssStart, rssSeries.length, WATCH_TARGETS.rssGrowth),
    row('rss.series', `  RSS after each save, all ${rssSeries.length - 1} (info)`, 'MB', rssSeries.slice(1).map((r) => r.mb)),
    ratioRow('rss.floor', `  lowest RSS, last ${quarter} saves / first ${quarter} saves (info)`, floorLast / floorFirst, rssSeries.length - 1),
    row('noop.cli', `no-op quire sync, CLI wall (budget ${WATCH_TARGETS.noopFactor} x node -e 0 + ${WATCH_TARGETS.noopPlusMs} ms)`, 'ms', noop.cli, budget),
    row('noop.node', '  node -e 0, wall', 'ms', noop.node),
    ratioRow('noop.ratio', '  no-op sync / node -e 0 (info)', stats(noop.cli).median / nodeMedian, noop.cli.length),
  ];
  const result = {
    name: 'watch',
    workload: { ...large.manifest.counts, workflow: WATCH_WORKFLOW, block: block.key, blockPath: block.path },
    saves: { timed: TIMED_SAVES, total: rssSaves, done: saves.filter((s) => Number.isFinite(s.postMs)).length, pauseMs: PAUSE_MS },
    requests: { firstRun: start?.firstRunRequests, rerun: rerunRequests },
    rssSeries: rssSeries.map((r) => ({ saves: r.saves, mb: round(r.mb, 1) })),
    warm: warm ? { openMs: round(warm.openMs, 1), importMs: round(warm.importMs, 1), report: warm.report, affectedWorkflows: warm.affectedCount, affectedByGraph: warm.affectedByGraph, maxRssMb: round(warm.maxRssMb, 1) } : undefined,
    noop: { budgetMs: budget, nodeMedianMs: round(nodeMedian, 1) },
    odd,
    baselineNote,
    rows: baselineBuild ? rows.map((r) => ({ ...r, baseline: null, ratio: null, pairedRatio: null })) : rows,
  };
  return result;
}

export function describeWatch(result) {
  const w = result.workload;
  const lines = [
    `workspace: the sync benchmark's (${w.blocks} blocks, ${w.files} files) plus workflow ${w.workflow} (one inline step listing block "${w.block}"). ` +
      `${result.saves.total} saves of ${w.blockPath} (the first ${result.saves.timed} timed as the target), each ${result.saves.pauseMs} ms after the previous rerun's run-end; ` +
      `${result.saves.done} reran. Mock in this process (api auto).`,
    `requests, first run: ${(result.requests.firstRun ?? []).join(', ') || '-'}; one rerun: ${(result.requests.rerun ?? []).join(', ') || '-'}`,
    `watch RSS (VmRSS, MB) by saves: ${result.rssSeries.filter((r, k, all) => r.saves % 10 === 0 || k === all.length - 1).map((r) => `${r.saves}: ${fmt(r.mb, '', 0)}`).join(', ')}`,
  ];
  if (result.warm) {
    const r = result.warm.report;
    lines.push(`warm worker: openLiveModel ${fmt(result.warm.openMs, 'ms', 0)}, peak RSS ${fmt(result.warm.maxRssMb, 'MB', 0)}; a save reached ${result.warm.affectedWorkflows} workflow(s) ` +
      `(graph: ${result.warm.affectedByGraph}); first save's report: blocks updated ${r?.blocks?.updated ?? '?'}, unchanged ${r?.blocks?.unchanged ?? '?'}`);
  }
  lines.push(`no-op sync budget: ${WATCH_TARGETS.noopFactor} x ${fmt(result.noop.nodeMedianMs, 'ms')} (node -e 0 median) + ${WATCH_TARGETS.noopPlusMs} ms = ${fmt(result.noop.budgetMs, 'ms')}`);
  if (result.baselineNote) lines.push(`note: ${result.baselineNote}`);
  if (result.odd.length > 0) lines.push('odd:', ...result.odd.slice(0, 20).map((o) => `  ${o}`), ...(result.odd.length > 20 ? [`  ... and ${result.odd.length - 20} more`] : []));
  else lines.push('nothing odd: every save gave one change, one rerun and one completed run');
  return lines.join('\n');
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
  return { id, label, unit: 'x', median: round(value, 2), min: null, max: null, runs, samples: [], target: target ?? null, pass: target === undefined ? null : value <= target };
}

