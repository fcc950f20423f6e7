/**
 * The one dependency graph of a workspace: workflow -> steps -> payloads -> blocks (by
 * key, by tag selection, and by `{{block}}`/`{{tag}}` includes, transitively), plus the
 * model formats the payloads use and the config. Provenance (the files a run used), the
 * run's slice of the model, the mirror's payload links and watch's "what does this save
 * affect" all ask it.
 */
import type { Block, BlockRef, Include, Payload, Workflow, Workspace } from './types.js';

/** What reaching blocks needs to know: a block by key, and the keys carrying a tag (sorted). */
export interface BlockLookup {
  block(key: string): Pick<Block, 'includes'> | undefined;
  tagged(tag: string): readonly string[];
}

/** Lookup over a whole model. */
export function workspaceLookup(workspace: Workspace): BlockLookup {
  return { block: (key) => workspace.blocks.get(key), tagged: (tag) => workspace.tags.get(tag) ?? [] };
}

/**
 * The blocks a payload lists directly, in order: system, then prompt; a tag selection
 * expands to its blocks by key. These are the rows of `payload_blocks`.
 */
export function directBlockKeys(payload: Payload, tagged: BlockLookup['tagged']): string[] {
  const keys: string[] = [];
  for (const ref of [...payload.system, ...payload.blocks]) {
    if (ref.kind === 'block') keys.push(ref.key);
    else if (ref.kind === 'tag') keys.push(...tagged(ref.tag));
  }
  return keys;
}

/** Keys a list of payload refs names directly or through the includes of its inline text. */
function keysNamedBy(refs: readonly BlockRef[], tagged: BlockLookup['tagged']): string[] {
  const keys: string[] = [];
  for (const ref of refs) {
    if (ref.kind === 'block') keys.push(ref.key);
    else if (ref.kind === 'tag') keys.push(...tagged(ref.tag));
    else keys.push(...keysIncluded(ref.includes, tagged));
  }
  return keys;
}

function keysIncluded(includes: readonly Include[], tagged: BlockLookup['tagged']): string[] {
  return includes.flatMap((include) => (include.kind === 'block' ? [include.name] : tagged(include.name)));
}

/**
 * Every block key the payloads can render, transitively through includes, in no
 * particular order. Keys with no block (a broken reference) are left out.
 */
export function reachableBlockKeys(payloads: Iterable<Payload>, lookup: BlockLookup): Set<string> {
  const pending: string[] = [];
  for (const payload of payloads) pending.push(...keysNamedBy([...payload.system, ...payload.blocks], lookup.tagged));
  const reached = new Set<string>();
  while (pending.length > 0) {
    const key = pending.pop()!;
    if (reached.has(key)) continue;
    const block = lookup.block(key);
    if (!block) continue;
    reached.add(key);
    pending.push(...keysIncluded(block.includes, lookup.tagged));
  }
  return reached;
}

export interface DependencyGraph {
  /** Workspace-relative paths of every file a workflow's run depends on, sorted. */
  filesOf(workflow: string): string[];
  /**
   * Names of the workflows that depend on any of these files, sorted. Ask the graph of
   * the model after a change for added and changed files, and the graph before it for
   * removed ones (a removed file is in no later graph).
   */
  workflowsAffectedBy(paths: Iterable<string>): string[];
}

/**
 * The graph of a whole model. Each workflow's files are computed on first use; the reverse
 * lookup walks reverse edges from the changed files (who includes this block, who selects
 * this tag, who lists this payload), so a save costs what it reaches, not the workspace.
 */
export function createDependencyGraph(workspace: Workspace): DependencyGraph {
  const lookup = workspaceLookup(workspace);
  const filesByWorkflow = new Map<string, string[]>();
  const filesOf = (name: string): string[] => {
    let files = filesByWorkflow.get(name);
    if (!files) {
      const workflow = workspace.workflows.get(name);
      files = workflow ? workflowFiles(workspace, workflow, lookup) : [];
      filesByWorkflow.set(name, files);
    }
    return files;
  };
  let reverse: ReturnType<typeof reverseIndex> | undefined;
  return {
    filesOf,
    workflowsAffectedBy(paths) {
      reverse ??= reverseIndex(workspace);
      const affected = new Set<string>();
      const blocks: string[] = [];
      const payloads: string[] = [];
      for (const path of paths) {
        if (path === workspace.config.sourcePath || path === 'quire.yaml') for (const name of workspace.workflows.keys()) affected.add(name);
        for (const key of reverse.blocksByPath.get(path) ?? []) blocks.push(key);
        for (const name of reverse.payloadsByPath.get(path) ?? []) payloads.push(name);
        for (const name of reverse.workflowsByPath.get(path) ?? []) affected.add(name);
        for (const name of reverse.payloadsByFormatPath.get(path) ?? []) payloads.push(name);
      }
      // Blocks reached: the changed ones and, transitively, every block that includes one by key or by tag.
      const reachedBlocks = new Set<string>();
      while (blocks.length > 0) {
        const key = blocks.pop()!;
        if (reachedBlocks.has(key)) continue;
        reachedBlocks.add(key);
        for (const by of reverse.includersOf(key)) blocks.push(by);
      }
      for (const key of reachedBlocks) for (const name of reverse.payloadsOfBlock(key)) payloads.push(name);
      for (const name of payloads) for (const workflow of reverse.workflowsByPayload.get(name) ?? []) affected.add(workflow);
      return [...affected].sort();
    },
  };
}

