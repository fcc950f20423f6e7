/**
 * The sync benchmark: cold sync, no-op resync and one-file resync of a 10k-block
 * workspace, each measured
 *   - as the CLI (`node dist/cli/bin.js -w <dir> --db <file> sync --json`) in a fresh
 *     process, wall time from the parent, so process start is included ("cli");
 *   - in a fresh process that imports dist/app/sync.js and times only the sync as
 *     `quire sync` calls it: syncOnly() (or, in builds without it, syncWorkspace() +
 *     db.close()) ("in-process");
 *   - for resyncs, also repeated inside one long-lived process ("warm", as `quire watch` does);
 * against a baseline of reading the same files and inserting the same rows with plain
 * better-sqlite3. Also the peak RSS of the CLI child.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, fmt, round, rssMethod, runNode, runNodeJson, stats } from './lib.mjs';
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
 */
export async function benchSync({ runs = 5, keep = false, profile = false, size = DEFAULT_SIZE, log = () => {}, context } = {}) {
  const ctx = context ?? createBenchContext({ keep, log });
  const dir = mkdtempSync(join(ctx.dir, 'sync-'));
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir, { recursive: true });
  let dbCounter = 0;
  const newDb = (label) => join(dbDir, `${label}-${++dbCounter}.db`);
  const dropDb = (file) => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true }));

  try {
    const { cli: CLI, dist } = ctx.build();
    const { root, manifest, manifestPath, generateMs } = ctx.largeWorkspace(size);
    const expected = { blocks: manifest.counts.blocks, payloads: manifest.counts.payloads, workflows: manifest.counts.workflows };

    const cliSync = (db) => {
      const result = runNode([CLI, '-w', root, '--db', db, 'sync', '--json']);
      return { wallMs: result.wallMs, rssMb: result.rssMb, report: JSON.parse(result.stdout) };
    };
    const workerSync = (db, extra = [], nodeArgs = []) => runNodeJson([SYNC_WORKER, root, db, ...extra], { nodeArgs, measureRss: false, env: { QUIRE_BENCH_DIST: dist } });

    // --- Baseline
    log('baseline: read files + insert rows with plain better-sqlite3');
    const baseline = [];
    for (let i = 0; i < runs; i++) {
      const db = newDb('baseline');
      baseline.push(runNodeJson([BASELINE_WORKER, manifestPath, db]));
      dropDb(db);
    }

    // --- Cold sync into a new database
    log('cold sync');
    const coldCli = [];
    const coldProc = [];
    let mainDb;
    for (let i = 0; i < runs; i++) {
      const db = newDb('cold-cli');
      const cli = cliSync(db);
      expectReport(cli.report, 'added', expected, 'cold sync (cli)');
      coldCli.push(cli);
      if (i === runs - 1) mainDb = db;
      else dropDb(db);
      const db2 = newDb('cold-proc');
      const proc = workerSync(db2);
      expectReport(proc.report, 'added', expected, 'cold sync (in-process)');
      coldProc.push(proc);
      dropDb(db2);
    }

    // --- No-op resync of the database the last cold sync made
    log('no-op resync');
    const noopCli = [];
    const noopProc = [];
    for (let i = 0; i < runs; i++) {
      const cli = cliSync(mainDb);
      expectReport(cli.report, 'unchanged', expected, 'no-op resync (cli)');
      noopCli.push(cli);
      const proc = workerSync(mainDb);
      expectReport(proc.report, 'unchanged', expected, 'no-op resync (in-process)');
      noopProc.push(proc);
    }

    // --- Resync after one block file changed (rewritten before every run)
    log('one-file resync');
    const target = oneFileTarget(manifest);
    const oneCli = [];
    const oneProc = [];
    let revision = 0;
    for (let i = 0; i < runs; i++) {
      mutateFile(target, ++revision);
      const cli = cliSync(mainDb);
      expectOneUpdated(cli.report, 'one-file resync (cli)');
      oneCli.push(cli);
      mutateFile(target, ++revision);
      const proc = workerSync(mainDb);
      expectOneUpdated(proc.report, 'one-file resync (in-process)');
      oneProc.push(proc);
    }

    // --- Warm: the same process resyncs again and again (what `quire watch` does)
    log('warm resyncs in one process');
    const warmDb = newDb('warm');
    const warm = workerSync(warmDb, ['--warm', String(runs), '--mutate', target]);
    warm.warmNoop.forEach((r) => expectReport(r.report, 'unchanged', expected, 'warm no-op resync'));
    warm.warmOneFile.forEach((r) => expectOneUpdated(r.report, 'warm one-file resync'));
    dropDb(warmDb);

    // --- Where the time goes: the steps of syncWorkspace, timed one by one (median of up to 3 runs each)
    log('phase breakdown');
    const phaseRuns = Math.min(runs, 3);
    const phaseSamples = { cold: [], noop: [], oneFile: [] };
    for (let i = 0; i < phaseRuns; i++) {
      const phaseDb = newDb('phases');
      phaseSamples.cold.push(workerSync(phaseDb, ['--phases']).phases);
      expectReport(phaseSamples.cold.at(-1).report, 'added', expected, 'cold sync (phases)');
      phaseSamples.noop.push(workerSync(phaseDb, ['--phases']).phases);
      expectReport(phaseSamples.noop.at(-1).report, 'unchanged', expected, 'no-op resync (phases)');
      mutateFile(target, ++revision);
      phaseSamples.oneFile.push(workerSync(phaseDb, ['--phases']).phases);
      expectOneUpdated(phaseSamples.oneFile.at(-1).report, 'one-file resync (phases)');
      dropDb(phaseDb);
    }
    const phases = Object.fromEntries(Object.entries(phaseSamples).map(([name, list]) => [name, medianPhases(list)]));

    // --- Optional CPU profiles of the in-process sync
    let profiles;
    if (profile) {
      log('cpu profiles');
      // Outside the repo: profiles are large and regenerated on every run.
      const profileDir = join(tmpdir(), 'quire-bench-profiles');
      profiles = {};
      const profDb = newDb('profile');
      for (const [name, prepare] of [['cold', () => {}], ['noop', () => {}], ['oneFile', () => mutateFile(target, ++revision)]]) {
        prepare();
        rmSync(join(profileDir, `sync-${name}.cpuprofile`), { force: true });
        workerSync(profDb, [], ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `sync-${name}.cpuprofile`]);
        profiles[name] = summarizeProfile(join(profileDir, `sync-${name}.cpuprofile`));
      }
    }

    // --- Rows
    const med = (list, f) => stats(list.map(f)).median;
    const baselineWork = med(baseline, (r) => r.workMs);
    const baselineWall = med(baseline, (r) => r.wallMs);
    const coldProcWork = med(coldProc, (r) => r.workMs);
    const coldCliWall = med(coldCli, (r) => r.wallMs);
    const entry = coldProc[0]?.entry ?? 'syncWorkspace';
    const rows = [
      row('cold.cli', 'cold sync, CLI wall (fresh process)', 'ms', coldCli.map((r) => r.wallMs), TARGETS.coldMs),
      row('cold.inproc', `cold sync, in-process (${entry}${entry === 'syncWorkspace' ? ' + close' : ''})`, 'ms', coldProc.map((r) => r.workMs), TARGETS.coldMs),
      row('baseline.work', 'baseline: read files + insert rows (work)', 'ms', baseline.map((r) => r.workMs)),
      row('baseline.cli', 'baseline, wall (fresh process)', 'ms', baseline.map((r) => r.wallMs)),
      ratioRow('cold.ratio.inproc', 'cold sync / baseline (in-process work)', coldProcWork / baselineWork, runs, TARGETS.coldRatio),
      ratioRow('cold.ratio.cli', 'cold sync / baseline (fresh-process wall)', coldCliWall / baselineWall, runs, TARGETS.coldRatio),
      row('noop.cli', 'no-op resync, CLI wall', 'ms', noopCli.map((r) => r.wallMs), TARGETS.noopMs),
      row('noop.inproc', 'no-op resync, in-process', 'ms', noopProc.map((r) => r.workMs), TARGETS.noopMs),
      row('noop.warm', 'no-op resync, warm process (watch)', 'ms', warm.warmNoop.map((r) => r.ms), TARGETS.noopMs),
      row('onefile.cli', 'one-file resync, CLI wall (info: incl. node start)', 'ms', oneCli.map((r) => r.wallMs)),
      row('onefile.inproc', 'one-file resync, in-process', 'ms', oneProc.map((r) => r.workMs), TARGETS.oneFileMs),
      row('onefile.warm', 'one-file resync, warm process (watch)', 'ms', warm.warmOneFile.map((r) => r.ms), TARGETS.oneFileMs),
      row('startup.import', 'import dist/app/sync.js (fresh process)', 'ms', [...coldProc, ...noopProc, ...oneProc].map((r) => r.importMs)),
      row('startup.node', 'node start to first line of worker', 'ms', [...coldProc, ...noopProc, ...oneProc].map((r) => r.startupMs)),
      row('rss.cold', 'peak RSS, cold sync CLI', 'MB', coldCli.map((r) => r.rssMb), TARGETS.rssMb),
      row('rss.noop', 'peak RSS, no-op resync CLI', 'MB', noopCli.map((r) => r.rssMb), TARGETS.rssMb),
      row('rss.onefile', 'peak RSS, one-file resync CLI', 'MB', oneCli.map((r) => r.rssMb), TARGETS.rssMb),
      row('rss.baseline', 'peak RSS, baseline process', 'MB', baseline.map((r) => r.rssMb ?? r.maxRssMb)),
    ];

    return {
      name: 'sync',
      entry,
      workload: { ...manifest.counts, size, generateMs: round(generateMs, 0), tmpDir: ctx.keep ? ctx.dir : undefined },
      rssMethod: rssMethod(),
      rows,
      phases: roundDeep(phases),
      ...(profiles ? { profiles } : {}),
    };
  } finally {
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }
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
  if (result.phases) {
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
