/**
 * The PostgreSQL schema's history: the same named migrations as SQLite's
 * (adapters/db/migrations.ts), in the same order, each holding the same tables, columns and
 * values in Postgres types. Append-only: never edit or reorder a released migration; a new
 * SQLite migration gets its Postgres twin here under the same name (a test compares the lists).
 *
 * Types: AUTOINCREMENT ids are BIGSERIAL (references to them BIGINT), REAL is DOUBLE
 * PRECISION, TIMESTAMP is TIMESTAMP(3) in UTC (read back as the SQLite store's text,
 * adapters/pg/open.ts), flags stay INTEGER 0/1, JSON stays TEXT (rows typed into the
 * original system may hold any text there).
 */

export interface PgMigration {
  name: string;
  /** Statements run in one transaction with the row that records the migration. */
  sql: string;
}

/** What SQLite's CURRENT_TIMESTAMP default is: now, in UTC. */
const NOW = "(now() AT TIME ZONE 'UTC')";

export const PG_MIGRATIONS: PgMigration[] = [
  {
    name: 'm001_original_schema',
    // The original system's seven tables. IF NOT EXISTS: a database that already has them is adopted as it is.
    sql: `
      CREATE TABLE IF NOT EXISTS blocks (
          id BIGSERIAL PRIMARY KEY,
          title TEXT NOT NULL,
          content TEXT,
          tags TEXT,
          folder_path TEXT,
          created_at TIMESTAMP(3) DEFAULT ${NOW},
          updated_at TIMESTAMP(3) DEFAULT ${NOW}
      );
      CREATE TABLE IF NOT EXISTS payloads (
          id BIGSERIAL PRIMARY KEY,
          name TEXT NOT NULL,
          temperature DOUBLE PRECISION DEFAULT 0.6,
          response_length INTEGER DEFAULT 1000,
          llm_port INTEGER DEFAULT 5001,
          model_format TEXT DEFAULT 'default',
          created_at TIMESTAMP(3) DEFAULT ${NOW},
          updated_at TIMESTAMP(3) DEFAULT ${NOW}
      );
      CREATE TABLE IF NOT EXISTS payload_blocks (
          payload_id BIGINT REFERENCES payloads (id) ON DELETE CASCADE,
          block_id BIGINT REFERENCES blocks (id) ON DELETE CASCADE,
          order_index INTEGER
      );
      CREATE TABLE IF NOT EXISTS workflows (
          id BIGSERIAL PRIMARY KEY,
          name TEXT NOT NULL,
          created_at TIMESTAMP(3) DEFAULT ${NOW},
          updated_at TIMESTAMP(3) DEFAULT ${NOW}
      );
      CREATE TABLE IF NOT EXISTS workflow_payloads (
          workflow_id BIGINT REFERENCES workflows (id) ON DELETE CASCADE,
          payload_id BIGINT REFERENCES payloads (id) ON DELETE CASCADE,
          order_index INTEGER
      );
      CREATE TABLE IF NOT EXISTS runs (
          id BIGSERIAL PRIMARY KEY,
          workflow_id BIGINT REFERENCES workflows (id) ON DELETE CASCADE,
          status TEXT NOT NULL,
          started_at TIMESTAMP(3) DEFAULT ${NOW},
          completed_at TIMESTAMP(3),
          metadata TEXT
      );
      CREATE TABLE IF NOT EXISTS responses (
          id BIGSERIAL PRIMARY KEY,
          run_id BIGINT REFERENCES runs (id) ON DELETE CASCADE,
          payload_id BIGINT REFERENCES payloads (id) ON DELETE SET NULL,
          content TEXT,
          metadata TEXT,
          created_at TIMESTAMP(3) DEFAULT ${NOW}
      );
    `,
  },
  {
    name: 'm002_file_mirror',
    // Each row tied to its file (see the SQLite migration of the same name).
    sql: `
      ALTER TABLE blocks ADD COLUMN key TEXT;
      ALTER TABLE blocks ADD COLUMN source_path TEXT;
      ALTER TABLE blocks ADD COLUMN content_hash TEXT;
      ALTER TABLE blocks ADD COLUMN includes TEXT;
      ALTER TABLE blocks ADD COLUMN body_line INTEGER;
      CREATE UNIQUE INDEX blocks_by_source_path ON blocks (source_path) WHERE source_path IS NOT NULL;

      ALTER TABLE payloads ADD COLUMN source_path TEXT;
      ALTER TABLE payloads ADD COLUMN content_hash TEXT;
      ALTER TABLE payloads ADD COLUMN options TEXT;
      ALTER TABLE payloads ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX payloads_by_name ON payloads (name);

      ALTER TABLE workflows ADD COLUMN source_path TEXT;
      ALTER TABLE workflows ADD COLUMN content_hash TEXT;
      ALTER TABLE workflows ADD COLUMN description TEXT;
      ALTER TABLE workflows ADD COLUMN definition TEXT;
      ALTER TABLE workflows ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX workflows_by_name ON workflows (name);

      CREATE INDEX payload_blocks_by_payload ON payload_blocks (payload_id, order_index);
      CREATE INDEX payload_blocks_by_block ON payload_blocks (block_id);
      CREATE INDEX workflow_payloads_by_workflow ON workflow_payloads (workflow_id, order_index);
      CREATE INDEX workflow_payloads_by_payload ON workflow_payloads (payload_id);
    `,
  },
  {
    name: 'm003_run_records',
    sql: `
      ALTER TABLE responses ADD COLUMN prompt TEXT;
      CREATE INDEX responses_by_run ON responses (run_id, id);
      CREATE INDEX responses_by_payload ON responses (payload_id);
      CREATE INDEX runs_by_workflow ON runs (workflow_id, id);
      CREATE INDEX runs_by_status ON runs (status);
    `,
  },
  {
    name: 'm004_file_cache',
    // Kept for the same schema history; a shared store may leave the parse cache (this
    // checkout's own state) in a local file instead.
    sql: `
      CREATE TABLE quire_files (
        path TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        size BIGINT NOT NULL,
        mtime_ms DOUBLE PRECISION NOT NULL,
        hash TEXT NOT NULL,
        parsed TEXT NOT NULL
      );
      CREATE TABLE quire_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    name: 'm005_file_cache_stats_index',
    sql: 'CREATE INDEX quire_files_stats ON quire_files (path, size, mtime_ms, hash);',
  },
  {
    name: 'm006_batches_and_step_cache',
    sql: `
      CREATE TABLE batches (
        id BIGSERIAL PRIMARY KEY,
        workflow_id BIGINT REFERENCES workflows(id),
        workflow_name TEXT NOT NULL,
        input_path TEXT NOT NULL,
        input_hash TEXT,
        input_format TEXT NOT NULL,
        record_count INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        cancelled INTEGER NOT NULL DEFAULT 0,
        invalid INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        cache_hits INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'running',
        started_at TIMESTAMP(3) NOT NULL,
        completed_at TIMESTAMP(3),
        settings TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX batches_by_input ON batches (workflow_name, input_path, id);
      CREATE TABLE batch_records (
        batch_id BIGINT NOT NULL REFERENCES batches(id),
        record INTEGER NOT NULL,
        line INTEGER NOT NULL,
        run_id BIGINT REFERENCES runs(id),
        status TEXT NOT NULL,
        key TEXT,
        error TEXT,
        PRIMARY KEY (batch_id, record)
      );
      CREATE INDEX batch_records_by_run ON batch_records (run_id);
      CREATE TABLE quire_step_cache (
        key TEXT PRIMARY KEY,
        response_id BIGINT NOT NULL REFERENCES responses(id)
      );
    `,
  },
  {
    name: 'm007_viewer_indexes',
    // The trigger lives in runs.metadata JSON text that may be anything: quire_json() is
    // the text as jsonb, or NULL when it is not JSON (never throws), so the index and the
    // queries that repeat its expression exactly work on every row. IMMUTABLE: the same
    // text always gives the same value, as an index expression needs.
    sql: `
      CREATE FUNCTION quire_json(doc TEXT) RETURNS JSONB
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
        BEGIN
          RETURN doc::jsonb;
        EXCEPTION WHEN others THEN
          RETURN NULL;
        END;
        $$;
      CREATE INDEX runs_by_trigger ON runs ((quire_json(metadata) ->> 'trigger'));
      CREATE INDEX runs_by_started ON runs (started_at);
      CREATE INDEX batch_records_by_status ON batch_records (batch_id, status, record);
    `,
  },
  {
    name: 'm008_batch_queue',
    // The records of a batch run by \`quire worker\`s: claimed with FOR UPDATE SKIP LOCKED,
    // leased until lease_until (renewed while the worker lives), then done. The partial
    // index holds only what is still to do, so a claim reads a few index entries however
    // many records are done.
    sql: `
      CREATE TABLE batch_queue (
        batch_id BIGINT NOT NULL REFERENCES batches(id),
        record INTEGER NOT NULL,
        line INTEGER NOT NULL,
        inputs TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued',
        worker TEXT,
        lease_until TIMESTAMP(3),
        attempts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (batch_id, record)
      );
      CREATE INDEX batch_queue_open ON batch_queue (batch_id, record) WHERE status <> 'done';
      CREATE INDEX batch_queue_leases ON batch_queue (worker) WHERE status = 'leased';
    `,
  },
];
