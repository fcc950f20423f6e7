/**
 * Copying a whole history from one store to another (`quire migrate-store`): the ports a
 * store implements to be read from (StoreDump) and written to (StoreLoad), and the tables
 * copied, as data both stores agree on (the same schema: adapters/db/migrations.ts and
 * adapters/pg/migrations.ts).
 *
 * Values travel as the SQLite store holds them: integers as numbers (bigint beyond 2^53),
 * REAL as numbers, text as strings, timestamps as the original schema's text
 * `YYYY-MM-DD HH:MM:SS` (a whole second, as SQLite's CURRENT_TIMESTAMP writes it) or
 * `YYYY-MM-DD HH:MM:SS.mmm` (UTC). A SQLite source may hold anything in any column (rows
 * typed into the original system): a store that cannot hold a value exactly refuses it,
 * naming the table, row and column, rather than changing it.
 */

/** One column value as it travels between stores. */
export type CopyValue = string | number | bigint | Uint8Array | null;
/** One row: values in the order of its table's `columns`. */
export type CopyRow = readonly CopyValue[];

/**
 * What a column holds: `id` (the table's own id, BIGSERIAL / INTEGER PRIMARY KEY
 * AUTOINCREMENT), `ref` (an id of another table), `integer` (a 32-bit count, flag or
 * index), `real`, `text`, `timestamp` (the text above).
 */
export type CopyColumnType = 'id' | 'ref' | 'integer' | 'real' | 'text' | 'timestamp';

export interface CopyColumn {
  readonly name: string;
  readonly type: CopyColumnType;
  readonly notNull?: boolean;
}

export interface CopyTable {
  readonly name: string;
  readonly columns: readonly CopyColumn[];
  /** The order rows are read in (and so written): the id, else the primary key, else the link's owner and position. */
  readonly orderBy: readonly string[];
  /** Columns naming one row in a message (`id 12`, `batch_id 3, record 7`). */
  readonly rowKey: readonly string[];
}

const col = (name: string, type: CopyColumnType, notNull = false): CopyColumn => ({ name, type, ...(notNull ? { notNull } : {}) });
const id = col('id', 'id', true);
const text = (name: string, notNull = false) => col(name, 'text', notNull);
const int = (name: string, notNull = false) => col(name, 'integer', notNull);
const ts = (name: string, notNull = false) => col(name, 'timestamp', notNull);
const ref = (name: string, notNull = false) => col(name, 'ref', notNull);

/**
 * The tables a copy carries, in foreign-key order (a table after every table it points
 * at), with every column the current schema gives them. Not copied: the parse cache
 * (quire_files, quire_state), which belongs to each checkout, and quire_migrations, which
 * the target's own migrations write.
 */
export const COPY_TABLES: readonly CopyTable[] = [
  {
    name: 'blocks',
    columns: [id, text('title', true), text('content'), text('tags'), text('folder_path'), ts('created_at'), ts('updated_at'),
      text('key'), text('source_path'), text('content_hash'), text('includes'), int('body_line')],
    orderBy: ['id'],
    rowKey: ['id'],
  },
  {
    name: 'payloads',
    columns: [id, text('name', true), col('temperature', 'real'), int('response_length'), int('llm_port'), text('model_format'), ts('created_at'), ts('updated_at'),
      text('source_path'), text('content_hash'), text('options'), int('archived', true)],
    orderBy: ['id'],
    rowKey: ['id'],
  },
  {
    name: 'payload_blocks',
    columns: [ref('payload_id'), ref('block_id'), int('order_index')],
    orderBy: ['payload_id', 'order_index', 'block_id'],
    rowKey: ['payload_id', 'block_id', 'order_index'],
  },
  {
    name: 'workflows',
    columns: [id, text('name', true), ts('created_at'), ts('updated_at'), text('source_path'), text('content_hash'), text('description'), text('definition'), int('archived', true)],
    orderBy: ['id'],
    rowKey: ['id'],
  },
  {
    name: 'workflow_payloads',
    columns: [ref('workflow_id'), ref('payload_id'), int('order_index')],
    orderBy: ['workflow_id', 'order_index', 'payload_id'],
    rowKey: ['workflow_id', 'payload_id', 'order_index'],
  },
  {
    name: 'runs',
    columns: [id, ref('workflow_id'), text('status', true), ts('started_at'), ts('completed_at'), text('metadata')],
    orderBy: ['id'],
    rowKey: ['id'],
  },
  {
    name: 'responses',
    columns: [id, ref('run_id'), ref('payload_id'), text('content'), text('metadata'), ts('created_at'), text('prompt')],
    orderBy: ['id'],
    rowKey: ['id'],
  },
  {
    name: 'batches',
    columns: [id, ref('workflow_id'), text('workflow_name', true), text('input_path', true), text('input_hash'), text('input_format', true),
      int('record_count', true), int('completed', true), int('failed', true), int('cancelled', true), int('invalid', true), int('skipped', true), int('cache_hits', true),
      text('status', true), ts('started_at', true), ts('completed_at'), text('settings', true)],
    orderBy: ['id'],
    rowKey: ['id'],
  },
  {
    name: 'batch_records',
    columns: [ref('batch_id', true), int('record', true), int('line', true), ref('run_id'), text('status', true), text('key'), text('error')],
    orderBy: ['batch_id', 'record'],
    rowKey: ['batch_id', 'record'],
  },
  {
    // A batch run by workers: its records' checked inputs and leases (a lease copied over
    // ends at its time like any other, and the record goes back to the queue).
    name: 'batch_queue',
    columns: [ref('batch_id', true), int('record', true), int('line', true), text('inputs', true), text('status', true), text('worker'), ts('lease_until'), int('attempts', true)],
    orderBy: ['batch_id', 'record'],
    rowKey: ['batch_id', 'record'],
  },
  {
    name: 'quire_step_cache',
    columns: [text('key', true), ref('response_id', true)],
    orderBy: ['key'],
    rowKey: ['key'],
  },
];

