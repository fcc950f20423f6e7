/**
 * The sync benchmark: cold sync, no-op resync and one-file resync of a 10k-block
 * workspace, each measured
 *   - as the CLI (`node dist/cli/bin.js -w <dir> --db <file> sync --json`) in a fresh
 *     process, wall time from the parent, so process start is included ("cli");
 *   - in a fresh process that imports dist/app/sync.js and times only the sync as
 *     `quire sync` calls it: createAppContext() + syncFiles(ctx) + ctx.close() in builds
 *     with the context API, else syncOnly() (or, in builds without it, syncWorkspace() +
 *     db.close()) ("in-process");
 *   - for resyncs, also repeated inside one long-lived process ("warm", as `quire watch` does);
 * against a baseline of reading the same files and inserting the same rows with plain
 * better-sqlite3. Also the peak RSS of the CLI child.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, breathe, buildOrder, combineBuilds, fmt, round, rssMethod, runNode, runNodeJson, stats } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { DEFAULT_SIZE, mutateFile, oneFileTarget } from './sync-workload.mjs';
import { summarizeProfile } from './profile.mjs';

const SYNC_WORKER = join(BENCH_DIR, 'workers', 'sync-worker.mjs');
const BASELINE_WORKER = join(BENCH_DIR, 'workers', 'baseline-worker.mjs');

export const TARGETS = {
  coldMs: 1000,
  coldRatio: 2.5,
  noopMs: 150,
  oneFileMs: 30,
  rssMb: 200,
};

/**
 * Runs the benchmark. Options: runs (per measurement), keep (leave the temp dir),
 * profile (also write and summarize CPU profiles), size, log (progress to stderr).
 * With a context that has a baseline build, every measurement runs for both builds,
 * taking turns run by run (see buildOrder), and the result compares them (combineBuilds).
 */
