/**
 * One sync in a fresh process, timed from inside: module import, syncWorkspace, close.
 * Prints one JSON line. Usage:
 *   node sync-worker.mjs <root> <db> [--phases] [--warm N --mutate <file>]
 * --phases   time the steps of syncWorkspace separately (cache read, file read, parse+check,
 *            open+migrate, mirror, close), calling the same exported functions it calls.
 * --warm N   after the first sync, in the same process: N no-op resyncs, then N resyncs
 *            each after rewriting <file> (the watch-mode case: everything already JIT-compiled).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { mutateFile } from '../sync-workload.mjs';
import { REPO_DIR } from '../lib.mjs';

const args = process.argv.slice(2);
const [root, dbPath] = args;
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
// The build to measure: a snapshot made by the benchmark (QUIRE_BENCH_DIST), else the repo's dist/.
const dist = (rel) => pathToFileURL(join(process.env.QUIRE_BENCH_DIST ?? join(REPO_DIR, 'dist'), rel)).href;

const startedAt = performance.now(); // ms since this process started
const importStart = performance.now();
const { syncWorkspace } = await import(dist('app/sync.js'));
const importMs = performance.now() - importStart;

const out = { startupMs: startedAt, importMs };

if (flag('--phases')) {
  out.phases = await phases();
} else {
  const t0 = performance.now();
  const result = syncWorkspace(root, dbPath);
  const syncMs = performance.now() - t0;
  const t1 = performance.now();
  result.db.close();
  out.syncMs = syncMs;
  out.closeMs = performance.now() - t1;
  out.workMs = syncMs + out.closeMs;
  out.report = result.report;
}

const warm = Number(option('--warm') ?? 0);
if (warm > 0) {
  const target = option('--mutate');
  const once = () => {
    const t0 = performance.now();
    const result = syncWorkspace(root, dbPath);
    result.db.close();
    return { ms: performance.now() - t0, report: result.report };
  };
  out.warmNoop = Array.from({ length: warm }, once);
  out.warmOneFile = Array.from({ length: warm }, (_, i) => {
    mutateFile(target, 1000 + i);
    return once();
  });
}

out.totalMs = performance.now();
out.maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(out)}\n`);

/** The same steps as syncWorkspace, timed one by one (it may diverge if src/app/sync.ts changes). */
async function phases() {
  const { readCacheIfPresent, loadCheckedWorkspace } = await import(dist('app/load.js'));
  const { readWorkspaceFiles } = await import(dist('adapters/fs/workspace-files.js'));
  const { loadWorkspace } = await import(dist('core/workspace.js'));
  const { openDatabase } = await import(dist('adapters/db/open.js'));
  const { mirrorWorkspace } = await import(dist('adapters/db/mirror.js'));
  void loadCheckedWorkspace;
  const time = (fn) => {
    const t0 = performance.now();
    const value = fn();
    return [value, performance.now() - t0];
  };
  const [cache, cacheMs] = time(() => readCacheIfPresent(dbPath));
  const [read, readMs] = time(() => readWorkspaceFiles(root));
  const [loaded, loadMs] = time(() => loadWorkspace(read.files, cache ? { cache } : {}));
  const problems = [...read.problems, ...loaded.problems];
  if (problems.length > 0) throw new Error(`workspace has ${problems.length} problems, e.g. ${JSON.stringify(problems[0])}`);
  const [db, openMs] = time(() => openDatabase(dbPath));
  const [report, mirrorMs] = time(() => mirrorWorkspace(db, loaded.workspace));
  const [, closeMs] = time(() => db.close());
  return { readCacheMs: cacheMs, readFilesMs: readMs, parseAndCheckMs: loadMs, openMigrateMs: openMs, mirrorMs, closeMs, report };
}
