/**
 * The viewer's queries (ViewQueries) on Postgres behave as on SQLite: the same workspace,
 * runs, batch and hand-typed rows, written through the store interfaces into a new SQLite
 * file and a new Postgres database, give the same pages, totals, sorts, searches and
 * workflow links (every case identical on both, and every answer compared at the end),
 * and the data version moves with another connection's writes, not with reads.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStoreProvider } from '../src/adapters/db/sqlite-stores.js';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { createPgBatchStore } from '../src/adapters/pg/batches.js';
import { createPgHistoryStore } from '../src/adapters/pg/history.js';
import { createPgMirrorStore } from '../src/adapters/pg/mirror.js';
import { openPostgres, type PgDb } from '../src/adapters/pg/open.js';
import { createPgViewQueries } from '../src/adapters/pg/view.js';
import { inspectWorkspace } from '../src/app/load.js';
import type { BatchRecordResult } from '../src/core/batch.js';
import { findChanges } from '../src/core/changes.js';
import type { RunMetadata } from '../src/core/history.js';
import type { BatchStore, HistoryStore, MirrorStore, ViewQueries } from '../src/core/ports.js';
import type { BatchResultSort, RunFilter } from '../src/core/view.js';
import { startPostgres, type PgCluster } from './helpers/postgres.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

interface ViewStores {
  history: HistoryStore;
  batches: BatchStore;
  mirror: MirrorStore;
  view: ViewQueries;
}

interface Opened {
  stores: ViewStores;
  /** A row as another tool types it (no quire in between); returns its id (rowid in SQLite). */
  insert(table: string, row: Record<string, unknown>): Promise<number>;
  /** The history store on a connection of its own (another process). */
  otherWriter(): Promise<{ history: HistoryStore; close(): Promise<void> }>;
  close(): Promise<void>;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  start?(): Promise<void>;
  stop?(): Promise<void>;
  open(ws: TempWorkspace): Promise<Opened>;
}

let cluster: PgCluster | undefined;
let icuDatabases = 0;

/**
 * A new database whose own collation is ICU's root locale, where 'a' < 'B' and ILIKE folds
 * É with é: SQLite's byte order and ASCII-only folding must not depend on the database's
 * collation. The cluster's default (C) where this PostgreSQL has no ICU provider.
 */
