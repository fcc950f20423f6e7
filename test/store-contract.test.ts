/**
 * The store contract: one set of tests every StoreProvider implementation passes (SQLite;
 * Postgres, on a throwaway cluster), every case unchanged on both. History and
 * mirror operations only, the way the app uses them, through the interfaces in core/ports.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStoreProvider } from '../src/adapters/db/sqlite-stores.js';
import { createPgBatchStore } from '../src/adapters/pg/batches.js';
import { createPgHistoryStore } from '../src/adapters/pg/history.js';
import { createPgMirrorStore } from '../src/adapters/pg/mirror.js';
import { connectPostgres, openPostgres, type PgDb } from '../src/adapters/pg/open.js';
import { startPostgres, type PgCluster } from './helpers/postgres.js';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { inspectWorkspace } from '../src/app/load.js';
import { findChanges, type WorkspaceChanges } from '../src/core/changes.js';
import type { StoreProvider, Stores } from '../src/core/ports.js';
import type { Workspace } from '../src/core/types.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

interface Backend {
  name: string;
  /** A provider over a new, empty store for this workspace. */
  make(ws: TempWorkspace): StoreProvider;
  /** Starts and stops what the store needs (a server), once per file. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/**
 * Postgres: the history, batch and mirror stores of src/adapters/pg over one new database
 * per workspace; view and cache are not part of this contract.
 */
function postgresBackend(): Backend {
  let cluster: PgCluster | undefined;
  const databases = new Map<string, Promise<string>>();
  const urlFor = (ws: TempWorkspace) => {
    let url = databases.get(ws.root);
    if (!url) databases.set(ws.root, (url = cluster!.createDatabase()));
    return url;
  };
  const notInContract = (what: string) => new Proxy({}, { get: () => { throw new Error(`${what} is not in the Postgres store yet`); } });
  const storesOver = (db: PgDb): Stores => ({
    history: createPgHistoryStore(db),
    batches: createPgBatchStore(db),
    mirror: createPgMirrorStore(db),
    view: notInContract('ViewQueries') as Stores['view'],
    cache: notInContract('ParseCache') as Stores['cache'],
  });
  return {
    name: 'postgres',
    async start() {
      cluster = await startPostgres();
    },
    async stop() {
      await cluster?.stop();
    },
    make(ws) {
      let db: PgDb | undefined;
      return {
        location: 'postgres',
        readCache: () => undefined,
        async forWriting() {
          db ??= await openPostgres(await urlFor(ws));
          return storesOver(db);
        },
        async forReading() {
          db ??= await connectPostgres(await urlFor(ws));
          return storesOver(db);
        },
        describe: () => Promise.reject(new Error('not in the Postgres store yet')),
        async close() {
          await db?.close();
          db = undefined;
        },
      };
    },
  };
}

const BACKENDS: Backend[] = [{ name: 'sqlite', make: (ws) => createSqliteStoreProvider(ws.dbPath) }, postgresBackend()];

const FILES: Record<string, string> = {
  'blocks/a.md': '---\ntags: [x]\n---\nA\n',
  'blocks/b.md': '---\ntags: [x]\n---\nB\n',
  'blocks/c.md': 'C {{block "a"}}\n',
  'workflows/p.payload.yaml': 'blocks: [{ tag: x }, c]\n',
  'workflows/q.payload.yaml': 'blocks: [a]\n',
  'workflows/w.workflow.yaml': 'name: w\npayloads: [p, q]\n',
};

const at = (second: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, second, 5));

