/**
 * The mirror (MirrorStore) in PostgreSQL, behaving as the SQLite one (adapters/db/mirror.ts):
 * a validated workspace applied to the original system's tables in one transaction,
 * touching only what `changes` reaches. Rows typed into the original system
 * (source_path IS NULL) are left alone, except that a file written by `quire export` adopts
 * its row (same id). Rows whose file is gone are archived when runs or responses use them,
 * deleted otherwise. The same SyncReport counts as SQLite's.
 *
 * Several processes may sync the same workspace at once: each apply holds one
 * transaction-level advisory lock (MIRROR_LOCK) from its first statement to its commit,
 * so applies run one after another, each reading what the previous one committed (READ
 * COMMITTED), and all converge on the same rows.
 *
 * Several checkouts share it, so a checkout's `changes` (relative to its own last sync)
 * are trusted only while the rows are still what this process's last apply left: every
 * apply writes a new token to quire_state, and an apply that finds another token compares
 * every row instead. An apply of files the rows were last made from (the fingerprint in
 * quire_state) writes nothing: a teammate's sync of the same commit.
 *
 * Round trips are few: rows are read per table (not per row), inserts are multi-row
 * INSERTs (a big workspace has tens of thousands of payload_blocks rows), deletes and
 * history checks take id arrays.
 */
import type pg from 'pg';
import type { MirrorStore } from '../../core/ports.js';
import { everythingIn, type WorkspaceChanges } from '../../core/changes.js';
import type { ExportBlockRow, ExportInput, ExportPayloadRow, ExportWorkflowRow } from '../../core/export.js';
import { directBlockKeys } from '../../core/graph.js';
import { emptyCounts, unchangedReport, type KindCounts, type SyncReport } from '../../core/sync-report.js';
import { randomUUID } from 'node:crypto';
import { exportBlockKeys, exportNames } from '../../core/export-names.js';
import type { Block, BlockRef, Payload, Workflow, Workspace } from '../../core/types.js';
import type { PgDb } from './open.js';
import { payloadOptions, workflowDefinition } from '../../core/mirror-rows.js';

type Changes = WorkspaceChanges;
type Client = pg.PoolClient;

/** The advisory lock key every mirror apply holds for its transaction (any fixed 64-bit number, the same in every quire). */
export const MIRROR_LOCK = 0x7175697265_02; // "quire", 2

/** How long an apply waits for another one's lock (and any row lock) before giving up. */
const LOCK_WAIT_MS = 120_000;

/** What SQLite's CURRENT_TIMESTAMP is: now, in UTC. */
const NOW = "(now() AT TIME ZONE 'UTC')";

/** Postgres allows 65,535 bound values per statement; stay below, and keep statements a sensible size. */
const MAX_PARAMS = 30_000;
const MAX_ROWS = 1_000;

/**
 * quire_state keys of the shared mirror: a token written by every apply (an apply whose
 * process wrote the token still there may trust its own `changes`), and the fingerprint of
 * the files the rows were made from (absent after an apply that did not know it).
 */
const TOKEN_KEY = 'mirror_token';
const FILES_KEY = 'mirror_files';

