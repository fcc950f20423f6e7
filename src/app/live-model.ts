/**
 * The validated model a long-lived process keeps between saves (`quire watch`). A save
 * is applied from the paths the watcher reports: only those files are read and parsed
 * (every other file's parse is reused from memory: no walk, no stat), the model is
 * checked, the changed rows are mirrored in one transaction, and the workflows whose
 * prompts the change can reach are named. A save that leaves the workspace invalid
 * changes nothing: the last good model stays, and its files are read again with the next
 * save, so a fix anywhere is seen.
 */
import { findChanges, hasChanges } from '../core/changes.js';
import type { Problem } from '../core/errors.js';
import { createDependencyGraph, type DependencyGraph } from '../core/graph.js';
import type { SyncReport } from '../core/sync-report.js';
import { unchangedReport } from '../core/sync-report.js';
import type { FileKind, SourceFile, Workspace } from '../core/types.js';
import type { Block } from '../core/types.js';
import { loadWorkspace, parseFile, type CachedFile, type FileState } from '../core/workspace.js';
import type { AppContext } from './context.js';
import { syncModel } from './sync.js';

export interface LiveModel {
  workspace: Workspace;
  hashes: Map<string, string>;
  files: Map<string, FileState>;
  stats: Map<string, { size: number; mtimeMs: number }>;
  graph: DependencyGraph;
  /** Paths of a save that was refused: read again with the next one. */
  pending: Set<string>;
}

export type ModelUpdate =
  | {
      ok: true;
      model: LiveModel;
      /** Files whose content changed (added or edited), and files that are gone. */
      changed: string[];
      removed: string[];
      /** Workflows whose prompts the change can reach, with the first changed file that reaches each. */
      affected: Map<string, string>;
      report: SyncReport;
    }
  | { ok: false; problems: Problem[]; model: LiveModel };

/** Syncs the whole workspace once and keeps it. @throws ProblemsError when it is invalid */
export async function openLiveModel(ctx: AppContext): Promise<LiveModel> {
  const synced = await syncModel(ctx);
  return { workspace: synced.workspace, hashes: synced.hashes, files: synced.files, stats: synced.stats, graph: createDependencyGraph(synced.workspace), pending: new Set() };
}

/** Applies one save (or burst of saves) to the model. */
export async function applySave(ctx: AppContext, model: LiveModel, batch: { changed: readonly string[]; removed: readonly string[] }): Promise<ModelUpdate> {
  const touched = new Set([...batch.changed, ...batch.removed, ...model.pending]);
  const fresh = new Map<string, SourceFile>();
  const readProblems: Problem[] = [];
  for (const path of touched) {
    const read = ctx.files.readOne(path);
    readProblems.push(...read.problems);
    if (read.file) fresh.set(path, read.file);
  }
  const gone = new Set([...touched].filter((path) => !fresh.has(path) && !readProblems.some((p) => p.file === path)));

  const sources: SourceFile[] = [...fresh.values()];
  for (const [path, state] of model.files) {
    if (touched.has(path)) continue;
    const stat = model.stats.get(path)!;
    sources.push({ path, kind: state.parsed.kind as FileKind, knownHash: state.hash, size: stat.size, mtimeMs: stat.mtimeMs });
  }
  const previous = new Map<string, CachedFile>([...model.files].map(([path, state]) => [path, { hash: state.hash, parsed: state.parsed }]));
  // A save that only edits block bodies (every saved file a block before and after, with the
  // same key, tags and includes: editing a prompt's text, the common case) cannot change
  // anything another file refers to: the cross-file checks, which walk the whole model, are
  // skipped, and the dependency graph is kept. Anything else is checked in full.
  const bodiesOnly = readProblems.length === 0 && [...touched].every((path) => {
    const before = model.files.get(path)?.parsed;
    const file = fresh.get(path);
    if (before?.kind !== 'block' || file?.kind !== 'block' || file.bytes === undefined) return false;
    const now = parseFile(file.path, file.kind, file.bytes, '').parsed;
    return now?.kind === 'block' && sameBlockShape(before.block, now.block);
  });
  const loaded = loadWorkspace(sources, { cache: previous, unreadable: readProblems.map((p) => p.file), crossFileChecks: !bodiesOnly });
  const problems = [...readProblems, ...loaded.problems];
  if (problems.length > 0) return { ok: false, problems, model: { ...model, pending: touched } };

  const changes = findChanges(loaded.files, previous);
  const stores = await ctx.stores.forWriting();
  const counts = { blocks: loaded.workspace.blocks.size, payloads: loaded.workspace.payloads.size, workflows: loaded.workspace.workflows.size };
  const report = hasChanges(changes) ? await stores.mirror.apply(loaded.workspace, changes) : unchangedReport(counts);
  const stats = new Map(model.stats);
  for (const path of gone) stats.delete(path);
  for (const file of fresh.values()) stats.set(file.path, { size: file.size, mtimeMs: file.mtimeMs });
  const recorded = [...fresh.values()].flatMap((file) => {
    const state = loaded.files.get(file.path);
    return state ? [{ path: file.path, size: file.size, mtimeMs: file.mtimeMs, state }] : [];
  });
  // The next sync's shortcut (a fingerprint of every file: ~9 ms on 10k files) is written once, by markSynced.
  if (recorded.length > 0 || changes.removedPaths.length > 0) stores.cache.record({ changed: recorded, removed: changes.removedPaths, counts });

  const next: LiveModel = { workspace: loaded.workspace, hashes: loaded.hashes, files: loaded.files, stats, graph: bodiesOnly ? model.graph : createDependencyGraph(loaded.workspace), pending: new Set() };
  const changed = [...changes.paths].sort();
  const removed = [...changes.removedPaths].sort();
  // A changed file reaches what depends on it now; a removed (or retagged) one, what depended on it before.
  const affected = new Map<string, string>();
  for (const path of [...changed, ...removed]) {
    for (const name of [...next.graph.workflowsAffectedBy([path]), ...model.graph.workflowsAffectedBy([path])]) {
      if (!affected.has(name) && next.workspace.workflows.has(name)) affected.set(name, path);
    }
  }
  return { ok: true, model: next, changed, removed, affected, report };
}

/** Same key, tags and includes: the block's place in the include graph is unchanged. */
function sameBlockShape(a: Block, b: Block): boolean {
  const includes = (block: Block) => block.includes.map((i) => `${i.kind}:${i.name}`).join('\n');
  return a.key === b.key && a.tags.join('\n') === b.tags.join('\n') && includes(a) === includes(b);
}

/** Records the model as the last sync, so the next `quire sync` can tell nothing changed from file stats alone. */
export async function markModelSynced(ctx: AppContext, model: LiveModel): Promise<void> {
  const { workspace } = model;
  (await ctx.stores.forWriting()).cache.markSynced(model.hashes, { blocks: workspace.blocks.size, payloads: workspace.payloads.size, workflows: workspace.workflows.size });
}
