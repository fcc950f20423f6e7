/**
 * What `quire run` needs of a workspace: straight from the parse cache when nothing
 * changed since the last sync (the workflow, its payloads, the blocks they reach and the
 * config; nothing parsed or validated again, so a 10,000-block workspace costs only the
 * stat of its files), else after a full sync (which also reports any problem).
 */
import { DEFAULT_CONFIG } from '../core/config.js';
import { reachableBlockKeys, workflowPayloadNames } from '../core/graph.js';
import type { Block, FormatFile, Payload, Workflow, WorkspaceConfig } from '../core/types.js';
import type { AppContext } from './context.js';
import type { ParseCache } from '../core/ports.js';
import { checkSinceLastSync, mirrorHolds, syncChecked, type WorkspaceModel } from './sync.js';

/**
 * The run's slice of an unchanged workspace (`hashes`: every file's hash, from the change
 * check), or undefined when the cache cannot give it and a full sync is needed.
 */
export function readRunSlice(cache: ParseCache, hashes: Map<string, string>, workflowName: string): WorkspaceModel | undefined {
  const workflowPath = cache.pathOf('workflow', workflowName);
  const parsedWorkflow = workflowPath ? cache.parsed(workflowPath) : undefined;
  if (parsedWorkflow?.kind !== 'workflow') return undefined; // unknown workflow: the full path reports it
  const workflow: Workflow = parsedWorkflow.workflow;

  const payloads = new Map<string, Payload>();
  for (const inline of parsedWorkflow.inlinePayloads) payloads.set(inline.name, inline);
  for (const name of workflowPayloadNames(workflow)) {
    if (payloads.has(name)) continue;
    const path = cache.pathOf('payload', name);
    const parsed = path ? cache.parsed(path) : undefined;
    if (parsed?.kind !== 'payload') return undefined;
    payloads.set(name, parsed.payload);
  }

  // Tags index every block (the order `{{tag}}` renders in); only reached blocks are read.
  const { pathByKey, tags } = cache.blockIndex();
  const blocks = new Map<string, Block>();
  let missing = false;
  const block = (key: string): Block | undefined => {
    let found = blocks.get(key);
    if (!found) {
      const path = pathByKey.get(key);
      found = path ? cache.block(path) : undefined;
      if (found) blocks.set(key, found);
      else missing = true;
    }
    return found;
  };
  reachableBlockKeys(payloads.values(), { block, tagged: (tag) => tags.get(tag) ?? [] });
  if (missing) return undefined;

  let config: WorkspaceConfig = DEFAULT_CONFIG;
  const formats = new Map<string, FormatFile>();
  for (const path of hashes.keys()) {
    if (path !== 'quire.yaml' && !path.startsWith('formats/')) continue;
    const parsed = cache.parsed(path);
    if (parsed?.kind === 'config') config = parsed.config;
    else if (parsed?.kind === 'format') formats.set(parsed.format.name, parsed.format);
  }

  return { workspace: { blocks, tags, payloads, workflows: new Map([[workflow.name, workflow]]), formats, tests: new Map(), config }, hashes };
}

/** The model for one workflow's run; the change check's walk serves both paths. */
export async function loadRunModel(ctx: AppContext, workflowName: string): Promise<WorkspaceModel> {
  const check = checkSinceLastSync(ctx);
  const counts = check.hashes ? check.cache!.lastCounts() : undefined;
  if (counts && (await mirrorHolds((await ctx.stores.forReading()).mirror, counts, check.hashes!))) {
    const slice = readRunSlice(check.cache!, check.hashes!, workflowName);
    if (slice) return slice;
  }
  const { workspace, hashes } = await syncChecked(ctx, check);
  return { workspace, hashes };
}
