/**
 * The mirror (MirrorStore) in SQLite: a validated workspace applied to the original
 * system's tables in one transaction, touching only what changed. Rows typed into the
 * original system (source_path IS NULL) are left alone, except that a file written by
 * `quire export` adopts its row (same id).
 *
 * Incremental: a payload or workflow is compared with its row only when its file changed
 * or a block it reaches by tag or key was added, removed or retagged.
 */
import type { MirrorStore } from '../../core/ports.js';
import type { WorkspaceChanges } from '../../core/changes.js';
import { planExportSource } from './export-source.js';
import { directBlockKeys } from '../../core/graph.js';
import { emptyCounts, type KindCounts, type SyncReport } from '../../core/sync-report.js';
import type { Db } from './open.js';
import { createBatchInserter } from './batch-insert.js';
import { exportBlockKeys, exportNames } from '../../core/export-names.js';
import type { Block, BlockRef, Payload, Workflow, Workspace } from '../../core/types.js';
import { payloadOptions, workflowDefinition } from '../../core/mirror-rows.js';

type Changes = WorkspaceChanges;

export function createMirrorStore(db: Db): MirrorStore {
  return {
    apply: async (workspace, changes) => mirrorWorkspace(db, workspace, changes),
    async runLinks(workflow) {
      const workflowId = db.prepare('SELECT id FROM workflows WHERE name = ? AND archived = 0').pluck().get(workflow) as number | undefined;
      const payloadIds = new Map(db.prepare('SELECT name, id FROM payloads WHERE archived = 0 AND source_path IS NOT NULL').raw().all() as [string, number][]);
      return { workflowId: workflowId ?? null, payloadIds };
    },
    exportSource: async () => planExportSource(db),
    async fileRowCounts() {
      const count = (sql: string) => db.prepare(sql).pluck().get() as number;
      return {
        // Served by the partial index on source_path: no block body is read.
        blocks: count('SELECT count(*) FROM blocks WHERE source_path IS NOT NULL'),
        payloads: count('SELECT count(*) FROM payloads WHERE source_path IS NOT NULL AND archived = 0'),
        workflows: count('SELECT count(*) FROM workflows WHERE source_path IS NOT NULL AND archived = 0'),
      };
    },
  };
}

/** Applies the workspace to the database in one immediate transaction. */
export function mirrorWorkspace(db: Db, workspace: Workspace, changes: Changes): SyncReport {
  const report: SyncReport = { blocks: emptyCounts(), payloads: emptyCounts(), workflows: emptyCounts() };
  db.transaction(() => {
    // No block file added or removed: only the edited blocks' rows are read (a save in watch).
    const blockIds = changes.keys.size === 0 && changes.removedPaths.length === 0 ? mirrorEditedBlocks(db, workspace, changes, report.blocks) : mirrorBlocks(db, workspace, changes, report.blocks);
    // Only block bodies changed (no block added, removed or retagged; no payload or workflow
    // file touched): no payload or workflow row can differ, so none is read.
    const onlyBlockBodies = changes.keys.size === 0 && changes.tags.size === 0 && changes.removedPaths.length === 0 && [...changes.paths].every((path) => path.startsWith('blocks/'));
    if (onlyBlockBodies) {
      report.payloads.unchanged = workspace.payloads.size;
      report.workflows.unchanged = workspace.workflows.size;
      return;
    }
    // Filling an empty link table: building its indexes once afterwards is several times
    // faster than keeping them up to date row by row (tags expand to many links).
    const bulk = db.prepare('SELECT NOT EXISTS (SELECT 1 FROM payload_blocks)').pluck().get() === 1;
    const { ids: payloadIds, newIds } = bulk
      ? withIndexesDeferred(db, 'payload_blocks', () => mirrorPayloads(db, workspace, blockIds, changes, report.payloads))
      : mirrorPayloads(db, workspace, blockIds, changes, report.payloads);
    mirrorWorkflows(db, workspace, payloadIds, newIds, changes, report.workflows);
  }).immediate();
  return report;
}

// --- Blocks ---

/** Block ids by key, for the payload links. */
type BlockIds = Pick<Map<string, number>, 'get'>;

/**
 * Every block file is where it was (no key appeared or disappeared): update the edited
 * blocks' rows alone; ids for links are looked up as needed.
 */