/**
 * Tables a copy leaves behind on purpose: the parse cache (each checkout's own; a target's
 * is emptied) and the record of applied migrations (the target's own migrations write it).
 * Any other table beyond COPY_TABLES that holds rows is named in the copy's result.
 */
export const NOT_COPIED_TABLES: readonly string[] = ['quire_files', 'quire_state', 'quire_migrations'];

/** Tables with their own id sequence (the next id a store hands out is carried over). */
export const hasIdSequence = (table: CopyTable): boolean => table.columns[0]?.type === 'id';

/** `id 12`, `batch_id 3, record 7`: a row named in a message. */
export function rowLabel(table: CopyTable, row: CopyRow): string {
  return table.rowKey.map((name) => {
    const value = row[table.columns.findIndex((c) => c.name === name)];
    return `${name} ${value === null || value === undefined ? 'NULL' : typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value) : String(value)}`;
  }).join(', ');
}

/** A store read from: only reads, in one consistent snapshot, never writing a byte. */
export interface StoreDump {
  /** The path, or the URL without its password. */
  readonly location: string;
  /** Migrations this quire knows that the store lacks (the copy needs none: the source is never migrated). */
  pendingMigrations(): Promise<string[]>;
  /** Tables holding rows that are neither in COPY_TABLES nor in NOT_COPIED_TABLES (the store's own internals aside), with their row counts. */
  otherTables(): Promise<{ table: string; rows: number }[]>;
  /** The table's rows in pages (flat memory: a page at a time), ordered by `table.orderBy`. */
  rows(table: CopyTable): AsyncIterable<CopyRow[]>;
  /**
   * The highest id the store has handed out for a table with its own ids: at least its
   * largest id, more when the newest rows were deleted (0 for a table that never had one).
   */
  lastId(table: CopyTable): Promise<number>;
  close(): Promise<void>;
}

/** A store written to: created and migrated when needed. */
export interface StoreLoad {
  readonly location: string;
  /** The tables (of `tables`) holding at least one row, read without writing (a table not there yet holds none). */
  occupied(tables: readonly CopyTable[]): Promise<string[]>;
  /**
   * Starts the copy's one transaction, taking the tables for it (another process writing
   * to them waits, or the copy fails). Nothing the copy writes is seen before `commit`.
   */
  begin(): Promise<StoreLoadSession>;
  /** Closes the connection; a store this copy created and never committed to is removed again. */
  close(): Promise<void>;
}

export interface StoreLoadSession {
  /** The tables (of `tables`) holding at least one row, in the transaction (a copy goes only into an empty store). */
  occupied(tables: readonly CopyTable[]): Promise<string[]>;
  /** Writes rows as they are (ids kept); throws, naming the table, row and column, for a value this store cannot hold exactly. */
  insert(table: CopyTable, rows: readonly CopyRow[]): Promise<void>;
  /** Sets each id sequence so new rows get ids above `lastIds` (and above every id copied), empties the parse cache when rows were copied, commits. */
  commit(lastIds: ReadonlyMap<string, number>): Promise<void>;
  /** Rolls back: the target holds nothing of the copy. */
  rollback(): Promise<void>;
}

/** One end of a copy, named on the command line: a SQLite file or a postgres:// URL. */
export interface StoreEndpoint {
  readonly kind: 'sqlite' | 'postgres';
  /** The path, or the URL without its password. */
  readonly location: string;
  /** Two endpoints with the same identity are the same store (the same file, the same server and database). */
  readonly identity: string;
  /** Opens it for reading only (it must exist). */
  openSource(): Promise<StoreDump>;
  /** Opens it for writing, creating and migrating it as needed. */
  openTarget(): Promise<StoreLoad>;
}
