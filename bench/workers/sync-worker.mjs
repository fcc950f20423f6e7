/**
 * One sync in a fresh process, timed from inside: module import, then the sync as
 * `quire sync` runs it. Prints one JSON line. Works with both shapes of the sync API,
 * detected from what the measured build exports:
 *   new  dist/app/sync.js syncFiles(ctx) and dist/cli/context.js createAppContext({ root, dbPath }):
 *        ctx = createAppContext(...); report = await syncFiles(ctx); await ctx.close()
 *   old  dist/app/sync.js syncOnly(root, db) (closes the database itself), or, in builds
 *        without it, syncWorkspace(root, db) + db.close()
 * Usage:
 *   node sync-worker.mjs <root> <db> [--phases] [--warm N --mutate <file>]
 *   child_process.fork(sync-worker.mjs, [<root>, <db>, '--serve'])
 * --phases   time the steps of the old syncWorkspace (what `quire run` synced with) separately
 *            (connect, read cache, load parsers, read+parse+check, prepare, mirror, close),
 *            calling the same exported functions it calls. A build without them prints
 *            { phases: { unavailable: reason } } instead.
 * --warm N   after the first sync, in the same process: N no-op resyncs, then N resyncs
 *            each after rewriting <file> (the watch-mode case: everything already JIT-compiled).
 *            New shape: ONE context, opened before the first sync, serves the first sync and
 *            every resync, and is closed at the end (as `quire watch` keeps it).
 * --serve    the warm case driven by the parent over IPC, so that two builds' warm processes
 *            can take turns: after the first sync it sends { type: 'ready', workMs, report };
 *            then { type: 'sync' } -> { type: 'synced', ms, report } (the parent rewrites
 *            files itself), { type: 'finish' } -> { type: 'done', closeMs, maxRssMb } and exit.
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
let contextModule;
let entry;
if (typeof syncModule.syncFiles === 'function') {
  contextModule = await import(dist('cli/context.js'));
  if (typeof contextModule.createAppContext !== 'function') {
    throw new Error('dist/app/sync.js exports syncFiles(ctx) but dist/cli/context.js has no createAppContext(); update bench/workers/sync-worker.mjs');
  }
  entry = 'syncFiles';
} else if (typeof syncModule.syncOnly === 'function') {
  entry = 'syncOnly';
} else if (typeof syncModule.syncWorkspace === 'function') {
  entry = 'syncWorkspace';
} else {
  throw new Error(`dist/app/sync.js exports none of syncFiles, syncOnly, syncWorkspace (it has: ${Object.keys(syncModule).join(', ')}); update bench/workers/sync-worker.mjs`);
}
const importMs = performance.now() - importStart;

/** A new-shape context for { root, dbPath } (createAppContext may be synchronous or async). */
const openContext = async () => contextModule.createAppContext({ root, dbPath });

/**
 * One sync as `quire sync` does it (see the top). Either API may be synchronous or async,
 * depending on the build. `warmCtx` (new shape only): an open context to sync with, which
 * is then left open; without it the sync opens and closes its own.
 */
async function syncOnce(warmCtx) {
  const t0 = performance.now();
  if (entry === 'syncFiles') {
    const ctx = warmCtx ?? (await openContext());
    let report;
    try {
      report = await syncModule.syncFiles(ctx);
    } catch (error) {
      if (!warmCtx) await ctx.close();
      throw error;
    }
    const syncMs = performance.now() - t0;
    if (warmCtx) return { syncMs, closeMs: 0, ms: syncMs, report };
    const t1 = performance.now();
    await ctx.close();
    const closeMs = performance.now() - t1;
    return { syncMs, closeMs, ms: syncMs + closeMs, report };
  }
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

/**
 * The watch case: the context every warm sync uses (new shape; the first sync's time
 * includes opening it), and how to end it. Old shape: each sync opens and closes the database.
 */
async function warmSession() {
  if (entry !== 'syncFiles') return { sync: () => syncOnce(), close: async () => 0 };
  const t0 = performance.now();
  const ctx = await openContext();
  const openMs = performance.now() - t0;
  let first = true;
  return {
    async sync() {
      const once = await syncOnce(ctx);
      if (first) {
        first = false;
        return { ...once, syncMs: once.syncMs + openMs, ms: once.ms + openMs, openMs };
      }
      return once;
    },
    async close() {
      const t1 = performance.now();
      await ctx.close();
      return performance.now() - t1;
    },
  };
}

if (flag('--serve')) {
  await serve();
} else {
  await main();
}

async function serve() {
  if (!process.send) throw new Error('--serve: start this worker with child_process.fork');
  const session = await warmSession();
  const first = await session.sync();
  process.on('message', async (message) => {
    try {
      if (message?.type === 'sync') {
        const { ms, report } = await session.sync();
        process.send({ type: 'synced', ms, report });
      } else if (message?.type === 'finish') {
        const closeMs = await session.close();
        process.send({ type: 'done', closeMs, maxRssMb: process.resourceUsage().maxRSS / 1024 }, () => process.exit(0));
      }
    } catch (error) {
      process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1));
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', startupMs: startedAt, importMs, entry, workMs: first.ms, report: first.report });
}

async function main() {
const out = { startupMs: startedAt, importMs, entry };
const warm = Number(option('--warm') ?? 0);
const session = warm > 0 ? await warmSession() : undefined;

if (flag('--phases')) {
  out.phases = await phases();
} else {
  const once = session ? await session.sync() : await syncOnce();
  out.syncMs = once.syncMs;
  out.closeMs = once.closeMs;
  out.workMs = once.ms;
  out.report = once.report;
}

if (warm > 0) {
  const target = option('--mutate');
  const once = async () => {
    const { ms, report } = await session.sync();
    return { ms, report };
  };
  out.warmNoop = [];
  for (let i = 0; i < warm; i++) out.warmNoop.push(await once());
  out.warmOneFile = [];
  for (let i = 0; i < warm; i++) {
    mutateFile(target, 1000 + i);
    out.warmOneFile.push(await once());
  }
  out.warmCloseMs = await session.close();
}

out.totalMs = performance.now();
out.maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(out)}\n`);
}

/**
 * The steps of syncWorkspace (src/app/sync.ts; what `quire run` syncs with), timed one by
 * one; it may diverge if that function changes, so the caller checks the report (and
 * reports the breakdown as unavailable when it does not match).
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
  // A build without the old steps (the new context-based shape may drop or change them)
  // reports that instead of failing: the phase breakdown is a diagnosis, not a measurement.
  const missing = [];
  const need = async (rel, names) => {
    let module = {};
    try {
      module = await import(dist(rel));
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    }
    for (const name of names) if (typeof module[name] !== 'function') missing.push(`${rel} ${name}()`);
    return module;
  };
  const { readFileCache } = await need('adapters/db/file-cache.js', ['readFileCache']);
  const { pendingMigrations } = await need('adapters/db/migrate.js', ['pendingMigrations']);
  const { connectDatabase, openDatabase, prepareDatabase } = await need('adapters/db/open.js', ['connectDatabase', 'openDatabase', 'prepareDatabase']);
  const { mirrorWorkspace } = await need('adapters/db/mirror.js', ['mirrorWorkspace']);
  if (missing.length > 0) return { unavailable: `this build has no ${missing.join(', ')}` };
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
  if (missing.length > 0) {
    existing?.close();
    return { unavailable: `this build has no ${missing.join(', ')}` };
  }
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
