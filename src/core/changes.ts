/**
 * What changed since the last sync, from the parse cache: the files whose parse is new,
 * the files that are gone, and the tags and keys whose set of blocks may differ. The
 * mirror rewrites only what these reach.
 */
import type { Block, Workspace } from './types.js';
import type { CachedFile, FileState } from './workspace.js';

export interface WorkspaceChanges {
  /** Files parsed anew (not from the cache). */
  paths: Set<string>;
  /** Files of the last sync that are gone. */
  removedPaths: string[];
  /** Tags whose set of blocks may differ, and block keys that appeared or disappeared. */
  tags: Set<string>;
  keys: Set<string>;
}

export function findChanges(files: ReadonlyMap<string, FileState>, previous: ReadonlyMap<string, CachedFile>): WorkspaceChanges {
  const changes: WorkspaceChanges = { paths: new Set(), removedPaths: [], tags: new Set(), keys: new Set() };
  const blockOf = (path: string): Block | undefined => {
    const parsed = previous.get(path)?.parsed;
    return parsed?.kind === 'block' ? parsed.block : undefined;
  };
  for (const [path, state] of files) {
    if (state.cached) continue;
    changes.paths.add(path);
    if (state.parsed.kind !== 'block') continue;
    const before = blockOf(path);
    if (!before) changes.keys.add(state.parsed.block.key);
    const tagsBefore = before?.tags ?? [];
    const tagsNow = state.parsed.block.tags;
    if (tagsBefore.length !== tagsNow.length || tagsBefore.some((t, i) => t !== tagsNow[i])) for (const tag of [...tagsBefore, ...tagsNow]) changes.tags.add(tag);
  }
  for (const path of previous.keys()) {
    if (files.has(path)) continue;
    changes.removedPaths.push(path);
    const before = blockOf(path);
    if (before) {
      changes.keys.add(before.key);
      for (const tag of before.tags) changes.tags.add(tag);
    }
  }
  return changes;
}

/** Every file counted as changed: the mirror then compares every row (used when rows went missing). */
export function everythingChanged(files: ReadonlyMap<string, FileState>): WorkspaceChanges {
  const changes: WorkspaceChanges = { paths: new Set(files.keys()), removedPaths: [], tags: new Set(), keys: new Set() };
  for (const state of files.values()) {
    if (state.parsed.kind !== 'block') continue;
    changes.keys.add(state.parsed.block.key);
    for (const tag of state.parsed.block.tags) changes.tags.add(tag);
  }
  return changes;
}

/**
 * Every file of a workspace model counted as changed: a shared mirror that another checkout
 * wrote since this process last did compares every row (it has the model, not the files).
 */
export function everythingIn(workspace: Workspace): WorkspaceChanges {
  const changes: WorkspaceChanges = { paths: new Set(), removedPaths: [], tags: new Set(), keys: new Set() };
  for (const block of workspace.blocks.values()) {
    changes.paths.add(block.sourcePath);
    changes.keys.add(block.key);
    for (const tag of block.tags) changes.tags.add(tag);
  }
  for (const payload of workspace.payloads.values()) changes.paths.add(payload.sourcePath);
  for (const workflow of workspace.workflows.values()) changes.paths.add(workflow.sourcePath);
  return changes;
}

export function hasChanges(changes: WorkspaceChanges): boolean {
  return changes.paths.size > 0 || changes.removedPaths.length > 0;
}