function mirrorEditedBlocks(db: Db, workspace: Workspace, changes: Changes, counts: KindCounts): BlockIds {
  const byPath = db.prepare('SELECT id, key, content_hash FROM blocks WHERE source_path = ?');
  const update = db.prepare(
    'UPDATE blocks SET title = ?, content = ?, tags = ?, folder_path = ?, key = ?, source_path = ?, content_hash = ?, includes = ?, body_line = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?',
  );
  const edited = [...workspace.blocks.values()].filter((block) => changes.paths.has(block.sourcePath));
  const rows = edited.map((block) => byPath.get(block.sourcePath) as { id: number; key: string | null; content_hash: string | null } | undefined);
  // A row missing where the cache says the block was (deleted by another tool): the full comparison.
  if (rows.some((row) => row === undefined)) return mirrorBlocks(db, workspace, changes, counts);
  edited.forEach((block, index) => {
    const row = rows[index]!;
    if (row.content_hash === block.contentHash && row.key === block.key) return;
    update.run(block.title, block.content, block.tags.join(','), block.folderPath, block.key, block.sourcePath, block.contentHash, JSON.stringify(block.includes), block.bodyLine, row.id);
    counts.updated++;
  });
  counts.unchanged = workspace.blocks.size - counts.updated;
  const idByKey = db.prepare('SELECT id FROM blocks WHERE key = ? AND source_path IS NOT NULL').pluck();
  const known = new Map<string, number | undefined>();
  return {
    get(key) {
      if (!known.has(key)) known.set(key, idByKey.get(key) as number | undefined);
      return known.get(key);
    },
  };
}

interface BlockRow {
  id: number;
  key: string | null;
  content_hash: string | null;
}

function mirrorBlocks(db: Db, workspace: Workspace, changes: Changes, counts: KindCounts): Map<string, number> {
  // Raw rows: this runs over every block on every sync that changed anything.
  const byPath = new Map<string, BlockRow>();
  for (const [id, key, sourcePath, contentHash] of db.prepare('SELECT id, key, source_path, content_hash FROM blocks WHERE source_path IS NOT NULL').raw().all() as [number, string | null, string, string | null][]) {
    byPath.set(sourcePath, { id, key, content_hash: contentHash });
  }
  const dbOnly = db.prepare('SELECT id, title, folder_path FROM blocks WHERE source_path IS NULL').all() as { id: number; title: string; folder_path: string | null }[];
  // Same inputs as `quire export` used, so the keys match the files it wrote.
  const adoptable = invert(exportBlockKeys(dbOnly, new Set([...byPath.values()].map((r) => r.key ?? ''))));

  const ids = new Map<string, number>();
  const insert = createBatchInserter(db, 'blocks', ['title', 'content', 'tags', 'folder_path', 'key', 'source_path', 'content_hash', 'includes', 'body_line'], {
    batchRows: 100,
    returning: 'id, key',
    onRows: (rows) => {
      for (const [id, key] of rows as [number, string][]) ids.set(key, id);
    },
  });
  const update = db.prepare(
    'UPDATE blocks SET title = ?, content = ?, tags = ?, folder_path = ?, key = ?, source_path = ?, content_hash = ?, includes = ?, body_line = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?',
  );
  const values = (b: Block) => [b.title, b.content, b.tags.join(','), b.folderPath, b.key, b.sourcePath, b.contentHash, JSON.stringify(b.includes), b.bodyLine] as const;

  const seenPaths = new Set<string>();
  for (const block of workspace.blocks.values()) {
    seenPaths.add(block.sourcePath);
    const row = byPath.get(block.sourcePath);
    if (row) {
      ids.set(block.key, row.id);
      if (!changes.paths.has(block.sourcePath) || (row.content_hash === block.contentHash && row.key === block.key)) counts.unchanged++;
      else {
        update.run(...values(block), row.id);
        counts.updated++;
      }
      continue;
    }
    const adoptId = adoptable.get(block.key);
    if (adoptId !== undefined) {
      adoptable.delete(block.key);
      update.run(...values(block), adoptId);
      ids.set(block.key, adoptId);
      counts.adopted++;
      continue;
    }
    insert.add(values(block));
    counts.added++;
  }
  insert.flush();

  const remove = db.prepare('DELETE FROM blocks WHERE id = ?');
  for (const [path, row] of byPath) {
    if (!seenPaths.has(path)) {
      remove.run(row.id);
      counts.removed++;
    }
  }
  return ids;
}

