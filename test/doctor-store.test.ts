/**
 * StoreProvider.describe() on SQLite (what `quire doctor` reports about the database):
 * read only, never creating or migrating, whatever the file's age.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStoreProvider } from '../src/adapters/db/sqlite-stores.js';
import { MIGRATIONS } from '../src/adapters/db/migrations.js';
import type { StoreProvider } from '../src/core/ports.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const KNOWN = MIGRATIONS.map((m) => m.name);
const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

describe('sqlite StoreProvider.describe', () => {
  const open: { ws: TempWorkspace; provider: StoreProvider }[] = [];
  afterEach(async () => {
    for (const { ws, provider } of open.splice(0)) {
      await provider.close();
      ws.cleanup();
    }
  });
  const setup = () => {
    const ws = makeWorkspace({ 'blocks/a.md': 'A\n' });
    const provider = createSqliteStoreProvider(ws.dbPath);
    open.push({ ws, provider });
    return { ws, provider };
  };

  it('no database: exists false, and neither the file nor its folder is created', async () => {
    const { ws, provider } = setup();
    expect(await provider.describe()).toEqual({ location: ws.dbPath, exists: false, sizeBytes: 0, migrations: { applied: [], known: KNOWN }, runsByStatus: {} });
    expect(existsSync(dirname(ws.dbPath))).toBe(false);
  });

  it('counts runs per status and lists the applied migrations, on its own read-only connection, leaving the file as it was', async () => {
    const { ws, provider } = setup();
    const { history } = await provider.forWriting();
    for (const status of ['completed', 'completed', 'failed', 'cancelled'] as const) {
      const id = await history.startRun({ workflowId: null, metadata: {}, startedAt: at });
      await history.finishRun(id, status, {}, at);
    }
    await history.startRun({ workflowId: null, metadata: {}, startedAt: at });
    await provider.close();
    const before = readFileSync(ws.dbPath);

    const again = createSqliteStoreProvider(ws.dbPath);
    open.push({ ws, provider: again });
    const described = await again.describe();
    expect(described).toEqual({
      location: ws.dbPath,
      exists: true,
      sizeBytes: before.length,
      migrations: { applied: KNOWN, known: KNOWN },
      runsByStatus: { cancelled: 1, completed: 2, failed: 1, running: 1 },
    });
    expect(readFileSync(ws.dbPath).equals(before)).toBe(true);
  });

  it('answers on the connection already open (after readCache), and that connection keeps working', async () => {
    const { provider } = setup();
    await provider.forWriting();
    await provider.close();
    expect(provider.readCache()).toBeDefined();
    expect((await provider.describe()).migrations.applied).toEqual(KNOWN);
    expect(provider.readCache()).toBeDefined();
  });

  it('an original-system database (no migration record) is described, not upgraded', async () => {
    const { ws, provider } = setup();
    mkdirSync(dirname(ws.dbPath), { recursive: true });
    const db = new Database(ws.dbPath);
    db.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, workflow_id INTEGER, status TEXT NOT NULL, started_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, completed_at TIMESTAMP, metadata TEXT);
             INSERT INTO runs (status) VALUES ('completed'), ('failed');`);
    db.close();
    expect(await provider.describe()).toMatchObject({ exists: true, migrations: { applied: [], known: KNOWN }, runsByStatus: { completed: 1, failed: 1 } });
    const check = new Database(ws.dbPath, { readonly: true });
    expect(check.prepare(`SELECT name FROM sqlite_master WHERE name = 'quire_migrations'`).get()).toBeUndefined();
    check.close();
  });

  it('a file that is not a database throws DATABASE', async () => {
    const { ws, provider } = setup();
    ws.write('data/quire.db', 'this is plain text, not SQLite, and long enough to have a header\n'.repeat(4));
    await expect(provider.describe()).rejects.toMatchObject({ code: 'DATABASE' });
  });
});
