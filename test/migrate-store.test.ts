/**
 * `quire migrate-store`: a real history in a SQLite file (synced workspace, runs with
 * responses, a failed run, a batch with its records, a step-cache row, archived rows, rows
 * typed into the original tables by hand, a deleted run) copied to a throwaway Postgres
 * database and back to a new SQLite file, every table compared column by column; the
 * refusals (a target holding history, the same store twice, a source at another schema, a
 * value Postgres cannot hold exactly), the URL's password never shown, and the built CLI
 * with --json.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStoreProvider } from '../src/adapters/db/sqlite-stores.js';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { createPgHistoryStore } from '../src/adapters/pg/history.js';
import { openPostgres } from '../src/adapters/pg/open.js';
import { inspectWorkspace } from '../src/app/load.js';
import { migrateStore, type MigrateStoreEvent } from '../src/app/migrate-store.js';
import { storeEndpoint } from '../src/cli/store-copy-targets.js';
import type { BatchCounts } from '../src/core/batch.js';
import { findChanges } from '../src/core/changes.js';
import { COPY_TABLES, NOT_COPIED_TABLES } from '../src/core/store-copy.js';
import { runCliAsync } from './helpers/cli.js';
import { startPostgres, type PgCluster } from './helpers/postgres.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const at = (second: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, second, 5));
const counts = (c: Partial<BatchCounts>): BatchCounts => ({ completed: 0, failed: 0, cancelled: 0, invalid: 0, skipped: 0, cacheHits: 0, ...c });

const FILES: Record<string, string> = {
  'blocks/style/concise.md': '---\ntags: [style]\n---\nBe concise. Ünïcödé ✓ and "quotes"\n',
  'blocks/tasks/summarize.md': '---\ntitle: Summarize\n---\nSummarize in {{input.words}} words.\n\n{{tag "style"}}\n',
  'blocks/old.md': 'An old block\n',
  'workflows/summarize.payload.yaml': 'name: summarize\nmodel_format: chatml\ntemperature: 0.7\nblocks:\n  - tasks/summarize\n  - text: "Text: {{input.text}}"\n',
  'workflows/polish.payload.yaml': 'name: polish\ntemperature: 0\nblocks: [old, { text: "Polish: {{steps.summarize.output}}" }]\n',
  'workflows/research.workflow.yaml': 'name: research\ninputs:\n  text: { type: string }\n  words: { type: integer, default: 20 }\npayloads: [summarize, polish]\n',
  'workflows/once.workflow.yaml': 'name: once\npayloads: [summarize]\n',
};

/**
 * A history as quire and the original system leave it, in `ws.dbPath`. Returns the ids a
 * test needs.
 */
