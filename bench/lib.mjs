/**
 * Small helpers shared by the benchmarks: statistics, timing, child processes with
 * peak RSS, table printing. No dependencies beyond Node itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = dirname(BENCH_DIR);
export const CLI = join(REPO_DIR, 'dist', 'cli', 'bin.js');

/**
 * Copies the build (dist/, package.json; node_modules and schemas linked) into `dir`, so a
 * rebuild of the repo's dist/ during the benchmark (tests run `npm run build`) cannot change
 * what is measured halfway. `fromDist`: another build to measure (default the repo's dist/).
 * Returns the snapshot's dist folder and CLI entry.
 */
export function snapshotBuild(dir, fromDist = join(REPO_DIR, 'dist'), { sourceRoot = REPO_DIR } = {}) {
  mkdirSync(dir, { recursive: true });
  cpSync(fromDist, join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  cpSync(join(sourceRoot, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  if (existsSync(join(sourceRoot, 'schemas'))) symlinkSync(join(sourceRoot, 'schemas'), join(dir, 'schemas'), 'dir');
  return { dist: join(dir, 'dist'), cli: join(dir, 'dist', 'cli', 'bin.js') };
}

/** `git -C <repo> <args>`, trimmed stdout; throws with git's message on failure. */
export function git(args, { cwd = REPO_DIR, input } = {}) {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(input !== undefined ? { input } : {}) });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed (status ${result.status}): ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** The repo's HEAD: { commit, subject, dirty } (dirty: tracked files changed; what is measured is dist/, built from them or not). */
export function headInfo() {
  try {
    const [commit, subject] = git(['log', '-1', '--format=%H%n%s', 'HEAD']).split('\n');
    const dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    return { commit, subject, dirty };
  } catch {
    return { commit: null, subject: null, dirty: null };
  }
}

/**
 * Builds git ref `ref` of this repo into `dir` (which must not exist): the tree from
 * `git archive` (nothing in the repo changes: no worktree, no index, no lock), the repo's
 * node_modules linked in, then the repo's TypeScript compiler with tsconfig.build.json
 * (tsconfig.json for refs without it). Returns { dist, cli, root, ref, commit, subject, project, buildMs }.
 */
export function buildGitRef(ref, dir, { log = () => {} } = {}) {
  let commit;
  try {
    commit = git(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`]);
  } catch {
    throw new Error(`--baseline: ${JSON.stringify(ref)} is not a commit of ${REPO_DIR}`);
  }
  const subject = git(['log', '-1', '--format=%s', commit]);
  const tsc = join(REPO_DIR, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) throw new Error(`--baseline: ${tsc} not found (npm install first)`);
  const start = performance.now();
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('git', ['archive', '--format=tar', commit], { cwd: REPO_DIR, maxBuffer: 1024 * 1024 * 1024 });
  if (archive.error) throw archive.error;
  if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr.toString().trim()}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.error) throw untar.error;
  if (untar.status !== 0) throw new Error(`tar -x into ${dir} failed: ${untar.stderr.toString().trim()}`);
  symlinkSync(join(REPO_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const project = existsSync(join(dir, 'tsconfig.build.json')) ? 'tsconfig.build.json' : 'tsconfig.json';
  log(`building ${ref} (${commit.slice(0, 10)} ${subject}) in ${dir}: tsc -p ${project}`);
  const build = spawnSync(process.execPath, [tsc, '-p', project], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (build.error) throw build.error;
  if (build.status !== 0) throw new Error(`--baseline: tsc failed for ${ref} (${commit.slice(0, 10)}):\n${(build.stdout + build.stderr).slice(0, 4000)}`);
  const cli = join(dir, 'dist', 'cli', 'bin.js');
  if (!existsSync(cli)) throw new Error(`--baseline: the build of ${ref} has no dist/cli/bin.js`);
  return { dist: join(dir, 'dist'), cli, root: dir, ref, commit, subject, project, buildMs: performance.now() - start };
}

/**
 * Lets the event loop turn once: the benchmarks' loops of synchronous child runs call it
 * between runs, so that a SIGINT/SIGTERM sent to this process alone is handled (and the
 * temp dir removed) without waiting for the whole benchmark.
 */
export function breathe() {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The order in which the builds run in run `i` (0-based) of a measurement: alternating,
 * so that neither build always goes first (baseline, current, then current, baseline, ...).
 * With one build, just that build.
 */
export function buildOrder(builds, i) {
  return i % 2 === 0 ? builds : [...builds].reverse();
}

/**
 * One benchmark's result from its per-build results ({ current, baseline? }, each
 * { name, rows, ... }): the current build's result as without a baseline, each row with
 * `baseline` ({ median, min, max, runs, samples, pass } of the same row measured on the
 * baseline build), `ratio` (current median / baseline median), `pairedRatio` (median of
 * the run-by-run ratios, when the samples pair up; null otherwise), and `baseline` holding
 * the baseline build's other fields (phases, detail, ...).
 */
export function combineBuilds({ current, baseline }) {
  if (!baseline) return current;
  const { name: _name, rows: baseRows, ...baseRest } = baseline;
  const byId = new Map(baseRows.map((r) => [r.id, r]));
  const rows = current.rows.map((r) => {
    const b = byId.get(r.id);
    if (!b) return { ...r, baseline: null, ratio: null, pairedRatio: null };
    const ratio = Number.isFinite(r.median) && Number.isFinite(b.median) && b.median !== 0 ? round(r.median / b.median, 3) : null;
    // The samples were taken in turns (run i of one build next to run i of the other): the
    // median of the per-run ratios is less sensitive to load that drifts over the whole run.
    const pairs = (r.samples ?? []).map((v, i) => v / b.samples?.[i]).filter((v) => Number.isFinite(v));
    const pairedRatio = pairs.length > 1 && pairs.length === r.samples.length && r.samples.length === b.samples?.length ? round(median(pairs), 3) : null;
    return { ...r, baseline: { median: b.median, min: b.min, max: b.max, runs: b.runs, samples: b.samples, pass: b.pass }, ratio, pairedRatio };
  });
  for (const b of baseRows) {
    if (!current.rows.some((r) => r.id === b.id)) rows.push({ ...b, median: NaN, min: NaN, max: NaN, runs: 0, samples: [], pass: null, baseline: { median: b.median, min: b.min, max: b.max, runs: b.runs, samples: b.samples, pass: b.pass }, ratio: null, pairedRatio: null });
  }
  return { ...current, rows, baseline: baseRest };
}
export const RSS_HOOK = join(BENCH_DIR, 'workers', 'rss-hook.mjs');

// --- Statistics ---

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** { median, min, max, runs, samples } of a list of numbers. */
export function stats(values) {
  return {
    median: median(values),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
    runs: values.length,
    samples: values.map((v) => round(v, 2)),
  };
}

export function round(value, digits = 1) {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// --- Timing ---

/** Runs `fn` and returns [result, milliseconds]. */
export function timeSync(fn) {
  const start = performance.now();
  const result = fn();
  return [result, performance.now() - start];
}

export async function timeAsync(fn) {
  const start = performance.now();
  const result = await fn();
  return [result, performance.now() - start];
}

/**
 * CLOCK_MONOTONIC in milliseconds (process.hrtime): one clock for every process on the
 * machine, so a time taken in a mock server process compares with one taken here.
 */
export function monoMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

// --- Child processes and peak RSS ---

let rssMethodCache;

/**
 * How peak RSS of a child is measured: GNU time (`/usr/bin/time -v`, covers the whole
 * process tree's biggest process) when it works here, else a `--import` hook in the
 * node child that writes process.resourceUsage().maxRSS at exit.
 */
export function rssMethod() {
  if (rssMethodCache) return rssMethodCache;
  rssMethodCache = 'hook';
  if (existsSync('/usr/bin/time')) {
    const probe = spawnSync('/usr/bin/time', ['-v', process.execPath, '-e', '0'], { encoding: 'utf8' });
    if (probe.status === 0 && /Maximum resident set size \(kbytes\): \d+/.test(probe.stderr)) rssMethodCache = 'gnu-time';
  }
  return rssMethodCache;
}

/**
 * Runs `node <nodeArgs...> <args...>` in a fresh process. Returns wall time measured
 * from the parent (spawn to exit, so process start is included), peak RSS in MB,
 * stdout, stderr and status. Throws when the child fails, unless `allowFail`.
 */
export function runNode(args, { nodeArgs = [], env = {}, cwd = REPO_DIR, allowFail = false, measureRss = true } = {}) {
  const plan = planChild(args, { nodeArgs, env, measureRss });
  const startedAtMs = monoMs();
  const start = performance.now();
  const child = spawnSync(plan.command, plan.argv, { cwd, env: plan.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - start;
  if (child.error) throw child.error;
  return finishChild(plan, args, { wallMs, startedAtMs, stdout: child.stdout ?? '', stderr: child.stderr ?? '', status: child.status, allowFail });
}

/**
 * runNode without blocking this process's event loop (for a server in this process that
 * the child talks to). Resolves like runNode; `startedAtMs` is monoMs() at spawn.
 */
export function runNodeAsync(args, { nodeArgs = [], env = {}, cwd = REPO_DIR, allowFail = false, measureRss = true } = {}) {
  const plan = planChild(args, { nodeArgs, env, measureRss });
  return new Promise((resolve, reject) => {
    const startedAtMs = monoMs();
    const start = performance.now();
    const child = spawn(plan.command, plan.argv, { cwd, env: plan.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      const wallMs = performance.now() - start;
      try {
        resolve(finishChild(plan, args, {
          wallMs, startedAtMs, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status, allowFail,
        }));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * How to spawn `node <nodeArgs> <args>` so its peak RSS can be read afterwards: under GNU time
 * (`/usr/bin/time -v`) where it works, else with the exit hook writing to `rssFile`.
 */
export function planChild(args, { nodeArgs = [], env = {}, measureRss = true } = {}) {
  const method = measureRss ? rssMethod() : 'none';
  let command = process.execPath;
  let argv = [...nodeArgs, ...args];
  let rssFile;
  const childEnv = { ...process.env, NO_COLOR: '1', ...env };
  if (method === 'gnu-time') {
    command = '/usr/bin/time';
    argv = ['-v', process.execPath, ...argv];
  } else if (method === 'hook') {
    rssFile = join(tmpdir(), `quire-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
    argv = ['--import', RSS_HOOK, ...argv];
    childEnv.QUIRE_BENCH_RSS_FILE = rssFile;
  }
  return { method, command, argv, env: childEnv, rssFile };
}

function finishChild(plan, args, { wallMs, startedAtMs, stdout, stderr, status, allowFail }) {
  let rssMb = NaN;
  if (plan.method === 'gnu-time') {
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (match) rssMb = Number(match[1]) / 1024;
    // Keep only the child's own stderr (GNU time appends its report after it).
    const cut = stderr.lastIndexOf('\tCommand being timed:');
    if (cut !== -1) stderr = stderr.slice(0, cut).replace(/Command exited with non-zero status \d+\n$/, '');
  } else if (plan.method === 'hook' && plan.rssFile && existsSync(plan.rssFile)) {
    rssMb = Number(readFileSync(plan.rssFile, 'utf8')) / 1024;
    rmSync(plan.rssFile, { force: true });
  }
  if (status !== 0 && !allowFail) {
    throw new Error(`child failed (status ${status}): node ${args.join(' ')}\n${stderr}\n${stdout}`.slice(0, 4000));
  }
  return { wallMs, startedAtMs, rssMb, stdout, stderr, status };
}

/** Runs a node script that prints one JSON object as its last stdout line; returns it with wallMs/rssMb. */
export function runNodeJson(args, options = {}) {
  const result = runNode(args, options);
  const lines = result.stdout.trim().split('\n');
  let json;
  try {
    json = JSON.parse(lines.at(-1));
  } catch {
    throw new Error(`child printed no JSON: node ${args.join(' ')}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  }
  return { ...json, wallMs: result.wallMs, rssMb: result.rssMb };
}

// --- Output ---

/** Renders rows (arrays of strings) as an aligned text table; numeric-looking cells are right-aligned. */
export function formatTable(header, rows) {
  const all = [header, ...rows].map((row) => row.map((cell) => String(cell ?? '')));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const numeric = (s) => /^[-+]?[\d.,]+(?:\s?(?:ms|MB|x|%))?$/.test(s);
  const line = (row) => row.map((cell, i) => (numeric(cell) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(all[0]), rule, ...all.slice(1).map(line)].join('\n');
}

export function fmt(value, unit = '', digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '-';
  return `${round(value, digits).toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** A deterministic PRNG (mulberry32), so every run generates the same workspace. */
export function createRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  const pick = (list) => list[Math.floor(next() * list.length)];
  const chance = (p) => next() < p;
  /** `count` distinct items of `list`. */
  const sample = (list, count) => {
    const chosen = new Set();
    while (chosen.size < Math.min(count, list.length)) chosen.add(pick(list));
    return [...chosen];
  };
  return { next, int, pick, chance, sample };
}
