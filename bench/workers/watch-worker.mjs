/**
 * The save path of `quire watch` inside one warm process, timed from inside: the live
 * model is opened once (a full sync into its own database), then each save is one block
 * rewritten on disk and applied with applySave(ctx, model, { changed: [path], removed: [] }),
 * as the watch session does with a watcher batch (the returned model is carried forward).
 * Per save, the dependency analysis alone is also timed on a fresh graph of the new model
 * (createDependencyGraph; its first workflowsAffectedBy call builds the reverse index, a
 * second call is warm). The block is put back as it was at the end (and applied, so the
 * database matches the files again). Prints one JSON line.
 *
 *   node watch-worker.mjs <root> <db> <block path, workspace-relative> <workflow> <saves>
 *
 * The build: QUIRE_BENCH_DIST (a snapshot made by the benchmark), else the repo's dist/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { REPO_DIR } from '../lib.mjs';

const [root, dbPath, blockPath, workflow, savesArg] = process.argv.slice(2);
const saves = Number(savesArg ?? 20);
if (!root || !dbPath || !blockPath || !workflow || !Number.isInteger(saves) || saves < 1) {
  process.stderr.write('usage: node watch-worker.mjs <root> <db> <block path> <workflow> <saves>\n');
  process.exit(2);
}
const dist = (rel) => pathToFileURL(join(process.env.QUIRE_BENCH_DIST ?? join(REPO_DIR, 'dist'), rel)).href;

const importStart = performance.now();
const { createAppContext } = await import(dist('cli/context.js'));
const { openLiveModel, applySave } = await import(dist('app/live-model.js'));
const { createDependencyGraph } = await import(dist('core/graph.js'));
const importMs = performance.now() - importStart;
for (const [name, fn] of [['createAppContext', createAppContext], ['openLiveModel', openLiveModel], ['applySave', applySave], ['createDependencyGraph', createDependencyGraph]]) {
  if (typeof fn !== 'function') throw new Error(`this build has no ${name}(); update bench/workers/watch-worker.mjs`);
}

const absolute = join(root, blockPath);
const original = readFileSync(absolute, 'utf8');
const ctx = createAppContext({ root, dbPath });
const out = { importMs, saves, applyMs: [], graphCreateMs: [], affectedFirstMs: [], affectedWarmMs: [], problems: [] };
try {
  const openStart = performance.now();
  let model = await openLiveModel(ctx);
  out.openMs = performance.now() - openStart;

  for (let i = 0; i < saves; i++) {
    writeFileSync(absolute, `${original}\nWarm save ${i + 1} at ${process.hrtime.bigint()}: ${'y'.repeat(i % 13)}\n`);
    const t0 = performance.now();
    const update = await applySave(ctx, model, { changed: [blockPath], removed: [] });
    out.applyMs.push(performance.now() - t0);
    model = update.model;
    if (!update.ok) {
      out.problems.push(...update.problems.map((p) => `${p.file}: ${p.message}`).slice(0, 5));
      continue;
    }
    if (!update.changed.includes(blockPath)) out.problems.push(`save ${i + 1}: applySave did not report ${blockPath} changed (changed: ${update.changed.join(', ')})`);
    if (!update.affected.has(workflow)) out.problems.push(`save ${i + 1}: applySave did not name ${workflow} as affected (affected: ${[...update.affected.keys()].slice(0, 10).join(', ')})`);
    if (i === 0) {
      out.report = update.report;
      out.affectedCount = update.affected.size;
    }

    // The dependency analysis alone, on a fresh graph of the model as it now is.
    const g0 = performance.now();
    const graph = createDependencyGraph(model.workspace);
    const g1 = performance.now();
    const first = graph.workflowsAffectedBy([blockPath]);
    const g2 = performance.now();
    graph.workflowsAffectedBy([blockPath]);
    const g3 = performance.now();
    out.graphCreateMs.push(g1 - g0);
    out.affectedFirstMs.push(g2 - g1);
    out.affectedWarmMs.push(g3 - g2);
    if (!first.includes(workflow)) out.problems.push(`save ${i + 1}: workflowsAffectedBy did not name ${workflow}`);
    if (i === 0) out.affectedByGraph = first.length;
  }

  // Put the block back, and the database with it.
  writeFileSync(absolute, original);
  const restore = await applySave(ctx, model, { changed: [blockPath], removed: [] });
  if (!restore.ok) out.problems.push(`restoring ${blockPath}: ${restore.problems.map((p) => p.message).join('; ')}`);
} finally {
  if (readFileSync(absolute, 'utf8') !== original) writeFileSync(absolute, original);
  await ctx.close();
}
out.maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(out)}\n`);