async function buildHistory(): Promise<{ ws: TempWorkspace; ids: Record<string, number> }> {
  const ws = makeWorkspace(FILES);
  cleanups.push(() => ws.cleanup());
  const provider = createSqliteStoreProvider(ws.dbPath);
  let previous = new Map();
  const sync = async () => {
    const checked = inspectWorkspace(createWorkspaceReader(ws.root));
    expect(checked.problems).toEqual([]);
    const changes = findChanges(checked.files, previous);
    previous = new Map([...checked.files].map(([path, state]) => [path, { hash: state.hash, parsed: state.parsed }]));
    await (await provider.forWriting()).mirror.apply(checked.workspace, changes);
  };
  try {
    await sync();
    const { history, batches, mirror } = await provider.forWriting();
    const links = await mirror.runLinks('research');
    const summarize = links.payloadIds.get('summarize')!;
    const polish = links.payloadIds.get('polish')!;

    // A completed run with two steps; a failed one; one whose workflow is gone (NULL link).
    const done = await history.startRun({ workflowId: links.workflowId, metadata: { inputs: { text: 'line one\nline two', words: 5 }, trigger: 'cli', pid: 42 }, startedAt: at(0) });
    const first = await history.addResponse({ runId: done, payloadId: summarize, content: 'A short summary ✓', prompt: '<|im_start|>user\nSummarize…', metadata: { step: 'summarize', total_ms: 12.5 } }, at(1));
    await history.addResponse({ runId: done, payloadId: polish, content: '', prompt: 'Polish: A short summary', metadata: { step: 'polish' } }, at(2));
    await history.finishRun(done, 'completed', { trigger: 'cli', steps_completed: 2 }, at(3));
    const failed = await history.startRun({ workflowId: links.workflowId, metadata: { trigger: 'cli' }, startedAt: at(4) });
    await history.finishRun(failed, 'failed', { trigger: 'cli', error: 'LLM_HTTP: 500 from the server' }, at(5));
    const orphan = await history.startRun({ workflowId: null, metadata: { trigger: 'watch' }, startedAt: at(6) });
    await history.addResponse({ runId: orphan, payloadId: null, content: 'no payload row', prompt: '', metadata: {} }, at(7));

    // A batch with its records (one completed, one invalid), finished; the step cache.
    const batch = await batches.createBatch({ workflowId: links.workflowId, workflow: 'research', inputPath: 'in.jsonl', inputHash: 'abc123', inputFormat: 'jsonl', settings: { concurrency: 2, cache: true }, startedAt: at(8) });
    const batchRun = await history.startRun({ workflowId: links.workflowId, metadata: { batch_id: batch, record: 1 }, startedAt: at(9) });
    await history.finishRun(batchRun, 'completed', { batch_id: batch, record: 1 }, at(10));
    await batches.saveResults(batch, [
      { record: 1, line: 1, runId: batchRun, status: 'completed', key: '{"text":"a"}', error: null },
      { record: 2, line: 3, runId: null, status: 'invalid', key: null, error: 'line 3: text is required' },
    ], { recordCount: 2, counts: counts({ completed: 1, invalid: 1 }) });
    await batches.finishBatch(batch, 'completed', at(11), { recordCount: 2, counts: counts({ completed: 1, invalid: 1, cacheHits: 1 }) });
    await history.rememberResponse('step-key-1', first);
    // Its queue, as workers on a shared store leave it (one record done, one leased).
    const queue = new Database(ws.dbPath);
    queue.prepare("INSERT INTO batch_queue (batch_id, record, line, inputs, status, worker, lease_until, attempts) VALUES (?, 1, 1, '{\"text\":\"a\"}', 'done', NULL, NULL, 1), (?, 2, 3, '{}', 'leased', 'host-1:123', '2026-01-02 03:05:00.250', 2)").run(batch, batch);
    queue.close();

    // `polish` loses its file and `research` its step: a payload with history is archived, not deleted.
    ws.write('workflows/research.workflow.yaml', 'name: research\ninputs:\n  text: { type: string }\npayloads: [summarize]\n');
    rmSync(join(ws.root, 'workflows/polish.payload.yaml'));
    await sync();
  } finally {
    await provider.close();
  }

  // Rows typed into the original tables by hand: no source_path, CURRENT_TIMESTAMP (no
  // milliseconds), text that is not JSON; a run deleted again (its id is not handed out twice).
  const db = new Database(ws.dbPath);
  try {
    const ids: Record<string, number> = {};
    ids.block = Number(db.prepare("INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Typed by hand', 'Old text\nwith a tab\there', 'legacy,old', 'legacy')").run().lastInsertRowid);
    ids.payload = Number(db.prepare("INSERT INTO payloads (name, temperature, response_length, llm_port, model_format) VALUES ('legacy-payload', 0.30000000000000004, 512, 5002, 'alpaca')").run().lastInsertRowid);
    db.prepare('INSERT INTO payload_blocks (payload_id, block_id, order_index) VALUES (?, ?, 0), (?, ?, 1)').run(ids.payload, ids.block, ids.payload, ids.block);
    ids.workflow = Number(db.prepare("INSERT INTO workflows (name) VALUES ('legacy-workflow')").run().lastInsertRowid);
    db.prepare('INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (?, ?, 0)').run(ids.workflow, ids.payload);
    ids.run = Number(db.prepare("INSERT INTO runs (workflow_id, status, metadata) VALUES (?, 'completed', 'free text, not JSON')").run(ids.workflow).lastInsertRowid);
    db.prepare("INSERT INTO responses (run_id, payload_id, content) VALUES (?, ?, 'an old answer')").run(ids.run, ids.payload);
    const gone = Number(db.prepare("INSERT INTO runs (workflow_id, status) VALUES (NULL, 'completed')").run().lastInsertRowid);
    db.prepare('DELETE FROM runs WHERE id = ?').run(gone);
    ids.deletedRun = gone;
    // This checkout's parse cache: never copied.
    db.prepare("INSERT INTO quire_state (key, value) VALUES ('fingerprint', 'local')").run();
    return { ws, ids };
  } finally {
    db.close();
  }
}

