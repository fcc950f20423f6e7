/**
 * The Postgres MirrorStore beyond the store contract: processes syncing the same workspace
 * at once converge on the same rows (the advisory lock serializes their applies), and a
 * workspace mirrored on Postgres gives the rows SQLite gives, step by step (adoption of
 * database-only rows, updates, retags, archive and delete, unarchive), ids aside: rows are
 * compared by key and name, links by what they point at, in order.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStoreProvider } from '../src/adapters/db/sqlite-stores.js';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { createPgHistoryStore } from '../src/adapters/pg/history.js';
import { createPgMirrorStore } from '../src/adapters/pg/mirror.js';
import { openPostgres, type PgDb } from '../src/adapters/pg/open.js';
import { inspectWorkspace } from '../src/app/load.js';
import { findChanges, type WorkspaceChanges } from '../src/core/changes.js';
import type { HistoryStore, MirrorStore } from '../src/core/ports.js';
import type { Workspace } from '../src/core/types.js';
import { startPostgres, type PgCluster } from './helpers/postgres.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function workspaceOf(files: Record<string, string>): TempWorkspace {
  const ws = makeWorkspace(files);
  cleanups.push(() => ws.cleanup());
  return ws;
}

async function pgOpen(url: string): Promise<PgDb> {
  const db = await openPostgres(url);
  cleanups.push(() => db.close());
  return db;
}

/** Loads the workspace; each loader remembers its own last state (one process's parse cache), so changes are incremental. */
function loader(ws: TempWorkspace): () => { workspace: Workspace; changes: WorkspaceChanges } {
  let previous = new Map();
  return () => {
    const checked = inspectWorkspace(createWorkspaceReader(ws.root));
    expect(checked.problems).toEqual([]);
    // As a parse cache would: a file whose hash is the one of the last sync counts as unchanged.
    const files = new Map([...checked.files].map(([path, state]) => [path, { ...state, cached: previous.get(path)?.hash === state.hash }]));
    const changes = findChanges(files, previous);
    previous = new Map([...checked.files].map(([path, state]) => [path, { hash: state.hash, parsed: state.parsed }]));
    return { workspace: checked.workspace, changes };
  };
}

/** A workspace big enough that applies take a while: blocks under tags, payloads expanding them, workflows. */
function bigWorkspace(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 240; i++) files[`blocks/g${i % 6}/b${i}.md`] = `---\ntags: [t${i % 8}${i % 5 === 0 ? ', shared' : ''}]\n---\nBlock ${i}\n`;
  for (let i = 0; i < 40; i++) files[`workflows/p${i}.payload.yaml`] = `temperature: 0.${i % 10}\nsystem: [g${i % 6}/b${i}]\nblocks: [{ tag: t${i % 8} }, { tag: shared }, g1/b${((i * 6) % 240) + 1}, { text: "x {{input.v}}" }]\n`;
  for (let i = 0; i < 12; i++) files[`workflows/w${i}.workflow.yaml`] = `name: w${i}\ninputs:\n  v: { type: string, default: a }\npayloads: [p${i}, p${(i + 1) % 40}, p${(i + 20) % 40}]\n`;
  return files;
}

type Row = Record<string, unknown>;
type Dump = { blocks: Row[]; payloads: Row[]; payload_blocks: Row[]; workflows: Row[]; workflow_payloads: Row[] };

/** The mirror tables with ids, without timestamps (for databases that must be identical). */
async function pgDump(db: PgDb): Promise<Dump> {
  return {
    blocks: await db.query('SELECT id, title, content, tags, folder_path, key, source_path, content_hash, includes, body_line FROM blocks ORDER BY id'),
    payloads: await db.query('SELECT id, name, temperature, response_length, llm_port, model_format, source_path, content_hash, options, archived FROM payloads ORDER BY id'),
    payload_blocks: await db.query('SELECT payload_id, block_id, order_index FROM payload_blocks ORDER BY payload_id, order_index, block_id'),
    workflows: await db.query('SELECT id, name, source_path, content_hash, description, definition, archived FROM workflows ORDER BY id'),
    workflow_payloads: await db.query('SELECT workflow_id, payload_id, order_index FROM workflow_payloads ORDER BY workflow_id, order_index, payload_id'),
  };
}

/**
 * The mirror tables by keys and names: blocks by file (or title), payloads and workflows by
 * name with their links as the blocks' and payloads' identities, in order.
 */
