/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir, the server started
 * with `pg_ctl` on a free port of 127.0.0.1 (its unix socket in the temp dir too), trust
 * authentication, fsync off. As root the cluster runs as the unprivileged system user
 * `quiretest` (created when missing): PostgreSQL refuses to run as root.
 *
 * One cluster per test file (beforeAll/afterAll); `createDatabase()` gives each test a
 * new, empty database on it. Every wait is bounded; a test process that dies without
 * calling stop() still stops the server on exit.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

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

const TEST_USER = 'quiretest';
const COMMAND_TIMEOUT_MS = 20_000;

/** The directory holding initdb, pg_ctl and postgres: PATH first, else Debian's /usr/lib/postgresql/<newest>/bin. */
export function findPostgresBin(): string | undefined {
  const has = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((name) => existsSync(join(dir, name)));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && has(dir)) return dir;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) if (has(join(base, version, 'bin'))) return join(base, version, 'bin');
  return undefined;
}

function run(file: string, args: readonly string[], timeout = COMMAND_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function userId(name: string): Promise<number | undefined> {
  try {
    return Number((await run('id', ['-u', name])).trim());
  } catch {
    return undefined;
  }
}

/** The unprivileged user's uid and gid, creating the system user when missing (another test file may race us: fine). */
async function ensureTestUser(): Promise<{ uid: number; gid: number }> {
  if ((await userId(TEST_USER)) === undefined) {
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER]).catch(() => undefined);
  }
  const uid = await userId(TEST_USER);
  if (uid === undefined) throw new Error(`cannot create the system user ${TEST_USER} to run PostgreSQL as`);
  const gid = Number((await run('id', ['-g', TEST_USER])).trim());
  return { uid, gid };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The postmaster's pid, from its pid file. */
function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function startPostgres(options: { database?: string } = {}): Promise<PgCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: install Debian\'s postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'quire-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  let owner: { uid: number; gid: number } | undefined;
  if (isRoot()) {
    owner = await ensureTestUser();
    chownSync(dir, owner.uid, owner.gid);
  }
  const asUser = (file: string, args: string[]) => (owner ? run('runuser', ['-u', TEST_USER, '--', join(bin, file), ...args]) : run(join(bin, file), args));

  let stopped = false;
  const kill = () => {
    const pid = postmasterPid(data);
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT'); // immediate shutdown
      } catch {
        /* already gone */
      }
    }
  };
  const onExit = () => {
    if (stopped) return;
    kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    try {
      await asUser('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop']);
    } catch {
      kill();
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await asUser('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    let port = 0;
    // The free port may be taken between the probe and the server's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await asUser('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '15', '-o',
          `-k ${dir} -c listen_addresses=127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']);
        break;
      } catch (error) {
        if (attempt >= 3) {
          const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
          throw new Error(`${(error as Error).message}\n${tail}`);
        }
      }
    }
    const host = '127.0.0.1';
    let created = 0;
    const createDatabase = async (name = `quire_test_${++created}`) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ host, port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@${host}:${port}/${name}`;
    };
    const url = await createDatabase(options.database ?? 'quire_test');
    return { url, host, port, createDatabase, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