async function createIcuDatabase(): Promise<string> {
  const name = `quire_view_icu_${++icuDatabases}`;
  const client = new pg.Client({ host: cluster!.host, port: cluster!.port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C.utf8'`);
  } catch {
    return cluster!.createDatabase();
  } finally {
    await client.end();
  }
  return `postgres://postgres@${cluster!.host}:${cluster!.port}/${name}`;
}

const sqlite: Backend = {
  name: 'sqlite',
  async open(ws) {
    const provider = createSqliteStoreProvider(ws.dbPath);
    const stores = await provider.forWriting();
    return {
      stores,
      async insert(table, row) {
        const db = new Database(ws.dbPath);
        try {
          const columns = Object.keys(row);
          return Number(db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...Object.values(row)).lastInsertRowid);
        } finally {
          db.close();
        }
      },
      async otherWriter() {
        const other = createSqliteStoreProvider(ws.dbPath);
        return { history: (await other.forWriting()).history, close: () => other.close() };
      },
      close: () => provider.close(),
    };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async start() {
    cluster = await startPostgres();
  },
  async stop() {
    await cluster?.stop();
  },
  async open() {
    const url = await createIcuDatabase();
    const db = await openPostgres(url);
    const over = (pg: PgDb): ViewStores => ({ history: createPgHistoryStore(pg), batches: createPgBatchStore(pg), mirror: createPgMirrorStore(pg), view: createPgViewQueries(pg) });
    return {
      stores: over(db),
      async insert(table, row) {
        const columns = Object.keys(row);
        const hasId = !['workflow_payloads', 'payload_blocks'].includes(table);
        const rows = await db.query<{ id: number }>(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})${hasId ? ' RETURNING id' : ''}`, Object.values(row));
        return rows[0]?.id ?? 0;
      },
      async otherWriter() {
        const other = await openPostgres(url);
        return { history: createPgHistoryStore(other), close: () => other.close() };
      },
      close: () => db.close(),
    };
  },
};

const BACKENDS: Backend[] = [sqlite, postgres];

const FILES: Record<string, string> = {
  'blocks/style/concise.md': '---\ntags: [style]\n---\nBe concise.\n',
  'blocks/style/plain.md': '---\ntags: [style]\n---\nPlain words.\n',
  'blocks/tasks/summarize.md': '---\ntitle: Summarize\n---\nSummarize {{input.text}}.\n',
  'workflows/summarize.payload.yaml': 'model_format: chatml\nblocks:\n  - tasks/summarize\n  - tag: style\n',
  'workflows/review.payload.yaml': 'temperature: 0.2\nresponse_length: 300\nblocks: [style/plain]\n',
  'workflows/research.workflow.yaml': 'name: research\ndescription: read and sum up\ninputs:\n  text: { type: string }\n  words: { type: integer, default: 20 }\npayloads:\n  - summarize\n',
  'workflows/digest.workflow.yaml': 'name: digest\npayloads:\n  - payload: summarize\n    as: first\n  - review\n',
  'workflows/old.workflow.yaml': 'name: old\npayloads: [review]\n',
};

/** A UTC instant: day of January 2026, then time. */
const at = (day: number, h: number, m = 0, s = 0, ms = 0) => new Date(Date.UTC(2026, 0, day, h, m, s, ms));
/** The batch's runs start a second apart from here. */
const BATCH_START = at(5, 10).getTime();

/** What a batch record was: its status, run inputs, checks.failed, duration and error. */
interface RecordSpec {
  status: BatchRecordResult['status'];
  inputs?: Record<string, unknown>;
  /** checks.failed as written (`undefined`: no checks at all). */
  failed?: unknown;
  durationMs?: number;
  error?: string;
  /** The run's responses' contents (each with 3 prompt and 2 completion tokens). */
  contents?: string[];
  /** When its run starts: seconds after BATCH_START. */
  second?: number;
}

/**
 * Nine records. Durations of 1,500 ms are equal in milliseconds, but SQLite sorts
 * julianday(end) - julianday(start), doubles whose last bit depends on the start: the run
 * starting at +9 s (record 8) comes out a hair shorter than the others.
 */
const RECORDS: RecordSpec[] = [
  { status: 'completed', inputs: { topic: 'Needle in hay', count: 3 }, failed: 0, durationMs: 1500, contents: ['echo: Needle in hay'], second: 0 },
  { status: 'completed', inputs: { topic: 'hay 2', count: 10 }, failed: 1, durationMs: 1500, contents: ['echo: hay 2', 'The Quick Fox'], second: 1 },
  { status: 'failed', inputs: { topic: '100% pure', count: 2.5 }, failed: 2, durationMs: 500, error: 'step two: TIMEOUT after 5s', contents: ['echo: pure'], second: 2 },
  { status: 'completed', inputs: { topic: 'a_b', count: 'seven' }, failed: 'many', durationMs: 2000, contents: ['echo: a_b'], second: 3 },
  { status: 'completed', inputs: { topic: 'axb', count: true }, failed: true, durationMs: 1500, contents: ['echo: axb'], second: 4 },
  { status: 'cancelled', inputs: { topic: 'pending' }, second: 5 },
  { status: 'invalid', error: 'records.jsonl:8:1: topic must be a string' },
  { status: 'completed', inputs: { topic: 'back\\slash Émile', count: -1 }, failed: null, durationMs: 1500, contents: ['echo: slash'], second: 9 },
  // 9: a run typed by hand, metadata not JSON (added in fill).
];

interface Filled {
  ids: { research: number; digest: number; old: number };
  runs: { a: number; b: number; c: number; d: number; notJson: number; array: number; batch: number[] };
  batchId: number;
}

/** The workspace mirrored, runs of three workflows, `old` archived, a batch of nine records, two hand-typed runs. */
async function fill(ws: TempWorkspace, opened: Opened): Promise<Filled> {
  const { history, batches, mirror } = opened.stores;
  let previous = new Map();
  const sync = async () => {
    const checked = inspectWorkspace(createWorkspaceReader(ws.root));
    expect(checked.problems).toEqual([]);
    const changes = findChanges(checked.files, previous);
    previous = new Map([...checked.files].map(([path, state]) => [path, { hash: state.hash, parsed: state.parsed }]));
    await mirror.apply(checked.workspace, changes);
  };
  await sync();
  const research = (await mirror.runLinks('research')).workflowId!;
  const digest = await mirror.runLinks('digest');
  const old = (await mirror.runLinks('old')).workflowId!;
  const summarize = digest.payloadIds.get('summarize')!;
  const review = digest.payloadIds.get('review')!;

  const a = await history.startRun({ workflowId: research, metadata: { inputs: { text: 'alpha' }, trigger: 'cli' }, startedAt: at(1, 10) });
  await history.addResponse({ runId: a, payloadId: summarize, content: 'first answer', prompt: 'p1', metadata: { step: 'summarize', prompt_tokens: 6, completion_tokens: 4 } }, at(1, 10, 0, 1));
  await history.addResponse({ runId: a, payloadId: summarize, content: 'second answer', prompt: 'p2', metadata: { step: 'again', prompt_tokens: 8, completion_tokens: 6 } }, at(1, 10, 0, 2));
  await history.finishRun(a, 'completed', { inputs: { text: 'alpha' }, trigger: 'cli', checks: { passed: 1, failed: 0 } }, at(1, 10, 0, 3));
  const b = await history.startRun({ workflowId: digest.workflowId, metadata: { trigger: 'watch' }, startedAt: at(2, 23, 59, 59, 999) });
  await history.addResponse({ runId: b, payloadId: review, content: 'no tokens here', prompt: 'p', metadata: { step: 'review' } }, at(3, 0));
  await history.finishRun(b, 'failed', { trigger: 'watch', error: 'step review failed' }, at(3, 0, 0, 1));
  const c = await history.startRun({ workflowId: research, metadata: { trigger: 'test' }, startedAt: at(3, 0) }); // still running
  const d = await history.startRun({ workflowId: old, metadata: { trigger: 'cli' }, startedAt: at(4, 12) });
  await history.finishRun(d, 'completed', { trigger: 'cli' }, at(4, 12, 0, 1));

  // The batch: one run per record (not the invalid one), started a second apart.
  const batchId = await batches.createBatch({ workflowId: research, workflow: 'research', inputPath: 'records.jsonl', inputHash: 'sha256:x', inputFormat: 'jsonl', settings: { concurrency: 2 }, startedAt: at(5, 9) });
  const results: BatchRecordResult[] = [];
  const batchRuns: number[] = [];
  for (const [i, spec] of RECORDS.entries()) {
    const record = i + 1;
    const line = ((record * 7) % 11) + 1;
    if (spec.status === 'invalid') {
      results.push({ record, line, runId: null, status: 'invalid', key: null, error: spec.error ?? null });
      continue;
    }
    const start = new Date(BATCH_START + (spec.second ?? 0) * 1000);
    const base: RunMetadata = { ...(spec.inputs ? { inputs: spec.inputs } : {}), trigger: 'batch', batch_id: batchId, batch_record: record };
    const runId = await history.startRun({ workflowId: research, metadata: base, startedAt: start });
    batchRuns.push(runId);
    for (const content of spec.contents ?? []) {
      await history.addResponse({ runId, payloadId: summarize, content, prompt: 'p', metadata: { step: 'summarize', prompt_tokens: 3, completion_tokens: 2 } }, start);
    }
    if (spec.durationMs !== undefined) {
      const metadata = { ...base, ...(spec.failed !== undefined ? { checks: { passed: 0, failed: spec.failed } } : {}), ...(spec.error ? { error: spec.error } : {}) } as RunMetadata;
      await history.finishRun(runId, spec.status === 'completed' ? 'completed' : 'failed', metadata, new Date(start.getTime() + spec.durationMs));
    }
    results.push({ record, line, runId, status: spec.status, key: `k${record}`, error: spec.error ?? null });
  }
  // Runs typed by hand: metadata that is not JSON (record 9), and JSON that is not an object.
  const notJson = await opened.insert('runs', { workflow_id: null, status: 'completed', started_at: '2026-01-05 10:00:20.000', completed_at: '2026-01-05 10:00:21.000', metadata: 'not json {"trigger": "batch"' });
  await opened.insert('responses', { run_id: notJson, payload_id: null, content: 'typed by hand', metadata: '{"prompt_tokens": "many", "completion_tokens": 5' });
  const array = await opened.insert('runs', { workflow_id: research, status: 'failed', started_at: '2026-01-06 08:00:00.000', completed_at: null, metadata: '[1, 2, {"trigger": "cli"}]' });
  await opened.insert('responses', { run_id: array, payload_id: summarize, content: null, metadata: '{"prompt_tokens": 1.5, "completion_tokens": null}' });
  results.push({ record: 9, line: ((9 * 7) % 11) + 1, runId: notJson, status: 'completed', key: 'k9', error: null });
  const counts = { completed: 6, failed: 1, cancelled: 1, invalid: 1, skipped: 0, cacheHits: 0 };
  await batches.saveResults(batchId, results.slice(0, 4), { recordCount: 4, counts });
  await batches.saveResults(batchId, results.slice(4), { recordCount: 9, counts });

  // `old` loses its file: with a run, its row is archived.
  rmSync(`${ws.root}/workflows/old.workflow.yaml`);
  await sync();
  return { ids: { research, digest: digest.workflowId!, old }, runs: { a, b, c, d, notJson, array, batch: batchRuns }, batchId };
}

/** Every answer of each backend, by case, compared at the end. */
const answers: Record<string, Record<string, unknown>> = { sqlite: {}, postgres: {} };

describe.each(BACKENDS)('viewer queries: $name', (backend) => {
  beforeAll(async () => {
    await backend.start?.();
  }, 30_000);
  afterAll(async () => {
    await backend.stop?.();
  });
  const open: { ws: TempWorkspace; opened: Opened }[] = [];
  afterEach(async () => {
    for (const { ws, opened } of open.splice(0)) {
      await opened.close();
      ws.cleanup();
    }
  });
  const record = (name: string, value: unknown) => {
    answers[backend.name]![name] = value;
  };

  async function setup(): Promise<{ ws: TempWorkspace; opened: Opened; view: ViewQueries; filled: Filled }> {
    const ws = makeWorkspace(FILES);
    const opened = await backend.open(ws);
    open.push({ ws, opened });
    const filled = await fill(ws, opened);
    return { ws, opened, view: opened.stores.view, filled };
  }

  it('pages runs newest first with each filter, the total across pages and the response sums', async () => {
    const { view, filled } = await setup();
    const { a, b, c, d, notJson, array, batch } = filled.runs;
    const ids = async (filter: RunFilter, limit = 100, offset = 0) => {
      const page = await view.runsPage(filter, { limit, offset });
      return { total: page.total, ids: page.runs.map((r) => r.id) };
    };
    const everything = [array, notJson, ...[...batch].reverse(), d, c, b, a];
    expect(await ids({})).toEqual({ total: 13, ids: everything });
    expect(await ids({}, 5, 5)).toEqual({ total: 13, ids: everything.slice(5, 10) });
    expect(await ids({}, 5, 10)).toEqual({ total: 13, ids: everything.slice(10) });
    expect(await ids({ workflow: 'research' })).toEqual({ total: 10, ids: [array, ...[...batch].reverse(), c, a] });
    expect(await ids({ workflow: 'research' }, 3, 1)).toEqual({ total: 10, ids: [batch[6], batch[5], batch[4]] });
    expect(await ids({ workflow: 'old' })).toEqual({ total: 1, ids: [d] }); // archived, still its runs
    expect(await ids({ workflow: 'nope' })).toEqual({ total: 0, ids: [] });
    expect(await ids({ workflowId: filled.ids.digest })).toEqual({ total: 1, ids: [b] });
    expect(await ids({ workflowId: 999_999 })).toEqual({ total: 0, ids: [] });
    expect(await ids({ status: 'failed' })).toEqual({ total: 3, ids: [array, batch[2], b] });
    expect(await ids({ status: 'running' })).toEqual({ total: 2, ids: [batch[5], c] });
    expect(await ids({ trigger: 'cli' })).toEqual({ total: 2, ids: [d, a] }); // not the array's inner "cli"
    expect(await ids({ trigger: 'batch' })).toEqual({ total: 7, ids: [...batch].reverse() }); // not the broken text's
    expect(await ids({ trigger: 'watch' })).toEqual({ total: 1, ids: [b] });
    expect(await ids({ trigger: 'CLI' })).toEqual({ total: 0, ids: [] });
    expect(await ids({ from: '2026-01-02', to: '2026-01-02' })).toEqual({ total: 1, ids: [b] }); // 23:59:59.999 is still the 2nd
    expect(await ids({ from: '2026-01-03', to: '2026-01-03' })).toEqual({ total: 1, ids: [c] }); // 00:00:00.000 is the 3rd
    expect(await ids({ to: '2026-01-01' })).toEqual({ total: 1, ids: [a] });
    expect(await ids({ from: '2026-01-06' })).toEqual({ total: 1, ids: [array] });
    expect(await ids({ from: '2025-12-31', to: '2026-12-31', workflow: 'research', status: 'completed', trigger: 'batch' })).toEqual({ total: 5, ids: [batch[6], batch[4], batch[3], batch[1], batch[0]] });
    // Days that do not exist are compared as text, as SQLite compares them.
    expect(await ids({ from: '2026-02-30' })).toEqual({ total: 0, ids: [] });
    expect(await ids({ to: '2026-02-30' })).toEqual({ total: 13, ids: everything });
    expect(await ids({ from: 'x' })).toEqual({ total: 0, ids: [] });
    expect(await ids({ to: '2026-01-02x' })).toEqual({ total: 2, ids: [b, a] }); // '2026-01-02 23:59…' < '2026-01-02x'
    const page = await view.runsPage({}, { limit: 100, offset: 0 });
    const byId = new Map(page.runs.map((r) => [r.id, r]));
    expect(byId.get(a)).toMatchObject({ workflow: 'research', workflowId: filled.ids.research, status: 'completed', startedAt: '2026-01-01 10:00:00.000', completedAt: '2026-01-01 10:00:03.000', steps: 2, promptTokens: 14, completionTokens: 10, metadata: { trigger: 'cli', inputs: { text: 'alpha' } } });
    expect(byId.get(b)).toMatchObject({ workflow: 'digest', status: 'failed', steps: 1, promptTokens: null, completionTokens: null });
    expect(byId.get(c)).toMatchObject({ status: 'running', completedAt: null, steps: 0, promptTokens: null });
    expect(byId.get(batch[1]!)).toMatchObject({ steps: 2, promptTokens: 6, completionTokens: 4 });
    expect(byId.get(notJson)).toMatchObject({ workflow: null, workflowId: null, steps: 1, promptTokens: null, completionTokens: null, metadata: { raw: 'not json {"trigger": "batch"' } });
    expect(byId.get(array)).toMatchObject({ workflow: 'research', steps: 1, promptTokens: 1.5, completionTokens: null, metadata: { raw: '[1, 2, {"trigger": "cli"}]' } });
    expect(await view.workflowNames()).toEqual(['digest', 'old', 'research']);
    record('runs', { page, names: await view.workflowNames(), filtered: await Promise.all([{ workflow: 'research' }, { status: 'failed' }, { trigger: 'batch' }, { from: '2026-01-03' }].map((f) => ids(f))) });
  });

  it('pages a batch\'s records by status and by text: ASCII case folded, %, _ and \\ taken literally', async () => {
    const { view, filled } = await setup();
    const page = (query: { status?: BatchRecordResult['status']; text?: string; limit?: number; offset?: number }) =>
      view.batchResultsPage(filled.batchId, { ...(query.status ? { status: query.status } : {}), ...(query.text !== undefined ? { text: query.text } : {}), sort: { by: 'record' }, descending: false, page: { limit: query.limit ?? 100, offset: query.offset ?? 0 } });
    const records = async (query: Parameters<typeof page>[0]) => {
      const result = await page(query);
      return { total: result.total, records: result.results.map((r) => r.record) };
    };
    const all = await page({});
    expect(all.total).toBe(9);
    expect(all.results[2]).toEqual({ record: 3, line: 11, runId: filled.runs.batch[2], status: 'failed', key: 'k3', error: 'step two: TIMEOUT after 5s' });
    expect(all.results[6]).toEqual({ record: 7, line: 6, runId: null, status: 'invalid', key: null, error: 'records.jsonl:8:1: topic must be a string' });
    expect(all.results[8]).toEqual({ record: 9, line: 9, runId: filled.runs.notJson, status: 'completed', key: 'k9', error: null });
    expect(await records({ limit: 4, offset: 4 })).toEqual({ total: 9, records: [5, 6, 7, 8] });
    expect(await records({ status: 'completed' })).toEqual({ total: 6, records: [1, 2, 4, 5, 8, 9] });
    expect(await records({ status: 'completed', limit: 2, offset: 2 })).toEqual({ total: 6, records: [4, 5] });
    expect(await records({ status: 'failed' })).toEqual({ total: 1, records: [3] });
    expect(await records({ status: 'invalid' })).toEqual({ total: 1, records: [7] });
    expect(await records({ status: 'cancelled' })).toEqual({ total: 1, records: [6] });
    const search: Record<string, { total: number; records: number[] }> = {};
    for (const text of ['timeout', 'quick fox', 'SEVEN', 'needle', 'HAY', 'typed BY', '0%', '%', 'a_b', '_', '\\', 'émile', 'Émile', 'MILE', 'true', '2.5', '1', 'nothing like it', '']) {
      search[text] = await records({ text });
    }
    expect(search).toEqual({
      timeout: { total: 1, records: [3] }, // the error
      'quick fox': { total: 1, records: [2] }, // a response's content
      SEVEN: { total: 1, records: [4] }, // an input value only
      needle: { total: 1, records: [1] },
      HAY: { total: 2, records: [1, 2] },
      'typed BY': { total: 1, records: [9] }, // the hand-typed run's response
      '0%': { total: 1, records: [3] },
      '%': { total: 1, records: [3] },
      a_b: { total: 1, records: [4] }, // not axb
      _: { total: 1, records: [4] },
      '\\': { total: 1, records: [8] },
      émile: { total: 0, records: [] }, // only ASCII letters fold
      Émile: { total: 1, records: [8] },
      MILE: { total: 1, records: [8] },
      true: { total: 0, records: [] }, // a JSON true is searched as 1
      '2.5': { total: 1, records: [3] },
      '1': { total: 5, records: [2, 3, 5, 7, 8] }, // 10, "100% pure", true, "…:8:1: …", -1
      'nothing like it': { total: 0, records: [] },
      '': { total: 9, records: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    });
    expect(await records({ status: 'completed', text: 'hay', limit: 1, offset: 1 })).toEqual({ total: 2, records: [2] });
    expect(await records({ status: 'failed', text: 'hay' })).toEqual({ total: 0, records: [] });
    expect((await view.batchResultsPage(filled.batchId + 1, { sort: { by: 'record' }, descending: false, page: { limit: 10, offset: 0 } }))).toEqual({ total: 0, results: [] });
    record('batch search', { all, search });
  });

  it('sorts a batch\'s records by each column both ways, records without the value last either way', async () => {
    const { view, filled } = await setup();
    const sorted = async (sort: BatchResultSort, descending: boolean, extra: { status?: 'completed'; text?: string; limit?: number; offset?: number } = {}) => {
      const result = await view.batchResultsPage(filled.batchId, { sort, descending, ...(extra.status ? { status: extra.status } : {}), ...(extra.text ? { text: extra.text } : {}), page: { limit: extra.limit ?? 100, offset: extra.offset ?? 0 } });
      return result.results.map((r) => r.record);
    };
    const orders: Record<string, [number[], number[]]> = {};
    const sorts: [string, BatchResultSort][] = [
      ['record', { by: 'record' }], ['line', { by: 'line' }], ['status', { by: 'status' }], ['duration', { by: 'duration' }], ['checks', { by: 'checks' }],
      ['input.count', { by: 'input', name: 'count' }], ['input.topic', { by: 'input', name: 'topic' }], ['input.missing', { by: 'input', name: 'missing' }],
      ['input.not plain', { by: 'input', name: 'not plain' }], ['input.quote', { by: 'input', name: 'x"y' }], ['input.injection', { by: 'input', name: "topic' OR '1'='1" }],
    ];
    for (const [name, sort] of sorts) orders[name] = [await sorted(sort, false), await sorted(sort, true)];
    expect(orders).toEqual({
      record: [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]],
      line: [[8, 5, 2, 7, 4, 1, 9, 6, 3], [3, 6, 9, 1, 4, 7, 2, 5, 8]],
      status: [[6, 1, 2, 4, 5, 8, 9, 3, 7], [7, 3, 9, 8, 5, 4, 2, 1, 6]],
      // 500, 1000, then the 1,500s (8's double is smaller), 2000; no end (6), no run (7) last.
      duration: [[3, 9, 8, 1, 2, 5, 4, 6, 7], [4, 5, 2, 1, 8, 9, 3, 7, 6]],
      // Numbers (true is 1) before text, by record among equals; null, missing and no JSON last.
      checks: [[1, 2, 5, 3, 4, 6, 7, 8, 9], [4, 3, 5, 2, 1, 9, 8, 7, 6]],
      'input.count': [[8, 5, 3, 1, 2, 4, 6, 7, 9], [4, 2, 1, 3, 5, 8, 9, 7, 6]],
      // Byte order: digits, capitals, then lower case.
      'input.topic': [[3, 1, 4, 5, 8, 2, 6, 7, 9], [6, 2, 8, 5, 4, 1, 3, 9, 7]],
      'input.missing': [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]],
      'input.not plain': [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]],
      'input.quote': [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]],
      'input.injection': [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]],
    });
    // Sorted, filtered and paged at once; the total counts every page.
    expect(await sorted({ by: 'checks' }, true, { status: 'completed', limit: 3, offset: 1 })).toEqual([5, 2, 1]);
    const filtered = await view.batchResultsPage(filled.batchId, { sort: { by: 'input', name: 'count' }, descending: false, text: 'a', status: 'completed', page: { limit: 2, offset: 1 } });
    expect(filtered).toMatchObject({ total: 6, results: [{ record: 5 }, { record: 1 }] }); // 8, 5, 1, 2, 4, 9 have an "a"
    expect(await sorted({ by: 'duration' }, false, { text: 'hay' })).toEqual([1, 2]);
    record('batch sorts', { orders, filtered });
  });

  it('lists the workflows, live first by name, and one with its steps, payloads and blocks', async () => {
    const { view, filled } = await setup();
    const list = await view.workflows();
    expect(list.map((w) => [w.name, w.archived, w.payloads, w.runCount])).toEqual([
      ['digest', false, ['summarize', 'review'], 1],
      ['research', false, ['summarize'], 10],
      ['old', true, ['review'], 1],
    ]);
    expect(list[1]).toEqual({
      id: filled.ids.research, name: 'research', archived: false, sourcePath: 'workflows/research.workflow.yaml', description: 'read and sum up', payloads: ['summarize'], runCount: 10,
      lastRun: { id: filled.runs.array, status: 'failed', startedAt: '2026-01-06 08:00:00.000' },
    });
    expect(list[2]!.lastRun).toEqual({ id: filled.runs.d, status: 'completed', startedAt: '2026-01-04 12:00:00.000' });
    const digest = await view.workflow(filled.ids.digest);
    expect(digest).toMatchObject({ id: filled.ids.digest, name: 'digest', archived: false, payloads: ['summarize', 'review'], runCount: 1, lastRun: { id: filled.runs.b, status: 'failed' }, inputs: {} });
    expect(digest!.steps.map((s) => [s.index, s.name, s.payload?.name])).toEqual([[0, 'first', 'summarize'], [1, 'review', 'review']]);
    const [summarize, review] = digest!.steps.map((s) => s.payload!);
    expect(summarize).toMatchObject({ archived: false, sourcePath: 'workflows/summarize.payload.yaml', modelFormat: 'chatml', llmPort: 5001, temperature: 0.6, responseLength: 1000 });
    expect(summarize!.blocks.map((b) => [b.key, b.title, b.sourcePath])).toEqual([
      ['tasks/summarize', 'Summarize', 'blocks/tasks/summarize.md'],
      ['style/concise', expect.any(String), 'blocks/style/concise.md'],
      ['style/plain', expect.any(String), 'blocks/style/plain.md'],
    ]);
    expect(review).toMatchObject({ temperature: 0.2, responseLength: 300, blocks: [{ key: 'style/plain', folderPath: expect.any(String) }] });
    const research = await view.workflow(filled.ids.research);
    expect(research!.inputs).toEqual({ text: { type: 'string', required: true }, words: { type: 'integer', default: 20, required: false } });
    expect(research!.steps).toEqual([{ index: 0, name: 'summarize', payload: summarize }]);
    const old = await view.workflow(filled.ids.old);
    expect(old).toMatchObject({ archived: true, steps: [{ name: 'review', payload: { name: 'review' } }] });
    expect(await view.workflow(999_999)).toBeUndefined();
    expect(await view.workflow(1.5)).toBeUndefined();
    record('workflows', { list, digest, research, old });
  });

  it('takes rows typed by hand as they are: no definition, links without an order, odd JSON everywhere', async () => {
    const { view, opened, filled } = await setup();
    const typed = await opened.insert('workflows', { name: 'Typed' });
    const payload = await opened.insert('payloads', { name: 'hand payload' });
    const block = await opened.insert('blocks', { title: 'Hand block', content: 'x', folder_path: 'Phase 1' });
    await opened.insert('payload_blocks', { payload_id: payload, block_id: block, order_index: null });
    await opened.insert('workflow_payloads', { workflow_id: typed, payload_id: (await opened.stores.mirror.runLinks('digest')).payloadIds.get('review')!, order_index: 0 });
    await opened.insert('workflow_payloads', { workflow_id: typed, payload_id: payload, order_index: null });
    await opened.insert('workflow_payloads', { workflow_id: filled.ids.digest, payload_id: payload, order_index: null });
    const odd = await opened.insert('runs', { workflow_id: typed, status: 'completed', started_at: '2026-01-07 00:00:00.000', completed_at: '2026-01-07 00:00:01.000', metadata: '{"inputs": "just text", "checks": {"failed": {"b": 1}}}' });
    const nulls = await opened.insert('runs', { workflow_id: typed, status: 'completed', started_at: '2026-01-07 00:00:01.000', completed_at: null, metadata: '{"inputs": [1, "listed"], "trigger": null}' });
    // Typed JSON metadata strings are searched and sorted with the rest.
    const batch = await opened.stores.batches.createBatch({ workflowId: typed, workflow: 'Typed', inputPath: 'x.csv', inputHash: null, inputFormat: 'csv', settings: {}, startedAt: at(7, 0) });
    await opened.stores.batches.saveResults(batch, [
      { record: 1, line: 2, runId: odd, status: 'completed', key: null, error: null },
      { record: 2, line: 3, runId: nulls, status: 'completed', key: null, error: null },
      { record: 3, line: 4, runId: filled.runs.notJson, status: 'failed', key: null, error: 'no JSON at all' },
      { record: 4, line: 5, runId: filled.runs.array, status: 'failed', key: null, error: null },
    ], { recordCount: 4, counts: { completed: 2, failed: 2, cancelled: 0, invalid: 0, skipped: 0, cacheHits: 0 } });
    const got: Record<string, unknown> = {};
    const records = async (query: { text?: string; sort?: BatchResultSort; descending?: boolean }) =>
      (await view.batchResultsPage(batch, { ...(query.text ? { text: query.text } : {}), sort: query.sort ?? { by: 'record' }, descending: query.descending ?? false, page: { limit: 10, offset: 0 } })).results.map((r) => r.record);
    got.searchText = await records({ text: 'JUST' }); // inputs that are one string
    got.searchListed = await records({ text: 'listed' }); // inputs that are a list
    got.searchJson = await records({ text: 'json' });
    got.checks = [await records({ sort: { by: 'checks' } }), await records({ sort: { by: 'checks' }, descending: true })];
    got.input = [await records({ sort: { by: 'input', name: 'topic' } }), await records({ sort: { by: 'input', name: 'topic' }, descending: true })];
    got.duration = [await records({ sort: { by: 'duration' } }), await records({ sort: { by: 'duration' }, descending: true })];
    expect(got).toEqual({
      searchText: [1], searchListed: [2], searchJson: [3],
      checks: [[1, 2, 3, 4], [1, 4, 3, 2]], // an object's JSON is text; the rest have none
      input: [[1, 2, 3, 4], [4, 3, 2, 1]],
      duration: [[1, 3, 2, 4], [3, 1, 4, 2]], // 1 s each (the same double), then no end
    });
    const runs = await view.runsPage({ workflowId: typed }, { limit: 10, offset: 0 });
    expect(runs.runs.map((r) => [r.id, r.steps, r.metadata.inputs])).toEqual([[nulls, 0, [1, 'listed']], [odd, 0, 'just text']]);
    expect((await view.runsPage({ trigger: 'cli' }, { limit: 10, offset: 0 })).total).toBe(2);
    const detail = await view.workflow(typed);
    expect(detail).toMatchObject({ name: 'Typed', sourcePath: null, description: null, inputs: {}, payloads: ['hand payload', 'review'], runCount: 2, lastRun: { id: nulls } });
    // A NULL order_index sorts first, as SQLite sorts NULL lowest.
    expect(detail!.steps.map((s) => [s.index, s.name, s.payload?.name, s.payload?.blocks.map((b) => b.title)])).toEqual([
      [0, null, 'hand payload', ['Hand block']], [1, null, 'review', [expect.any(String)]],
    ]);
    expect((await view.workflow(filled.ids.digest))!.steps.map((s) => [s.name, s.payload?.name])).toEqual([['first', 'hand payload'], ['review', 'summarize'], [null, 'review']]);
    const list = await view.workflows();
    expect(list.map((w) => w.name)).toEqual(['Typed', 'digest', 'research', 'old']); // bytes: capitals first
    expect(await view.workflowNames()).toEqual(['Typed', 'digest', 'old', 'research']);
    record('typed rows', { answers: got, runs, detail, list });
  });

  it('moves the data version when another connection commits a write, and not for reads', async () => {
    const { view, opened, filled } = await setup();
    const before = await view.dataVersion();
    expect(typeof before).toBe('number');
    await view.runsPage({ trigger: 'batch' }, { limit: 5, offset: 0 });
    await view.batchResultsPage(filled.batchId, { text: 'hay', sort: { by: 'checks' }, descending: true, page: { limit: 5, offset: 0 } });
    await view.workflows();
    await view.workflow(filled.ids.digest);
    expect(await view.dataVersion()).toBe(before);
    expect(await view.dataVersion()).toBe(before);
    const other = await opened.otherWriter();
    try {
      const runId = await other.history.startRun({ workflowId: null, metadata: { trigger: 'watch' }, startedAt: at(8, 0) });
      const afterStart = await view.dataVersion();
      expect(afterStart).not.toBe(before);
      expect((await view.runsPage({ trigger: 'watch' }, { limit: 5, offset: 0 })).runs[0]!.id).toBe(runId);
      expect(await view.dataVersion()).toBe(afterStart);
      await other.history.finishRun(runId, 'completed', { trigger: 'watch' }, at(8, 1));
      expect(await view.dataVersion()).not.toBe(afterStart);
    } finally {
      await other.close();
    }
  });
});

describe('both backends', () => {
  it('answer every case the same', () => {
    expect(Object.keys(answers.postgres!).sort()).toEqual(['batch search', 'batch sorts', 'runs', 'typed rows', 'workflows']);
    expect(answers.postgres).toEqual(answers.sqlite);
  });
});

describe('postgres data version', () => {
  beforeAll(async () => {
    await postgres.start!();
  }, 30_000);
  afterAll(async () => {
    await postgres.stop!();
  });

  it('moves when a writer commits after a younger one already did (transaction ids ending out of order)', async () => {
    const url = await cluster!.createDatabase();
    const db = await openPostgres(url);
    try {
      const view = createPgViewQueries(db);
      const older = await db.pool.connect();
      const younger = await db.pool.connect();
      try {
        await older.query('BEGIN');
        await older.query("INSERT INTO runs (status, metadata) VALUES ('running', '{}')"); // takes the older transaction id
        await younger.query('BEGIN');
        await younger.query("INSERT INTO runs (status, metadata) VALUES ('running', '{}')");
        await younger.query('COMMIT');
        const between = await view.dataVersion();
        await older.query('COMMIT'); // xmax alone stays where the younger commit left it
        expect(await view.dataVersion()).not.toBe(between);
      } finally {
        older.release();
        younger.release();
      }
    } finally {
      await db.close();
    }
  });
});
