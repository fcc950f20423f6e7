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
import { contentHash } from '../core/hash.js';
import { mirrorFingerprint } from '../core/fingerprint.js';
import type { MirrorStore } from '../core/ports.js';
import type { Problem } from '../core/errors.js';
import { createDependencyGraph, type DependencyGraph } from '../core/graph.js';
import type { SyncReport } from '../core/sync-report.js';
import { unchangedReport } from '../core/sync-report.js';
import type { FileKind, SourceFile, Workspace } from '../core/types.js';
import type { Block } from '../core/types.js';
import { loadWorkspace, parseFile, type CachedFile, type FileState } from '../core/workspace.js';
import type { AppContext } from './context.js';
import { syncModel } from './sync.js';

/**
 * The maps are the model's own: a body-only save edits them in place (any other save
 * builds new ones). Whatever reads the model across an await takes its own copy or slice
 * first (a run: `workflowSlice`).
 */
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

  // A save that only edits block bodies (every saved file a block before and after, with the
  // same key, tags and includes: editing a prompt's text, the common case) cannot change
  // anything another file refers to, so the model is updated in place of a reload: the
  // saved blocks' entries are replaced in copies of the maps, the cross-file checks (which
  // walk the whole model) are skipped, and the dependency graph is kept. Anything else is
  // loaded and checked in full.
  const edits = readProblems.length === 0 ? bodyEdits(model, touched, fresh) : undefined;
  if (edits) return applyBodyEdits(ctx, model, edits);

  const sources: SourceFile[] = [...fresh.values()];
  for (const [path, state] of model.files) {
    if (touched.has(path)) continue;
    const stat = model.stats.get(path)!;
    sources.push({ path, kind: state.parsed.kind as FileKind, knownHash: state.hash, size: stat.size, mtimeMs: stat.mtimeMs });
  }
  const previous = new Map<string, CachedFile>([...model.files].map(([path, state]) => [path, { hash: state.hash, parsed: state.parsed }]));
  const loaded = loadWorkspace(sources, { cache: previous, unreadable: readProblems.map((p) => p.file) });
  const problems = [...readProblems, ...loaded.problems];
  if (problems.length > 0) return { ok: false, problems, model: { ...model, pending: touched } };

  const changes = findChanges(loaded.files, previous);
  const stores = await ctx.stores.forWriting();
  const counts = { blocks: loaded.workspace.blocks.size, payloads: loaded.workspace.payloads.size, workflows: loaded.workspace.workflows.size };
  const report = hasChanges(changes) ? await stores.mirror.apply(loaded.workspace, changes, sharedFingerprint(stores.mirror, loaded.hashes)) : unchangedReport(counts);
  const stats = new Map(model.stats);
  for (const path of gone) stats.delete(path);
  for (const file of fresh.values()) stats.set(file.path, { size: file.size, mtimeMs: file.mtimeMs });
  const recorded = [...fresh.values()].flatMap((file) => {
    const state = loaded.files.get(file.path);
    return state ? [{ path: file.path, size: file.size, mtimeMs: file.mtimeMs, state }] : [];
  });
  // The next sync's shortcut (a fingerprint of every file: ~9 ms on 10k files) is written once, by markSynced.
  if (recorded.length > 0 || changes.removedPaths.length > 0) stores.cache.record({ changed: recorded, removed: changes.removedPaths, counts });

  const next: LiveModel = { workspace: loaded.workspace, hashes: loaded.hashes, files: loaded.files, stats, graph: createDependencyGraph(loaded.workspace), pending: new Set() };
  const changed = [...changes.paths].sort();
  const removed = [...changes.removedPaths].sort();
  const affected = affectedWorkflows(model, next, [...changed, ...removed]);
  return { ok: true, model: next, changed, removed, affected, report };
}

/** A changed file reaches what depends on it now; a removed (or retagged) one, what depended on it before. */
function affectedWorkflows(before: LiveModel, after: LiveModel, paths: readonly string[]): Map<string, string> {
  const affected = new Map<string, string>();
  for (const path of paths) {
    for (const name of [...after.graph.workflowsAffectedBy([path]), ...before.graph.workflowsAffectedBy([path])]) {
      if (!affected.has(name) && after.workspace.workflows.has(name)) affected.set(name, path);
    }
  }
  return affected;
}

