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
