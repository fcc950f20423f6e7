/**
 * A throwaway PostgreSQL cluster, for the tests (test/helpers/postgres.ts) and the
 * benchmarks (bench/workers.mjs): `initdb` into a temp dir, the server started with `pg_ctl`
 * on a free port of 127.0.0.1 (its unix socket in the temp dir), trust authentication. As
 * root the cluster runs as the unprivileged system user `quiretest` (created when missing):
 * PostgreSQL refuses to run as root. Debian's binaries are found in
 * /usr/lib/postgresql/<newest>/bin when they are not on PATH.
 *
 * Durability is a real server's (fsync on, full_page_writes on) unless `fast` is set, as the
 * tests do: fsync, full_page_writes and synchronous_commit off, initdb without syncing. The
 * benchmark compares stores, so its server is not made faster than a real one would be.
 *
 * stop() always works (pg_ctl stop -m immediate, else SIGQUIT to the postmaster) and removes
 * the directory; a process that exits without calling it still stops the server (an `exit`
 * handler). Every wait is bounded.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

const PG_USER = 'quiretest';
const COMMAND_TIMEOUT_MS = 30_000;

/** The directory holding initdb, pg_ctl and postgres: PATH first, else Debian's /usr/lib/postgresql/<newest>/bin. */
export function findPostgresBin() {
  const has = (dir) => ['initdb', 'pg_ctl', 'postgres'].every((name) => existsSync(join(dir, name)));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && has(dir)) return dir;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) if (has(join(base, version, 'bin'))) return join(base, version, 'bin');
  return undefined;
}

function run(file, args, timeout = COMMAND_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function userId(name) {
  try {
    return Number((await run('id', ['-u', name])).trim());
  } catch {
    return undefined;
  }
}

/** The unprivileged user's uid and gid, creating the system user when missing. */
async function ensureUser() {
  if ((await userId(PG_USER)) === undefined) {
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', PG_USER]).catch(() => undefined);
  }
  const uid = await userId(PG_USER);
  if (uid === undefined) throw new Error(`cannot create the system user ${PG_USER} to run PostgreSQL as`);
  const gid = Number((await run('id', ['-g', PG_USER])).trim());
  return { uid, gid };
}

function freePort() {
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
function postmasterPid(data) {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a cluster. Resolves to { url, host, port, bin, version, dir, settings, pid() (the
 * postmaster's), createDatabase(name?) (its URL; a new name when none is given),
 * dropDatabase(name), query(url, sql, params?), stop() }. See postgres-cluster.d.mts.
 */
export async function startPostgres({ database = 'quire_bench', fast = false, synchronousCommit = 'on', settings: extra = {}, log = () => {} } = {}) {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: install Debian\'s postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'quire-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let owner;
  if (isRoot()) {
    owner = await ensureUser();
    chownSync(dir, owner.uid, owner.gid);
  }
  const asUser = (file, args) => (owner ? run('runuser', ['-u', PG_USER, '--', join(bin, file), ...args]) : run(join(bin, file), args));

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

  const durable = fast ? { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' } : { fsync: 'on', full_page_writes: 'on', synchronous_commit: synchronousCommit };
  const settings = { ...durable, max_connections: '100', ...extra };
  try {
    await asUser('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions', ...(fast ? ['--no-sync'] : [])]);
    let port = 0;
    // The free port may be taken between the probe and the server's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await asUser('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '20', '-o',
          `-k ${dir} -c listen_addresses=127.0.0.1 -p ${port} ${Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ')}`, 'start']);
        break;
      } catch (error) {
        if (attempt >= 3) {
          const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
          throw new Error(`${error.message}\n${tail}`);
        }
      }
    }
    const host = '127.0.0.1';
    const query = async (url, sql, params = []) => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    };
    const admin = `postgres://postgres@${host}:${port}/postgres`;
    let created = 0;
    const createDatabase = async (name = `quire_db_${++created}`) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await query(admin, `CREATE DATABASE ${name}`);
      return `postgres://postgres@${host}:${port}/${name}`;
    };
    /** Drops a database (connections to it are ended first). */
    const dropDatabase = async (name) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await query(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    };
    const url = await createDatabase(database);
    const version = (await query(admin, 'SHOW server_version'))[0].server_version;
    log(`postgres ${version} (${bin}) on ${host}:${port}${owner ? ` as ${PG_USER}` : ''}; ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    return { url, host, port, bin, version, dir, settings, pid: () => postmasterPid(data), createDatabase, dropDatabase, query, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
