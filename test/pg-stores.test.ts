/**
 * The Postgres BatchStore and HistoryStore behave as the SQLite ones: one scenario of
 * batch and history calls (the ones the store contract does not cover) runs on a new
 * SQLite file and a new Postgres database, and every answer is the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStoreProvider } from '../src/adapters/db/sqlite-stores.js';
import { createPgBatchStore } from '../src/adapters/pg/batches.js';
import { createPgHistoryStore } from '../src/adapters/pg/history.js';
import { openPostgres } from '../src/adapters/pg/open.js';
import type { BatchCounts } from '../src/core/batch.js';
import type { BatchStore, HistoryStore } from '../src/core/ports.js';
import { startPostgres, type PgCluster } from './helpers/postgres.js';
import { makeWorkspace } from './helpers/workspace.js';

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

const at = (second: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, second, 5));
const counts = (c: Partial<BatchCounts>): BatchCounts => ({ completed: 0, failed: 0, cancelled: 0, invalid: 0, skipped: 0, cacheHits: 0, ...c });

/** Every call's answer, in order. */
async function scenario(history: HistoryStore, batches: BatchStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const b = await batches.createBatch({ workflowId: null, workflow: 'w', inputPath: 'in.jsonl', inputHash: null, inputFormat: 'jsonl', settings: { pid: 8 }, startedAt: at(0) });
  const b2 = await batches.createBatch({ workflowId: null, workflow: 'w', inputPath: 'in.jsonl', inputHash: 'h1', inputFormat: 'jsonl', settings: { pid: 7, concurrency: 2 }, startedAt: at(1) });
  out.ids = [b, b2];
  out.latestNull = (await batches.latestBatch('w', 'in.jsonl', null))?.id;
  out.latestHash = (await batches.latestBatch('w', 'in.jsonl', 'h1'))?.id;
  out.latestOther = await batches.latestBatch('w', 'in.jsonl', 'h2');

  const r1 = await history.startRun({ workflowId: null, metadata: { batch_id: b, pid: 1 }, startedAt: at(2) });
  const r2 = await history.startRun({ workflowId: null, metadata: { batch_id: b, pid: 1 }, startedAt: at(3) });
  const r3 = await history.startRun({ workflowId: null, metadata: { batch_id: b, pid: 1 }, startedAt: at(4) });
  const r4 = await history.startRun({ workflowId: null, metadata: { batch_id: b2, pid: 1 }, startedAt: at(4) });
  await history.finishRun(r1, 'completed', { batch_id: b }, at(5));
  await history.finishRun(r2, 'failed', { batch_id: b, error: 'x' }, at(5));
  await history.finishRun(r4, 'completed', { batch_id: b2 }, at(5));
  const s1 = await history.addResponse({ runId: r1, payloadId: null, content: 'one', prompt: 'P1', metadata: { step: 'a' } }, at(6));
  const s2 = await history.addResponse({ runId: r1, payloadId: null, content: 'two', prompt: 'P2', metadata: { step: 'b' } }, at(7));
  out.running = await history.running();

  await batches.saveResults(b, [
    { record: 1, line: 2, runId: r1, status: 'completed', key: 'k1', error: null },
    { record: 2, line: 3, runId: null, status: 'invalid', key: null, error: 'bad record' },
  ], { recordCount: 2, counts: counts({ completed: 1, invalid: 1 }) });
  out.unsaved = (await batches.unsavedRuns(b)).map((r) => r.id);
  out.unsavedRuns = await batches.unsavedRuns(b);
  // A later attempt replaces a record's row; the last result of a record in one save wins.
  await batches.saveResults(b, [
    { record: 3, line: 4, runId: r2, status: 'failed', key: 'k3', error: 'x' },
    { record: 2, line: 3, runId: null, status: 'cancelled', key: null, error: null },
    { record: 3, line: 4, runId: r2, status: 'failed', key: 'k3b', error: 'y' },
  ], { recordCount: 3, counts: counts({ completed: 1, failed: 1, cancelled: 1 }) });
  await batches.saveResults(b, [], { recordCount: 3, counts: counts({ completed: 1, failed: 1, cancelled: 1, skipped: 4, cacheHits: 2 }) });
  out.unsavedAfter = (await batches.unsavedRuns(b)).map((r) => r.id);
  out.countResults = await batches.countResults(b);
  out.page1 = await batches.results(b, { afterRecord: 0, limit: 2 });
  out.page2 = await batches.results(b, { afterRecord: 2, limit: 2 });
  out.record2 = await batches.recordResult(b, 2);
  out.record99 = await batches.recordResult(b, 99);
  await batches.finishBatch(b, 'completed', at(9), { recordCount: 3, counts: counts({ completed: 1, failed: 1, cancelled: 1, skipped: 4, cacheHits: 2 }) });
  out.finished = await batches.getBatch(b);
  out.unknown = await batches.getBatch(b2 + 100);
  out.list = await batches.listBatches({ limit: 10 });
  out.listOne = (await batches.listBatches({ workflow: 'w', limit: 1 })).map((x) => x.id);
  out.listNone = await batches.listBatches({ workflow: 'zz', limit: 10 });
  await batches.reopenBatch(b, { pid: 9 });
  out.reopened = await batches.getBatch(b);
  out.interrupted = await batches.markInterrupted((settings) => settings.pid === 7, at(10));
  out.interruptedAgain = await batches.markInterrupted(() => false, at(11));
  out.afterInterrupt = await batches.listBatches({ limit: 10 });

  await history.rememberResponse('step-key', s1);
  out.cached = await history.cachedResponse('step-key');
  await history.rememberResponse('step-key', s2);
  out.cachedAgain = (await history.cachedResponse('step-key'))?.id;
  out.cachedNone = await history.cachedResponse('no-key');
  const both = await history.runsWithResponses([r1, r3, r4 + 100]);
  out.runsWithResponses = [...both.entries()].sort(([a], [c]) => a - c);
  out.runsWithNone = [...(await history.runsWithResponses([])).entries()];
  out.interruptedRuns = await history.markInterrupted(() => false, at(12));
  out.interruptedRunsAgain = await history.markInterrupted(() => false, at(13));
  return out;
}

describe('postgres stores behave as the SQLite ones', () => {
  it('gives the same answers to the same batch and history calls', async () => {
    const ws = makeWorkspace({});
    const sqlite = createSqliteStoreProvider(ws.dbPath);
    let expected: Record<string, unknown>;
    try {
      const stores = await sqlite.forWriting();
      expected = await scenario(stores.history, stores.batches);
    } finally {
      await sqlite.close();
      ws.cleanup();
    }
    const db = await openPostgres(await cluster.createDatabase());
    let actual: Record<string, unknown>;
    try {
      actual = await scenario(createPgHistoryStore(db), createPgBatchStore(db));
    } finally {
      await db.close();
    }
    // The scenario means what it says (on SQLite), and Postgres answers the same.
    expect(expected).toMatchObject({
      latestNull: 1, latestHash: 2, unsaved: [2], unsavedAfter: [], interrupted: [1], interruptedAgain: [2], interruptedRuns: [3], interruptedRunsAgain: [],
      countResults: { completed: 1, failed: 1, cancelled: 1, invalid: 0 }, cachedAgain: 2,
      record2: { record: 2, status: 'cancelled', error: null }, finished: { status: 'completed', completedAt: '2026-01-02 03:04:09.005', counts: { skipped: 4, cacheHits: 2 } },
    });
    expect((expected.page1 as unknown[]).length).toBe(2);
    for (const key of Object.keys(expected)) expect({ [key]: actual[key] }).toEqual({ [key]: expected[key] });
  });
});
