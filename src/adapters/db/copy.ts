/**
 * A SQLite file as either end of `quire migrate-store` (the ports in core/store-copy.ts).
 *
 * As a source it is opened read-only and read in one read transaction (one snapshot of
 * every table, even while another process writes), each table by one prepared statement
 * iterated a page at a time: memory stays flat however long the history.
 *
 * As a target it is created when missing and migrated as any command would, but only
 * once it is known to hold no history (a non-empty file is refused untouched). The copy
 * is one write transaction (BEGIN IMMEDIATE: other writers wait), rows written as they come
 * (every value as the source holds it: ids, links, text, timestamps), with foreign-key
 * enforcement off for it so a SQLite source's rows come across exactly, links to rows
 * the original system deleted included. AUTOINCREMENT's counters continue past every id
 * the source handed out; the target's parse cache is emptied (it described other rows). A
 * new file is written in rollback-journal mode and switched to WAL after the copy; a file
 * this copy created and never committed to is removed again.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError, UsageError } from '../../core/errors.js';
import { COPY_TABLES, NOT_COPIED_TABLES, type CopyRow, type CopyTable, type CopyValue, type StoreDump, type StoreEndpoint, type StoreLoad, type StoreLoadSession } from '../../core/store-copy.js';
import { pendingMigrations } from './migrate.js';
import { connectDatabase, enableWal, openDatabase, prepareDatabase, type Db } from './open.js';

/** A page: at most this many rows, and about this many bytes of text. */
const PAGE_ROWS = 1000;
const PAGE_BYTES = 4 * 1024 * 1024;
/** SQLite allows 32,766 bound values per statement; stay far below. */
const MAX_PARAMS = 30_000;
const MAX_INSERT_ROWS = 500;

/** The parse cache: this checkout's own, never copied; a target's is emptied (it described other rows). */
const PARSE_CACHE_TABLES = ['quire_files', 'quire_state'];

export function sqliteEndpoint(path: string): StoreEndpoint {
  // Another kind of URL (a typo of postgres://) is named by its scheme only: it may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path)?.[1];
  if (scheme !== undefined) throw new UsageError(`${scheme}:// is not a store migrate-store knows`, { hint: 'give a SQLite file path or a postgres:// URL' });
  if (path === '' || path === ':memory:' || path.startsWith('file:')) {
    throw new UsageError(`migrate-store copies between database files and postgres:// URLs; ${JSON.stringify(path)} is neither`);
  }
  const absolute = resolve(path);
  let identity = `sqlite:${absolute}`;
  try {
    const stat = statSync(absolute);
    identity = `sqlite:${stat.dev}:${stat.ino}`; // the same file under another name (a link, ../) is still the same
  } catch {
    // Not there yet: only a target may be missing.
  }
  return {
    kind: 'sqlite',
    location: path,
    identity,
    openSource: async () => openSqliteDump(path),
    openTarget: async () => openSqliteLoad(path),
  };
}