/** Every copied table of a SQLite file: each row's values and their storage classes, in a fixed order; and the id sequences. */
function readSqlite(path: string): Record<string, unknown[][]> {
  const db = new Database(path, { readonly: true });
  try {
    const out: Record<string, unknown[][]> = {};
    for (const table of COPY_TABLES) {
      const columns = (db.prepare(`PRAGMA table_info(${table.name})`).all() as { name: string }[]).map((c) => c.name);
      out[table.name] = db.prepare(`SELECT ${columns.flatMap((c) => [c, `typeof(${c})`]).join(', ')} FROM ${table.name} ORDER BY ${columns.join(', ')}`).raw().all() as unknown[][];
    }
    out.sqlite_sequence = db.prepare('SELECT name, seq FROM sqlite_sequence ORDER BY name').raw().all() as unknown[][];
    return out;
  } finally {
    db.close();
  }
}

async function pgQuery<T extends object = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function pgCounts(url: string): Promise<Record<string, number>> {
  const rows = await pgQuery<{ t: string; n: string }>(url, COPY_TABLES.map((t) => `SELECT '${t.name}' AS t, count(*) AS n FROM ${t.name}`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

async function copy(from: string, to: string, onProgress?: (event: MigrateStoreEvent) => void) {
  return migrateStore({ from: await storeEndpoint(from), to: await storeEndpoint(to), ...(onProgress ? { onProgress } : {}) });
}

const fileHash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('migrate-store', () => {
  it('copies SQLite -> Postgres -> a new SQLite file with every row, id, link, NULL and timestamp as it was', async () => {
    const { ws, ids } = await buildHistory();
    const source = readSqlite(ws.dbPath);
    // The history is what the test means it to be.
    expect(source.runs!.length).toBe(5);
    expect(source.blocks!.some((r) => r[0] === ids.block && r[16] === null)).toBe(true); // source_path NULL
    expect(source.payloads!.some((r) => r[2] === 'polish' && r[22] === 1)).toBe(true); // archived
    expect(source.runs!.some((r) => r[4] === 'failed')).toBe(true);
    expect(source.batch_records!.length).toBe(2);
    expect(source.quire_step_cache!.length).toBe(1);
    expect(source.batch_queue!.length).toBe(2);
    expect((source.blocks!.find((r) => r[0] === ids.block)![10] as string)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/); // CURRENT_TIMESTAMP, no ms
    expect(source.sqlite_sequence!.find((r) => r[0] === 'runs')![1]).toBe(ids.deletedRun);

    const url = await cluster.createDatabase();
    const events: MigrateStoreEvent[] = [];
    const there = await copy(ws.dbPath, url, (e) => events.push(e));
    expect(there.tables.map((t) => t.table)).toEqual(COPY_TABLES.map((t) => t.name));
    expect(Object.fromEntries(there.tables.map((t) => [t.table, t.rows]))).toEqual(Object.fromEntries(COPY_TABLES.map((t) => [t.name, source[t.name]!.length])));
    expect(events.filter((e) => e.type === 'table').map((e) => e.table)).toEqual(COPY_TABLES.map((t) => t.name));
    expect(await pgCounts(url)).toEqual(Object.fromEntries(there.tables.map((t) => [t.table, t.rows])));
    // Postgres holds the same instants (whole seconds and milliseconds alike).
    const pgRun = (await pgQuery<{ started: string; completed: string | null }>(url, `SELECT to_char(started_at, 'YYYY-MM-DD HH24:MI:SS.MS') AS started, to_char(completed_at, 'YYYY-MM-DD HH24:MI:SS.MS') AS completed FROM runs WHERE id = $1`, [ids.run]))[0]!;
    expect(pgRun.started).toBe(`${source.runs!.find((r) => r[0] === ids.run)![6]}.000`);
    expect(pgRun.completed).toBeNull();
    // Not copied: this checkout's parse cache.
    expect(await pgQuery(url, 'SELECT * FROM quire_state')).toEqual([]);

    const back = join(tempDir(), 'home', 'quire.db');
    const home = await copy(url, back);
    expect(home.total).toBe(there.total);
    expect(readSqlite(back)).toEqual(source);
    const local = new Database(back, { readonly: true });
    expect(local.prepare('SELECT count(*) AS n FROM quire_state').get()).toEqual({ n: 0 });
    expect(local.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(local.pragma('foreign_key_check')).toEqual([]);
    local.close();
  });

  it('copies a history of many pages (big rows, link rows with duplicates) the same', async () => {
    const { ws, ids } = await buildHistory();
    const db = new Database(ws.dbPath);
    const text = (i: number) => `${i}: ${'lorem ipsum ✓ '.repeat(200)}`;
    const response = db.prepare("INSERT INTO responses (run_id, payload_id, content, prompt, metadata, created_at) VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', '2026-01-02 03:04:05.123', ? || ' seconds'))");
    const link = db.prepare('INSERT INTO payload_blocks (payload_id, block_id, order_index) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 2600; i++) response.run(ids.run, ids.payload, text(i), i % 7 === 0 ? null : `prompt ${i}`, JSON.stringify({ i }), String(-i));
      for (let i = 0; i < 2100; i++) link.run(ids.payload, ids.block, i % 1000);
    })();
    db.close();
    const source = readSqlite(ws.dbPath);
    const url = await cluster.createDatabase();
    const events: MigrateStoreEvent[] = [];
    await copy(ws.dbPath, url, (e) => events.push(e));
    expect(events.filter((e) => e.type === 'rows' && e.table === 'responses').length).toBeGreaterThan(3);
    const back = join(tempDir(), 'quire.db');
    await copy(url, back);
    expect(readSqlite(back)).toEqual(source);
  });

  it('continues ids past every copied id (and every id the source handed out) in Postgres and SQLite', async () => {
    const { ws, ids } = await buildHistory();
    const url = await cluster.createDatabase();
    await copy(ws.dbPath, url);
    const db = await openPostgres(url);
    try {
      const history = createPgHistoryStore(db);
      const run = await history.startRun({ workflowId: ids.workflow!, metadata: { trigger: 'cli' }, startedAt: new Date() });
      expect(run).toBe(ids.deletedRun! + 1);
      const response = await history.addResponse({ runId: run, payloadId: ids.payload!, content: 'new', prompt: 'p', metadata: {} }, new Date());
      const maxResponse = (await db.query<{ id: number }>('SELECT max(id) AS id FROM responses WHERE id < $1', [response]))[0]!.id;
      expect(response).toBe(maxResponse + 1);
      const block = (await db.query<{ id: number }>("INSERT INTO blocks (title) VALUES ('new') RETURNING id"))[0]!.id;
      expect(block).toBe(ids.block! + 1);
    } finally {
      await db.close();
    }
    // And back home: SQLite's AUTOINCREMENT continues past the Postgres sequence too.
    const back = join(tempDir(), 'quire.db');
    await copy(url, back);
    const local = new Database(back);
    const next = Number(local.prepare("INSERT INTO runs (status) VALUES ('running')").run().lastInsertRowid);
    local.close();
    expect(next).toBe(ids.deletedRun! + 2);
  });

  it('refuses a target that holds history, and leaves it as it was (Postgres and SQLite)', async () => {
    const { ws } = await buildHistory();
    const url = await cluster.createDatabase();
    const db = await openPostgres(url);
    await db.query("INSERT INTO runs (status, metadata) VALUES ('completed', 'theirs')");
    await db.close();
    const before = await pgCounts(url);
    await expect(copy(ws.dbPath, url)).rejects.toMatchObject({ code: 'DATABASE', message: expect.stringMatching(/already holds history \(rows in runs\).*never merges or overwrites/) });
    expect(await pgCounts(url)).toEqual(before);
    expect(await pgQuery(url, 'SELECT metadata FROM runs')).toEqual([{ metadata: 'theirs' }]);

    const other = await buildHistory();
    const hash = fileHash(other.ws.dbPath);
    const rows = readSqlite(other.ws.dbPath);
    await expect(copy(ws.dbPath, other.ws.dbPath)).rejects.toThrow(/already holds history \(rows in blocks, payloads, payload_blocks, workflows, workflow_payloads, runs, responses, batches, batch_records, batch_queue, quire_step_cache\)/);
    expect(fileHash(other.ws.dbPath)).toBe(hash);
    expect(readSqlite(other.ws.dbPath)).toEqual(rows);
  });

  it('refuses the same store under two names before opening either', async () => {
    const { ws } = await buildHistory();
    const hash = fileHash(ws.dbPath);
    const dir = tempDir();
    symlinkSync(ws.dbPath, join(dir, 'link.db'));
    for (const to of [ws.dbPath, join(ws.root, 'data', '..', 'data', 'quire.db'), join(dir, 'link.db')]) {
      await expect(copy(ws.dbPath, to)).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('are the same store') });
    }
    expect(fileHash(ws.dbPath)).toBe(hash);
    const url = await cluster.createDatabase();
    const same = url.replace('postgres@127.0.0.1', 'other:pw@localhost');
    await expect(copy(url, same)).rejects.toMatchObject({ code: 'USAGE', message: expect.not.stringContaining('pw') });
  });

  it('refuses a source at another schema without writing to it, and a source from a newer quire', async () => {
    const dir = tempDir();
    // The original system's database, never opened by quire: its tables, no migrations.
    const original = join(dir, 'original.db');
    const db = new Database(original);
    db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, workflow_id INTEGER, status TEXT NOT NULL, started_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, completed_at TIMESTAMP, metadata TEXT); INSERT INTO runs (status) VALUES ('completed');");
    db.close();
    const hash = fileHash(original);
    const target = join(dir, 'copy.db');
    const error = await copy(original, target).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MIGRATION', message: expect.stringContaining("is not at this quire's schema"), hint: expect.stringContaining(`quire runs --db ${original}`) });
    expect(fileHash(original)).toBe(hash);
    expect(existsSync(target)).toBe(false);

    const { ws } = await buildHistory();
    const newer = new Database(ws.dbPath);
    newer.prepare("INSERT INTO quire_migrations (name, applied_at) VALUES ('m999_from_the_future', 'now')").run();
    newer.close();
    await expect(copy(ws.dbPath, await cluster.createDatabase())).rejects.toMatchObject({ code: 'MIGRATION', message: expect.stringContaining('newer version of quire') });
  });

  it('refuses a value Postgres cannot hold exactly, naming table, row and column, and writes nothing', async () => {
    const { ws, ids } = await buildHistory();
    const cases: { sql: string; expected: RegExp }[] = [
      { sql: `UPDATE runs SET started_at = '2024-01-02T03:04:05Z' WHERE id = ${ids.run}`, expected: new RegExp(`runs row id ${ids.run} .*column started_at holds "2024-01-02T03:04:05Z", not a timestamp`) },
      { sql: `UPDATE responses SET created_at = 1700000000 WHERE run_id = ${ids.run}`, expected: /responses row id \d+ .*column created_at holds 1700000000, not a timestamp/ },
      { sql: `UPDATE blocks SET updated_at = '2023-02-29 10:00:00' WHERE id = ${ids.block}`, expected: new RegExp(`blocks row id ${ids.block} .*column updated_at`) },
      { sql: `UPDATE payloads SET response_length = 'long' WHERE id = ${ids.payload}`, expected: new RegExp(`payloads row id ${ids.payload} .*column response_length holds "long", not a whole number`) },
      { sql: `UPDATE blocks SET content = 'a' || char(0) || 'b' WHERE id = ${ids.block}`, expected: /column content holds a NUL character/ },
      { sql: "PRAGMA foreign_keys = OFF; INSERT INTO responses (run_id, content) VALUES (999, 'lost')", expected: /responses row id \d+ .*Key \(run_id\)=\(999\) is not present in table "runs"/ },
    ];
    for (const { sql, expected } of cases) {
      const broken = join(tempDir(), 'broken.db');
      await copy(ws.dbPath, broken); // SQLite holds anything: a faithful copy to break
      const db = new Database(broken);
      db.exec(sql);
      db.close();
      const url = await cluster.createDatabase();
      const error = await copy(broken, url).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'DATABASE', message: expect.stringMatching(expected) });
      expect((error as Error).message).toContain('nothing was written');
      expect(Object.values(await pgCounts(url)).every((n) => n === 0)).toBe(true);
      // SQLite to SQLite keeps even these values exactly.
      const again = join(tempDir(), 'again.db');
      await copy(broken, again);
      expect(readSqlite(again)).toEqual(readSqlite(broken));
    }
  });

  it('gives a whole-second timestamp back as SQLite writes it (no .000), every other one with its milliseconds', async () => {
    const { ws, ids } = await buildHistory();
    const db = new Database(ws.dbPath);
    db.prepare("UPDATE runs SET started_at = '2026-03-04 05:06:07.000', completed_at = '2026-03-04 05:06:08.120' WHERE id = ?").run(ids.run);
    db.close();
    const url = await cluster.createDatabase();
    await copy(ws.dbPath, url);
    const back = join(tempDir(), 'quire.db');
    await copy(url, back);
    const local = new Database(back, { readonly: true });
    expect(local.prepare('SELECT started_at, completed_at FROM runs WHERE id = ?').get(ids.run)).toEqual({ started_at: '2026-03-04 05:06:07', completed_at: '2026-03-04 05:06:08.120' });
    local.close();
  });

  it('refuses a source table with columns it would leave behind', async () => {
    const { ws } = await buildHistory();
    const db = new Database(ws.dbPath);
    db.exec('ALTER TABLE blocks ADD COLUMN color TEXT');
    db.close();
    const target = join(tempDir(), 'copy.db');
    await expect(copy(ws.dbPath, target)).rejects.toThrow(/table blocks has columns this quire does not know \(color\)/);
    expect(existsSync(target)).toBe(false); // the file it created is gone again
  });

  it('names the tables of the source it does not copy that hold rows (the original system\'s own)', async () => {
    const { ws } = await buildHistory();
    const db = new Database(ws.dbPath);
    db.exec("CREATE TABLE legacy_settings (k TEXT, v TEXT); INSERT INTO legacy_settings VALUES ('theme', 'dark'); CREATE TABLE legacy_empty (x)");
    db.close();
    const url = await cluster.createDatabase();
    expect((await copy(ws.dbPath, url)).notCopied).toEqual([{ table: 'legacy_settings', rows: 1 }]);
    await pgQuery(url, "CREATE TABLE legacy_notes (note TEXT); INSERT INTO legacy_notes VALUES ('a'), ('b')");
    expect((await copy(url, join(tempDir(), 'quire.db'))).notCopied).toEqual([{ table: 'legacy_notes', rows: 2 }]);
  });

  it('knows every table of the schema: copied, or left behind on purpose (a new table must be placed in one list)', async () => {
    const path = join(tempDir(), 'schema.db');
    const provider = createSqliteStoreProvider(path);
    await provider.forWriting();
    await provider.close();
    const db = new Database(path, { readonly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    db.close();
    expect(tables.filter((t) => !NOT_COPIED_TABLES.includes(t)).sort()).toEqual(COPY_TABLES.map((t) => t.name).sort());
  });

  it('the built CLI: --json summary, progress on stderr, and the password nowhere', async () => {
    const { ws } = await buildHistory();
    const url = (await cluster.createDatabase()).replace('postgres@', 'postgres:secret@');
    expect(url).toContain(':secret@');
    const ok = await runCliAsync(['migrate-store', '--from', ws.dbPath, '--to', url, '--json']);
    expect(ok.stderr).toContain('runs: 5 rows');
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout);
    expect(summary).toMatchObject({ ok: true, from: ws.dbPath, to: url.replace(':secret', ''), total: expect.any(Number), notCopied: {} });
    expect(Object.keys(summary.tables)).toEqual(COPY_TABLES.map((t) => t.name));
    expect(summary.tables.runs).toBe(5);

    const refused = await runCliAsync(['migrate-store', '--from', ws.dbPath, '--to', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already holds history/);

    const back = join(tempDir(), 'back.db');
    const home = await runCliAsync(['migrate-store', '--from', url, '--to', back]);
    expect(home.code).toBe(0);
    expect(home.stdout).toMatch(/^copied \d+ rows from postgres:\/\/postgres@127\.0\.0\.1:\d+\/quire_test_\d+ to .*back\.db/);
    expect(readSqlite(back)).toEqual(readSqlite(ws.dbPath));

    const missing = await runCliAsync(['migrate-store', '--from', url.replace(/quire_test_\d+/, 'nope'), '--to', join(tempDir(), 'x.db'), '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { code: 'DATABASE' } });

    const typo = await runCliAsync(['migrate-store', '--from', ws.dbPath, '--to', url.replace('postgres://', 'postgress://')]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('postgress:// is not a store');

    const usage = await runCliAsync(['migrate-store', '--from', ws.dbPath]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('needs --to');

    for (const result of [ok, refused, home, missing, typo]) expect(`${result.stdout}${result.stderr}`).not.toContain('secret');
  });
});