/** Reverse edges of a model, built once per graph (no tag is expanded here). */
function reverseIndex(workspace: Workspace) {
  const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  const blocksByPath = new Map<string, string[]>();
  const includersByKey = new Map<string, string[]>();
  const includersByTag = new Map<string, string[]>();
  for (const block of workspace.blocks.values()) {
    push(blocksByPath, block.sourcePath, block.key);
    for (const include of block.includes) push(include.kind === 'block' ? includersByKey : includersByTag, include.name, block.key);
  }
  const payloadsByPath = new Map<string, string[]>();
  const payloadsByFormatPath = new Map<string, string[]>();
  const payloadsByKey = new Map<string, string[]>();
  const payloadsByTag = new Map<string, string[]>();
  for (const payload of workspace.payloads.values()) {
    push(payloadsByPath, payload.sourcePath, payload.name);
    const format = workspace.formats.get(payload.modelFormat);
    if (format) push(payloadsByFormatPath, format.sourcePath, payload.name);
    for (const ref of [...payload.system, ...payload.blocks]) {
      if (ref.kind === 'block') push(payloadsByKey, ref.key, payload.name);
      else if (ref.kind === 'tag') push(payloadsByTag, ref.tag, payload.name);
      else for (const include of ref.includes) push(include.kind === 'block' ? payloadsByKey : payloadsByTag, include.name, payload.name);
    }
  }
  const workflowsByPath = new Map<string, string[]>();
  const workflowsByPayload = new Map<string, string[]>();
  for (const workflow of workspace.workflows.values()) {
    push(workflowsByPath, workflow.sourcePath, workflow.name);
    for (const name of workflowPayloadNames(workflow)) push(workflowsByPayload, name, workflow.name);
  }
  const tagsOf = (key: string) => workspace.blocks.get(key)?.tags ?? [];
  return {
    blocksByPath,
    payloadsByPath,
    payloadsByFormatPath,
    workflowsByPath,
    workflowsByPayload,
    includersOf: (key: string) => [...(includersByKey.get(key) ?? []), ...tagsOf(key).flatMap((tag) => includersByTag.get(tag) ?? [])],
    payloadsOfBlock: (key: string) => [...(payloadsByKey.get(key) ?? []), ...tagsOf(key).flatMap((tag) => payloadsByTag.get(tag) ?? [])],
  };
}

/**
 * The payloads a workflow runs: its steps' and the judge payloads its steps' `judge` checks
 * name (a grader's prompt decides a check, so it is part of the run's provenance).
 */
export function workflowPayloadNames(workflow: Workflow): string[] {
  const names = new Set<string>();
  for (const step of workflow.steps) {
    names.add(step.payload);
    for (const check of step.expect) if (check.name === 'judge') names.add((check.args as { payload: string }).payload);
  }
  return [...names];
}

/** The files one workflow depends on, from a model that holds at least its slice. */
export function workflowFiles(workspace: Workspace, workflow: Workflow, lookup: BlockLookup = workspaceLookup(workspace)): string[] {
  const paths = new Set<string>([workflow.sourcePath]);
  const payloads: Payload[] = [];
  for (const name of workflowPayloadNames(workflow)) {
    const payload = workspace.payloads.get(name);
    if (!payload) continue;
    payloads.push(payload);
    paths.add(payload.sourcePath);
    const format = workspace.formats.get(payload.modelFormat);
    if (format) paths.add(format.sourcePath);
  }
  for (const key of reachableBlockKeys(payloads, lookup)) {
    const block = workspace.blocks.get(key);
    if (block) paths.add(block.sourcePath);
  }
  if (workspace.config.sourcePath) paths.add(workspace.config.sourcePath);
  return [...paths].sort();
}

/**
 * One workflow's own copy of what its run reads: the workflow, its payloads, the blocks
 * they reach (by key, tag and include) and the hashes of its files; the rest of the model
 * (tags, formats, config) is shared. A long-lived process that edits its model in place
 * gives each run a slice, so a save during the run cannot change what the run renders or
 * records. Throws nothing: an unknown workflow gives a slice without it (the run reports it).
 */
export function workflowSlice(workspace: Workspace, hashes: ReadonlyMap<string, string>, workflowName: string): { workspace: Workspace; hashes: Map<string, string> } {
  const workflow = workspace.workflows.get(workflowName);
  if (!workflow) return { workspace, hashes: new Map(hashes) };
  const payloads = new Map<string, Payload>();
  for (const name of workflowPayloadNames(workflow)) {
    const payload = workspace.payloads.get(name);
    if (payload) payloads.set(name, payload);
  }
  const blocks = new Map<string, Block>();
  for (const key of reachableBlockKeys(payloads.values(), workspaceLookup(workspace))) blocks.set(key, workspace.blocks.get(key)!);
  const slice: Workspace = { ...workspace, blocks, payloads, workflows: new Map([[workflow.name, workflow]]) };
  const own = new Map<string, string>();
  for (const path of workflowFiles(slice, workflow)) {
    const hash = hashes.get(path);
    if (hash !== undefined) own.set(path, hash);
  }
  return { workspace: slice, hashes: own };
}
