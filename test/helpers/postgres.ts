/**
 * A throwaway PostgreSQL cluster for tests (scripts/postgres-cluster.mjs, shared with the
 * benchmarks), with durability off: one cluster per test file (beforeAll/afterAll);
 * `createDatabase()` gives each test a new, empty database on it. Every wait is bounded; a
 * test process that dies without calling stop() still stops the server on exit.
 */
import { findPostgresBin, startPostgres as startCluster } from '../../scripts/postgres-cluster.mjs';

export { findPostgresBin };

export interface PgCluster {
  /** The test database created at start. */
  url: string;
  /** Host and port, for building other URLs. */
  host: string;
  port: number;
  /** A new, empty database on the cluster; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (immediate shutdown) and removes its directory. */
  stop(): Promise<void>;
}

export async function startPostgres(options: { database?: string } = {}): Promise<PgCluster> {
  const cluster = await startCluster({ database: options.database ?? 'quire_test', fast: true });
  let created = 0;
  return { url: cluster.url, host: cluster.host, port: cluster.port, createDatabase: (name = `quire_test_${++created}`) => cluster.createDatabase(name), stop: cluster.stop };
}