export function createPgMirrorStore(db: PgDb): MirrorStore {
  // The token this process's last apply wrote: while it is still there, nobody else applied since.
  let lastToken: string | undefined;
  return {
    async apply(workspace, changes, fingerprint) {
      const { report, token } = await db.transaction(async (client) => {
        await lockMirror(client);
        const state = await mirrorState(client);
        const counts = { blocks: workspace.blocks.size, payloads: workspace.payloads.size, workflows: workspace.workflows.size };
        // Another checkout already applied exactly these files (a teammate synced the same commit).
        if (fingerprint !== undefined && state.files === fingerprint && (await fileRowsMatch(client, counts))) {
          return { report: unchangedReport(counts), token: state.token };
        }
        // `changes` are relative to this checkout's last sync: valid only while the rows are what this process left.
        const trusted = lastToken !== undefined && state.token === lastToken;
        const report = await mirrorLocked(client, workspace, trusted ? changes : everythingIn(workspace));
        const token = randomUUID();
        await client.query(SET_STATE, [TOKEN_KEY, token]);
        if (fingerprint !== undefined) await client.query(SET_STATE, [FILES_KEY, fingerprint]);
        else await client.query('DELETE FROM quire_state WHERE key = $1', [FILES_KEY]);
        return { report, token };
      });
      // Only once committed: a rolled-back apply leaves the old token, which this process must not trust.
      lastToken = token;
      return report;
    },
    async holdsFiles(fingerprint) {
      const [row] = await db.query<{ value: string }>('SELECT value FROM quire_state WHERE key = $1', [FILES_KEY]);
      return row?.value === fingerprint;
    },
    async runLinks(workflow) {
      const [row] = await db.query<{ id: number }>('SELECT id FROM workflows WHERE name = $1 AND archived = 0 ORDER BY id LIMIT 1', [workflow]);
      const payloads = await db.query<{ name: string; id: number }>('SELECT name, id FROM payloads WHERE archived = 0 AND source_path IS NOT NULL ORDER BY id');
      return { workflowId: row?.id ?? null, payloadIds: new Map(payloads.map((p) => [p.name, p.id])) };
    },
    exportSource: () => planPgExportSource(db),
    async fileRowCounts() {
      const [row] = await db.query<{ blocks: number; payloads: number; workflows: number }>(FILE_ROW_COUNTS);
      return { blocks: row!.blocks, payloads: row!.payloads, workflows: row!.workflows };
    },
  };
}

const SET_STATE = 'INSERT INTO quire_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value';

/** Takes the mirror lock for the caller's transaction: applies run one after another. */
async function lockMirror(client: Client): Promise<void> {
  // Bounded: a sync waits for another process's apply, not forever for a stuck one.
  await client.query(`SET LOCAL lock_timeout = ${LOCK_WAIT_MS}`);
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIRROR_LOCK]);
}

async function mirrorState(client: Client): Promise<{ token?: string; files?: string }> {
  const rows = await client.query<{ key: string; value: string }>('SELECT key, value FROM quire_state WHERE key = ANY($1::text[])', [[TOKEN_KEY, FILES_KEY]]);
  const value = (key: string) => rows.rows.find((row) => row.key === key)?.value;
  return { token: value(TOKEN_KEY), files: value(FILES_KEY) };
}

/** Whether the file-backed rows are as many as the workspace has (none deleted behind quire's back). */
async function fileRowsMatch(client: Client, counts: { blocks: number; payloads: number; workflows: number }): Promise<boolean> {
  const { rows: [row] } = await client.query<{ blocks: number; payloads: number; workflows: number }>(FILE_ROW_COUNTS);
  return row!.blocks === counts.blocks && row!.payloads === counts.payloads && row!.workflows === counts.workflows;
}

const FILE_ROW_COUNTS = `SELECT
  (SELECT count(*) FROM blocks WHERE source_path IS NOT NULL) AS blocks,
  (SELECT count(*) FROM payloads WHERE source_path IS NOT NULL AND archived = 0) AS payloads,
  (SELECT count(*) FROM workflows WHERE source_path IS NOT NULL AND archived = 0) AS workflows`;

/** Applies the workspace in the caller's transaction, after taking the mirror lock. */
export async function mirrorWorkspace(client: Client, workspace: Workspace, changes: Changes): Promise<SyncReport> {
  await lockMirror(client);
  return mirrorLocked(client, workspace, changes);
}