// --- Payloads and workflows ---

function mirrorPayloads(db: Db, workspace: Workspace, blockIds: BlockIds, changes: Changes, counts: KindCounts): { ids: Map<string, number>; newIds: Set<string> } {
  return mirrorNamedRows(db, workspace.payloads.values(), counts, {
    table: 'payloads',
    columns: ['name', 'temperature', 'response_length', 'llm_port', 'model_format', 'source_path', 'content_hash', 'options'],
    values: (p) => [p.name, p.temperature, p.responseLength, p.llmPort, p.modelFormat, p.sourcePath, p.contentHash, payloadOptions(p)],
    links: { table: 'payload_blocks', owner: 'payload_id', target: 'block_id' },
    targets: (p) => resolveBlockIds(p, workspace, blockIds),
    // Only a change to the file, or to the blocks the payload reaches by tag or key, can change its row.
    affected: (p) =>
      changes.paths.has(p.sourcePath) ||
      [...p.system, ...p.blocks].some((ref) => (ref.kind === 'tag' ? changes.tags.has(ref.tag) : ref.kind === 'block' && changes.keys.has(ref.key))),
    history: 'SELECT 1 FROM responses WHERE payload_id = @id UNION ALL SELECT 1 FROM workflow_payloads wp JOIN runs r ON r.workflow_id = wp.workflow_id WHERE wp.payload_id = @id LIMIT 1',
  });
}

function mirrorWorkflows(db: Db, workspace: Workspace, payloadIds: Map<string, number>, newPayloads: Set<string>, changes: Changes, counts: KindCounts): void {
  mirrorNamedRows(db, workspace.workflows.values(), counts, {
    table: 'workflows',
    columns: ['name', 'source_path', 'content_hash', 'description', 'definition'],
    values: (w) => [w.name, w.sourcePath, w.contentHash, w.description, workflowDefinition(w)],
    links: { table: 'workflow_payloads', owner: 'workflow_id', target: 'payload_id' },
    targets: (w) => w.steps.map((step) => payloadIds.get(step.payload)!),
    // Unchanged file and the same payload rows behind every step: nothing to compare.
    affected: (w) => changes.paths.has(w.sourcePath) || w.steps.some((step) => newPayloads.has(step.payload)),
    // A batch names its workflow's row too (registered for workers before any run): history as well.
    history: 'SELECT 1 FROM runs WHERE workflow_id = @id UNION ALL SELECT 1 FROM batches WHERE workflow_id = @id LIMIT 1',
  });
}

/** How one kind of named, file-backed row (payloads, workflows) is stored. */
interface NamedRowSpec<E> {
  table: 'payloads' | 'workflows';
  /** Data columns, `name` first; `values` gives them in the same order. */
  columns: string[];
  values(entity: E): unknown[];
  links: { table: 'payload_blocks' | 'workflow_payloads'; owner: string; target: string };
  targets(entity: E): number[];
  /** False when nothing the row is made from can have changed since the last sync. */
  affected(entity: E): boolean;
  /** SQL (parameter @id: the row id) that finds run history; rows with history are archived, not deleted. */
  history: string;
}

type NamedRow = { id: number; archived: number; source_path: string | null } & Record<string, unknown>;

/**
 * Mirrors named entities into their table and link table: unchanged rows are left alone,
 * changed ones updated, new ones adopted from a database-only row of the same export name
 * or inserted, and rows whose file is gone archived (with history) or deleted.
 */
