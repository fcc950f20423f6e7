/**
 * Postgres as the store, through the built CLI: `QUIRE_DB=postgres://...` for every command,
 * `quire.yaml store:` (never with a password), several checkouts syncing one shared mirror,
 * and batches run by `quire worker` processes: three workers on one batch with one killed
 * mid-way lose no record and complete none twice; a lease that runs out moves its record
 * to another worker and the first worker's late result is not counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../src/adapters/pg/open.js';
import { createPgWorkQueue } from '../src/adapters/pg/queue.js';
import { viewBatch, viewBatches } from '../src/app/view.js';
import { createAppContext } from '../src/cli/context.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { BIN, runCli, runCliAsync } from './helpers/cli.js';
import { startPostgres, type PgCluster } from './helpers/postgres.js';
import { makeWorkspace, MINIMAL_WORKSPACE, type TempWorkspace } from './helpers/workspace.js';

let cluster: PgCluster;
let mock: MockLlm;
const workspaces: TempWorkspace[] = [];

beforeAll(async () => {
  [cluster, mock] = await Promise.all([startPostgres(), startMockLlm({ api: 'all' })]);
}, 60_000);
afterAll(async () => {
  for (const ws of workspaces) ws.cleanup();
  await Promise.all([cluster?.stop(), mock?.close()]);
});

/** A workspace whose port 5001 is the mock (with a fault spec, e.g. latency), and a new database for it. */
async function setup(fault?: string): Promise<{ ws: TempWorkspace; url: string; env: Record<string, string> }> {
  const ws = makeWorkspace({ ...MINIMAL_WORKSPACE, 'quire.yaml': `endpoints:\n  "5001":\n    urls: ["${mock.url}${fault ? `/__fault/${fault}` : ''}"]\n    api: kobold\n` });
  workspaces.push(ws);
  const url = await cluster.createDatabase();
  return { ws, url, env: { QUIRE_DB: url } };
}

async function query<T extends object>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

function records(n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ text: `record ${i + 1}` })).join('\n') + '\n';
}