function keyed(tables: Dump, { orderIndex = true } = {}) {
  const blockId = new Map(tables.blocks.map((b) => [Number(b.id), `${b.source_path ?? `db:${b.folder_path}/${b.title}`}`]));
  const payloadId = new Map(tables.payloads.map((p) => [Number(p.id), `${p.name}${p.source_path === null ? ' (db)' : ''}${Number(p.archived) ? ' (archived)' : ''}`]));
  const linksOf = (rows: Row[], owner: string, target: string, names: Map<number, string>) => {
    const map = new Map<number, string[]>();
    for (const row of [...rows].sort((a, b) => Number(a[owner]) - Number(b[owner]) || Number(a.order_index) - Number(b.order_index))) {
      const list = map.get(Number(row[owner])) ?? [];
      list.push(orderIndex ? `${row.order_index}:${names.get(Number(row[target]))}` : `${names.get(Number(row[target]))}`);
      map.set(Number(row[owner]), list);
    }
    return map;
  };
  const payloadLinks = linksOf(tables.payload_blocks, 'payload_id', 'block_id', blockId);
  const workflowLinks = linksOf(tables.workflow_payloads, 'workflow_id', 'payload_id', payloadId);
  const strip = ({ id: _id, ...rest }: Row) => rest;
  const sort = (rows: Row[], by: (row: Row) => string) => [...rows].sort((a, b) => (by(a) < by(b) ? -1 : by(a) > by(b) ? 1 : 0));
  return {
    blocks: sort(tables.blocks.map((b) => ({ ...strip(b), body_line: b.body_line === null ? null : Number(b.body_line) })), (b) => `${b.source_path}|${b.title}`),
    payloads: sort(tables.payloads.map((p) => ({ ...strip(p), archived: Number(p.archived), blocks: payloadLinks.get(Number(p.id)) ?? [] })), (p) => `${p.name}|${p.source_path}|${p.archived}`),
    workflows: sort(tables.workflows.map((w) => ({ ...strip(w), archived: Number(w.archived), payloads: workflowLinks.get(Number(w.id)) ?? [] })), (w) => `${w.name}|${w.source_path}|${w.archived}`),
  };
}