async function mirrorLocked(client: Client, workspace: Workspace, changes: Changes): Promise<SyncReport> {
  const report: SyncReport = { blocks: emptyCounts(), payloads: emptyCounts(), workflows: emptyCounts() };
  // No block file added or removed: only the edited blocks' rows are read (a save in watch).
  let blockIds = changes.keys.size === 0 && changes.removedPaths.length === 0
    ? await mirrorEditedBlocks(client, workspace, changes, report.blocks)
    : await mirrorBlocks(client, workspace, changes, report.blocks);
  // Only block bodies changed: no payload or workflow row can differ, so none is read.
  const onlyBlockBodies = changes.keys.size === 0 && changes.tags.size === 0 && changes.removedPaths.length === 0 && [...changes.paths].every((path) => path.startsWith('blocks/'));
  if (onlyBlockBodies) {
    report.payloads.unchanged = workspace.payloads.size;
    report.workflows.unchanged = workspace.workflows.size;
    return report;
  }
  blockIds ??= await fileBlockIds(client);
  const ids = blockIds;
  const payloads = await mirrorNamedRows(client, workspace.payloads.values(), report.payloads, {
    table: 'payloads',
    columns: ['name', 'temperature', 'response_length', 'llm_port', 'model_format', 'source_path', 'content_hash', 'options'],
    values: (p) => [p.name, p.temperature, p.responseLength, p.llmPort, p.modelFormat, p.sourcePath, p.contentHash, payloadOptions(p)],
    links: { table: 'payload_blocks', owner: 'payload_id', target: 'block_id' },
    targets: (p) => resolveBlockIds(p, workspace, ids),
    affected: (p) =>
      changes.paths.has(p.sourcePath) ||
      [...p.system, ...p.blocks].some((ref) => (ref.kind === 'tag' ? changes.tags.has(ref.tag) : ref.kind === 'block' && changes.keys.has(ref.key))),
    history: `SELECT x.id FROM unnest($1::bigint[]) AS x(id) WHERE EXISTS (SELECT 1 FROM responses WHERE payload_id = x.id)
      OR EXISTS (SELECT 1 FROM workflow_payloads wp JOIN runs r ON r.workflow_id = wp.workflow_id WHERE wp.payload_id = x.id)`,
  });
  await mirrorNamedRows(client, workspace.workflows.values(), report.workflows, {
    table: 'workflows',
    columns: ['name', 'source_path', 'content_hash', 'description', 'definition'],
    values: (w) => [w.name, w.sourcePath, w.contentHash, w.description, workflowDefinition(w)],
    links: { table: 'workflow_payloads', owner: 'workflow_id', target: 'payload_id' },
    targets: (w) => w.steps.map((step) => payloads.ids.get(step.payload)!),
    affected: (w) => changes.paths.has(w.sourcePath) || w.steps.some((step) => payloads.newIds.has(step.payload)),
    // A batch names its workflow's row too (registered for workers before any run): history as well.
    history: 'SELECT x.id FROM unnest($1::bigint[]) AS x(id) WHERE EXISTS (SELECT 1 FROM runs WHERE workflow_id = x.id) OR EXISTS (SELECT 1 FROM batches WHERE workflow_id = x.id)',
  });
  return report;
}

// --- Blocks ---

const BLOCK_COLUMNS = ['title', 'content', 'tags', 'folder_path', 'key', 'source_path', 'content_hash', 'includes', 'body_line'];
const UPDATE_BLOCK = `UPDATE blocks SET ${BLOCK_COLUMNS.map((c, i) => `${c} = $${i + 1}`).join(', ')}, updated_at = ${NOW} WHERE id = $${BLOCK_COLUMNS.length + 1}`;
const blockValues = (b: Block): unknown[] => [b.title, b.content, b.tags.join(','), b.folderPath, b.key, b.sourcePath, b.contentHash, JSON.stringify(b.includes), b.bodyLine];

/** Block ids of file-backed rows by key, for the payload links. */
async function fileBlockIds(client: Client): Promise<Map<string, number>> {
  const rows = await client.query<{ key: string; id: number }>('SELECT key, id FROM blocks WHERE source_path IS NOT NULL AND key IS NOT NULL ORDER BY id');
  return new Map(rows.rows.map((r) => [r.key, r.id]));
}

/**
 * Every block file is where it was: update the edited blocks' rows alone. Returns
 * undefined: ids for links are read afterwards, when they are needed.
 */
async function mirrorEditedBlocks(client: Client, workspace: Workspace, changes: Changes, counts: KindCounts): Promise<Map<string, number> | undefined> {
  const edited = [...workspace.blocks.values()].filter((block) => changes.paths.has(block.sourcePath));
  const found = await client.query<{ id: number; key: string | null; content_hash: string | null; source_path: string }>(
    'SELECT id, key, content_hash, source_path FROM blocks WHERE source_path = ANY($1::text[])', [edited.map((b) => b.sourcePath)]);
  const byPath = new Map(found.rows.map((r) => [r.source_path, r]));
  // A row missing where the cache says the block was (deleted by another tool): the full comparison.
  if (edited.some((block) => !byPath.has(block.sourcePath))) return mirrorBlocks(client, workspace, changes, counts);
  for (const block of edited) {
    const row = byPath.get(block.sourcePath)!;
    if (row.content_hash === block.contentHash && row.key === block.key) continue;
    await client.query(UPDATE_BLOCK, [...blockValues(block), row.id]);
    counts.updated++;
  }
  counts.unchanged = workspace.blocks.size - counts.updated;
  return undefined;
}