const tableExists = (db: Db, name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

/** The table's columns as the file has them; refuses a table with columns the copy would leave behind. */
function checkColumns(db: Db, path: string, table: CopyTable): void {
  const actual = (db.prepare(`PRAGMA table_info(${table.name})`).all() as { name: string }[]).map((c) => c.name);
  const expected = new Set(table.columns.map((c) => c.name));
  const extra = actual.filter((name) => !expected.has(name));
  const missing = [...expected].filter((name) => !actual.includes(name));
  if (extra.length > 0 || missing.length > 0) {
    throw new AppError('DATABASE', `cannot copy ${path}: its table ${table.name} ${extra.length > 0 ? `has columns this quire does not know (${extra.join(', ')})` : `lacks columns (${missing.join(', ')})`}`, {
      hint: 'a table the original system changed is not copied partially: copy it by hand, or drop the extra columns first',
    });
  }
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Integers read as bigint (none rounded), then as numbers wherever that is exact. */
function fromSqlite(value: unknown): CopyValue {
  if (typeof value === 'bigint') return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
  return value as CopyValue;
}

function sizeOf(value: CopyValue): number {
  if (typeof value === 'string') return value.length * 2;
  if (value instanceof Uint8Array) return value.byteLength;
  return 8;
}

export async function openSqliteDump(path: string): Promise<StoreDump> {
  if (!existsSync(path)) throw new AppError('NOT_FOUND', `no database at ${path}`, { hint: 'check the --from path (a SQLite file, or a postgres:// URL)' });
  const db = connectDatabase(path, { readonly: true });
  const fail = (error: unknown): never => {
    if (error instanceof AppError) throw error;
    throw new AppError('DATABASE', `cannot read database ${path}: ${(error as Error).message}`, { cause: error });
  };
  try {
    // One read transaction for the whole copy: every table from the same moment.
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    db.close();
    fail(error);
  }
  let reading = false;
  return {
    location: path,
    async pendingMigrations() {
      try {
        return pendingMigrations(db).map((m) => m.name);
      } catch (error) {
        return fail(error);
      }
    },
    async otherTables() {
      try {
        const known = new Set([...COPY_TABLES.map((t) => t.name), ...NOT_COPIED_TABLES]);
        const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as { name: string }[])
          .map((t) => t.name).filter((name) => !known.has(name));
        return names
          .map((name) => ({ table: name, rows: Number((db.prepare(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number }).n) }))
          .filter((t) => t.rows > 0);
      } catch (error) {
        return fail(error);
      }
    },
    async *rows(table) {
      let iterator: IterableIterator<unknown[]>;
      try {
        checkColumns(db, path, table);
        const statement = db.prepare(`SELECT ${table.columns.map((c) => c.name).join(', ')} FROM ${table.name} ORDER BY ${table.orderBy.join(', ')}`);
        iterator = statement.raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>;
      } catch (error) {
        return fail(error);
      }
      reading = true;
      try {
        let page: CopyRow[] = [];
        let bytes = 0;
        for (;;) {
          let next: IteratorResult<unknown[]>;
          try {
            next = iterator.next();
          } catch (error) {
            return fail(error);
          }
          if (next.done) break;
          const row = next.value.map(fromSqlite);
          page.push(row);
          for (const value of row) bytes += sizeOf(value);
          if (page.length >= PAGE_ROWS || bytes >= PAGE_BYTES) {
            yield page;
            page = [];
            bytes = 0;
          }
        }
        if (page.length > 0) yield page;
      } finally {
        iterator.return?.();
        reading = false;
      }
    },
    async lastId(table) {
      if (reading) throw new Error('lastId while rows are being read');
      try {
        const max = Number((db.prepare(`SELECT max(id) AS id FROM ${table.name}`).get() as { id: number | null }).id ?? 0);
        const seq = tableExists(db, 'sqlite_sequence')
          ? Number((db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table.name) as { seq: number } | undefined)?.seq ?? 0)
          : 0;
        return Math.max(max, seq);
      } catch (error) {
        return fail(error);
      }
    },
    async close() {
      if (!db.open) return;
      try {
        if (db.inTransaction) db.exec('COMMIT');
      } finally {
        db.close();
      }
    },
  };
}

/** Binds a value as better-sqlite3 takes it (a BLOB as a Buffer). */
const toSqlite = (value: CopyValue) => (value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value) : value);

