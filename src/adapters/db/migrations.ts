/**
 * The database schema's history: an append-only list of named migrations, applied in
 * list order, each in one transaction with the row that records it. Never edit or
 * reorder a released migration; add a new one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: Migration[] = [
  {
    name: 'm001_original_schema',
    up(db) {
      // The original system's seven tables, exactly as its database document gives them,
      // so its tools and queries keep working. IF NOT EXISTS: a database made by the
      // original system already has them (with rows) and is adopted as it is.
      db.exec(`
        CREATE TABLE IF NOT EXISTS blocks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL,
            content TEXT,
            tags TEXT,
            folder_path TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE TABLE IF NOT EXISTS payloads (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            temperature REAL DEFAULT 0.6,
            response_length INTEGER DEFAULT 1000,
            llm_port INTEGER DEFAULT 5001,
            model_format TEXT DEFAULT 'default',
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE TABLE IF NOT EXISTS payload_blocks (
            payload_id INTEGER,
            block_id INTEGER,
            order_index INTEGER,
            FOREIGN KEY (payload_id) REFERENCES payloads (id) ON DELETE CASCADE,
            FOREIGN KEY (block_id) REFERENCES blocks (id) ON DELETE CASCADE
        );
        CREATE TABLE IF NOT EXISTS workflows (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE TABLE IF NOT EXISTS workflow_payloads (
            workflow_id INTEGER,
            payload_id INTEGER,
            order_index INTEGER,
            FOREIGN KEY (workflow_id) REFERENCES workflows (id) ON DELETE CASCADE,
            FOREIGN KEY (payload_id) REFERENCES payloads (id) ON DELETE CASCADE
        );
        CREATE TABLE IF NOT EXISTS runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            workflow_id INTEGER,
            status TEXT NOT NULL,
            started_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            completed_at TIMESTAMP,
            metadata TEXT,
            FOREIGN KEY (workflow_id) REFERENCES workflows (id) ON DELETE CASCADE
        );
        CREATE TABLE IF NOT EXISTS responses (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER,
            payload_id INTEGER,
            content TEXT,
            metadata TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            FOREIGN KEY (run_id) REFERENCES runs (id) ON DELETE CASCADE,
            FOREIGN KEY (payload_id) REFERENCES payloads (id) ON DELETE SET NULL
        );
      `);
    },
  },
  {
    name: 'm002_file_mirror',
    up(db) {
      // Files are the source of truth; these columns tie each row to its file so sync can
      // be incremental (content_hash) and never touch rows typed into the original system
      // (source_path IS NULL). `key` is the block's path under blocks/ without .md.
      // `includes` and `body_line` cache what parsing found, so an unchanged file is not re-parsed.
      // `archived` keeps payloads and workflows whose file is gone but that have run history.
      db.exec(`
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
      `);
    },
  },
  {
    name: 'm003_run_records',
    up(db) {
      // The exact text sent to the model is kept with each response, so a run can be
      // inspected and diffed later even after the block files change.
      db.exec(`
        ALTER TABLE responses ADD COLUMN prompt TEXT;
        CREATE INDEX responses_by_run ON responses (run_id, id);
        CREATE INDEX responses_by_payload ON responses (payload_id);
        CREATE INDEX runs_by_workflow ON runs (workflow_id, id);
        CREATE INDEX runs_by_status ON runs (status);
      `);
    },
  },
  {
    name: 'm004_file_cache',
    up(db) {
      // What each file parsed to at the last sync, with its size, mtime and hash, so a resync
      // reads and parses only files that changed. `quire_state` holds the fingerprint of the
      // last synced workspace: when nothing changed, sync writes nothing at all.
      db.exec(`
        CREATE TABLE quire_files (
          path TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime_ms REAL NOT NULL,
          hash TEXT NOT NULL,
          parsed TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE quire_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      `);
    },
  },
  {
    name: 'm005_file_cache_stats_index',
    up(db) {
      // The no-op resync reads every file's size, mtime and hash: from this covering index
      // it reads ~1 MB instead of scanning every cached parse (~28 -> ~15 ms on 10k files).
      db.exec('CREATE INDEX quire_files_stats ON quire_files (path, size, mtime_ms, hash);');
    },
  },
  {
    name: 'm006_batches_and_step_cache',
    up(db) {
      // A batch runs a workflow once per input record. Each record's run is an ordinary
      // `runs` row; `batch_records` links it to the batch and its record number, with the
      // record's provenance (inputs and file hashes) so a resume skips only what completed
      // under the same files. Counts are kept on the batch row, updated with each write.
      db.exec(`
        CREATE TABLE batches (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          workflow_id INTEGER REFERENCES workflows(id),
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
          started_at TIMESTAMP NOT NULL,
          completed_at TIMESTAMP,
          settings TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX batches_by_input ON batches (workflow_name, input_path, id);
        CREATE TABLE batch_records (
          batch_id INTEGER NOT NULL REFERENCES batches(id),
          record INTEGER NOT NULL,
          line INTEGER NOT NULL,
          run_id INTEGER REFERENCES runs(id),
          status TEXT NOT NULL,
          key TEXT,
          error TEXT,
          PRIMARY KEY (batch_id, record)
        ) WITHOUT ROWID;
        CREATE INDEX batch_records_by_run ON batch_records (run_id);
        -- The step cache: a step whose exact request (sent prompt, format, sampler settings,
        -- endpoint and model) was answered before reuses that response (--cache).
        CREATE TABLE quire_step_cache (
          key TEXT PRIMARY KEY,
          response_id INTEGER NOT NULL REFERENCES responses(id)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    name: 'm007_viewer_indexes',
    up(db) {
      // The viewer filters 100,000 runs by trigger and date and a batch's records by status,
      // a page at a time with a total: each filter reads its index instead of every row.
      // The trigger lives in runs.metadata JSON: rows typed into the original system may
      // hold any text there, so the expression asks json_valid first and never throws
      // (the viewer's queries repeat it exactly, or SQLite would not use the index).
      db.exec(`
        CREATE INDEX runs_by_trigger ON runs ((CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.trigger') END));
        CREATE INDEX runs_by_started ON runs (started_at);
        CREATE INDEX batch_records_by_status ON batch_records (batch_id, status, record);
      `);
    },
  },
  {
    name: 'm008_batch_queue',
    up(db) {
      // The records of a batch run by `quire worker`s (`--workers`): each queued with its
      // checked inputs, leased to one worker at a time until its lease ends, then done.
      // Only a shared store (Postgres) serves workers; the table is here so both schemas
      // stay the same, migration for migration.
      db.exec(`
        CREATE TABLE batch_queue (
          batch_id INTEGER NOT NULL REFERENCES batches(id),
          record INTEGER NOT NULL,
          line INTEGER NOT NULL,
          inputs TEXT NOT NULL,
          status TEXT NOT NULL DEFAULT 'queued',
          worker TEXT,
          lease_until TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (batch_id, record)
        ) WITHOUT ROWID;
        CREATE INDEX batch_queue_open ON batch_queue (status, batch_id, record);
      `);
    },
  },
];