async function mirrorBlocks(client: Client, workspace: Workspace, changes: Changes, counts: KindCounts): Promise<Map<string, number>> {
  const byPath = new Map<string, { id: number; key: string | null; content_hash: string | null }>();
  const fileRows = await client.query<{ id: number; key: string | null; source_path: string; content_hash: string | null }>(
    'SELECT id, key, source_path, content_hash FROM blocks WHERE source_path IS NOT NULL ORDER BY id');
  for (const row of fileRows.rows) byPath.set(row.source_path, row);
  const dbOnly = (await client.query<{ id: number; title: string; folder_path: string | null }>('SELECT id, title, folder_path FROM blocks WHERE source_path IS NULL ORDER BY id')).rows;
  // Same inputs as `quire export` used, so the keys match the files it wrote.
  const adoptable = invert(exportBlockKeys(dbOnly, new Set([...byPath.values()].map((r) => r.key ?? ''))));

  const ids = new Map<string, number>();
  const inserts: unknown[][] = [];
  const seenPaths = new Set<string>();
  for (const block of workspace.blocks.values()) {
    seenPaths.add(block.sourcePath);
    const row = byPath.get(block.sourcePath);
    if (row) {
      ids.set(block.key, row.id);
      if (!changes.paths.has(block.sourcePath) || (row.content_hash === block.contentHash && row.key === block.key)) counts.unchanged++;
      else {
        await client.query(UPDATE_BLOCK, [...blockValues(block), row.id]);
        counts.updated++;
      }
      continue;
    }
    const adoptId = adoptable.get(block.key);
    if (adoptId !== undefined) {
      adoptable.delete(block.key);
      await client.query(UPDATE_BLOCK, [...blockValues(block), adoptId]);
      ids.set(block.key, adoptId);
      counts.adopted++;
      continue;
    }
    inserts.push(blockValues(block));
    counts.added++;
  }
  for (const [id, key] of await insertRows<[number, string]>(client, 'blocks', BLOCK_COLUMNS, inserts, 'id, key')) ids.set(key, id);

  const gone = [...byPath].filter(([path]) => !seenPaths.has(path)).map(([, row]) => row.id);
  if (gone.length > 0) {
    await client.query('DELETE FROM blocks WHERE id = ANY($1::bigint[])', [gone]);
    counts.removed += gone.length;
  }
  return ids;
}

// --- Payloads and workflows ---

interface NamedRowSpec<E> {
  table: 'payloads' | 'workflows';
  /** Data columns, `name` first; `values` gives them in the same order. */
  columns: string[];
  values(entity: E): unknown[];
  links: { table: 'payload_blocks' | 'workflow_payloads'; owner: string; target: string };
  targets(entity: E): number[];
  /** False when nothing the row is made from can have changed since the last sync. */
  affected(entity: E): boolean;
  /** SQL (parameter $1: row ids) giving the ids among them that have run history. */
  history: string;
}

type NamedRow = { id: number; archived: number; source_path: string | null } & Record<string, unknown>;

/**
 * Mirrors named entities into their table and link table: unchanged rows are left alone,
 * changed ones updated, new ones adopted from a database-only row of the same export name
 * or inserted, and rows whose file is gone archived (with history) or deleted.
 */