export async function benchSync({ runs = 5, keep = false, profile = false, size = DEFAULT_SIZE, log = () => {}, context } = {}) {
  const ctx = context ?? createBenchContext({ keep, log });
  const dir = mkdtempSync(join(ctx.dir, 'sync-'));
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir, { recursive: true });
  let dbCounter = 0;
  const newDb = (label) => join(dbDir, `${label}-${++dbCounter}.db`);
  const dropDb = (file) => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true }));
  const warmers = [];

  try {
    const builds = ctx.builds();
    const { root, manifest, manifestPath, generateMs } = ctx.largeWorkspace(size);
    const expected = { blocks: manifest.counts.blocks, payloads: manifest.counts.payloads, workflows: manifest.counts.workflows };
    // Per build: its samples, and its own databases (builds may differ in schema).
    const per = Object.fromEntries(builds.map((b) => [b.key, {
      build: b, baseline: [], coldCli: [], coldProc: [], noopCli: [], noopProc: [], oneCli: [], oneProc: [], warmNoop: [], warmOneFile: [],
      mainDb: undefined, phaseSamples: { cold: [], noop: [], oneFile: [] }, phasesUnavailable: undefined, profiles: undefined,
    }]));
    const order = (i) => buildOrder(builds, i).map((b) => per[b.key]);
    const what = (s, text) => (builds.length > 1 ? `${text}, ${s.build.key} build` : text);

    const cliSync = (s, db) => {
      const result = runNode([s.build.cli, '-w', root, '--db', db, 'sync', '--json']);
      return { wallMs: result.wallMs, rssMb: result.rssMb, report: JSON.parse(result.stdout) };
    };
    const workerSync = (s, db, extra = [], nodeArgs = []) => runNodeJson([SYNC_WORKER, root, db, ...extra], { nodeArgs, measureRss: false, env: { QUIRE_BENCH_DIST: s.build.dist } });

    // --- Baseline (per build too: measured next to each build's runs, it shows how alike the turns were)
    log('baseline: read files + insert rows with plain better-sqlite3');
    for (let i = 0; i < runs; i++) {
      await breathe();
      for (const s of order(i)) {
        const db = newDb('baseline');
        s.baseline.push(runNodeJson([BASELINE_WORKER, manifestPath, db]));
        dropDb(db);
      }
    }

    // --- Cold sync into a new database
    log('cold sync');
    for (let i = 0; i < runs; i++) {
      await breathe();
      for (const s of order(i)) {
        const db = newDb(`cold-cli-${s.build.key}`);
        const cli = cliSync(s, db);
        expectReport(cli.report, 'added', expected, what(s, 'cold sync (cli)'));
        s.coldCli.push(cli);
        if (i === runs - 1) s.mainDb = db;
        else dropDb(db);
        const db2 = newDb(`cold-proc-${s.build.key}`);
        const proc = workerSync(s, db2);
        expectReport(proc.report, 'added', expected, what(s, 'cold sync (in-process)'));
        s.coldProc.push(proc);
        dropDb(db2);
      }
    }

    // --- No-op resync of the database the last cold sync made
    log('no-op resync');
    for (let i = 0; i < runs; i++) {
      await breathe();
      for (const s of order(i)) {
        const cli = cliSync(s, s.mainDb);
        expectReport(cli.report, 'unchanged', expected, what(s, 'no-op resync (cli)'));
        s.noopCli.push(cli);
        const proc = workerSync(s, s.mainDb);
        expectReport(proc.report, 'unchanged', expected, what(s, 'no-op resync (in-process)'));
        s.noopProc.push(proc);
      }
    }

    // --- Resync after one block file changed (rewritten before every run)
    log('one-file resync');
    const target = oneFileTarget(manifest);
    let revision = 0;
    for (let i = 0; i < runs; i++) {
      await breathe();
      for (const s of order(i)) {
        mutateFile(target, ++revision);
        const cli = cliSync(s, s.mainDb);
        expectOneUpdated(cli.report, what(s, 'one-file resync (cli)'));
        s.oneCli.push(cli);
        mutateFile(target, ++revision);
        const proc = workerSync(s, s.mainDb);
        expectOneUpdated(proc.report, what(s, 'one-file resync (in-process)'));
        s.oneProc.push(proc);
      }
    }

    // --- Warm: the same process resyncs again and again (what `quire watch` does). One
    // long-lived worker per build, driven over IPC so the builds take turns sync by sync.
    log('warm resyncs in one process');
    for (const b of builds) {
      const warmer = startWarmWorker(b, root, newDb(`warm-${b.key}`));
      warmers.push(warmer);
      per[b.key].warmer = warmer;
      expectReport((await warmer.ready).report, 'added', expected, what(per[b.key], 'warm worker, first sync'));
    }
    for (let i = 0; i < runs; i++) {
      await breathe();
      for (const s of order(i)) {
        const r = await s.warmer.sync();
        expectReport(r.report, 'unchanged', expected, what(s, 'warm no-op resync'));
        s.warmNoop.push(r);
      }
    }
    for (let i = 0; i < runs; i++) {
      await breathe();
      for (const s of order(i)) {
        mutateFile(target, ++revision);
        const r = await s.warmer.sync();
        expectOneUpdated(r.report, what(s, 'warm one-file resync'));
        s.warmOneFile.push(r);
      }
    }
    for (const s of Object.values(per)) await s.warmer.finish();

    // --- Where the time goes: the steps of syncWorkspace, timed one by one (median of up to 3 runs each).
    // A build without those steps (or whose steps no longer add up to the same sync) gets none.
    log('phase breakdown');
    const phaseRuns = Math.min(runs, 3);
    for (let i = 0; i < phaseRuns; i++) {
      await breathe();
      for (const s of order(i)) {
        if (s.phasesUnavailable) continue;
        const phaseDb = newDb(`phases-${s.build.key}`);
        const samples = [];
        try {
          for (const [column, prepare] of [['added', () => {}], ['unchanged', () => {}], ['updated', () => mutateFile(target, ++revision)]]) {
            prepare();
            const { phases } = workerSync(s, phaseDb, ['--phases']);
            if (phases.unavailable) throw new Error(phases.unavailable);
            if (column === 'updated') expectOneUpdated(phases.report, 'one-file resync (phases)');
            else expectReport(phases.report, column, expected, `${column === 'added' ? 'cold sync' : 'no-op resync'} (phases)`);
            samples.push(phases);
          }
          s.phaseSamples.cold.push(samples[0]);
          s.phaseSamples.noop.push(samples[1]);
          s.phaseSamples.oneFile.push(samples[2]);
        } catch (error) {
          const lines = String(error?.message ?? error).split('\n').filter(Boolean);
          s.phasesUnavailable = (lines.find((l, n) => n > 0 && /Error\b/.test(l)) ?? lines[0] ?? '').trim().slice(0, 300);
          log(`  phase breakdown unavailable for the ${s.build.key} build: ${s.phasesUnavailable}`);
        } finally {
          dropDb(phaseDb);
        }
      }
    }

    // --- Optional CPU profiles of the in-process sync
    if (profile) {
      log('cpu profiles');
      // Outside the repo: profiles are large and regenerated on every run.
      const profileDir = join(tmpdir(), 'quire-bench-profiles');
      for (const s of order(0)) {
        const suffix = s.build.key === 'current' ? '' : `.${s.build.key}`;
        s.profiles = {};
        const profDb = newDb(`profile-${s.build.key}`);
        for (const [name, prepare] of [['cold', () => {}], ['noop', () => {}], ['oneFile', () => mutateFile(target, ++revision)]]) {
          prepare();
          const file = `sync-${name}${suffix}.cpuprofile`;
          rmSync(join(profileDir, file), { force: true });
          workerSync(s, profDb, [], ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', file]);
          s.profiles[name] = summarizeProfile(join(profileDir, file));
        }
      }
    }

    const results = Object.fromEntries(Object.entries(per).map(([key, s]) => [key, syncResult(s, { runs, manifest, size, generateMs, ctx })]));
    const combined = combineBuilds(results);
    if (results.baseline && results.baseline.entry !== results.current.entry) {
      // The two builds sync through different entry points: say so where it matters.
      const inproc = combined.rows.find((r) => r.id === 'cold.inproc');
      inproc.label = `cold sync, in-process (${entryLabel(results.current.entry)}; before: ${entryLabel(results.baseline.entry)})`;
    }
    return combined;
  } finally {
    for (const warmer of warmers) warmer.kill();
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }
}