describe.each(BACKENDS)('store contract: $name', (backend) => {
  beforeAll(async () => {
    await backend.start?.();
  }, 30_000);
  afterAll(async () => {
    await backend.stop?.();
  });
  const open: { ws: TempWorkspace; provider: StoreProvider }[] = [];
  afterEach(async () => {
    for (const { ws, provider } of open.splice(0)) {
      await provider.close();
      ws.cleanup();
    }
  });

  /** A workspace on disk, its store, and the model loaded from its files. */
  async function setup(files = FILES): Promise<{ ws: TempWorkspace; stores: Stores; load: () => { workspace: Workspace; changes: WorkspaceChanges } }> {
    const ws = makeWorkspace(files);
    const provider = backend.make(ws);
    open.push({ ws, provider });
    const stores = await provider.forWriting();
    let previous = new Map();
    const load = () => {
      const checked = inspectWorkspace(createWorkspaceReader(ws.root));
      expect(checked.problems).toEqual([]);
      const changes = findChanges(checked.files, previous);
      previous = new Map([...checked.files].map(([path, state]) => [path, { hash: state.hash, parsed: state.parsed }]));
      return { workspace: checked.workspace, changes };
    };
    return { ws, stores, load };
  }

  describe('mirror', () => {
    it('adds every row of a new workspace, then finds nothing to change', async () => {
      const { stores, load } = await setup();
      const first = load();
      const report = await stores.mirror.apply(first.workspace, first.changes);
      expect(report.blocks).toMatchObject({ added: 3, updated: 0, removed: 0 });
      expect(report.payloads).toMatchObject({ added: 2 });
      expect(report.workflows).toMatchObject({ added: 1 });
      const again = load();
      const same = await stores.mirror.apply(again.workspace, again.changes);
      expect(same.blocks).toMatchObject({ added: 0, updated: 0, unchanged: 3 });
      expect(same.payloads).toMatchObject({ added: 0, updated: 0, unchanged: 2 });
    });

    it('links runs to the workflow and file-backed payload rows by name', async () => {
      const { stores, load } = await setup();
      const { workspace, changes } = load();
      await stores.mirror.apply(workspace, changes);
      const links = await stores.mirror.runLinks('w');
      expect(links.workflowId).toEqual(expect.any(Number));
      expect([...links.payloadIds.keys()].sort()).toEqual(['p', 'q']);
      expect((await stores.mirror.runLinks('nope')).workflowId).toBeNull();
    });

    it('updates a changed block, removes a deleted one, keeps ids of the rest', async () => {
      const { ws, stores, load } = await setup();
      const first = load();
      await stores.mirror.apply(first.workspace, first.changes);
      const before = await stores.mirror.runLinks('w');
      ws.write('blocks/a.md', '---\ntags: [x]\n---\nA changed\n');
      ws.write('workflows/q.payload.yaml', 'blocks: [c]\n');
      const { rmSync } = await import('node:fs');
      rmSync(`${ws.root}/blocks/b.md`);
      const next = load();
      const report = await stores.mirror.apply(next.workspace, next.changes);
      expect(report.blocks).toMatchObject({ updated: 1, removed: 1, unchanged: 1 });
      expect(report.payloads.updated).toBeGreaterThanOrEqual(1);
      expect(await stores.mirror.runLinks('w')).toEqual(before);
    });

    it('archives a payload with run history when its file is gone, and deletes one without', async () => {
      const { ws, stores, load } = await setup();
      const first = load();
      await stores.mirror.apply(first.workspace, first.changes);
      const links = await stores.mirror.runLinks('w');
      const runId = await stores.history.startRun({ workflowId: links.workflowId, metadata: {}, startedAt: at(0) });
      await stores.history.addResponse({ runId, payloadId: links.payloadIds.get('q')!, content: 'x', prompt: 'y', metadata: {} }, at(1));
      ws.write('workflows/w.workflow.yaml', 'name: w\npayloads: [p]\n');
      const { rmSync } = await import('node:fs');
      rmSync(`${ws.root}/workflows/q.payload.yaml`);
      const next = load();
      const report = await stores.mirror.apply(next.workspace, next.changes);
      expect(report.payloads).toMatchObject({ archived: 1, removed: 0 });
      // The response still names its payload.
      expect((await stores.history.responses(runId))[0]!.payload).toBe('q');
    });

    it('archives a workflow a batch names (queued for workers, no run yet) when its file is gone', async () => {
      const { ws, stores, load } = await setup();
      const first = load();
      await stores.mirror.apply(first.workspace, first.changes);
      const { workflowId } = await stores.mirror.runLinks('w');
      await stores.batches.createBatch({ workflowId, workflow: 'w', inputPath: 'r.jsonl', inputHash: 'h', inputFormat: 'jsonl', settings: { workers: true }, startedAt: at(0) });
      const { rmSync } = await import('node:fs');
      rmSync(`${ws.root}/workflows/w.workflow.yaml`);
      const next = load();
      const report = await stores.mirror.apply(next.workspace, next.changes);
      expect(report.workflows).toMatchObject({ archived: 1, removed: 0 });
      expect((await stores.batches.listBatches({ limit: 5 }))[0]).toMatchObject({ workflowId, workflow: 'w' });
    });

    it('has nothing to export when every row came from a file, and knows the names files use', async () => {
      const { stores, load } = await setup();
      const { workspace, changes } = load();
      await stores.mirror.apply(workspace, changes);
      const source = await stores.mirror.exportSource();
      expect(source.blocks).toEqual([]);
      expect(source.payloads).toEqual([]);
      expect(source.workflows).toEqual([]);
      expect([...source.takenBlockKeys].sort()).toEqual(['a', 'b', 'c']);
      expect([...source.takenPayloadNames].sort()).toEqual(['p', 'q']);
      expect([...source.takenWorkflowNames]).toEqual(['w']);
    });
  });

  describe('history', () => {
    it('records a run, its responses in order, and its end', async () => {
      const { stores, load } = await setup();
      const { workspace, changes } = load();
      await stores.mirror.apply(workspace, changes);
      const links = await stores.mirror.runLinks('w');
      const runId = await stores.history.startRun({ workflowId: links.workflowId, metadata: { inputs: { a: 1 }, trigger: 'cli', pid: 42 }, startedAt: at(0) });
      const running = await stores.history.getRun(runId);
      expect(running).toEqual({ id: runId, workflowId: links.workflowId, workflow: 'w', status: 'running', startedAt: '2026-01-02 03:04:00.005', completedAt: null, metadata: { inputs: { a: 1 }, trigger: 'cli', pid: 42 } });
      await stores.history.addResponse({ runId, payloadId: links.payloadIds.get('p')!, content: 'one', prompt: 'P1', metadata: { step: 'p', total_ms: 5 } }, at(1));
      await stores.history.addResponse({ runId, payloadId: links.payloadIds.get('q')!, content: 'two', prompt: 'P2', metadata: { step: 'q' } }, at(2));
      await stores.history.finishRun(runId, 'completed', { trigger: 'cli', steps_completed: 2 }, at(3));
      const done = await stores.history.getRun(runId);
      expect(done).toMatchObject({ status: 'completed', completedAt: '2026-01-02 03:04:03.005', metadata: { trigger: 'cli', steps_completed: 2 } });
      const responses = await stores.history.responses(runId);
      expect(responses.map((r) => [r.payload, r.content, r.prompt, r.metadata.step, r.createdAt])).toEqual([
        ['p', 'one', 'P1', 'p', '2026-01-02 03:04:01.005'],
        ['q', 'two', 'P2', 'q', '2026-01-02 03:04:02.005'],
      ]);
      expect(responses[0]).toMatchObject({ runId, payloadId: links.payloadIds.get('p'), metadata: { total_ms: 5 } });
      expect(await stores.history.getRun(runId + 100)).toBeUndefined();
      expect(await stores.history.responses(runId + 100)).toEqual([]);
    });

    it('remembers a response as a step cache key\'s answer in the same write; a later answer of the key replaces it', async () => {
      const { stores } = await setup();
      const runId = await stores.history.startRun({ workflowId: null, metadata: { trigger: 'cli' }, startedAt: at(0) });
      expect(await stores.history.cachedResponse('k')).toBeUndefined();
      const first = await stores.history.addResponse({ runId, payloadId: null, content: 'one', prompt: 'P', metadata: { step: 's' }, cacheKey: 'k' }, at(1));
      expect(await stores.history.cachedResponse('k')).toMatchObject({ id: first, content: 'one' });
      const plain = await stores.history.addResponse({ runId, payloadId: null, content: 'judge', prompt: 'J', metadata: {} }, at(2));
      const second = await stores.history.addResponse({ runId, payloadId: null, content: 'two', prompt: 'P', metadata: { step: 's' }, cacheKey: 'k' }, at(3));
      expect(await stores.history.cachedResponse('k')).toMatchObject({ id: second, content: 'two' });
      expect((await stores.history.responses(runId)).map((r) => r.id)).toEqual([first, plain, second]);
    });

    it('writes the last step\'s response with the run\'s end, its cache key too', async () => {
      const { stores } = await setup();
      const runId = await stores.history.startRun({ workflowId: null, metadata: { trigger: 'cli' }, startedAt: at(0) });
      const first = await stores.history.addResponse({ runId, payloadId: null, content: 'one', prompt: 'P1', metadata: { step: 'a' } }, at(1));
      await stores.history.finishRun(runId, 'completed', { steps_completed: 2 }, at(3), { response: { runId, payloadId: null, content: 'two', prompt: 'P2', metadata: { step: 'b' }, cacheKey: 'k2' }, createdAt: at(2) });
      expect(await stores.history.getRun(runId)).toMatchObject({ status: 'completed', completedAt: '2026-01-02 03:04:03.005', metadata: { steps_completed: 2 } });
      const responses = await stores.history.responses(runId);
      expect(responses.map((r) => [r.content, r.createdAt])).toEqual([['one', '2026-01-02 03:04:01.005'], ['two', '2026-01-02 03:04:02.005']]);
      expect(responses[0]!.id).toBe(first);
      expect(await stores.history.cachedResponse('k2')).toMatchObject({ id: responses[1]!.id, content: 'two' });
    });

    it('lists runs newest first, with step counts, by workflow and up to a limit', async () => {
      const { stores, load } = await setup();
      const { workspace, changes } = load();
      await stores.mirror.apply(workspace, changes);
      const { workflowId } = await stores.mirror.runLinks('w');
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push(await stores.history.startRun({ workflowId, metadata: {}, startedAt: at(i) }));
      const orphan = await stores.history.startRun({ workflowId: null, metadata: {}, startedAt: at(9) });
      await stores.history.addResponse({ runId: ids[1]!, payloadId: null, content: 'c', prompt: 'p', metadata: {} }, at(5));
      const all = await stores.history.listRuns({ limit: 10 });
      expect(all.map((r) => r.id)).toEqual([orphan, ids[2], ids[1], ids[0]]);
      expect(all.map((r) => r.steps)).toEqual([0, 0, 1, 0]);
      expect(all[0]!.workflow).toBeNull();
      expect((await stores.history.listRuns({ workflow: 'w', limit: 2 })).map((r) => r.id)).toEqual([ids[2], ids[1]]);
      expect(await stores.history.listRuns({ workflow: 'none', limit: 5 })).toEqual([]);
    });

    it('finds the previous completed run of the same workflow, and nothing when there is none', async () => {
      const { stores, load } = await setup({ ...FILES, 'workflows/v.workflow.yaml': 'name: v\npayloads: [q]\n' });
      const { workspace, changes } = load();
      await stores.mirror.apply(workspace, changes);
      const w = (await stores.mirror.runLinks('w')).workflowId;
      const v = (await stores.mirror.runLinks('v')).workflowId;
      const record = async (workflowId: number | null, status: 'completed' | 'failed' | 'running', second: number) => {
        const id = await stores.history.startRun({ workflowId, metadata: {}, startedAt: at(second) });
        if (status !== 'running') await stores.history.finishRun(id, status, {}, at(second));
        return id;
      };
      const first = await record(w, 'completed', 0);
      const other = await record(v, 'completed', 1);
      const failed = await record(w, 'failed', 2);
      const second = await record(w, 'completed', 3);
      const orphan = await record(null, 'completed', 4);
      const running = await record(w, 'running', 5);
      const previous = async (id: number) => (await stores.history.previousCompleted(id))?.id;
      expect(await previous(running)).toBe(second);
      expect(await stores.history.previousCompleted(second)).toMatchObject({ id: first, workflow: 'w', status: 'completed' });
      expect(await previous(failed)).toBe(first);
      expect(await previous(first)).toBeUndefined();
      expect(await previous(other)).toBeUndefined();
      expect(await previous(orphan)).toBeUndefined();
      expect(await previous(running + 100)).toBeUndefined();
    });

    it('marks running runs whose process is gone as failed (interrupted), and leaves live ones', async () => {
      const { stores } = await setup();
      const dead = await stores.history.startRun({ workflowId: null, metadata: { pid: 1111 }, startedAt: at(0) });
      const live = await stores.history.startRun({ workflowId: null, metadata: { pid: 2222 }, startedAt: at(1) });
      const done = await stores.history.startRun({ workflowId: null, metadata: { pid: 1111 }, startedAt: at(2) });
      await stores.history.finishRun(done, 'completed', {}, at(3));
      const marked = await stores.history.markInterrupted((metadata) => metadata.pid === 2222, at(4));
      expect(marked).toEqual([dead]);
      expect(await stores.history.getRun(dead)).toMatchObject({ status: 'failed', completedAt: '2026-01-02 03:04:04.005', metadata: { pid: 1111, error: expect.stringContaining('interrupted') } });
      expect((await stores.history.getRun(live))!.status).toBe('running');
      expect((await stores.history.getRun(done))!.status).toBe('completed');
    });

    it('reads back what a reading connection sees after the writer recorded it', async () => {
      const { ws, stores } = await setup();
      const runId = await stores.history.startRun({ workflowId: null, metadata: { trigger: 'watch' }, startedAt: at(0) });
      const reader = backend.make(ws);
      open.push({ ws: { ...ws, cleanup: () => {} }, provider: reader });
      const readStores = await reader.forReading();
      expect((await readStores.history.getRun(runId))!.metadata.trigger).toBe('watch');
    });
  });
});