async function mirrorNamedRows<E extends { name: string }>(client: Client, entities: Iterable<E>, counts: KindCounts, spec: NamedRowSpec<E>): Promise<{ ids: Map<string, number>; newIds: Set<string> }> {
  const rows = (await client.query<NamedRow>(`SELECT id, archived, ${spec.columns.join(', ')} FROM ${spec.table} ORDER BY id`)).rows;
  const byName = new Map<string, NamedRow>();
  const dbOnly: { id: number; name: string }[] = [];
  for (const row of rows) {
    const name = row['name'] as string;
    if (row.source_path === null) dbOnly.push({ id: row.id, name });
    // Prefer the live row when an archived one shares its name.
    else if (!byName.has(name) || byName.get(name)!.archived) byName.set(name, row);
  }
  const adoptable = invert(exportNames(dbOnly, new Set(rows.filter((r) => r.source_path !== null).map((r) => r['name'] as string))));
  const { table: linkTable, owner, target } = spec.links;
  const update = `UPDATE ${spec.table} SET ${spec.columns.map((c, i) => `${c} = $${i + 1}`).join(', ')}, archived = 0, updated_at = ${NOW} WHERE id = $${spec.columns.length + 1}`;

  const list = [...entities];
  // The stored links of every row that will be compared, in one query.
  const toCompare = list.filter((e) => {
    const row = byName.get(e.name);
    return row !== undefined && (row.archived || spec.affected(e));
  }).map((e) => byName.get(e.name)!.id);
  const storedLinks = new Map<number, number[]>();
  if (toCompare.length > 0) {
    const linkRows = await client.query<{ owner: number; target: number }>(
      `SELECT ${owner} AS owner, ${target} AS target FROM ${linkTable} WHERE ${owner} = ANY($1::bigint[]) ORDER BY ${owner}, order_index`, [toCompare]);
    for (const { owner: o, target: t } of linkRows.rows) {
      const targets = storedLinks.get(o) ?? [];
      targets.push(t);
      storedLinks.set(o, targets);
    }
  }

  const ids = new Map<string, number>();
  const newIds = new Set<string>();
  const seen = new Set<number>();
  const clear: number[] = [];
  const links: unknown[][] = [];
  const inserts: { entity: E; values: unknown[]; targets: number[] }[] = [];
  for (const entity of list) {
    const row = byName.get(entity.name);
    if (row && !row.archived && !spec.affected(entity)) {
      ids.set(entity.name, row.id);
      seen.add(row.id);
      counts.unchanged++;
      continue;
    }
    const values = spec.values(entity);
    const targets = spec.targets(entity);
    if (row) {
      ids.set(entity.name, row.id);
      seen.add(row.id);
      const linksSame = sameList(storedLinks.get(row.id) ?? [], targets);
      if (!row.archived && linksSame && spec.columns.every((column, i) => row[column] === values[i])) counts.unchanged++;
      else {
        await client.query(update, [...values, row.id]);
        if (!linksSame) {
          clear.push(row.id);
          targets.forEach((t, index) => links.push([row.id, t, index]));
        }
        counts.updated++;
      }
      continue;
    }
    const adoptId = adoptable.get(entity.name);
    if (adoptId !== undefined) {
      adoptable.delete(entity.name);
      await client.query(update, [...values, adoptId]);
      clear.push(adoptId);
      targets.forEach((t, index) => links.push([adoptId, t, index]));
      ids.set(entity.name, adoptId);
      newIds.add(entity.name);
      seen.add(adoptId);
      counts.adopted++;
      continue;
    }
    inserts.push({ entity, values, targets });
    counts.added++;
  }

  // New rows: one multi-row INSERT per chunk; names are unique among them, so ids come back by name.
  const inserted = await insertRows<[number, string]>(client, spec.table, [...spec.columns, 'archived'], inserts.map((i) => [...i.values, 0]), 'id, name');
  const insertedIds = new Map(inserted.map(([id, name]) => [name, id]));
  for (const { entity, targets } of inserts) {
    const id = insertedIds.get(entity.name)!;
    targets.forEach((t, index) => links.push([id, t, index]));
    ids.set(entity.name, id);
    newIds.add(entity.name);
    seen.add(id);
  }
  if (clear.length > 0) await client.query(`DELETE FROM ${linkTable} WHERE ${owner} = ANY($1::bigint[])`, [clear]);
  await insertRows(client, linkTable, [owner, target, 'order_index'], links);

  // Rows whose file is gone: archived when they have history, deleted otherwise.
  const gone = rows.filter((r) => r.source_path !== null && !r.archived && !seen.has(r.id)).map((r) => r.id);
  if (gone.length > 0) {
    const withHistory = new Set((await client.query<{ id: number }>(spec.history, [gone])).rows.map((r) => r.id));
    const archive = gone.filter((id) => withHistory.has(id));
    const remove = gone.filter((id) => !withHistory.has(id));
    if (archive.length > 0) await client.query(`UPDATE ${spec.table} SET archived = 1, updated_at = ${NOW} WHERE id = ANY($1::bigint[])`, [archive]);
    if (remove.length > 0) await client.query(`DELETE FROM ${spec.table} WHERE id = ANY($1::bigint[])`, [remove]);
    counts.archived += archive.length;
    counts.removed += remove.length;
  }
  return { ids, newIds };
}

