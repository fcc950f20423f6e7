/**
 * The throwaway PostgreSQL cluster the Postgres tests run on (test/helpers/postgres.ts):
 * it starts, serves separate databases, and leaves nothing behind when stopped.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgCluster } from './helpers/postgres.js';

describe('throwaway postgres cluster', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves its database on 127.0.0.1 and makes new, separate ones', async () => {
    expect(cluster.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/quire_test$/);
    const a = new pg.Client({ connectionString: cluster.url });
    await a.connect();
    try {
      expect((await a.query('SELECT current_database() AS db')).rows[0].db).toBe('quire_test');
      await a.query('CREATE TABLE t (x INTEGER)');
    } finally {
      await a.end();
    }
    const other = await cluster.createDatabase();
    const b = new pg.Client({ connectionString: other });
    await b.connect();
    try {
      expect((await b.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 't'")).rows[0].n).toBe(0);
    } finally {
      await b.end();
    }
  });

  it('stops and removes its directory', async () => {
    const extra = await startPostgres();
    const client = new pg.Client({ connectionString: extra.url });
    await client.connect();
    const dataDir = (await client.query('SHOW data_directory')).rows[0].data_directory as string;
    await client.end();
    expect(existsSync(dataDir)).toBe(true);
    await extra.stop();
    expect(existsSync(dataDir)).toBe(false);
    const late = new pg.Client({ connectionString: extra.url, connectionTimeoutMillis: 2000 });
    await expect(late.connect()).rejects.toThrow();
  });
});
