/** Types of postgres-cluster.mjs (plain JavaScript, so the benchmarks can use it without a build). */
export function findPostgresBin(): string | undefined;

export interface PgClusterOptions {
  /** The database created at start (default quire_bench). */
  database?: string;
  /** Durability off (fsync, full_page_writes, synchronous_commit), as tests want it. */
  fast?: boolean;
  synchronousCommit?: 'on' | 'off';
  /** More server settings, passed as -c name=value. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

export interface StartedCluster {
  /** The database created at start. */
  url: string;
  host: string;
  port: number;
  bin: string;
  version: string;
  dir: string;
  settings: Record<string, string>;
  pid(): number | undefined;
  /** A new, empty database on the cluster (a new name when none is given); returns its URL. */
  createDatabase(name?: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  query(url: string, sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Stops the server (immediate shutdown) and removes its directory. */
  stop(): Promise<void>;
}

export function startPostgres(options?: PgClusterOptions): Promise<StartedCluster>;