function mirrorNamedRows<E extends { name: string }>(db: Db, entities: Iterable<E>, counts: KindCounts, spec: NamedRowSpec<E>): { ids: Map<string, number>; newIds: Set<string> } {
  const rows = db.prepare(`SELECT id, archived, ${spec.columns.join(', ')} FROM ${spec.table}`).all() as NamedRow[];
  const byName = new Map<string, NamedRow>();
  const dbOnly: { id: number; name: string }[] = [];
  for (const row of rows) {
    const name = row['name'] as string;
    if (row.source_path === null) dbOnly.push({ id: row.id, name });
    // Prefer the live row when an archived one shares its name.
    else if (!byName.has(name) || byName.get(name)!.archived) byName.set(name, row);
  }
  // Same inputs as `quire export` used, so the names match the files it wrote.
  const adoptable = invert(exportNames(dbOnly, new Set(rows.filter((r) => r.source_path !== null).map((r) => r['name'] as string))));

  const placeholders = spec.columns.map(() => '?').join(', ');
  const insert = db.prepare(`INSERT INTO ${spec.table} (${spec.columns.join(', ')}, archived) VALUES (${placeholders}, 0)`);
  const update = db.prepare(`UPDATE ${spec.table} SET ${spec.columns.map((c) => `${c} = ?`).join(', ')}, archived = 0, updated_at = CURRENT_TIMESTAMP WHERE id = ?`);
  const { table: linkTable, owner, target } = spec.links;
  const readLinks = db.prepare(`SELECT ${target} FROM ${linkTable} WHERE ${owner} = ? ORDER BY order_index`).pluck();
  const clearLinks = db.prepare(`DELETE FROM ${linkTable} WHERE ${owner} = ?`);
  const links = createBatchInserter(db, linkTable, [owner, target, 'order_index']);
  const writeLinks = (id: number, targets: number[], fresh: boolean) => {
    if (!fresh) clearLinks.run(id);
    targets.forEach((t, index) => links.add([id, t, index]));
  };

  const ids = new Map<string, number>();
  const newIds = new Set<string>();
  const seen = new Set<number>();
  for (const entity of entities) {
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
      const linksSame = sameList(readLinks.all(row.id) as number[], targets);
      if (!row.archived && linksSame && spec.columns.every((column, i) => row[column] === values[i])) counts.unchanged++;
      else {
        update.run(...values, row.id);
        if (!linksSame) writeLinks(row.id, targets, false);
        counts.updated++;
      }
      continue;
    }
    const adoptId = adoptable.get(entity.name);
    let id: number;
    if (adoptId !== undefined) {
      adoptable.delete(entity.name);
      update.run(...values, adoptId);
      writeLinks(adoptId, targets, false);
      id = adoptId;
      counts.adopted++;
    } else {
      id = Number(insert.run(...values).lastInsertRowid);
      writeLinks(id, targets, true);
      counts.added++;
    }
    ids.set(entity.name, id);
    newIds.add(entity.name);
    seen.add(id);
  }

  links.flush();
  const history = db.prepare(spec.history);
  retireRows(db, spec.table, rows.filter((r) => r.source_path !== null && !r.archived && !seen.has(r.id)), (id) => history.get({ id }) !== undefined, counts);
  return { ids, newIds };
}

/** The block ids a payload uses, in order: system blocks, then prompt blocks; tags expand by key. */
function resolveBlockIds(payload: Payload, workspace: Workspace, blockIds: BlockIds): number[] {
  return directBlockKeys(payload, (tag) => workspace.tags.get(tag) ?? []).map((key) => blockIds.get(key)!).filter((id) => id !== undefined);
}

// --- Internal helpers ---

/** Drops a table's indexes, runs `fill`, then re-creates them from their own stored SQL. */
function withIndexesDeferred<T>(db: Db, table: string, fill: () => T): T {
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(table) as { name: string; sql: string }[];
  for (const index of indexes) db.exec(`DROP INDEX "${index.name.replace(/"/g, '""')}"`);
  const result = fill();
  for (const index of indexes) db.exec(index.sql);
  return result;
}

/** Rows whose file is gone: archived when they have history, deleted otherwise. */
function retireRows(db: Db, table: 'payloads' | 'workflows', rows: { id: number }[], hasHistory: (id: number) => boolean, counts: KindCounts): void {
  const archive = db.prepare(`UPDATE ${table} SET archived = 1, updated_at = CURRENT_TIMESTAMP WHERE id = ?`);
  const remove = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
  for (const row of rows) {
    if (hasHistory(row.id)) {
      archive.run(row.id);
      counts.archived++;
    } else {
      remove.run(row.id);
      counts.removed++;
    }
  }
}

function sameList(left: number[], b: number[]): boolean {
  return left.length === b.length && left.every((value, index) => value === b[index]);
}

function invert(map: Map<number, string>): Map<string, number> {
  const inverted = new Map<string, number>();
  for (const [id, name] of map) inverted.set(name, id);
  return inverted;
}