function sqliteDump(path: string): Promise<Dump> {
  const db = new Database(path, { readonly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all() as Row[];
    return Promise.resolve({
      blocks: all('SELECT id, title, content, tags, folder_path, key, source_path, content_hash, includes, body_line FROM blocks ORDER BY id'),
      payloads: all('SELECT id, name, temperature, response_length, llm_port, model_format, source_path, content_hash, options, archived FROM payloads ORDER BY id'),
      payload_blocks: all('SELECT payload_id, block_id, order_index FROM payload_blocks ORDER BY payload_id, order_index, block_id'),
      workflows: all('SELECT id, name, source_path, content_hash, description, definition, archived FROM workflows ORDER BY id'),
      workflow_payloads: all('SELECT workflow_id, payload_id, order_index FROM workflow_payloads ORDER BY workflow_id, order_index, payload_id'),
    });
  } finally {
    db.close();
  }
}

const asKeyed = async (dump: Promise<Dump>) => keyed(await dump);

describe('concurrent applies of one workspace on Postgres', () => {
  it('two connections applying the same workspace at once converge on the rows one apply gives', async () => {
    const ws = workspaceOf(bigWorkspace());
    // The reference: one process, one apply.
    const single = await pgOpen(await cluster.createDatabase());
    const load = loader(ws);
    const { workspace, changes } = load();
    const alone = await createPgMirrorStore(single).apply(workspace, changes);
    expect(alone.blocks.added).toBe(240);
    const reference = await pgDump(single);
    expect(reference.payload_blocks.length).toBeGreaterThan(40 * 30);

    for (let round = 0; round < 3; round++) {
      const url = await cluster.createDatabase();
      const [a, b] = [await pgOpen(url), await pgOpen(url)];
      const [loadA, loadB] = [loader(ws), loader(ws)];
      const [first, second] = [loadA(), loadB()];
      const reports = await Promise.all([createPgMirrorStore(a).apply(first.workspace, first.changes), createPgMirrorStore(b).apply(second.workspace, second.changes)]);
      // One of them added everything; the other found it there.
      const added = reports.filter((r) => r.blocks.added === 240 && r.payloads.added === 40 && r.workflows.added === 12);
      const unchanged = reports.filter((r) => r.blocks.unchanged === 240 && r.payloads.unchanged === 40 && r.workflows.unchanged === 12);
      expect([added.length, unchanged.length]).toEqual([1, 1]);
      expect(await pgDump(a)).toEqual(reference);
      expect(await pgDump(b)).toEqual(await pgDump(a));
    }
  }, 60_000);

  it('processes with different last syncs converge after an edit applied by both at once', async () => {
    const ws = workspaceOf(bigWorkspace());
    const url = await cluster.createDatabase();
    const [a, b, c] = [await pgOpen(url), await pgOpen(url), await pgOpen(url)];
    const [loadA, loadB] = [loader(ws), loader(ws)];
    const initial = loadA();
    await createPgMirrorStore(a).apply(initial.workspace, initial.changes);

    // Edits: a block body, a retag, a removed block, a removed payload and workflow, a new payload.
    ws.write('blocks/g0/b0.md', '---\ntags: [t0, shared]\n---\nBlock 0, edited\n');
    ws.write('blocks/g1/b7.md', '---\ntags: [t3]\n---\nBlock 7\n');
    rmSync(`${ws.root}/blocks/g2/b200.md`);
    rmSync(`${ws.root}/workflows/w11.workflow.yaml`);
    rmSync(`${ws.root}/workflows/p39.payload.yaml`);
    ws.write('workflows/w10.workflow.yaml', 'name: w10\npayloads: [p10, p11, pnew]\n');
    ws.write('workflows/pnew.payload.yaml', 'blocks: [{ tag: t3 }, g0/b0]\n');
    // A is one sync behind the files (incremental changes); B has never synced (everything is new to it).
    const [next, fresh] = [loadA(), loadB()];
    expect(next.changes.paths.size).toBeLessThan(20);
    await Promise.all([createPgMirrorStore(a).apply(next.workspace, next.changes), createPgMirrorStore(b).apply(fresh.workspace, fresh.changes)]);
    const converged = await pgDump(c);

    // The same files applied once, from nothing, on another database: the same rows by key and name.
    const other = await pgOpen(await cluster.createDatabase());
    const once = loader(ws)();
    await createPgMirrorStore(other).apply(once.workspace, once.changes);
    // Links compared by order alone: a link to a deleted block goes with it (ON DELETE CASCADE), and a
    // payload whose remaining links are the same list keeps them, gap in order_index and all (as in SQLite).
    expect(keyed(converged, { orderIndex: false })).toEqual(keyed(await pgDump(other), { orderIndex: false }));
    expect(converged.blocks.filter((r) => r.source_path === 'blocks/g2/b200.md')).toEqual([]);
  }, 60_000);
});

describe('Postgres and SQLite mirror a workspace to the same rows', () => {
  const FILES: Record<string, string> = {
    'blocks/a.md': '---\ntags: [x]\n---\nA\n',
    'blocks/b.md': '---\ntags: [x, y]\n---\nB {{block "a"}}\n',
    'blocks/c.md': 'C {{block "a"}}\n',
    'blocks/old/Legacy.md': '---\ntags: [y]\n---\nAdopted block\n',
    'workflows/p.payload.yaml': 'temperature: 0.3\nresponse_length: 50\nsystem: [c]\nblocks: [{ tag: x }, c, { text: "t" }]\n',
    'workflows/q.payload.yaml': 'blocks: [a, { tag: y }]\n',
    'workflows/legacy.payload.yaml': 'model_format: chatml\nblocks: [old/Legacy]\n',
    'workflows/w.workflow.yaml': 'name: w\ndescription: the w\npayloads: [p, q]\n',
    'workflows/v.workflow.yaml': 'name: v\npayloads: [q]\n',
    'workflows/legacy-wf.workflow.yaml': 'name: legacy-wf\npayloads: [legacy, p]\n',
  };

  /** Database-only rows, as the original system would have them: some to adopt, some to leave alone. */
  const DB_ONLY = [
    "INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Legacy', 'old text', 'y', 'old')",
    "INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Typed', 'typed text', NULL, NULL)",
    "INSERT INTO payloads (name, temperature) VALUES ('legacy', 0.9)",
    "INSERT INTO payloads (name) VALUES ('typed')",
    "INSERT INTO workflows (name) VALUES ('legacy-wf')",
    "INSERT INTO workflows (name) VALUES ('typed-wf')",
    'INSERT INTO payload_blocks (payload_id, block_id, order_index) VALUES (2, 2, 0)',
    'INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (2, 2, 0)',
  ];

  it('gives the same reports and rows at every step', async () => {
    const ws = workspaceOf(FILES);
    const provider = createSqliteStoreProvider(ws.dbPath);
    cleanups.push(() => provider.close());
    const sqliteStores = await provider.forWriting();
    const sqlite = new Database(ws.dbPath);
    for (const sql of DB_ONLY) sqlite.exec(sql);
    sqlite.close();
    const pgDb = await pgOpen(await cluster.createDatabase());
    for (const sql of DB_ONLY) await pgDb.query(sql);

    const backends: { mirror: MirrorStore; history: HistoryStore; load: ReturnType<typeof loader>; dump: () => Promise<Dump> }[] = [
      { mirror: sqliteStores.mirror, history: sqliteStores.history, load: loader(ws), dump: () => sqliteDump(ws.dbPath) },
      { mirror: createPgMirrorStore(pgDb), history: createPgHistoryStore(pgDb), load: loader(ws), dump: () => pgDump(pgDb) },
    ];
    const step = async () => {
      const reports = [];
      for (const backend of backends) {
        const { workspace, changes } = backend.load();
        reports.push(await backend.mirror.apply(workspace, changes));
      }
      expect(reports[1]).toEqual(reports[0]);
      const [left, right] = [await asKeyed(backends[0]!.dump()), await asKeyed(backends[1]!.dump())];
      expect(right).toEqual(left);
      const counts = await Promise.all(backends.map((b) => b.mirror.fileRowCounts()));
      expect(counts[1]).toEqual(counts[0]);
      return reports[0]!;
    };

    const first = await step();
    expect(first.blocks).toMatchObject({ added: 3, adopted: 1 });
    expect(first.payloads).toMatchObject({ added: 2, adopted: 1 });
    expect(first.workflows).toMatchObject({ added: 2, adopted: 1 });

    // Run history on q and on v: they are archived when their files go, not deleted.
    for (const backend of backends) {
      const links = await backend.mirror.runLinks('v');
      const runId = await backend.history.startRun({ workflowId: links.workflowId, metadata: {}, startedAt: new Date(0) });
      await backend.history.addResponse({ runId, payloadId: links.payloadIds.get('q')!, content: 'x', prompt: 'y', metadata: {} }, new Date(0));
    }
    ws.write('blocks/a.md', '---\ntags: [y]\n---\nA changed\n');
    rmSync(`${ws.root}/blocks/c.md`);
    ws.write('workflows/p.payload.yaml', 'temperature: 0.3\nblocks: [{ tag: x }, { tag: y }]\n');
    rmSync(`${ws.root}/workflows/q.payload.yaml`);
    rmSync(`${ws.root}/workflows/v.workflow.yaml`);
    rmSync(`${ws.root}/workflows/legacy-wf.workflow.yaml`);
    ws.write('workflows/w.workflow.yaml', 'name: w\ndescription: the w\npayloads: [p, r]\n');
    ws.write('workflows/r.payload.yaml', 'blocks: [b, a, b]\n');
    const second = await step();
    expect(second.payloads).toMatchObject({ archived: 1, added: 1 });
    expect(second.workflows).toMatchObject({ archived: 1, removed: 1 });

    // Only a block body: the quick path.
    ws.write('blocks/b.md', '---\ntags: [x, y]\n---\nB again {{block "a"}}\n');
    expect((await step()).blocks).toMatchObject({ updated: 1 });

    // The files come back: the archived rows live again, with their ids.
    ws.write('workflows/q.payload.yaml', 'blocks: [a]\n');
    ws.write('workflows/v.workflow.yaml', 'name: v\npayloads: [q]\n');
    const third = await step();
    expect(third.payloads).toMatchObject({ updated: 1, added: 0 });
    expect(third.workflows).toMatchObject({ updated: 1, added: 0 });

    // And nothing to do afterwards.
    const quiet = await step();
    expect(quiet.payloads).toMatchObject({ added: 0, updated: 0, removed: 0, archived: 0 });

    // What export would see, by name.
    const sources = await Promise.all(backends.map((b) => b.mirror.exportSource()));
    const named = (s: (typeof sources)[number]) => ({
      blocks: s.blocks.map((b) => [b.title, b.content, b.tags, b.folder_path]),
      payloads: s.payloads.map((p) => [p.name, p.temperature, p.response_length, p.llm_port, p.model_format, p.blockIds.length]),
      workflows: s.workflows.map((w) => [w.name, w.payloadIds.length]),
      taken: [[...s.takenBlockKeys].sort(), [...s.takenPayloadNames].sort(), [...s.takenWorkflowNames].sort()],
    });
    expect(named(sources[1]!)).toEqual(named(sources[0]!));
    expect(sources[1]!.payloads.map((p) => p.name)).toEqual(['typed']);
  }, 60_000);
});