function startWorker(ws: TempWorkspace, env: Record<string, string>, args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'worker', ...args], { cwd: ws.root, env: { ...process.env, NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** The URL with a password in it (the cluster trusts every connection, so it is never checked). */
function withSecret(url: string): string {
  const parsed = new URL(url);
  parsed.password = 'hunter2';
  return parsed.toString();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Postgres as the store (QUIRE_DB, --db, quire.yaml store:)', () => {
  it('every command works on it: sync, run, runs, show; runs record who ran them and where; doctor names the URL without a password', async () => {
    const { ws, url, env } = await setup();
    expect(runCli(['sync'], { cwd: ws.root, env }).code).toBe(0);
    const run = await runCliAsync(['run', 'research', '--input', 'text=hello', '--json'], { cwd: ws.root, env });
    expect(run.code, run.stderr).toBe(0);
    const runId = JSON.parse(run.stdout).run_id as number;
    const shown = JSON.parse(runCli(['show', String(runId), '--json'], { cwd: ws.root, env }).stdout);
    expect(shown.run.metadata.user).toEqual(expect.any(String));
    expect(shown.run.metadata.host).toEqual(expect.any(String));
    expect(shown.run.metadata.pid).toBeUndefined();
    // A shared store lists who ran each run.
    const listed = runCli(['runs'], { cwd: ws.root, env }).stdout;
    expect(listed).toMatch(/^run\s+workflow\s+status\s+started \(UTC\)\s+by\s+steps/);
    expect(listed).toMatch(new RegExp(`#${runId}\\s+research\\s+completed\\s+\\S+ \\S+\\s+${userInfo().username}@${hostname()}\\s+1`));
    expect(JSON.parse(runCli(['runs', '--json'], { cwd: ws.root, env }).stdout).runs[0]).toMatchObject({ id: runId, user: userInfo().username, host: hostname() });
    // The rows are in Postgres, and the local file holds only this checkout's cache (no history).
    expect((await query<{ n: string }>(url, 'SELECT count(*) AS n FROM runs'))[0]!.n).toBe('1');
    const withPassword = withSecret(url);
    expect(withPassword).toContain(':hunter2@');
    const doctor = await runCliAsync(['doctor', '--db', withPassword], { cwd: ws.root });
    expect(doctor.stdout + doctor.stderr).not.toContain('hunter2');
    expect(doctor.stdout).toContain(url.replace(/^postgres:\/\//, ''));
  }, 60_000);

  it('quire.yaml `store:` selects it; a password written there is refused at its line and column, and QUIRE_DB wins over it', async () => {
    const { ws, url } = await setup();
    const config = `endpoints:\n  "5001":\n    urls: ["${mock.url}"]\n`;
    ws.write('quire.yaml', `${config}store: ${url}\n`);
    const synced = runCli(['sync', '--json'], { cwd: ws.root });
    expect(synced.code, synced.stderr).toBe(0);
    expect(JSON.parse(synced.stdout).db).toBe(url);
    expect((await query<{ n: string }>(url, 'SELECT count(*) AS n FROM blocks'))[0]!.n).toBe('2');

    ws.write('quire.yaml', `${config}store: ${withSecret(url)}\n`);
    const refused = runCli(['runs'], { cwd: ws.root });
    expect(refused.code, refused.stdout + refused.stderr).not.toBe(0);
    expect(refused.stderr).toMatch(/quire\.yaml:4:8: .*password/);
    expect(refused.stderr).not.toContain('hunter2');

    // The sync reports it as a problem of the file too, whatever store is used.
    const checked = runCli(['validate'], { cwd: ws.root, env: { QUIRE_DB: join(ws.root, 'other.db') } });
    expect(checked.stdout + checked.stderr).toMatch(/quire\.yaml:4:8: .*password/);

    // The environment wins: a SQLite file here.
    ws.write('quire.yaml', `${config}store: ${url}\n`);
    const local = runCli(['sync', '--json'], { cwd: ws.root, env: { QUIRE_DB: join(ws.root, 'other.db') } });
    expect(local.code, local.stderr).toBe(0);
    expect(JSON.parse(local.stdout).db).toBe(join(ws.root, 'other.db'));
  }, 60_000);

  it('checkouts share one mirror: the same commit synced by two processes at once converges; another commit\'s sync is undone by the next sync here, and history stays', async () => {
    const { ws, url, env } = await setup();
    const [a, b] = await Promise.all([runCliAsync(['sync'], { cwd: ws.root, env }), runCliAsync(['sync'], { cwd: ws.root, env })]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const rows = async () => query<{ key: string; content: string }>(url, 'SELECT key, content FROM blocks ORDER BY key');
    expect((await rows()).map((r) => r.key)).toEqual(['style/concise', 'tasks/summarize']);

    // A teammate's checkout at another commit: one block edited.
    const other = makeWorkspace({ ...MINIMAL_WORKSPACE, 'blocks/style/concise.md': '---\ntags: [style]\n---\nBe very concise.\n' });
    workspaces.push(other);
    expect(runCli(['sync'], { cwd: other.root, env }).code).toBe(0);
    expect((await rows()).find((r) => r.key === 'style/concise')!.content).toBe('Be very concise.\n');

    // Back here, nothing changed locally, yet the shared rows are the other commit's: the sync puts ours back.
    const again = runCli(['sync', '--json'], { cwd: ws.root, env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).blocks.updated).toBe(1);
    expect((await rows()).find((r) => r.key === 'style/concise')!.content).toBe('Be concise.\n');
    // And a sync right after has nothing to do.
    expect(JSON.parse(runCli(['sync', '--json'], { cwd: ws.root, env }).stdout).blocks.updated).toBe(0);
  }, 60_000);

  it('--workers needs a shared store: on SQLite it says so and queues nothing', async () => {
    const ws = makeWorkspace(MINIMAL_WORKSPACE);
    workspaces.push(ws);
    ws.write('records.jsonl', records(3));
    const result = runCli(['run', 'research', '--batch', 'records.jsonl', '--workers'], { cwd: ws.root });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('need a shared store (PostgreSQL)');
    expect(result.stderr).toContain('postgres://');
  });
});

describe('batches run by workers', () => {
  it('three workers on one batch, one killed mid-way: every record completes exactly once, the dead worker\'s leases return to the queue and its runs are settled', async () => {
    const { ws, url, env } = await setup('latency=15');
    const total = 60;
    ws.write('records.jsonl', records(total));
    const queued = runCli(['run', 'research', '--batch', 'records.jsonl', '--workers', '--json'], { cwd: ws.root, env });
    expect(queued.code, queued.stderr).toBe(0);
    const { batch_id: batchId, queued: count } = JSON.parse(queued.stdout) as { batch_id: number; queued: number };
    expect(count).toBe(total);

    const args = ['--concurrency', '2', '--lease', '1', '--until-empty'];
    const workers = [startWorker(ws, env, args), startWorker(ws, env, args), startWorker(ws, env, args)];
    // Kill one once the batch is under way and it holds leases.
    const victim = workers[0]!;
    for (let i = 0; i < 300; i++) {
      const [held] = await query<{ n: string }>(url, "SELECT count(*) AS n FROM batch_queue WHERE status = 'leased' AND worker LIKE $1", [`%:${victim.child.pid}:%`]);
      const [batch] = await query<{ completed: number }>(url, 'SELECT completed FROM batches WHERE id = $1', [batchId]);
      if (Number(held!.n) > 0 && batch!.completed >= 6) break;
      await sleep(50);
    }
    victim.child.kill('SIGKILL');
    const ends = await Promise.all(workers.map((w) => w.done));
    expect(ends[0]!.signal).toBe('SIGKILL');
    for (const end of ends.slice(1)) expect(end.code, end.stderr).toBe(0);

    const [batch] = await query<{ status: string; completed: number; failed: number; record_count: number }>(url, 'SELECT status, completed, failed, record_count FROM batches WHERE id = $1', [batchId]);
    expect(batch).toMatchObject({ status: 'completed', completed: total, failed: 0, record_count: total });
    const results = await query<{ record: number; status: string; run_id: string }>(url, 'SELECT record, status, run_id FROM batch_records WHERE batch_id = $1 ORDER BY record', [batchId]);
    expect(results.map((r) => r.record)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(results.every((r) => r.status === 'completed')).toBe(true);
    expect(new Set(results.map((r) => r.run_id)).size).toBe(total);
    // Each saved result's run is its record's completed run.
    const linked = await query<{ record: number; status: string }>(url, "SELECT (r.metadata::jsonb ->> 'batch_record')::int AS record, r.status FROM batch_records b JOIN runs r ON r.id = b.run_id WHERE b.batch_id = $1 ORDER BY 1", [batchId]);
    expect(linked.map((r) => r.record)).toEqual(results.map((r) => r.record));
    expect(linked.every((r) => r.status === 'completed')).toBe(true);
    expect(await query(url, "SELECT 1 FROM batch_queue WHERE batch_id = $1 AND status <> 'done'", [batchId])).toEqual([]);
    // The killed worker's runs in flight were settled when their records were taken again.
    expect(await query(url, "SELECT id FROM runs WHERE status = 'running'")).toEqual([]);
    const retaken = await query<{ n: string }>(url, 'SELECT count(*) AS n FROM batch_queue WHERE batch_id = $1 AND attempts > 1', [batchId]);
    expect(Number(retaken[0]!.n)).toBeGreaterThan(0);
    const interrupted = await query<{ error: string }>(url, "SELECT metadata::jsonb ->> 'error' AS error FROM runs WHERE status = 'failed'");
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.every((r) => r.error.includes('stopped renewing its lease'))).toBe(true);

    // `quire batches` shows it done, and the results export every record.
    expect(runCli(['batches'], { cwd: ws.root, env }).stdout).toMatch(new RegExp(`#${batchId}\\s+research\\s+completed`));
    const exported = runCli(['results', String(batchId)], { cwd: ws.root, env });
    expect(exported.stdout.trim().split('\n')).toHaveLength(total);
  }, 120_000);

  it('registering needs no endpoint here: an API key only the workers have is not asked for; --endpoint belongs to quire worker', async () => {
    const { ws, env } = await setup();
    ws.write('quire.yaml', `endpoints:\n  "5001":\n    urls: ["${mock.url}"]\n    api_key_env: QUIRE_TEST_KEY_ONLY_ON_WORKERS\n`);
    ws.write('records.jsonl', records(2));
    const queued = runCli(['run', 'research', '--batch', 'records.jsonl', '--workers', '--json'], { cwd: ws.root, env: { ...env, QUIRE_TEST_KEY_ONLY_ON_WORKERS: undefined } });
    expect(queued.code, queued.stderr).toBe(0);
    expect(JSON.parse(queued.stdout)).toMatchObject({ ok: true, queued: 2, invalid: 0 });
    const refused = runCli(['run', 'research', '--batch', 'records.jsonl', '--workers', '--endpoint', `5001=${mock.url}`], { cwd: ws.root, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--endpoint cannot go with --workers');
  }, 30_000);

  it('a lease that runs out moves the record to another worker; the first worker\'s late result is not counted (no record completes twice)', async () => {
    const { url } = await setup();
    const db = await openPostgres(url);
    try {
      const queue = createPgWorkQueue(db);
      async function* items() {
        for (let i = 1; i <= 3; i++) yield { queued: { record: i, line: i, inputs: { text: `r${i}` } } };
        yield { invalid: { record: 4, line: 4, runId: null, status: 'invalid' as const, key: null, error: 'record 4: text is required' } };
      }
      const { batchId, queued, invalid } = await queue.registerBatch({ workflowId: null, workflow: 'research', inputPath: 'r.jsonl', inputHash: 'h', inputFormat: 'jsonl', settings: { workers: true }, startedAt: new Date() }, items());
      expect([queued, invalid]).toEqual([3, 1]);

      const first = await queue.claim('a', 1, 150);
      expect(first.map((r) => [r.record, r.attempts])).toEqual([[1, 1]]);
      // Worker b takes the rest at once, then nothing while a's lease lives.
      expect((await queue.claim('b', 5, 60_000)).map((r) => r.record)).toEqual([2, 3]);
      expect(await queue.claim('b', 5, 60_000)).toEqual([]);
      expect(await queue.progress(batchId)).toEqual({ queued: 0, leased: 3, done: 0, workers: 2 });
      await sleep(400);
      const retaken = await queue.claim('b', 5, 60_000);
      expect(retaken.map((r) => [r.record, r.attempts])).toEqual([[1, 2]]);
      // a's renewal finds nothing; its late result is dropped, b's counts.
      expect(await queue.renew('a', 60_000)).toBe(0);
      const result = (record: number) => ({ record, line: record, runId: null, status: 'completed' as const, key: null, error: null });
      expect(await queue.complete('a', batchId, [result(1)], new Date())).toEqual([]);
      expect(await queue.complete('b', batchId, [result(1), result(2)], new Date())).toEqual([1, 2]);
      expect(await queue.complete('b', batchId, [result(2)], new Date())).toEqual([]);
      let [row] = await db.query<{ status: string; completed: number; invalid: number }>('SELECT status, completed, invalid FROM batches WHERE id = $1', [batchId]);
      expect(row).toEqual({ status: 'running', completed: 2, invalid: 1 });
      // A released record goes back to the queue for anyone.
      await queue.release('b');
      expect((await queue.claim('c', 5, 60_000)).map((r) => r.record)).toEqual([3]);
      expect(await queue.complete('c', batchId, [result(3)], new Date())).toEqual([3]);
      [row] = await db.query<{ status: string; completed: number; invalid: number }>('SELECT status, completed, invalid FROM batches WHERE id = $1', [batchId]);
      expect(row).toEqual({ status: 'completed', completed: 3, invalid: 1 });
      expect(await queue.hasWork()).toBe(false);
    } finally {
      await db.close();
    }
  }, 30_000);

  it('results that cannot be saved for a moment (the table away) are kept and saved once it is back: nothing is lost or run twice', async () => {
    const { ws, url, env } = await setup('latency=10');
    const total = 30;
    ws.write('records.jsonl', records(total));
    const queued = runCli(['run', 'research', '--batch', 'records.jsonl', '--workers', '--json'], { cwd: ws.root, env });
    const batchId = JSON.parse(queued.stdout).batch_id as number;
    const worker = startWorker(ws, env, ['--concurrency', '2', '--until-empty']);
    for (let i = 0; i < 200; i++) {
      const [batch] = await query<{ completed: number }>(url, 'SELECT completed FROM batches WHERE id = $1', [batchId]);
      if (batch!.completed >= 2) break;
      await sleep(25);
    }
    await query(url, 'ALTER TABLE batch_records RENAME TO batch_records_away');
    await sleep(2_500);
    await query(url, 'ALTER TABLE batch_records_away RENAME TO batch_records');
    const end = await worker.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toContain('(trying again)');
    const [batch] = await query<{ status: string; completed: number }>(url, 'SELECT status, completed FROM batches WHERE id = $1', [batchId]);
    expect(batch).toEqual({ status: 'completed', completed: total });
    const saved = await query<{ record: number }>(url, 'SELECT record FROM batch_records WHERE batch_id = $1 ORDER BY record', [batchId]);
    expect(saved.map((r) => r.record)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect((await query<{ n: string }>(url, "SELECT count(*) AS n FROM runs WHERE status = 'completed'"))[0]!.n).toBe(String(total));
  }, 60_000);

  it('a run the store fails under (responses away for a moment) is not the record\'s failure: the record runs again and completes once', async () => {
    const { ws, url, env } = await setup('latency=10');
    const total = 20;
    ws.write('records.jsonl', records(total));
    const batchId = JSON.parse(runCli(['run', 'research', '--batch', 'records.jsonl', '--workers', '--json'], { cwd: ws.root, env }).stdout).batch_id as number;
    const worker = startWorker(ws, env, ['--concurrency', '2', '--until-empty']);
    for (let i = 0; i < 200; i++) {
      if ((await query<{ n: string }>(url, "SELECT count(*) AS n FROM runs WHERE status = 'completed'"))[0]!.n !== '0') break;
      await sleep(25);
    }
    await query(url, 'ALTER TABLE responses RENAME TO responses_away');
    await sleep(1_000);
    await query(url, 'ALTER TABLE responses_away RENAME TO responses');
    const end = await worker.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toContain('the store failed');
    const [batch] = await query<{ status: string; completed: number; failed: number }>(url, 'SELECT status, completed, failed FROM batches WHERE id = $1', [batchId]);
    expect(batch).toEqual({ status: 'completed', completed: total, failed: 0 });
    const linked = await query<{ status: string }>(url, 'SELECT r.status FROM batch_records b JOIN runs r ON r.id = b.run_id WHERE b.batch_id = $1', [batchId]);
    expect(linked).toHaveLength(total);
    expect(linked.every((r) => r.status === 'completed')).toBe(true);
    // The attempts the store failed under are kept as failed runs, linked to nothing.
    const attempts = await query<{ n: string }>(url, "SELECT count(*) AS n FROM runs WHERE status = 'failed'");
    expect(Number(attempts[0]!.n)).toBeGreaterThan(0);
  }, 60_000);

  it('a checkout without the batch\'s workflow leaves it to other workers, holding none of its records', async () => {
    const { ws, url, env } = await setup();
    ws.write('records.jsonl', records(3));
    const batchId = JSON.parse(runCli(['run', 'research', '--batch', 'records.jsonl', '--workers', '--json'], { cwd: ws.root, env }).stdout).batch_id as number;
    const other = makeWorkspace({ 'blocks/a.md': 'A\n', 'workflows/other.workflow.yaml': 'name: other\npayloads:\n  - name: p\n    blocks: [a]\n' });
    workspaces.push(other);
    const elsewhere = startWorker(other, env, ['--concurrency', '2']);
    let said = '';
    elsewhere.child.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    for (let i = 0; i < 200 && !said.includes('skipped here'); i++) await sleep(50);
    expect(said).toMatch(new RegExp(`batch #${batchId} \\(research\\) skipped here, left to other workers`));
    expect(await query(url, "SELECT record FROM batch_queue WHERE status <> 'queued'")).toEqual([]);
    elsewhere.child.kill('SIGINT');
    expect((await elsewhere.done).code).toBe(130);
    // A checkout that has it runs the batch.
    const here = startWorker(ws, env, ['--until-empty']);
    expect((await here.done).code).toBe(0);
    expect((await query<{ status: string; completed: number }>(url, 'SELECT status, completed FROM batches WHERE id = $1', [batchId]))[0]).toEqual({ status: 'completed', completed: 3 });
  }, 60_000);

  it('a stopped worker (Ctrl-C) cancels its runs in flight and hands their records back at once', async () => {
    const { ws, url, env } = await setup('latency=200');
    ws.write('records.jsonl', records(4));
    const queued = runCli(['run', 'research', '--batch', 'records.jsonl', '--workers', '--json'], { cwd: ws.root, env });
    const batchId = JSON.parse(queued.stdout).batch_id as number;
    const worker = startWorker(ws, env, ['--concurrency', '2']);
    for (let i = 0; i < 200; i++) {
      const [held] = await query<{ n: string }>(url, "SELECT count(*) AS n FROM runs WHERE status = 'running'");
      if (Number(held!.n) === 2) break;
      await sleep(50);
    }
    worker.child.kill('SIGINT');
    const end = await worker.done;
    expect(end.code).toBe(130);
    const open = await query<{ status: string; n: string }>(url, "SELECT status, count(*) AS n FROM batch_queue WHERE batch_id = $1 GROUP BY status ORDER BY status", [batchId]);
    expect(open).toEqual([{ status: 'queued', n: '4' }]);
    expect((await query<{ status: string }>(url, 'SELECT status FROM runs')).map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    expect((await query<{ completed: number; status: string }>(url, 'SELECT completed, status FROM batches WHERE id = $1', [batchId]))[0]).toEqual({ completed: 0, status: 'running' });
    // Progress across workers: none holds a record now, all 4 wait in the queue.
    expect(runCli(['batches'], { cwd: ws.root, env }).stdout).toMatch(new RegExp(`#${batchId}\\s+research\\s+running.*0 \\(0 in flight, 4 queued\\)`));
    expect(JSON.parse(runCli(['batches', '--json'], { cwd: ws.root, env }).stdout).batches[0].queue).toEqual({ queued: 4, leased: 0, done: 0, workers: 0 });
    // The viewer shows it waiting for workers, not as a batch whose process is gone.
    const app = createAppContext({ root: ws.root, dbPath: url });
    try {
      const detail = await viewBatch(app, batchId, { sort: { by: 'record' }, descending: false, page: { limit: 10, offset: 0 } });
      expect(detail.batch.processGone).toBe(false);
      expect(detail.queue).toEqual({ queued: 4, leased: 0, done: 0, workers: 0 });
      expect((await viewBatches(app, 10)).find((b) => b.id === batchId)?.processGone).toBe(false);
    } finally {
      await app.close();
    }
  }, 60_000);
});

