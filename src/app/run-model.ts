/**
 * What `quire run` needs of an unchanged workspace, read from the database alone: the
 * workflow, its payloads, the blocks they reach (by key, tag or include) and the config.
 * An unchanged workspace was fully checked when it was synced, so nothing is parsed or
 * validated again, and a 10,000-block workspace costs only the stat of its files.
 */
import { BLOCK_COLUMNS, blockFromRow, contentLoader, readCachedParse, type BlockRowValues } from '../adapters/db/file-cache.js';
import { prepareDatabase, type Db } from '../adapters/db/open.js';
import { DEFAULT_CONFIG } from '../core/config.js';
import type { Block, FormatFile, Payload, Workflow, Workspace, WorkspaceConfig } from '../core/types.js';
import { finishSync, startSync } from './sync.js';

export interface RunModel {
  workspace: Workspace;
  hashes: Map<string, string>;
}

/**
 * The run's slice of an unchanged workspace (`hashes`: every file's hash, from the change
 * check), or undefined when the database cannot give it and a full sync is needed.
 */
export function readRunModel(db: Db, hashes: Map<string, string>, workflowName: string): RunModel | undefined {
  const workflowPath = db.prepare('SELECT source_path FROM workflows WHERE name = ? AND archived = 0 AND source_path IS NOT NULL').pluck().get(workflowName) as string | undefined;
  const parsedWorkflow = workflowPath ? readCachedParse(db, workflowPath) : undefined;
  if (parsedWorkflow?.kind !== 'workflow') return undefined; // unknown workflow: the full path reports it
  const workflow: Workflow = parsedWorkflow.workflow;

  const payloads = new Map<string, Payload>();
  for (const inline of parsedWorkflow.inlinePayloads) payloads.set(inline.name, inline);
  const payloadPath = db.prepare('SELECT source_path FROM payloads WHERE name = ? AND archived = 0 AND source_path IS NOT NULL').pluck();
  for (const step of workflow.steps) {
    if (payloads.has(step.payload)) continue;
    const parsed = readCachedParse(db, payloadPath.get(step.payload) as string);
    if (parsed?.kind !== 'payload') return undefined;
    payloads.set(step.payload, parsed.payload);
  }

  // Tags index every block (the order `{{tag}}` renders in); bodies stay in the database.
  const pathByKey = new Map<string, string>();
  const tags = new Map<string, string[]>();
  for (const [key, tagList, sourcePath] of db.prepare('SELECT key, tags, source_path FROM blocks WHERE source_path IS NOT NULL ORDER BY key').raw().all() as [string, string | null, string][]) {
    pathByKey.set(key, sourcePath);
    for (const tag of tagList ? tagList.split(',') : []) {
      const keys = tags.get(tag);
      if (keys) keys.push(key);
      else tags.set(tag, [key]);
    }
  }
  for (const keys of tags.values()) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const blocks = new Map<string, Block>();
  const readBlock = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE source_path = ?`).raw();
  const loadContent = contentLoader(db);
  const pending: string[] = [];
  const reach = (kind: 'block' | 'tag', name: string) => pending.push(...(kind === 'block' ? [name] : (tags.get(name) ?? [])));
  for (const payload of payloads.values()) {
    for (const ref of [...payload.system, ...payload.blocks]) {
      if (ref.kind === 'block') reach('block', ref.key);
      else if (ref.kind === 'tag') reach('tag', ref.tag);
      else for (const include of ref.includes) reach(include.kind, include.name);
    }
  }
  while (pending.length > 0) {
    const key = pending.pop()!;
    if (blocks.has(key)) continue;
    const path = pathByKey.get(key);
    const row = path ? (readBlock.get(path) as BlockRowValues | undefined) : undefined;
    if (!row) return undefined;
    const block = blockFromRow(row, loadContent);
    blocks.set(key, block);
    for (const include of block.includes) reach(include.kind, include.name);
  }

  let config: WorkspaceConfig = DEFAULT_CONFIG;
  const formats = new Map<string, FormatFile>();
  for (const [path, kind] of db.prepare("SELECT path, kind FROM quire_files WHERE kind IN ('config', 'format')").raw().all() as [string, string][]) {
    const parsed = readCachedParse(db, path);
    if (parsed?.kind === 'config' && kind === 'config') config = parsed.config;
    else if (parsed?.kind === 'format') formats.set(parsed.format.name, parsed.format);
  }

  return { workspace: { blocks, tags, payloads, workflows: new Map([[workflow.name, workflow]]), formats, config }, hashes };
}

/**
 * The model and open database for a run: straight from the database when nothing changed
 * since the last sync, else after a full sync (which also reports any problem). The change
 * check's walk serves both, so the workspace is walked once.
 */
export async function openRunModel(root: string, dbPath: string, workflowName: string): Promise<RunModel & { db: Db }> {
  const start = startSync(root, dbPath);
  if (start.check?.hashes) {
    try {
      const model = readRunModel(start.db!, start.check.hashes, workflowName);
      if (model) return { ...model, db: prepareDatabase(start.db!, dbPath) };
    } catch (error) {
      if (start.db!.open) start.db!.close();
      throw error;
    }
  }
  const { workspace, hashes, db } = await finishSync(start, root, dbPath);
  return { workspace, hashes, db };
}
