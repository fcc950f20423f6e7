/**
 * The Postgres schema by migration (src/adapters/pg): the same tables and columns as the
 * SQLite schema, the same migration names in the same order, each applied once (also when
 * several processes use a new database at once), a newer database refused untouched, and
 * no password in any message. Runs on a throwaway cluster (test/helpers/postgres.ts).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/adapters/db/open.js';
import { MIGRATIONS } from '../src/adapters/db/migrations.js';
import { MIGRATION_LOCK, migratePostgres } from '../src/adapters/pg/migrate.js';
import { PG_MIGRATIONS } from '../src/adapters/pg/migrations.js';
import { connectPostgres, openPostgres, passwordFile, postgresTarget, type PgDb } from '../src/adapters/pg/open.js';
import { MigrationError } from '../src/core/errors.js';
import { startPostgres, type PgCluster } from './helpers/postgres.js';

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Every table's columns in order, and the migration names in the order recorded. */
async function snapshot(url: string) {
  return withClient(url, async (client) => {
    const columns = (await client.query<{ table_name: string; column_name: string; data_type: string }>(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")).rows;
    const tables: Record<string, string[]> = {};
    for (const c of columns) (tables[c.table_name] ??= []).push(c.column_name);
    const indexes = (await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname")).rows.map((r) => r.indexname);
    const migrations = tables.quire_migrations ? (await client.query<{ name: string }>('SELECT name FROM quire_migrations ORDER BY id')).rows.map((r) => r.name) : [];
    return { tables, indexes, migrations, types: columns };
  });
}

describe('postgres migrations', () => {
  it('has the SQLite migrations, by name and in order', () => {
    expect(PG_MIGRATIONS.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('creates the tables and columns of the SQLite schema, in Postgres types holding the same values', async () => {
    const url = await cluster.createDatabase();
    const db = await openPostgres(url);
    await db.close();
    const { tables, indexes, types } = await snapshot(url);

    const sqlite = openDatabase(':memory:');
    const expected: Record<string, string[]> = {};
    for (const { name } of sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]) {
      expected[name] = (sqlite.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name);
    }
    const sqliteIndexes = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    sqlite.close();
    // quire_migrations orders by an id column here (SQLite orders by rowid).
    expect({ ...tables, quire_migrations: tables.quire_migrations!.filter((c) => c !== 'id') }).toEqual(expected);
    for (const name of sqliteIndexes) expect(indexes).toContain(name);
    expect(Object.keys(tables).sort()).toEqual(expect.arrayContaining(['blocks', 'payloads', 'payload_blocks', 'workflows', 'workflow_payloads', 'runs', 'responses']));

    const typeOf = (table: string, column: string) => types.find((c) => c.table_name === table && c.column_name === column)?.data_type;
    expect(typeOf('runs', 'id')).toBe('bigint');
    expect(typeOf('runs', 'started_at')).toBe('timestamp without time zone');
    expect(typeOf('payloads', 'temperature')).toBe('double precision');
    expect(typeOf('payloads', 'archived')).toBe('integer');
    expect(typeOf('runs', 'metadata')).toBe('text');
  });

  it('records each migration once, in order, and reads timestamps and ids as the SQLite store does', async () => {
    const url = await cluster.createDatabase();
    const db = await openPostgres(url);
    try {
      expect(await migratePostgres(db)).toEqual([]);
      expect((await snapshot(url)).migrations).toEqual(MIGRATIONS.map((m) => m.name));
      const [run] = await db.query<{ id: number; started_at: string; completed_at: string; created_at: string }>(
        "INSERT INTO runs (status, started_at, completed_at, metadata) VALUES ('completed', $1, $2, '{}') RETURNING id, started_at, completed_at",
        ['2026-01-02 03:04:00.005', '2026-01-02 03:04:05.500']);
      expect(run).toEqual({ id: 1, started_at: '2026-01-02 03:04:00.005', completed_at: '2026-01-02 03:04:05.500' });
      const [block] = await db.query<{ created_at: string; n: number }>("INSERT INTO blocks (title) VALUES ('t') RETURNING created_at, (SELECT count(*) FROM blocks) AS n");
      expect(block!.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
      expect(Math.abs(Date.parse(`${block!.created_at.replace(' ', 'T')}Z`) - Date.now())).toBeLessThan(60_000);
      expect(typeof block!.n).toBe('number');
      // The trigger index's function never throws on text that is not JSON.
      await db.query("INSERT INTO runs (status, metadata) VALUES ('failed', 'not json'), ('failed', '[1]'), ('failed', '{\"trigger\":\"watch\"}')");
      expect(await db.query("SELECT quire_json(metadata) ->> 'trigger' AS t FROM runs ORDER BY id")).toEqual([{ t: null }, { t: null }, { t: null }, { t: 'watch' }]);
    } finally {
      await db.close();
    }
    // A second open applies nothing.
    const again = await openPostgres(url);
    await again.close();
    expect((await snapshot(url)).migrations).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('migrates a new database once when 4 processes open it at the same time', async () => {
    const url = await cluster.createDatabase();
    const dbs: PgDb[] = await Promise.all([0, 1, 2, 3].map(() => connectPostgres(url)));
    try {
      const applied = await Promise.all(dbs.map((db) => migratePostgres(db)));
      expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
      expect(applied.filter((names) => names.length > 0).length).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
    expect((await snapshot(url)).migrations).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('waits for another process\'s migration lock, a bounded time, changing nothing meanwhile', async () => {
    const url = await cluster.createDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    const db = await connectPostgres(url);
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const failure = await migratePostgres(db, PG_MIGRATIONS, { lockWaitMs: 300 }).then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(MigrationError);
      expect((failure as Error).message).toMatch(/timed out waiting for another quire process that is migrating the database/);
      expect((await snapshot(url)).tables).toEqual({});
      // Once the other process is done, the waiter migrates.
      const waiting = migratePostgres(db);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      expect(await waiting).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await holder.end();
      await db.close();
    }
  });

  it('refuses a database migrated by a newer quire, and leaves it untouched', async () => {
    const url = await cluster.createDatabase();
    const db = await connectPostgres(url);
    try {
      await migratePostgres(db, PG_MIGRATIONS.slice(0, 3));
      await db.query("INSERT INTO quire_migrations (name, applied_at) VALUES ('m999_from_the_future', '2030-01-01T00:00:00.000Z')");
    } finally {
      await db.close();
    }
    const before = await snapshot(url);
    const failure = await openPostgres(url).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as Error).message).toMatch(/migrated by a newer version of quire \(it has m999_from_the_future\); this quire cannot use it safely/);
    expect(await snapshot(url)).toEqual(before);
    expect(before.tables.quire_files).toBeUndefined();
  });

  it('never shows the password: not in the location, not in errors', async () => {
    const secret = 'pa55-w0rd-xyz';
    const target = postgresTarget(`postgres://quire:${secret}@db.example:6543/team`);
    expect(target.location).toBe('postgres://quire@db.example:6543/team');
    expect(target.config).toMatchObject({ host: 'db.example', port: 6543, user: 'quire', database: 'team' });
    expect(JSON.stringify(target.config)).not.toContain(secret);
    // A port where nothing listens, then a database that does not exist.
    for (const url of [`postgres://quire:${secret}@127.0.0.1:1/team`, `postgres://postgres:${secret}@${cluster.host}:${cluster.port}/no_such_db`]) {
      const error = (await connectPostgres(url).then(() => undefined, (e: unknown) => e)) as Error & { hint?: string };
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toMatch(/^cannot use database postgres:\/\/\w+@127\.0\.0\.1:\d+\/\w+: /);
      expect(`${error.message} ${error.hint ?? ''} ${String(error.stack)}`).not.toContain(secret);
    }
    expect(() => postgresTarget('mysql://x@y/z')).toThrow(/not a postgres:\/\/ URL/);
  });

  it('finds a password in the .pgpass file by libpq\'s rules, and ignores a file others can read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quire-pgpass-'));
    const file = join(dir, 'pgpass');
    const saved = process.env.PGPASSFILE;
    process.env.PGPASSFILE = file;
    try {
      writeFileSync(file, '# comment\nother:5432:*:quire:nope\ndb.example:6543:team:quire:s3cr\\:et\n*:*:*:*:fallback\n');
      chmodSync(file, 0o600);
      expect(passwordFile('db.example', 6543, 'team', 'quire')).toBe('s3cr:et');
      expect(passwordFile('db.example', 5432, 'team', 'quire')).toBe('fallback');
      chmodSync(file, 0o644);
      expect(passwordFile('db.example', 6543, 'team', 'quire')).toBeUndefined();
      rmSync(file);
      expect(passwordFile('db.example', 6543, 'team', 'quire')).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.PGPASSFILE;
      else process.env.PGPASSFILE = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