/** The block ids a payload uses, in order: system blocks, then prompt blocks; tags expand by key. */
function resolveBlockIds(payload: Payload, workspace: Workspace, blockIds: ReadonlyMap<string, number>): number[] {
  return directBlockKeys(payload, (tag) => workspace.tags.get(tag) ?? []).map((key) => blockIds.get(key)!).filter((id) => id !== undefined);
}

// --- Export ---

/** What `quire export` needs from the mirror (as adapters/db/export-source.ts reads it). */
export async function planPgExportSource(db: PgDb): Promise<ExportInput> {
  return db.transaction(async (client) => {
    // One snapshot for every read.
    await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const all = async <T extends object>(sql: string) => (await client.query<T>(sql)).rows;
    const blocks = await all<ExportBlockRow>('SELECT id, title, content, tags, folder_path FROM blocks WHERE source_path IS NULL ORDER BY id');
    const links = async (sql: string) => {
      const map = new Map<number, number[]>();
      for (const row of await all<{ owner: number; target: number }>(sql)) {
        const list = map.get(row.owner) ?? [];
        list.push(row.target);
        map.set(row.owner, list);
      }
      return map;
    };
    const payloadLinks = await links('SELECT payload_id AS owner, block_id AS target FROM payload_blocks ORDER BY payload_id, order_index');
    const workflowLinks = await links('SELECT workflow_id AS owner, payload_id AS target FROM workflow_payloads ORDER BY workflow_id, order_index');
    const payloads = (await all<Omit<ExportPayloadRow, 'blockIds'>>('SELECT id, name, temperature, response_length, llm_port, model_format FROM payloads WHERE source_path IS NULL ORDER BY id'))
      .map((row) => ({ ...row, blockIds: payloadLinks.get(row.id) ?? [] }));
    const workflows = (await all<Omit<ExportWorkflowRow, 'payloadIds'>>('SELECT id, name FROM workflows WHERE source_path IS NULL ORDER BY id'))
      .map((row) => ({ ...row, payloadIds: workflowLinks.get(row.id) ?? [] }));
    const fileBlocks = await all<{ id: number; key: string }>('SELECT id, key FROM blocks WHERE source_path IS NOT NULL ORDER BY id');
    const filePayloads = await all<{ id: number; name: string }>('SELECT id, name FROM payloads WHERE source_path IS NOT NULL ORDER BY id');
    const fileWorkflows = await all<{ name: string }>('SELECT name FROM workflows WHERE source_path IS NOT NULL ORDER BY id');
    return {
      blocks,
      payloads,
      workflows,
      fileBlockKeys: new Map(fileBlocks.map((r) => [r.id, r.key])),
      filePayloadNames: new Map(filePayloads.map((r) => [r.id, r.name])),
      takenBlockKeys: new Set(fileBlocks.map((r) => r.key)),
      takenPayloadNames: new Set(filePayloads.map((r) => r.name)),
      takenWorkflowNames: new Set(fileWorkflows.map((r) => r.name)),
    };
  });
}

// --- Internal helpers ---

/**
 * Inserts rows with multi-row INSERTs (chunks within the bound-value limit); with
 * `returning`, the returned columns of every inserted row, as arrays.
 */
async function insertRows<R extends unknown[] = unknown[]>(client: Client, table: string, columns: readonly string[], rows: readonly unknown[][], returning?: string): Promise<R[]> {
  const out: R[] = [];
  const chunk = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns.length)));
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.slice(start, start + chunk);
    const params: unknown[] = [];
    const tuples = part.map((row) => `(${row.map((value) => {
      params.push(value);
      return `$${params.length}`;
    }).join(', ')})`);
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}${returning ? ` RETURNING ${returning}` : ''}`;
    const result = await client.query({ text: sql, values: params, rowMode: 'array' });
    if (returning) out.push(...(result.rows as R[]));
  }
  return out;
}

function sameList(left: number[], right: number[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

function invert(map: Map<number, string>): Map<string, number> {
  const inverted = new Map<string, number>();
  for (const [id, name] of map) inverted.set(name, id);
  return inverted;
}