function entryLabel(entry) {
  if (entry === 'syncWorkspace') return 'syncWorkspace + close';
  if (entry === 'syncFiles') return 'createAppContext + syncFiles + close';
  return entry;
}

/** One build's result: the rows (as without a baseline), workload, phases, profiles. */
function syncResult(s, { runs, manifest, size, generateMs, ctx }) {
  const { baseline, coldCli, coldProc, noopCli, noopProc, oneCli, oneProc } = s;
  const med = (list, f) => stats(list.map(f)).median;
  const baselineWork = med(baseline, (r) => r.workMs);
  const baselineWall = med(baseline, (r) => r.wallMs);
  const coldProcWork = med(coldProc, (r) => r.workMs);
  const coldCliWall = med(coldCli, (r) => r.wallMs);
  const entry = coldProc[0]?.entry ?? 'syncWorkspace';
  const rows = [
    row('cold.cli', 'cold sync, CLI wall (fresh process)', 'ms', coldCli.map((r) => r.wallMs), TARGETS.coldMs),
    row('cold.inproc', `cold sync, in-process (${entryLabel(entry)})`, 'ms', coldProc.map((r) => r.workMs), TARGETS.coldMs),
    row('baseline.work', 'baseline: read files + insert rows (work)', 'ms', baseline.map((r) => r.workMs)),
    row('baseline.cli', 'baseline, wall (fresh process)', 'ms', baseline.map((r) => r.wallMs)),
    ratioRow('cold.ratio.inproc', 'cold sync / baseline (in-process work)', coldProcWork / baselineWork, runs, TARGETS.coldRatio),
    ratioRow('cold.ratio.cli', 'cold sync / baseline (fresh-process wall)', coldCliWall / baselineWall, runs, TARGETS.coldRatio),
    row('noop.cli', 'no-op resync, CLI wall', 'ms', noopCli.map((r) => r.wallMs), TARGETS.noopMs),
    row('noop.inproc', 'no-op resync, in-process', 'ms', noopProc.map((r) => r.workMs), TARGETS.noopMs),
    row('noop.warm', 'no-op resync, warm process (watch)', 'ms', s.warmNoop.map((r) => r.ms), TARGETS.noopMs),
    row('onefile.cli', 'one-file resync, CLI wall (info: incl. node start)', 'ms', oneCli.map((r) => r.wallMs)),
    row('onefile.inproc', 'one-file resync, in-process', 'ms', oneProc.map((r) => r.workMs), TARGETS.oneFileMs),
    row('onefile.warm', 'one-file resync, warm process (watch)', 'ms', s.warmOneFile.map((r) => r.ms), TARGETS.oneFileMs),
    row('startup.import', 'import dist/app/sync.js (fresh process)', 'ms', [...coldProc, ...noopProc, ...oneProc].map((r) => r.importMs)),
    row('startup.node', 'node start to first line of worker', 'ms', [...coldProc, ...noopProc, ...oneProc].map((r) => r.startupMs)),
    row('rss.cold', 'peak RSS, cold sync CLI', 'MB', coldCli.map((r) => r.rssMb), TARGETS.rssMb),
    row('rss.noop', 'peak RSS, no-op resync CLI', 'MB', noopCli.map((r) => r.rssMb), TARGETS.rssMb),
    row('rss.onefile', 'peak RSS, one-file resync CLI', 'MB', oneCli.map((r) => r.rssMb), TARGETS.rssMb),
    row('rss.baseline', 'peak RSS, baseline process', 'MB', baseline.map((r) => r.rssMb ?? r.maxRssMb)),
  ];
  const phases = s.phasesUnavailable
    ? { unavailable: s.phasesUnavailable }
    : Object.fromEntries(Object.entries(s.phaseSamples).map(([name, list]) => [name, list.length ? medianPhases(list) : undefined]));
  return {
    name: 'sync',
    entry,
    workload: { ...manifest.counts, size, generateMs: round(generateMs, 0), tmpDir: ctx.keep ? ctx.dir : undefined },
    rssMethod: rssMethod(),
    rows,
    phases: roundDeep(phases),
    ...(s.profiles ? { profiles: s.profiles } : {}),
  };
}

