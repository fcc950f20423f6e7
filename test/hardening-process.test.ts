/**
 * What concurrent, killed and unlucky processes do to the database: every quire process
 * that opens a new or old database at once succeeds, and no dead process's run is ever
 * shown as running. The real CLI in child processes, a real SQLite file.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliAsync } from './helpers/cli.js';
import { MINIMAL_WORKSPACE, makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const temp: TempWorkspace[] = [];
afterEach(() => {
  while (temp.length) temp.pop()!.cleanup();
});

function workspace(): TempWorkspace {
  const ws = makeWorkspace(MINIMAL_WORKSPACE);
  temp.push(ws);
  return ws;
}

const SEED_DDL = readFileSync(new URL('./fixtures/seed-schema.sql', import.meta.url), 'utf8');

/** Starts `count` syncs together; each must succeed with nothing on stderr. */
async function syncAtOnce(ws: TempWorkspace, count: number): Promise<void> {
  const results = await Promise.all(Array.from({ length: count }, () => runCliAsync(['-w', ws.root, 'sync', '--json'])));
  for (const result of results) expect({ code: result.code, stderr: result.stderr, stdout: result.code === 0 ? '' : result.stdout }).toEqual({ code: 0, stderr: '', stdout: '' });
}

describe('processes opening one database at once', () => {
  it('8 syncs started together on a new database all succeed, and the schema is applied once', async () => {
    for (let round = 0; round < 2; round++) {
      const ws = workspace();
      await syncAtOnce(ws, 8);
      const db = new Database(ws.dbPath, { readonly: true });
      const names = (db.prepare('SELECT name FROM quire_migrations').all() as { name: string }[]).map((r) => r.name);
      expect(new Set(names).size).toBe(names.length);
      expect(db.prepare('SELECT count(*) AS n FROM blocks').get()).toEqual({ n: 2 });
      db.close();
    }
  });
  it('8 syncs started together on an original-system database all upgrade it, keeping its rows', async () => {
    const ws = workspace();
    mkdirSync(dirname(ws.dbPath), { recursive: true });
    const seed = new Database(ws.dbPath);
    seed.exec(SEED_DDL);
    seed.prepare("INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Old', 'typed long ago', 'x', 'legacy')").run();
    seed.close();
    await syncAtOnce(ws, 8);
    const db = new Database(ws.dbPath, { readonly: true });
    expect(db.prepare("SELECT content FROM blocks WHERE title = 'Old'").get()).toEqual({ content: 'typed long ago' });
    const names = (db.prepare('SELECT name FROM quire_migrations').all() as { name: string }[]).map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    db.close();
  });
});

describe('runs of processes that are gone', () => {
  /** Inserts a run left `running` with this metadata, as a killed quire would leave it. */
  async function runningRow(ws: TempWorkspace, metadata: Record<string, unknown>): Promise<number> {
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    const db = new Database(ws.dbPath);
    const id = Number(db.prepare("INSERT INTO runs (workflow_id, status, started_at, metadata) VALUES (NULL, 'running', '2026-01-01 00:00:00.000', ?)").run(JSON.stringify(metadata)).lastInsertRowid);
    db.close();
    return id;
  }

  it('a run whose pid now belongs to another process (a container restarted: pid 1 again) is shown failed, not running', async () => {
    const ws = workspace();
    // pid 1 is alive here, but it is not the process that started this run.
    const id = await runningRow(ws, { pid: 1, process_start: 'linux:another-boot:42' });
    const runs = JSON.parse((await runCliAsync(['-w', ws.root, 'runs', '--json'])).stdout) as { runs: { id: number; status: string; error: string | null }[] };
    expect(runs.runs.find((r) => r.id === id)).toMatchObject({ status: 'failed', error: expect.stringContaining('interrupted') });
  });

  it('a run recorded by this very pid under an earlier process start is not taken for this process', async () => {
    const ws = workspace();
    const { createProcessLiveness } = await import('../src/adapters/process/liveness.js');
    const liveness = createProcessLiveness();
    expect(liveness.isAlive(liveness.self)).toBe(true);
    expect(liveness.isAlive({ pid: liveness.self.pid, start: `${liveness.self.start}-earlier` })).toBe(false);
    expect(liveness.isAlive({ pid: 2 ** 22 + 17, start: 'x' })).toBe(false); // no such process
    const id = await runningRow(ws, { pid: 2 ** 22 + 17 });
    const shown = JSON.parse((await runCliAsync(['-w', ws.root, 'show', String(id), '--json'])).stdout) as { run: { status: string } };
    expect(shown.run.status).toBe('failed');
  });

  it('runs, show and sync settle a SIGKILLed run at once, without waiting for the next quire run', async () => {
    const { startMockLlm } = await import('../src/mock-llm/index.js');
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./helpers/cli.js');
    const mock = await startMockLlm({ api: 'kobold', faults: { hang: true } });
    try {
      for (const reader of [['runs', '--json'], ['sync', '--json'], ['show', '1', '--json']]) {
        const ws = workspace();
        const child = spawn(process.execPath, [BIN, '-w', ws.root, 'run', 'research', '--input', 'text=x', '--endpoint', `5001=${mock.url}`], { stdio: 'ignore' });
        // Wait until the run is recorded and its request is hanging on the server.
        for (let i = 0; i < 400 && !mock.requests.some((r) => r.path.includes('generate')); i++) await new Promise((resolve) => setTimeout(resolve, 25));
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        mock.reset();
        expect((await runCliAsync(['-w', ws.root, ...reader])).code).toBe(0);
        const db = new Database(ws.dbPath, { readonly: true });
        expect(db.prepare('SELECT status FROM runs').all(), reader.join(' ')).toEqual([{ status: 'failed' }]);
        db.close();
      }
    } finally {
      await mock.close();
    }
  });
});