export async function openSqliteLoad(path: string): Promise<StoreLoad> {
  const existed = existsSync(path);
  // An existing file is only read until it is known to be empty of history.
  let db: Db | undefined = existed ? connectDatabase(path) : undefined;
  let committed = false;
  let created = false;
  const fail = (error: unknown): never => {
    if (error instanceof AppError) throw error;
    throw new AppError('DATABASE', `cannot write database ${path}: ${(error as Error).message}`, { cause: error });
  };
  const occupied = (connection: Db, tables: readonly CopyTable[]) =>
    tables.filter((t) => tableExists(connection, t.name) && connection.prepare(`SELECT 1 FROM ${t.name} LIMIT 1`).get() !== undefined).map((t) => t.name);

  return {
    location: path,
    async occupied(tables) {
      try {
        return db ? occupied(db, tables) : [];
      } catch (error) {
        return fail(error);
      }
    },
    async begin(): Promise<StoreLoadSession> {
      let connection: Db;
      if (db) {
        connection = db = prepareDatabase(db, path); // WAL and migrations, as any command; closes it on failure
      } else {
        created = true;
        // A new file is written once in rollback-journal mode, and switched to WAL after the copy.
        connection = db = openDatabase(path, { deferWal: true });
      }
      const statements = new Map<string, ReturnType<Db['prepare']>>();
      let inserted = 0;
      const insertStatement = (table: CopyTable, rows: number) => {
        const key = `${table.name}:${rows}`;
        let statement = statements.get(key);
        if (!statement) {
          const tuple = `(${table.columns.map(() => '?').join(', ')})`;
          statement = connection.prepare(`INSERT INTO ${table.name} (${table.columns.map((c) => c.name).join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}`);
          statements.set(key, statement);
        }
        return statement;
      };
      try {
        // Links come across as the source holds them; the source's tables keep theirs.
        connection.pragma('foreign_keys = OFF');
        connection.exec('BEGIN IMMEDIATE');
      } catch (error) {
        return fail(error);
      }
      return {
        async occupied(tables) {
          try {
            return occupied(connection, tables);
          } catch (error) {
            return fail(error);
          }
        },
        async insert(table, rows) {
          const perStatement = Math.max(1, Math.min(MAX_INSERT_ROWS, Math.floor(MAX_PARAMS / table.columns.length)));
          try {
            for (let start = 0; start < rows.length;) {
              // Full statements, then the rest in powers of two: a handful of prepared statements per table, whatever the page sizes.
              const left = rows.length - start;
              const size = left >= perStatement ? perStatement : 2 ** Math.floor(Math.log2(left));
              const chunk = rows.slice(start, start + size);
              start += size;
              const values: unknown[] = [];
              for (const row of chunk) for (const value of row) values.push(toSqlite(value));
              const { changes } = insertStatement(table, chunk.length).run(values);
              if (changes !== chunk.length) throw new Error(`${table.name}: ${changes} of ${chunk.length} rows written`);
              inserted += changes;
            }
          } catch (error) {
            fail(error);
          }
        },
        async commit(lastIds) {
          try {
            for (const [name, lastId] of lastIds) {
              // AUTOINCREMENT's high-water mark: never below an id the source handed out.
              const max = Number((connection.prepare(`SELECT max(id) AS id FROM ${name}`).get() as { id: number | null }).id ?? 0);
              const want = Math.max(max, lastId);
              if (want <= 0) continue;
              const current = connection.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(name) as { seq: number } | undefined;
              if (!current) connection.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(name, want);
              else if (current.seq < want) connection.prepare('UPDATE sqlite_sequence SET seq = ? WHERE name = ?').run(want, name);
            }
            // The target's parse cache described other rows (nothing copied, nothing changed: left alone).
            if (inserted > 0) for (const table of PARSE_CACHE_TABLES) connection.exec(`DELETE FROM ${table}`);
            connection.exec('COMMIT');
            committed = true;
            connection.pragma('foreign_keys = ON');
            if (created) enableWal(connection);
          } catch (error) {
            fail(error);
          }
        },
        async rollback() {
          if (connection.open && connection.inTransaction) connection.exec('ROLLBACK');
        },
      };
    },
    async close() {
      if (db?.open) {
        if (db.inTransaction) db.exec('ROLLBACK');
        db.close();
      }
      db = undefined;
      if (created && !committed) {
        // Nothing of the copy was kept: the file it created goes too.
        for (const suffix of ['', '-wal', '-shm', '-journal']) {
          const file = `${path}${suffix}`;
          if (existsSync(file) && statSync(file).isFile()) rmSync(file, { force: true });
        }
      }
    },
  };
}
