/**
 * One sync in a fresh process, timed from inside: module import, then the sync as
 * `quire sync` runs it (syncOnly when the build has it, else syncWorkspace + close).
 * Prints one JSON line. Usage:
 *   node sync-worker.mjs <root> <db> [--phases] [--warm N --mutate <file>]
 * --phases   time the steps of syncWorkspace (what `quire run` syncs with) separately
 *            (connect, read cache, load parsers, read+parse+check, prepare, mirror, close),
 *            calling the same exported functions it calls.
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
const syncModule = await import(dist('app/sync.js'));
const importMs = performance.now() - importStart;

/**
 * One sync as `quire sync` does it: syncOnly (which closes the database itself and may
 * decide a no-op from sizes and mtimes alone) when the build has it, else syncWorkspace +
 * close. Either may be synchronous or async, depending on the build.
 */
const entry = typeof syncModule.syncOnly === 'function' ? 'syncOnly' : 'syncWorkspace';
async function syncOnce() {
  const t0 = performance.now();
  if (entry === 'syncOnly') {
    const report = await syncModule.syncOnly(root, dbPath);
    const syncMs = performance.now() - t0;
    return { syncMs, closeMs: 0, ms: syncMs, report };
  }
  const result = await syncModule.syncWorkspace(root, dbPath);
  const syncMs = performance.now() - t0;
  const t1 = performance.now();
  result.db.close();
  const closeMs = performance.now() - t1;
  return { syncMs, closeMs, ms: syncMs + closeMs, report: result.report };
}

const out = { startupMs: startedAt, importMs, entry };

if (flag('--phases')) {
  out.phases = await phases();
} else {
  const once = await syncOnce();
  out.syncMs = once.syncMs;
  out.closeMs = once.closeMs;
  out.workMs = once.ms;
  out.report = once.report;
}

const warm = Number(option('--warm') ?? 0);
if (warm > 0) {
  const target = option('--mutate');
  const once = async () => {
    const { ms, report } = await syncOnce();
    return { ms, report };
  };
  out.warmNoop = [];
  for (let i = 0; i < warm; i++) out.warmNoop.push(await once());
  out.warmOneFile = [];
  for (let i = 0; i < warm; i++) {
    mutateFile(target, 1000 + i);
    out.warmOneFile.push(await once());
  }
}

out.totalMs = performance.now();
out.maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(out)}\n`);

/**
 * The steps of syncWorkspace (src/app/sync.ts; what `quire run` syncs with), timed one by
 * one; it may diverge if that function changes, so the caller checks the report.
 *   connect     connectDatabase(db), no writes (only when the file exists; else 0)
 *   readCache   pendingMigrations + readFileCache: the parse cache of the last sync
 *   loadParsers import of app/load.js (sync.js imports it lazily; ~0 when already loaded)
 *   readCheck   loadCheckedWorkspace(root, cache): walk, read changed files, parse, check
 *   prepare     prepareDatabase (WAL, migrations), or openDatabase for a new file
 *   mirror      mirrorWorkspace(db, { workspace, files, stats, previous })
 *   close       db.close() (WAL checkpoint)
 */
async function phases() {
  const { existsSync } = await import('node:fs');
  const need = async (rel, names) => {
    const module = await import(dist(rel));
    for (const name of names) if (typeof module[name] !== 'function') throw new Error(`--phases: ${rel} has no ${name}(); update bench/workers/sync-worker.mjs to the new sync steps`);
    return module;
  };
  const { readFileCache } = await need('adapters/db/file-cache.js', ['readFileCache']);
  const { pendingMigrations } = await need('adapters/db/migrate.js', ['pendingMigrations']);
  const { connectDatabase, openDatabase, prepareDatabase } = await need('adapters/db/open.js', ['connectDatabase', 'openDatabase', 'prepareDatabase']);
  const { mirrorWorkspace } = await need('adapters/db/mirror.js', ['mirrorWorkspace']);
  const time = (fn) => {
    const t0 = performance.now();
    const value = fn();
    return [value, performance.now() - t0];
  };
  const [existing, connectMs] = time(() => (existsSync(dbPath) ? connectDatabase(dbPath) : undefined));
  const [previous, readCacheMs] = time(() => (existing && pendingMigrations(existing).length === 0 ? readFileCache(existing) : new Map()));
  const t0 = performance.now();
  const { loadCheckedWorkspace } = await need('app/load.js', ['loadCheckedWorkspace']);
  const loadParsersMs = performance.now() - t0;
  const [checked, readCheckMs] = time(() => loadCheckedWorkspace(root, previous));
  const [db, prepareMs] = time(() => (existing ? prepareDatabase(existing, dbPath) : openDatabase(dbPath)));
  const [report, mirrorMs] = time(() => mirrorWorkspace(db, { workspace: checked.workspace, files: checked.files, stats: checked.stats, previous }));
  const [, closeMs] = time(() => db.close());
  const cached = [...checked.files.values()].filter((f) => f.cached).length;
  return {
    connectMs, readCacheMs, loadParsersMs, readCheckMs, prepareMs, mirrorMs, closeMs,
    totalMs: connectMs + readCacheMs + loadParsersMs + readCheckMs + prepareMs + mirrorMs + closeMs,
    cacheEntries: previous.size, filesReparsed: checked.files.size - cached,
    report,
  };
}