interface BodyEdit {
  file: SourceFile;
  hash: string;
  block: Block;
  /** Same bytes as before (a save without edits, a touch): only the file's stats are new. */
  same: boolean;
}

/**
 * The saved files as body-only block edits, or undefined when any of them is something
 * else (a new, removed, renamed, retagged or unparsable file, a changed include, another
 * kind of file).
 */
function bodyEdits(model: LiveModel, touched: ReadonlySet<string>, fresh: ReadonlyMap<string, SourceFile>): BodyEdit[] | undefined {
  const edits: BodyEdit[] = [];
  for (const path of touched) {
    const before = model.files.get(path);
    const file = fresh.get(path);
    if (before?.parsed.kind !== 'block' || file?.kind !== 'block' || file.bytes === undefined) return undefined;
    const hash = contentHash(file.bytes);
    if (hash === before.hash) {
      edits.push({ file, hash, block: before.parsed.block, same: true });
      continue;
    }
    const now = parseFile(file.path, file.kind, file.bytes, hash);
    if (now.problems.length > 0 || now.parsed?.kind !== 'block' || !sameBlockShape(before.parsed.block, now.parsed.block)) return undefined;
    edits.push({ file, hash, block: now.parsed.block, same: false });
  }
  return edits;
}

/**
 * Applies body-only edits to the model's own maps, in place: copying four 11k-entry maps
 * per save cost ~7 ms and as much garbage. (Runs read slices taken at their start, so an
 * edit in place cannot reach a run in flight.) The entries are put back if the mirror fails.
 */
async function applyBodyEdits(ctx: AppContext, model: LiveModel, edits: readonly BodyEdit[]): Promise<ModelUpdate> {
  const { workspace } = model;
  const counts = { blocks: workspace.blocks.size, payloads: workspace.payloads.size, workflows: workspace.workflows.size };
  const edited = edits.filter((edit) => !edit.same);
  const changed = edited.map((edit) => edit.file.path).sort();
  const undo = edited.map(({ file, block }) => ({ key: block.key, path: file.path, block: workspace.blocks.get(block.key)!, state: model.files.get(file.path)!, hash: model.hashes.get(file.path)! }));
  for (const { file, hash, block } of edited) {
    workspace.blocks.set(block.key, block);
    model.files.set(file.path, { hash, parsed: { kind: 'block', block }, cached: false });
    model.hashes.set(file.path, hash);
  }
  let report: SyncReport;
  try {
    const stores = await ctx.stores.forWriting();
    report = changed.length > 0 ? await stores.mirror.apply(workspace, { paths: new Set(changed), removedPaths: [], tags: new Set(), keys: new Set() }, sharedFingerprint(stores.mirror, model.hashes)) : unchangedReport(counts);
    stores.cache.record({ changed: edits.map(({ file }) => ({ path: file.path, size: file.size, mtimeMs: file.mtimeMs, state: model.files.get(file.path)! })), removed: [], counts });
  } catch (error) {
    for (const { key, path, block, state, hash } of undo) {
      workspace.blocks.set(key, block);
      model.files.set(path, state);
      model.hashes.set(path, hash);
    }
    throw error;
  }
  for (const { file } of edits) model.stats.set(file.path, { size: file.size, mtimeMs: file.mtimeMs });
  const next: LiveModel = { ...model, pending: new Set() };
  return { ok: true, model: next, changed, removed: [], affected: affectedWorkflows(model, next, changed), report };
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

/** The files' fingerprint for a shared mirror (see MirrorStore.holdsFiles); a local one does without (~9 ms on 10k files). */
function sharedFingerprint(mirror: MirrorStore, hashes: ReadonlyMap<string, string>): string | undefined {
  return mirror.holdsFiles ? mirrorFingerprint(hashes) : undefined;
}