/**
 * A long-lived sync worker (sync-worker.mjs --serve) for build `build`: it syncs `db` once
 * on start; `ready` resolves to that first sync; sync() resyncs and resolves to { ms, report };
 * finish() closes its context and lets it exit; kill() ends it if it is still running.
 */
function startWarmWorker(build, root, db) {
  const child = fork(SYNC_WORKER, [root, db, '--serve'], {
    env: { ...process.env, NO_COLOR: '1', QUIRE_BENCH_DIST: build.dist },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-6000);
  });
  const waiters = [];
  let ended;
  child.on('message', (message) => waiters.shift()?.resolve(message));
  const fail = (why) => {
    ended = new Error(`warm sync worker (${build.key} build) ${why}\n${stderr}`.slice(0, 4000));
    for (const w of waiters.splice(0)) w.reject(ended);
  };
  child.on('error', (error) => fail(`failed: ${error.message}`));
  child.on('exit', (code, signal) => {
    // Give the stderr pipe a moment to deliver the last lines (the reason it ended).
    setTimeout(() => fail(`exited (${signal ?? code})`), 50);
  });
  const expect = (type) => new Promise((resolve, reject) => {
    if (ended) return reject(ended);
    waiters.push({
      resolve: (message) => {
        if (message?.type === type) resolve(message);
        else reject(new Error(`warm sync worker (${build.key} build): ${message?.type === 'error' ? message.message : `expected ${type}, got ${JSON.stringify(message).slice(0, 500)}`}`));
      },
      reject,
    });
  });
  const ready = expect('ready');
  ready.catch(() => {}); // awaited by the caller; never an unhandled rejection meanwhile
  return {
    ready,
    async sync() {
      const reply = expect('synced');
      child.send({ type: 'sync' });
      return reply;
    },
    async finish() {
      const reply = expect('done');
      child.send({ type: 'finish' });
      return reply;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

function row(id, label, unit, values, target) {
  const s = stats(values.filter((v) => Number.isFinite(v)));
  return {
    id, label, unit, ...s,
    median: round(s.median, 1), min: round(s.min, 1), max: round(s.max, 1),
    target: target === undefined ? null : target,
    pass: target === undefined ? null : s.median <= target,
  };
}

function ratioRow(id, label, value, runs, target) {
  return { id, label, unit: 'x', median: round(value, 2), min: null, max: null, runs, samples: [], target, pass: value <= target };
}

function expectReport(report, column, expected, what) {
  for (const kind of ['blocks', 'payloads', 'workflows']) {
    if (report?.[kind]?.[column] !== expected[kind]) {
      throw new Error(`${what}: expected ${kind}.${column} = ${expected[kind]}, got ${JSON.stringify(report?.[kind])}`);
    }
  }
}

function expectOneUpdated(report, what) {
  if (report?.blocks?.updated !== 1 || report.payloads.updated !== 0 || report.workflows.updated !== 0) {
    throw new Error(`${what}: expected exactly one block updated, got ${JSON.stringify(report)}`);
  }
}

/** Per-field medians of the numeric fields of phase records (the report of the first run is kept). */
function medianPhases(list) {
  const out = { runs: list.length };
  for (const key of Object.keys(list[0])) {
    out[key] = typeof list[0][key] === 'number' ? stats(list.map((p) => p[key])).median : list[0][key];
  }
  delete out.report;
  return out;
}

function roundDeep(value) {
  if (typeof value === 'number') return round(value, 1);
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  return value;
}

/** Human-readable lines for the phase breakdown (and profile summaries when present). */
export function describeSync(result) {
  const lines = [];
  const w = result.workload;
  lines.push(`workload: ${w.blocks} blocks in ${w.folders} folders, ${w.tags} tags, ${w.blocksWithIncludes} blocks with includes; ` +
    `${w.payloads} payloads (${w.inlinePayloads} inline), ${w.payloadBlocks} payload_blocks rows; ${w.workflows} workflows (${w.workflowPayloads} steps); ` +
    `${w.files} files, ${(w.bytes / 1e6).toFixed(1)} MB. Peak RSS via ${result.rssMethod}.`);
  if (result.phases?.unavailable) {
    lines.push('', `phases of syncWorkspace: not measured for this build (${result.phases.unavailable})`);
  } else if (result.phases) {
    lines.push('', `phases of syncWorkspace, what \`quire run\` syncs with (fresh process each, median of ${Object.values(result.phases)[0]?.runs ?? '?'} runs, ms):`);
    const keys = ['connectMs', 'readCacheMs', 'loadParsersMs', 'readCheckMs', 'prepareMs', 'mirrorMs', 'closeMs', 'totalMs'];
    const names = { connectMs: 'connect', readCacheMs: 'read cache', loadParsersMs: 'load parsers', readCheckMs: 'read+parse+chk', prepareMs: 'prepare', mirrorMs: 'mirror', closeMs: 'close', totalMs: 'total' };
    lines.push(`  ${'scenario'.padEnd(9)} ${keys.map((k) => names[k].padStart(14)).join(' ')}  files reparsed`);
    for (const [name, p] of Object.entries(result.phases)) {
      if (p) lines.push(`  ${name.padEnd(9)} ${keys.map((k) => fmt(p[k]).padStart(14)).join(' ')}  ${String(round(p.filesReparsed, 0)).padStart(14)}`);
    }
  }
  if (result.profiles) {
    for (const [name, summary] of Object.entries(result.profiles)) {
      lines.push('', `cpu profile, ${name} (in-process worker, whole process ${fmt(summary.totalMs, 'ms', 0)}; top self time):`);
      for (const f of summary.topSelf.slice(0, 15)) lines.push(`  ${fmt(f.selfMs).padStart(8)} ms  ${f.name}  ${f.where}`);
      lines.push('  quire functions by inclusive time:');
      for (const f of summary.topQuireInclusive.slice(0, 12)) lines.push(`  ${fmt(f.totalMs).padStart(8)} ms  ${f.name}  ${f.where}`);
      lines.push('  by package/module (self time):');
      for (const m of summary.byModule.slice(0, 8)) lines.push(`  ${fmt(m.selfMs).padStart(8)} ms  ${m.module}`);
    }
  }
  return lines.join('\n');
}
