/**
 * Opening a PostgreSQL database from a `postgres://` (or `postgresql://`) URL: connect
 * (reads only), then prepare for writing (migrations), as adapters/db does for SQLite.
 *
 * The password comes from the URL, else PGPASSWORD, else the .pgpass file (PGPASSFILE or
 * ~/.pgpass, used only when no one but its owner can read it), and is asked for only when
 * the server asks. It is never logged: `location` is the URL without it, and every error
 * message is passed through `redact` before it is shown.
 *
 * Values read back keep the shapes the SQLite store gives: BIGINT (ids, counts) as numbers,
 * TIMESTAMP as the original schema's text `YYYY-MM-DD HH:MM:SS.mmm` (UTC). Every session
 * runs in UTC.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { AppError } from '../../core/errors.js';
import { migratePostgres } from './migrate.js';
import { isPostgresUrl } from '../../core/store-location.js';

const PG_INT8 = 20;
const PG_TIMESTAMP = 1114;
const CONNECT_TIMEOUT_MS = 10_000;

export interface PgDb {
  /** The URL without its password, for messages. */
  readonly location: string;
  readonly pool: pg.Pool;
  /**
   * One statement on any pooled connection. A `name` makes it a prepared statement, parsed and
   * planned once per connection: for the statements every run or record repeats.
   */
  query<T extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[], name?: string): Promise<T[]>;
  /** Runs `fn` in one transaction on one connection (committed, or rolled back when it throws). */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Hides the password in a message (errors of the driver or the server). */
  redact(text: string): string;
  close(): Promise<void>;
}

export interface PgTarget {
  config: pg.PoolConfig;
  location: string;
  /** The password given in the URL, if any (for redaction). */
  urlPassword: string | undefined;
}

export { isPostgresUrl } from '../../core/store-location.js';

/** BIGINT as a number: ids and counts stay far below 2^53; beyond it a value is refused rather than rounded. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`integer ${text} is beyond what quire can hold exactly`);
  return value;
}

/** TIMESTAMP text as the SQLite store writes it: always with milliseconds. */
export function timestampText(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text);
  if (!match) return text; // infinity, BC dates: as the server says
  return `${match[1]}.${(match[2] ?? '').padEnd(3, '0').slice(0, 3)}`;
}

const TYPES = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === PG_INT8) return parseInt8;
    if (oid === PG_TIMESTAMP) return timestampText;
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** The pool configuration and a password-free location for a postgres:// URL. */
export function postgresTarget(url: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('DATABASE', 'cannot use database: not a valid postgres:// URL', { hint: 'the form is postgres://user@host:port/database' });
  }
  if (!isPostgresUrl(url)) throw new AppError('DATABASE', `cannot use database: ${parsed.protocol}// is not a postgres:// URL`);
  const urlPassword = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const safe = new URL(url);
  safe.password = '';
  const location = safe.toString();
  const host = decodeURIComponent(parsed.hostname) || 'localhost';
  const port = parsed.port ? Number(parsed.port) : 5432;
  const user = parsed.username ? decodeURIComponent(parsed.username) : (process.env.PGUSER ?? process.env.USER ?? 'postgres');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  const config: pg.PoolConfig = {
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    port,
    user,
    database,
    // Asked for only when the server wants a password.
    password: async () => {
      const password = urlPassword ?? process.env.PGPASSWORD ?? passwordFile(host, port, database, user);
      if (password === undefined) throw new Error('the server asks for a password and none was given (the URL, PGPASSWORD or ~/.pgpass)');
      return password;
    },
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    options: '-c TimeZone=UTC',
    application_name: 'quire',
    types: TYPES,
    max: 4,
  };
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode === 'require' || sslmode === 'verify-ca' || sslmode === 'verify-full') config.ssl = { rejectUnauthorized: sslmode !== 'require' };
  return { config, location, urlPassword };
}

/** The password for this connection in the .pgpass file (PGPASSFILE or ~/.pgpass, libpq's rules), or undefined. */
export function passwordFile(host: string, port: number, database: string, user: string): string | undefined {
  const path = process.env.PGPASSFILE ?? join(homedir(), '.pgpass');
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) return undefined; // readable by others: ignored, as libpq does
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = [host, String(port), database, user];
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const fields: string[] = [];
    let current = '';
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (ch === '\\' && i + 1 < line.length) current += line[++i];
      else if (ch === ':' && fields.length < 4) {
        fields.push(current);
        current = '';
      } else current += ch;
    }
    fields.push(current);
    if (fields.length !== 5) continue;
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value)) return fields[4];
  }
  return undefined;
}

function makeRedact(target: PgTarget): (text: string) => string {
  const secrets = [target.urlPassword, process.env.PGPASSWORD].filter((s): s is string => !!s && s.length > 0);
  return (text) => {
    let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
}

export function databaseError(location: string, redact: (text: string) => string, error: unknown): AppError {
  if (error instanceof AppError) {
    if (error.message === redact(error.message)) return error;
    return new AppError(error.code, redact(error.message), { ...(error.hint ? { hint: error.hint } : {}) });
  }
  const message = redact((error as Error)?.message ?? String(error));
  const code = (error as { code?: string }).code;
  const hint = code === 'ECONNREFUSED' ? 'is the PostgreSQL server running, and the host and port right?'
    : code === '28P01' || code === '28000' ? 'check the user and password (the URL, PGPASSWORD or ~/.pgpass)'
      : code === '3D000' ? 'create the database first (createdb), or point at another one'
        : undefined;
  // The cause is left out: the driver's error may carry its configuration.
  return new AppError('DATABASE', `cannot use database ${location}: ${message}`, hint ? { hint } : {});
}

/** Connects to an existing database without writing anything to it; fails now, clearly, when it cannot. */
export async function connectPostgres(url: string): Promise<PgDb> {
  const target = postgresTarget(url);
  const redact = makeRedact(target);
  const pool = new pg.Pool(target.config);
  // An idle connection the server drops must not crash the process: the next query reconnects.
  pool.on('error', () => {});
  const wrap = (error: unknown) => databaseError(target.location, redact, error);
  const db: PgDb = {
    location: target.location,
    pool,
    redact,
    async query<T extends object>(sql: string, params: readonly unknown[] = [], name?: string) {
      try {
        return (await (name ? pool.query({ name, text: sql, values: params as unknown[] }) : pool.query(sql, params as unknown[]))).rows as T[];
      } catch (error) {
        throw wrap(error);
      }
    },
    async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw wrap(error);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw wrap(error);
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw wrap(error);
  }
  return db;
}

/** Connects and applies pending migrations (several processes may do this at once). Closes the pool on failure. */
export async function openPostgres(url: string): Promise<PgDb> {
  const db = await connectPostgres(url);
  try {
    await migratePostgres(db);
  } catch (error) {
    await db.close().catch(() => {});
    throw databaseError(db.location, db.redact, error);
  }
  return db;
}
