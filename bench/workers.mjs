/**
 * The workers benchmark (`--only workers`): the shared PostgreSQL store and batches run by
 * `quire worker`s, against the single-process batch on SQLite. A throwaway PostgreSQL
 * cluster (scripts/postgres-cluster.mjs: initdb + pg_ctl on 127.0.0.1, as the user `quiretest` when
 * root; PostgreSQL's default durability: fsync on, synchronous_commit on) is started for the
 * benchmark and always stopped at its end. The workspace is bench/batch.mjs's: workflow
 * bench-batch, one inline step, `response_length: 1`, temperature 0, so the mock LLM
 * (workers/batch-mock.mjs, its own process) answers one token and `latency=50` (a wait per
 * generated token) is a fixed 50 ms per request. Records: JSONL {"text": ...} as batch.mjs
 * writes them. Every SQLite run gets a fresh copy of a synced database, every Postgres run a
 * new database synced first (neither sync timed).
 *
 *   throughput  one batch of N records (default 10,000; --workers-records N) at latency=50:
 *               `quire run bench-batch --batch <file> --concurrency 8 --quiet` (SQLite, one
 *               process) vs four `quire worker --concurrency 8 --until-empty --json` started at
 *               once on the same N records registered with `quire run ... --workers` (Postgres).
 *               Records/s = N / (first generation request's start at the mock to the last
 *               one's end): the same clock and span for both, so process start-up (and each
 *               worker's sync) is left out, as bench/test.mjs does; spawn to exit (for workers,
 *               the first spawn to the last exit) as info. Target: workers / single >= 3.5.
 *               A fresh mock per run (its CPU time and peak RSS are its own). CPU time of
 *               every process (GNU time for quire; /proc for the mock and for PostgreSQL: the
 *               postmaster's children, live and exited), and the whole machine's busy CPU
 *               (/proc/stat) over the run: how much of the two cores the run used, and the
 *               throughput the measured CPU per record allows on this machine. Once by default
 *               (the single process alone takes N x 50 ms / 8 = 62 s at 10,000 records);
 *               --workers-throughput-runs N repeats the pair (alternating which goes first).
 *   inserts     rows written per second, labelled by what writes them:
 *                - a zero-latency batch of 2,000 records, `--concurrency 8 --quiet`, the same
 *                  single-process command on each store: (batch_records + runs + responses rows
 *                  of the batch) / process wall. Not only inserts: every record is also
 *                  planned, sent and answered; the difference between the stores is the store.
 *                - registering a batch of M records for workers (default 100,000;
 *                  --workers-big M): `quire run ... --workers --json`, batch_queue rows / process
 *                  wall (reading and checking the records file included). Postgres only: SQLite
 *                  has no queue (--workers needs a shared store).
 *                - `quire migrate-store` of the M-record history (below), SQLite -> Postgres
 *                  and Postgres -> SQLite (into a new file): rows copied / process wall. The same
 *                  command and rows both ways, so the two stores' bulk insert rates compare.
 *   export      `quire results <batch> --out <file>` of the M-record batch from each store:
 *               process wall and peak RSS; Postgres after `ANALYZE` (statistics as a database in
 *               use has them from autovacuum), and once, as info, right after the copy, before
 *               any statistics (noted when autovacuum analyzed first). The M-record SQLite history is built, not run
 *               (running it takes minutes): a real 20-record zero-latency batch, its batch,
 *               run, response and batch_records rows cloned M times in one transaction
 *               (better-sqlite3; each clone with its record's inputs, prompt and key), then
 *               copied into Postgres with `quire migrate-store` (ids kept), which is timed
 *               above. Checked: each export has M lines, records 1..M, and both stores' exports
 *               are byte for byte the same.
 *   memory      peak RSS of every process: the single process, each worker, the mock (VmHWM),
 *               the registration, the copies and the exporters.
 * The inserts, copies and exports run --runs times, at most 3 (as bench/batch.mjs caps its
 * long runs); the throughput pair once unless --workers-throughput-runs says otherwise. The
 * default benchmark takes about 4 minutes on the 2-core machine (the single process's
 * 10,000 records alone ~67 s, the four workers ~30 s).
 * Correctness, every run: the batch ended `completed` with all records completed (`quire
 * batches --json`), the mock saw one generation per record; for workers also the workers'
 * summaries add up to N with none failed, and in Postgres every batch_queue row is done,
 * N batch_records link N distinct completed runs, and no other run exists (no record ran twice).
 * Else the benchmark stops.
 *
 * Only the current build is measured: with a baseline its rows show no "before".
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { breathe, fmt, monoMs, round, rssMethod, runNode, stats } from './lib.mjs';
import { createBenchContext } from './context.mjs';
import { batchRecordInputs, intOption, row, spawnMeasured, startMockProcess, writeBatchRecords, writeBatchWorkspace } from './batch-lib.mjs';
import { startPostgres } from '../scripts/postgres-cluster.mjs';

export const WORKERS_TARGETS = {
  /** Records/s of four workers (concurrency 8 each, Postgres) over one process (concurrency 8, SQLite): at least. */
  speedup: 3.5,
};

const WORKFLOW = 'bench-batch';
const DEFAULT_RECORDS = 10_000;
const DEFAULT_BIG = 100_000;
const WORKERS = 4;
const CONCURRENCY = 8;
const LATENCY_MS = 50;
/** The zero-latency batch that writes results in each store. */
const INSERT_RECORDS = 2_000;
/** The real batch whose rows are cloned into the big history. */
const SEED_RECORDS = 20;
/** Runs of the inserts, copies and exports: --runs, at most this many (the whole benchmark stays near 4 minutes). */
const MAX_REPEAT = 3;

// --- CPU and memory from /proc ---

let clockTicks;
/** Clock ticks per second (/proc times are in ticks). */
function ticks() {
  if (clockTicks === undefined) {
    const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(probe.stdout?.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** /proc/<pid>/stat's fields after the command (index 0 is the state), or undefined when gone. */
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) of one process so far; NaN when gone. */
function procCpuS(pid) {
  const f = procStat(pid);
  return f ? (Number(f[11]) + Number(f[12])) / ticks() : NaN;
}

/** Peak RSS (VmHWM) of one process in MB; NaN when gone. */
function procPeakRssMb(pid) {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of PostgreSQL so far: the postmaster's own, its exited children's (the backends
 * of connections that closed: cutime + cstime, which it reaps) and its live children's. A
 * difference of two readings is what the server used in between, backends that came and went
 * included.
 */
function postgresCpuS(postmaster) {
  const own = procStat(postmaster);
  if (!own) return NaN;
  let total = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(entry);
    if (f && Number(f[1]) === postmaster) total += Number(f[11]) + Number(f[12]);
  }
  return total / ticks();
}

/** The machine's busy CPU seconds so far (user, nice, system, irq, softirq of /proc/stat), all cores. */
function machineBusyS() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6]) / ticks();
}

// --- Checks ---

/** `quire batches --json --limit 1` (env: the store): the newest batch, checked completed with n records all completed. */
function checkBatch(cli, root, { db, env = {} }, n, what) {
  const r = runNode([cli, '-w', root, ...(db ? ['--db', db] : []), 'batches', '--json', '--limit', '1'], { env, measureRss: false });
  const batch = JSON.parse(r.stdout).batches?.[0];
  if (!batch || batch.status !== 'completed' || batch.records !== n || batch.completed !== n) {
    throw new Error(`${what}: expected a completed batch of ${n} records, all completed; quire batches says ${JSON.stringify(batch ?? null)}`);
  }
  return batch;
}

function checkGenerations(seen, n, what) {
  if (seen.generations.count !== n) throw new Error(`${what}: expected ${n} generation requests at the mock, it saw ${seen.generations.count} (${JSON.stringify(seen.byRoute)})`);
}

/** Lines of a file, with the first and last line. */
async function readLines(file) {
  let count = 0;
  let first;
  let last;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (count === 0) first = line;
    last = line;
    count++;
  }
  return { count, first, last };
}

function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

// --- The big history ---

/**
 * Clones the rows of batch `sourceId` (its batch row, and per record its run, responses and
 * batch_records row) into a new batch of `total` records in one transaction: record i gets
 * batchRecordInputs(i - 1) as inputs (run metadata, the prompt's text) and a key of its own.
 * Columns are taken from the rows as quire wrote them. Returns the new batch's id.
 */
function cloneBatch(dbPath, sourceId, total) {
  const db = new Database(dbPath);
  try {
    const batch = db.prepare('SELECT * FROM batches WHERE id = ?').get(sourceId);
    const records = db.prepare('SELECT * FROM batch_records WHERE batch_id = ? ORDER BY record').all(sourceId);
    const runs = new Map(db.prepare('SELECT r.* FROM runs r JOIN batch_records b ON b.run_id = r.id WHERE b.batch_id = ?').all(sourceId).map((r) => [r.id, r]));
    const responses = new Map();
    for (const p of db.prepare('SELECT p.* FROM responses p JOIN batch_records b ON b.run_id = p.run_id WHERE b.batch_id = ? ORDER BY p.id').all(sourceId)) {
      responses.set(p.run_id, [...(responses.get(p.run_id) ?? []), p]);
    }
    if (records.length === 0 || records.some((r) => r.status !== 'completed' || !runs.has(r.run_id) || !responses.has(r.run_id))) {
      throw new Error(`cloneBatch: batch #${sourceId} has no records, or one without a completed run and its responses`);
    }
    const inserts = new Map();
    const insert = (table, rowObject) => {
      const columns = Object.keys(rowObject).filter((c) => c !== 'id');
      const key = `${table}:${columns.join(',')}`;
      if (!inserts.has(key)) inserts.set(key, db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`));
      return Number(inserts.get(key).run(Object.fromEntries(columns.map((c) => [c, rowObject[c]]))).lastInsertRowid);
    };
    let batchId;
    db.transaction(() => {
      batchId = insert('batches', { ...batch, input_path: `records-${total}.jsonl`, record_count: total, completed: total, failed: 0, cancelled: 0, invalid: 0, skipped: 0, cache_hits: 0 });
      for (let i = 1; i <= total; i++) {
        const source = records[(i - 1) % records.length];
        const run = runs.get(source.run_id);
        const metadata = JSON.parse(run.metadata);
        const sourceText = metadata.inputs.text;
        const inputs = batchRecordInputs(i - 1);
        const runId = insert('runs', { ...run, metadata: JSON.stringify({ ...metadata, inputs, batch_id: batchId, batch_record: i, batch_line: i }) });
        for (const response of responses.get(run.id)) {
          insert('responses', { ...response, run_id: runId, ...(typeof response.prompt === 'string' ? { prompt: response.prompt.replace(sourceText, inputs.text) } : {}) });
        }
        insert('batch_records', { ...source, batch_id: batchId, record: i, line: i, run_id: runId, key: createHash('sha256').update(JSON.stringify(inputs)).digest('hex') });
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return batchId;
  } finally {
    db.close();
  }
}

/** Rows a batch wrote in SQLite: its batch_records, their runs and those runs' responses. */
function sqliteBatchRows(dbPath, batchId) {
  const db = new Database(dbPath, { readonly: true });
  try {
    const r = db.prepare(`SELECT (SELECT count(*) FROM batch_records WHERE batch_id = @id) AS records,
      (SELECT count(*) FROM runs WHERE id IN (SELECT run_id FROM batch_records WHERE batch_id = @id)) AS runs,
      (SELECT count(*) FROM responses WHERE run_id IN (SELECT run_id FROM batch_records WHERE batch_id = @id)) AS responses`).get({ id: batchId });
    return { ...r, total: r.records + r.runs + r.responses };
  } finally {
    db.close();
  }
}

async function pgBatchRows(pg, url, batchId) {
  const [r] = await pg.query(url, `SELECT (SELECT count(*) FROM batch_records WHERE batch_id = $1)::int AS records,
      (SELECT count(*) FROM runs WHERE id IN (SELECT run_id FROM batch_records WHERE batch_id = $1))::int AS runs,
      (SELECT count(*) FROM responses WHERE run_id IN (SELECT run_id FROM batch_records WHERE batch_id = $1))::int AS responses`, [batchId]);
  return { ...r, total: r.records + r.runs + r.responses };
}

// --- The benchmark ---

export async function benchWorkers({ runs = 5, keep = false, log = () => {}, context, records: recordsArg, big: bigArg, throughputRuns: throughputArg } = {}) {
  const records = recordsArg ?? intOption('--workers-records', DEFAULT_RECORDS);
  const big = bigArg ?? intOption('--workers-big', DEFAULT_BIG);
  const throughputRuns = throughputArg ?? intOption('--workers-throughput-runs', 1);
  const repeat = Math.min(runs, MAX_REPEAT);
  const ctx = context ?? createBenchContext({ keep, log });
  const baselineNote = ctx.builds().some((b) => b.key === 'baseline')
    ? 'only the current build is measured (this benchmark does not run the baseline build; its rows show no "before")' : undefined;
  const { cli, dist } = ctx.build();
  const dir = mkdtempSync(join(ctx.dir, 'workers-'));
  const root = join(dir, 'ws');
  writeBatchWorkspace(root, WORKFLOW);
  const files = { main: join(dir, `records-${records}.jsonl`), insert: join(dir, `records-${INSERT_RECORDS}.jsonl`), seed: join(dir, `records-${SEED_RECORDS}.jsonl`), big: join(dir, `records-${big}.jsonl`) };
  writeBatchRecords(files.main, records);
  writeBatchRecords(files.insert, INSERT_RECORDS);
  writeBatchRecords(files.seed, SEED_RECORDS);
  writeBatchRecords(files.big, big);
  const template = join(dir, 'template.db');
  runNode([cli, '-w', root, '--db', template, 'sync', '--json'], { measureRss: false });
  let fileCounter = 0;
  const dropSqlite = (file) => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true }));
  const freshSqlite = () => {
    const db = join(dir, `run-${++fileCounter}.db`);
    for (const s of ['', '-wal', '-shm']) if (existsSync(template + s)) copyFileSync(template + s, db + s);
    return db;
  };

  // Everything started here goes when this process exits (Ctrl-C is handled in run.mjs).
  const groups = new Set();
  const mocks = new Set();
  const killAll = () => {
    for (const pid of groups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const mock of mocks) mock.kill();
  };
  process.once('exit', killAll);
  const measured = (args, options = {}) => {
    let pid;
    return spawnMeasured(args, { ...options, onSpawn: (p) => groups.add((pid = p)) }).finally(() => groups.delete(pid));
  };
  const ok = (result, what) => {
    if (result.status !== 0) throw new Error(`${what} failed (status ${result.status})\n${result.stderr.slice(-3000)}\n${result.stdout.slice(-1000)}`);
    return result;
  };
  const withMock = async (latency, fn) => {
    const mock = await startMockProcess(dist, latency);
    mocks.add(mock);
    try {
      return await fn(mock);
    } finally {
      await mock.close();
      mocks.delete(mock);
    }
  };

  let pg;
  let dbCounter = 0;
  /** A new Postgres database, synced (not timed): { name, url, env }. */
  const freshPg = async (label) => {
    const name = `${label}_${++dbCounter}`;
    const url = await pg.createDatabase(name);
    const env = { QUIRE_DB: url };
    runNode([cli, '-w', root, 'sync', '--json'], { env, measureRss: false });
    return { name, url, env };
  };

  const thr = { single: [], workers: [] };
  const ins = { sqlite: [], pg: [], register: [], toPg: [], toSqlite: [] };
  const exp = { sqlite: [], pg: [], pgCold: [] };
  const checked = [];
  let bigInfo;
  const cpuCount = cpus().length;
  try {
    log(`starting a throwaway PostgreSQL cluster`);
    pg = await startPostgres({ log: (line) => log(`  ${line}`) });

    // 1. Throughput: one process on SQLite vs four workers on Postgres, latency=50.
    const single = () => withMock(LATENCY_MS, async (mock) => {
      await mock.take();
      const db = freshSqlite();
      const mockCpu0 = procCpuS(mock.pid);
      const busy0 = machineBusyS();
      const result = ok(await measured([cli, '-w', root, '--db', db, 'run', WORKFLOW, '--batch', files.main, '--concurrency', String(CONCURRENCY), '--quiet', '--endpoint', `5001=${mock.url}`]), 'quire run --batch (SQLite)');
      const busyS = machineBusyS() - busy0;
      const mockCpuS = procCpuS(mock.pid) - mockCpu0;
      const mockRssMb = procPeakRssMb(mock.pid);
      const seen = await mock.take();
      checkGenerations(seen, records, 'single process');
      const batch = checkBatch(cli, root, { db }, records, 'single process (SQLite)');
      checked.push({ what: 'throughput, single process (SQLite)', records, completed: batch.completed, status: batch.status });
      dropSqlite(db);
      const spanMs = seen.generations.lastEndT - seen.generations.firstStartT;
      const ourCpuS = result.cpuS + mockCpuS;
      return {
        spanMs, wallMs: result.wallMs, recordsPerS: records / (spanMs / 1000), wallRecordsPerS: records / (result.wallMs / 1000),
        latencyMs: seen.generations.medianMs, inFlight: seen.generations.sumMs / spanMs, peakAtMock: seen.peak,
        quireCpuS: result.cpuS, mockCpuS, pgCpuS: 0, cpuMsPerRecord: (ourCpuS * 1000) / records,
        mockCorePct: (100 * mockCpuS) / (result.wallMs / 1000),
        machineBusyCores: busyS / (result.wallMs / 1000), otherCpuS: busyS - ourCpuS,
        rssMb: result.rssMb, mockRssMb,
      };
    });
    const workers = () => withMock(LATENCY_MS, async (mock) => {
      const { name, url, env } = await freshPg('throughput');
      const registered = ok(await measured([cli, '-w', root, 'run', WORKFLOW, '--batch', files.main, '--workers', '--json'], { env }), 'quire run --batch --workers');
      const { batch_id: batchId, queued } = JSON.parse(registered.stdout);
      if (queued !== records) throw new Error(`--workers queued ${queued} records, expected ${records}`);
      await mock.take();
      const mockCpu0 = procCpuS(mock.pid);
      const pgCpu0 = postgresCpuS(pg.pid());
      const busy0 = machineBusyS();
      const started = monoMs();
      const results = await Promise.all(Array.from({ length: WORKERS }, (_, k) =>
        measured([cli, '-w', root, 'worker', '--concurrency', String(CONCURRENCY), '--until-empty', '--json', '--endpoint', `5001=${mock.url}`], { env })
          .then((r) => ok(r, `quire worker ${k + 1}`))));
      const wallMs = Math.max(...results.map((r) => r.endedAtMs)) - started;
      const busyS = machineBusyS() - busy0;
      const pgCpuS = postgresCpuS(pg.pid()) - pgCpu0;
      const mockCpuS = procCpuS(mock.pid) - mockCpu0;
      const mockRssMb = procPeakRssMb(mock.pid);
      const seen = await mock.take();
      checkGenerations(seen, records, 'workers');
      const summaries = results.map((r) => JSON.parse(r.stdout));
      const done = summaries.reduce((sum, s) => sum + s.completed, 0);
      if (done !== records || summaries.some((s) => s.failed !== 0)) throw new Error(`workers: their summaries say ${done} completed of ${records} (${JSON.stringify(summaries)})`);
      const batch = checkBatch(cli, root, { env }, records, 'workers (Postgres)');
      const [queue] = await pg.query(url, "SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'done')::int AS done, max(attempts)::int AS attempts FROM batch_queue WHERE batch_id = $1", [batchId]);
      const [linked] = await pg.query(url, `SELECT count(*)::int AS n, count(DISTINCT b.run_id)::int AS runs, count(*) FILTER (WHERE r.status = 'completed')::int AS completed,
        (SELECT count(*)::int FROM runs) AS all_runs FROM batch_records b JOIN runs r ON r.id = b.run_id WHERE b.batch_id = $1`, [batchId]);
      if (queue.n !== records || queue.done !== records || linked.n !== records || linked.runs !== records || linked.completed !== records || linked.all_runs !== records) {
        throw new Error(`workers: in Postgres, batch_queue ${JSON.stringify(queue)}, batch_records and runs ${JSON.stringify(linked)}; expected ${records} of each, all done and completed, no other run`);
      }
      checked.push({ what: 'throughput, four workers (Postgres)', records, completed: batch.completed, status: batch.status, perWorker: summaries.map((s) => s.completed), maxAttempts: queue.attempts });
      await pg.dropDatabase(name);
      const spanMs = seen.generations.lastEndT - seen.generations.firstStartT;
      const quireCpuS = results.reduce((sum, r) => sum + r.cpuS, 0);
      const ourCpuS = quireCpuS + mockCpuS + pgCpuS;
      return {
        spanMs, wallMs, recordsPerS: records / (spanMs / 1000), wallRecordsPerS: records / (wallMs / 1000),
        latencyMs: seen.generations.medianMs, inFlight: seen.generations.sumMs / spanMs, peakAtMock: seen.peak,
        quireCpuS, mockCpuS, pgCpuS, cpuMsPerRecord: (ourCpuS * 1000) / records,
        mockCorePct: (100 * mockCpuS) / (wallMs / 1000),
        machineBusyCores: busyS / (wallMs / 1000), otherCpuS: busyS - ourCpuS,
        rssMb: Math.max(...results.map((r) => r.rssMb)), workerRssMb: results.map((r) => r.rssMb), workerCpuS: results.map((r) => r.cpuS),
        perWorker: summaries.map((s) => s.completed), mockRssMb, registerMs: registered.wallMs,
      };
    });
    for (let i = 0; i < throughputRuns; i++) {
      await breathe();
      const order = i % 2 === 0 ? ['single', 'workers'] : ['workers', 'single'];
      log(`throughput ${i + 1}/${throughputRuns}: ${records} records at latency=${LATENCY_MS}: one process --concurrency ${CONCURRENCY} (SQLite), ` +
        `${WORKERS} workers --concurrency ${CONCURRENCY} (Postgres); ${order[0]} first (about ${fmt((records * LATENCY_MS) / CONCURRENCY / 1000, 's', 0)} for the single process)`);
      for (const which of order) {
        const r = which === 'single' ? await single() : await workers();
        thr[which].push(r);
        log(`  ${which}: ${fmt(r.recordsPerS, 'records/s', 1)} (${fmt(r.spanMs / 1000, 's')} first to last generation), ${fmt(r.inFlight, '', 1)} in flight at the mock, ` +
          `L ${fmt(r.latencyMs, 'ms', 1)}; CPU ${fmt(r.cpuMsPerRecord, 'ms', 2)}/record (quire ${fmt(r.quireCpuS, 's')}, mock ${fmt(r.mockCpuS, 's')}, postgres ${fmt(r.pgCpuS, 's')}), ` +
          `machine busy ${fmt(r.machineBusyCores, '', 2)} of ${cpuCount} cores`);
      }
    }

    // 2a. Rows written by a zero-latency batch, the same command on each store.
    await withMock(0, async (mock) => {
      const sqliteRun = async () => {
        await mock.take();
        const db = freshSqlite();
        const result = ok(await measured([cli, '-w', root, '--db', db, 'run', WORKFLOW, '--batch', files.insert, '--concurrency', String(CONCURRENCY), '--quiet', '--endpoint', `5001=${mock.url}`]), 'zero-latency batch (SQLite)');
        checkGenerations(await mock.take(), INSERT_RECORDS, 'zero-latency batch (SQLite)');
        const batch = checkBatch(cli, root, { db }, INSERT_RECORDS, 'zero-latency batch (SQLite)');
        const rows = sqliteBatchRows(db, batch.id);
        checked.push({ what: 'inserts, zero-latency batch (SQLite)', records: INSERT_RECORDS, completed: batch.completed, rows: rows.total });
        dropSqlite(db);
        return { wallMs: result.wallMs, rows: rows.total, rowsPerS: rows.total / (result.wallMs / 1000), recordsPerS: INSERT_RECORDS / (result.wallMs / 1000), rssMb: result.rssMb, cpuS: result.cpuS };
      };
      const pgRun = async () => {
        const { name, url, env } = await freshPg('inserts');
        await mock.take();
        const pgCpu0 = postgresCpuS(pg.pid());
        const result = ok(await measured([cli, '-w', root, 'run', WORKFLOW, '--batch', files.insert, '--concurrency', String(CONCURRENCY), '--quiet', '--endpoint', `5001=${mock.url}`], { env }), 'zero-latency batch (Postgres)');
        const pgCpuS = postgresCpuS(pg.pid()) - pgCpu0;
        checkGenerations(await mock.take(), INSERT_RECORDS, 'zero-latency batch (Postgres)');
        const batch = checkBatch(cli, root, { env }, INSERT_RECORDS, 'zero-latency batch (Postgres)');
        const rows = await pgBatchRows(pg, url, batch.id);
        checked.push({ what: 'inserts, zero-latency batch (Postgres)', records: INSERT_RECORDS, completed: batch.completed, rows: rows.total });
        await pg.dropDatabase(name);
        return { wallMs: result.wallMs, rows: rows.total, rowsPerS: rows.total / (result.wallMs / 1000), recordsPerS: INSERT_RECORDS / (result.wallMs / 1000), rssMb: result.rssMb, cpuS: result.cpuS, pgCpuS };
      };
      for (let i = 0; i < repeat; i++) {
        await breathe();
        log(`inserts ${i + 1}/${repeat}: zero-latency batch of ${INSERT_RECORDS} records, --concurrency ${CONCURRENCY}, SQLite and Postgres (${i % 2 === 0 ? 'SQLite' : 'Postgres'} first)`);
        const steps = [async () => ins.sqlite.push(await sqliteRun()), async () => ins.pg.push(await pgRun())];
        for (const step of i % 2 === 0 ? steps : [...steps].reverse()) await step();
        log(`  rows written/s: SQLite ${fmt(ins.sqlite.at(-1).rowsPerS, '', 0)}, Postgres ${fmt(ins.pg.at(-1).rowsPerS, '', 0)}`);
      }

      // The big history: a real batch, cloned.
      log(`building a ${big}-record history in SQLite: a real ${SEED_RECORDS}-record batch, its rows cloned ${big} times`);
      const bigDb = freshSqlite();
      await mock.take();
      ok(await measured([cli, '-w', root, '--db', bigDb, 'run', WORKFLOW, '--batch', files.seed, '--concurrency', String(CONCURRENCY), '--quiet', '--endpoint', `5001=${mock.url}`]), 'seed batch');
      checkGenerations(await mock.take(), SEED_RECORDS, 'seed batch');
      const seed = checkBatch(cli, root, { db: bigDb }, SEED_RECORDS, 'seed batch');
      const cloneStart = monoMs();
      const batchId = cloneBatch(bigDb, seed.id, big);
      const cloneMs = monoMs() - cloneStart;
      checkBatch(cli, root, { db: bigDb }, big, 'cloned batch');
      bigInfo = { db: bigDb, batchId, cloneMs, dbMb: statSync(bigDb).size / 2 ** 20, rows: sqliteBatchRows(bigDb, batchId) };
      log(`  batch #${batchId}: ${bigInfo.rows.total} rows in ${fmt(cloneMs / 1000, 's')}, database ${fmt(bigInfo.dbMb, 'MB', 0)}`);
    });

    // 2b. Registering the big batch for workers (Postgres only).
    // 2c and 3. Copies both ways, and the export from each store.
    let exportDigest;
    let pgExport;
    for (let i = 0; i < repeat; i++) {
      await breathe();
      log(`big ${i + 1}/${repeat}: register ${big} records --workers; migrate-store SQLite -> Postgres -> SQLite; quire results from each store`);
      {
        const { name, url, env } = await freshPg('register');
        const result = ok(await measured([cli, '-w', root, 'run', WORKFLOW, '--batch', files.big, '--workers', '--json'], { env }), 'register --workers');
        const { batch_id: id, queued } = JSON.parse(result.stdout);
        const [q] = await pg.query(url, "SELECT count(*)::int AS n FROM batch_queue WHERE batch_id = $1 AND status = 'queued'", [id]);
        if (queued !== big || q.n !== big) throw new Error(`register: queued ${queued}, batch_queue holds ${q.n}; expected ${big}`);
        await pg.dropDatabase(name);
        ins.register.push({ wallMs: result.wallMs, rows: big, rowsPerS: big / (result.wallMs / 1000), rssMb: result.rssMb, cpuS: result.cpuS });
      }
      const name = `copy_${++dbCounter}`;
      const url = await pg.createDatabase(name);
      const toPg = ok(await measured([cli, 'migrate-store', '--from', bigInfo.db, '--to', url, '--json']), 'migrate-store SQLite -> Postgres');
      const copiedToPg = JSON.parse(toPg.stdout);
      const back = join(dir, `back-${i + 1}.db`);
      const toSqlite = ok(await measured([cli, 'migrate-store', '--from', url, '--to', back, '--json']), 'migrate-store Postgres -> SQLite');
      const copiedBack = JSON.parse(toSqlite.stdout);
      if (copiedToPg.total !== copiedBack.total || copiedToPg.tables.batch_records !== copiedBack.tables.batch_records || copiedToPg.tables.runs < big) {
        throw new Error(`migrate-store: ${JSON.stringify(copiedToPg.tables)} to Postgres, ${JSON.stringify(copiedBack.tables)} back`);
      }
      dropSqlite(back);
      ins.toPg.push({ wallMs: toPg.wallMs, rows: copiedToPg.total, rowsPerS: copiedToPg.total / (toPg.wallMs / 1000), rssMb: toPg.rssMb, cpuS: toPg.cpuS, tables: copiedToPg.tables });
      ins.toSqlite.push({ wallMs: toSqlite.wallMs, rows: copiedBack.total, rowsPerS: copiedBack.total / (toSqlite.wallMs / 1000), rssMb: toSqlite.rssMb, cpuS: toSqlite.cpuS });

      const exportFrom = async (store) => {
        const out = join(dir, `export-${store}.jsonl`);
        rmSync(out, { force: true });
        const args = store === 'sqlite' ? [cli, '-w', root, '--db', bigInfo.db, 'results', String(bigInfo.batchId), '--out', out] : [cli, '-w', root, 'results', String(bigInfo.batchId), '--out', out];
        const result = ok(await measured(args, store === 'sqlite' ? {} : { env: { QUIRE_DB: url } }), `quire results (${store})`);
        const lines = await readLines(out);
        const first = JSON.parse(lines.first);
        const last = JSON.parse(lines.last);
        if (lines.count !== big || first.record !== 1 || last.record !== big || first.status !== 'completed' || last.status !== 'completed' || last.inputs?.text !== batchRecordInputs(big - 1).text) {
          throw new Error(`quire results (${store}): ${lines.count} lines, first ${lines.first?.slice(0, 200)}, last ${lines.last?.slice(0, 200)}; expected ${big} records`);
        }
        const digest = sha256File(out);
        const bytes = statSync(out).size;
        rmSync(out, { force: true });
        return { wallMs: result.wallMs, rssMb: result.rssMb, cpuS: result.cpuS, lines: lines.count, bytes, digest, recordsPerS: big / (result.wallMs / 1000) };
      };
      if (i === 0) {
        // Once: right after the copy, before PostgreSQL has statistics of the new tables
        // (unless autovacuum's ANALYZE came first: noted), as a user exporting at once sees it.
        const [stat] = await pg.query(url, "SELECT (last_autoanalyze IS NOT NULL OR last_analyze IS NOT NULL) AS analyzed FROM pg_stat_user_tables WHERE relname = 'responses'");
        exp.pgCold.push({ ...(await exportFrom('pgCold')), analyzedBefore: Boolean(stat?.analyzed) });
      }
      // Statistics as a database in use has them (autovacuum analyzes tables as they grow).
      await pg.query(url, 'ANALYZE');
      for (const store of i % 2 === 0 ? ['sqlite', 'pg'] : ['pg', 'sqlite']) exp[store].push(await exportFrom(store));
      for (const store of ['sqlite', 'pg', ...(i === 0 ? ['pgCold'] : [])]) {
        exportDigest ??= exp[store].at(-1).digest;
        if (exp[store].at(-1).digest !== exportDigest) throw new Error(`quire results: the ${store} export differs from the other store's (sha256 ${exp[store].at(-1).digest} vs ${exportDigest})`);
      }
      pgExport = true;
      await pg.dropDatabase(name);
      log(`  register ${fmt(ins.register.at(-1).rowsPerS, 'rows/s', 0)}; copy to Postgres ${fmt(ins.toPg.at(-1).rowsPerS, 'rows/s', 0)}, back to SQLite ${fmt(ins.toSqlite.at(-1).rowsPerS, 'rows/s', 0)}; ` +
        `export SQLite ${fmt(exp.sqlite.at(-1).wallMs / 1000, 's', 2)} (${fmt(exp.sqlite.at(-1).rssMb, 'MB')}), Postgres ${fmt(exp.pg.at(-1).wallMs / 1000, 's', 2)} (${fmt(exp.pg.at(-1).rssMb, 'MB')})`);
    }
    if (pgExport) checked.push({ what: `export of ${big} records from each store`, lines: big, identical: true, sha256: exportDigest });
  } finally {
    killAll();
    process.removeListener('exit', killAll);
    await pg?.stop();
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
    if (!context) ctx.cleanup();
  }

  const values = (list, key) => list.map((r) => r[key]);
  const ratios = thr.single.map((s, i) => (thr.workers[i] ? thr.workers[i].recordsPerS / s.recordsPerS : NaN));
  const wallRatios = thr.single.map((s, i) => (thr.workers[i] ? thr.workers[i].wallRecordsPerS / s.wallRecordsPerS : NaN));
  const ceiling = (list) => list.map((r) => (cpuCount * 1000) / r.cpuMsPerRecord);
  const rows = [
    row('thr.single', `records/s, one process --concurrency ${CONCURRENCY}, SQLite, ${records} records at latency=${LATENCY_MS} (first to last generation at the mock)`, '', values(thr.single, 'recordsPerS'), { digits: 1 }),
    row('thr.workers', `records/s, ${WORKERS} workers --concurrency ${CONCURRENCY} each, Postgres (same span)`, '', values(thr.workers, 'recordsPerS'), { digits: 1 }),
    row('thr.ratio', `  ${WORKERS} workers / one process`, 'x', ratios, { target: WORKERS_TARGETS.speedup, op: '>=', digits: 2 }),
    row('thr.ratio.wall', '  the same over spawn to exit (workers: first spawn to last exit; info)', 'x', wallRatios, { digits: 2 }),
    row('thr.inflight.single', `  generations in flight at the mock, one process (sum of server times / span; ideal ${CONCURRENCY})`, '', values(thr.single, 'inFlight'), { digits: 2 }),
    row('thr.inflight.workers', `  generations in flight at the mock, workers (ideal ${WORKERS * CONCURRENCY})`, '', values(thr.workers, 'inFlight'), { digits: 2 }),
    row('thr.latency.single', `  L: one generation at the mock, median, one process (nominal ${LATENCY_MS})`, 'ms', values(thr.single, 'latencyMs'), { digits: 1 }),
    row('thr.latency.workers', '  L, workers', 'ms', values(thr.workers, 'latencyMs'), { digits: 1 }),
    row('thr.cpu.single', '  CPU per record, one process: quire + mock (whole processes)', 'ms', values(thr.single, 'cpuMsPerRecord'), { digits: 2 }),
    row('thr.cpu.workers', '  CPU per record, workers: 4 x quire + mock + postgres (whole processes, start-up included)', 'ms', values(thr.workers, 'cpuMsPerRecord'), { digits: 2 }),
    row('thr.ceiling.workers', `  records/s that CPU allows on ${cpuCount} cores, workers (cores / CPU per record; info)`, '', ceiling(thr.workers), { digits: 0 }),
    row('thr.busy.single', `  machine busy during the run, one process (cores of ${cpuCount})`, '', values(thr.single, 'machineBusyCores'), { digits: 2 }),
    row('thr.busy.workers', `  machine busy during the run, workers (cores of ${cpuCount})`, '', values(thr.workers, 'machineBusyCores'), { digits: 2 }),
    row('thr.mockcpu.workers', '  the mock\'s CPU during the workers run (% of one core)', '%', values(thr.workers, 'mockCorePct'), { digits: 0 }),
    row('thr.wall.single', '  one process, spawn to exit', 'ms', values(thr.single, 'wallMs'), { digits: 0 }),
    row('thr.wall.workers', '  workers, first spawn to last exit', 'ms', values(thr.workers, 'wallMs'), { digits: 0 }),
    row('ins.batch.sqlite', `rows written/s by a zero-latency batch (${INSERT_RECORDS} records, --concurrency ${CONCURRENCY}; batch_records + runs + responses / process wall), SQLite`, '', values(ins.sqlite, 'rowsPerS'), { digits: 0 }),
    row('ins.batch.pg', '  the same command, Postgres', '', values(ins.pg, 'rowsPerS'), { digits: 0 }),
    row('ins.register.pg', `batch_queue rows/s, registering ${big} records --workers (Postgres only; process wall, reading and checking the file included)`, '', values(ins.register, 'rowsPerS'), { digits: 0 }),
    row('ins.copy.pg', `rows/s into Postgres, migrate-store of the ${big}-record history from SQLite (process wall)`, '', values(ins.toPg, 'rowsPerS'), { digits: 0 }),
    row('ins.copy.sqlite', '  rows/s into SQLite, migrate-store of the same history back from Postgres into a new file', '', values(ins.toSqlite, 'rowsPerS'), { digits: 0 }),
    row('exp.sqlite', `export of ${big} results, quire results --out, SQLite (process wall)`, 'ms', values(exp.sqlite, 'wallMs'), { digits: 0 }),
    row('exp.pg', '  the same, Postgres (after ANALYZE: statistics as a database in use has them)', 'ms', values(exp.pg, 'wallMs'), { digits: 0 }),
    row('exp.pg.cold', '  Postgres right after migrate-store, before any ANALYZE (once; info)', 'ms', values(exp.pgCold, 'wallMs'), { digits: 0 }),
    row('rss.single', 'peak RSS, one process (throughput run)', 'MB', values(thr.single, 'rssMb')),
    row('rss.worker', '  peak RSS, each worker (all workers of all runs)', 'MB', thr.workers.flatMap((r) => r.workerRssMb)),
    row('rss.mock.single', '  peak RSS, the mock, single-process run', 'MB', values(thr.single, 'mockRssMb')),
    row('rss.mock.workers', '  peak RSS, the mock, workers run', 'MB', values(thr.workers, 'mockRssMb')),
    row('rss.insert.sqlite', `  peak RSS, zero-latency batch of ${INSERT_RECORDS}, SQLite`, 'MB', values(ins.sqlite, 'rssMb')),
    row('rss.insert.pg', `  peak RSS, zero-latency batch of ${INSERT_RECORDS}, Postgres`, 'MB', values(ins.pg, 'rssMb')),
    row('rss.register', `  peak RSS, registering ${big} records --workers`, 'MB', values(ins.register, 'rssMb')),
    row('rss.copy.pg', '  peak RSS, migrate-store SQLite -> Postgres', 'MB', values(ins.toPg, 'rssMb')),
    row('rss.copy.sqlite', '  peak RSS, migrate-store Postgres -> SQLite', 'MB', values(ins.toSqlite, 'rssMb')),
    row('rss.export.sqlite', `  peak RSS, export of ${big} results, SQLite`, 'MB', values(exp.sqlite, 'rssMb')),
    row('rss.export.pg', `  peak RSS, export of ${big} results, Postgres`, 'MB', [...values(exp.pg, 'rssMb'), ...values(exp.pgCold, 'rssMb')]),
  ];
  const r3 = (list) => list.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? round(x, 3) : x)) : v])));
  return {
    name: 'workers',
    rssMethod: rssMethod(),
    workload: {
      workflow: WORKFLOW, records, workers: WORKERS, concurrency: CONCURRENCY, latencyMs: LATENCY_MS, throughputRuns, repeat, insertRecords: INSERT_RECORDS, big, seedRecords: SEED_RECORDS, cpus: cpuCount,
      postgres: pg ? { version: pg.version, settings: pg.settings } : null,
    },
    detail: {
      throughput: { single: r3(thr.single), workers: r3(thr.workers) },
      inserts: { sqlite: r3(ins.sqlite), pg: r3(ins.pg), register: r3(ins.register), toPg: r3(ins.toPg.map(({ tables, ...r }) => r)), toSqlite: r3(ins.toSqlite), tables: ins.toPg.at(-1)?.tables },
      export: { sqlite: r3(exp.sqlite.map(({ digest, ...r }) => r)), pg: r3(exp.pg.map(({ digest, ...r }) => r)), pgCold: r3(exp.pgCold.map(({ digest, ...r }) => r)) },
      bigHistory: bigInfo ? { batchId: bigInfo.batchId, cloneMs: round(bigInfo.cloneMs, 0), dbMb: round(bigInfo.dbMb, 1), rows: bigInfo.rows } : null,
      checked,
    },
    baselineNote,
    rows: baselineNote ? rows.map((r) => ({ ...r, baseline: null, ratio: null, pairedRatio: null })) : rows,
  };
}

export function describeWorkers(result) {
  const w = result.workload;
  const d = result.detail;
  const med = (list, key) => stats(list.map((r) => r[key]).filter((v) => Number.isFinite(v))).median;
  const t = d.throughput;
  const lines = [
    `workspace: workflow ${w.workflow} (one inline step, response_length 1), quire.yaml api: openai; mock (own process, a fresh one per throughput run) at latency=${w.latencyMs}: ` +
      `one ${w.latencyMs} ms wait per request. PostgreSQL ${w.postgres?.version ?? '?'} throwaway cluster (${Object.entries(w.postgres?.settings ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}); ` +
      `SQLite as quire opens it (WAL, synchronous=NORMAL). Peak RSS and quire's CPU time via ${result.rssMethod}; the mock's and PostgreSQL's from /proc.`,
    `throughput: ${w.records} records, ${w.throughputRuns} run(s) of each${w.throughputRuns === 1 ? ' (once: the single process alone takes ~' + fmt((w.records * w.latencyMs) / w.concurrency / 1000, 's', 0) + '; --workers-throughput-runs N repeats it)' : ''}. ` +
      `Records/s over the mock's first generation start to last generation end. Inserts, copies and exports: ${w.repeat} run(s) each (--runs, at most 3).`,
  ];
  if (t.single.length && t.workers.length) {
    const ideal = (w.workers * w.concurrency * 1000) / w.latencyMs;
    lines.push(
      `  one process: ${fmt(med(t.single, 'recordsPerS'), 'records/s', 1)} (${fmt(med(t.single, 'inFlight'), '', 2)} of ${w.concurrency} in flight), CPU ${fmt(med(t.single, 'cpuMsPerRecord'), 'ms', 2)}/record ` +
        `(quire ${fmt(med(t.single, 'quireCpuS'), 's')}, mock ${fmt(med(t.single, 'mockCpuS'), 's')}), machine busy ${fmt(med(t.single, 'machineBusyCores'), '', 2)} of ${w.cpus} cores ` +
        `(other processes and this harness: ${fmt(med(t.single, 'otherCpuS'), 's')} CPU).`,
      `  ${w.workers} workers: ${fmt(med(t.workers, 'recordsPerS'), 'records/s', 1)} (${fmt(med(t.workers, 'inFlight'), '', 2)} of ${w.workers * w.concurrency} in flight; ${fmt(ideal, 'records/s', 0)} if latency were the only limit), ` +
        `most at once at the mock ${Math.max(...t.workers.map((r) => r.peakAtMock))}; CPU ${fmt(med(t.workers, 'cpuMsPerRecord'), 'ms', 2)}/record (workers ${fmt(med(t.workers, 'quireCpuS'), 's')} [${(t.workers.at(-1)?.workerCpuS ?? []).map((c) => fmt(c, '', 1)).join(', ')}], ` +
        `postgres ${fmt(med(t.workers, 'pgCpuS'), 's')}, mock ${fmt(med(t.workers, 'mockCpuS'), 's')} = ${fmt(med(t.workers, 'mockCorePct'), '%', 0)} of one core), ` +
        `machine busy ${fmt(med(t.workers, 'machineBusyCores'), '', 2)} of ${w.cpus} cores (other processes and this harness: ${fmt(med(t.workers, 'otherCpuS'), 's')} CPU). ` +
        `Records per worker: ${(t.workers.at(-1)?.perWorker ?? []).join(', ')}.`,
    );
    const busy = med(t.workers, 'machineBusyCores');
    const perRecord = med(t.workers, 'cpuMsPerRecord');
    const ceiling = (w.cpus * 1000) / perRecord;
    const needed = WORKERS_TARGETS.speedup * med(t.single, 'recordsPerS');
    lines.push(`  CPU: ${fmt(perRecord, 'ms', 2)} per record in the workers run (quire, PostgreSQL and the mock together) lets ${w.cpus} cores do ~${fmt(ceiling, 'records/s', 0)}, ` +
      `${fmt(ceiling / med(t.single, 'recordsPerS'), 'x', 2)} the one process; the target (${fmt(needed, 'records/s', 0)}) needs ~${fmt((needed * perRecord) / 1000, 'cores', 1)} at this cost, ` +
      `${w.workers} x ${w.concurrency} in flight (${fmt(ideal, 'records/s', 0)}) ~${fmt((ideal * perRecord) / 1000, 'cores', 1)}.` +
      (busy >= w.cpus * 0.85 ? ` Limited by CPU: the machine was ${fmt((100 * busy) / w.cpus, '%', 0)} busy during the workers run.` : ` The machine was ${fmt((100 * busy) / w.cpus, '%', 0)} busy during the workers run.`));
    if (med(t.workers, 'mockCorePct') >= 80) lines.push('  note: the mock used most of a core during the workers run: it may be a bottleneck itself.');
  }
  if (d.bigHistory) {
    lines.push(`big history: batch #${d.bigHistory.batchId}, ${d.bigHistory.rows.records} records (${d.bigHistory.rows.total} rows: batch_records, runs, responses) cloned from a real ${w.seedRecords}-record batch ` +
      `in ${fmt(d.bigHistory.cloneMs / 1000, 's')}; database ${fmt(d.bigHistory.dbMb, 'MB', 0)}; migrate-store copies ${d.inserts.toPg.at(-1)?.rows ?? '?'} rows in all (${Object.entries(d.inserts.tables ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')}).`);
  }
  lines.push(`inserts: zero-latency batch of ${w.insertRecords} records writes ${d.inserts.sqlite.at(-1)?.rows ?? '?'} rows; records/s SQLite ${fmt(med(d.inserts.sqlite, 'recordsPerS'), '', 0)}, Postgres ${fmt(med(d.inserts.pg, 'recordsPerS'), '', 0)} ` +
    `(quire CPU SQLite ${fmt(med(d.inserts.sqlite, 'cpuS'), 's', 2)}, Postgres ${fmt(med(d.inserts.pg, 'cpuS'), 's', 2)} + server ${fmt(med(d.inserts.pg, 'pgCpuS'), 's', 2)}). ` +
    `SQLite has no queue, so registration (--workers) has no SQLite number.`);
  if (d.export.sqlite.length) {
    const cold = d.export.pgCold[0];
    lines.push(`export: ${d.export.sqlite.at(-1).lines} lines, ${fmt(d.export.sqlite.at(-1).bytes / 2 ** 20, 'MB', 1)}; records/s SQLite ${fmt(med(d.export.sqlite, 'recordsPerS'), '', 0)}, Postgres ${fmt(med(d.export.pg, 'recordsPerS'), '', 0)}; ` +
      `every export of both stores identical. Postgres is ANALYZEd before the timed exports` +
      (cold ? `; right after the copy ${cold.analyzedBefore ? '(autovacuum had analyzed the tables already)' : '(no statistics yet)'} it took ${fmt(cold.wallMs / 1000, 's', 1)}` : '') + '.');
  }
  lines.push(`checked: ${d.checked.length} batches, copies and exports (${d.checked.map((c) => c.what).filter((v, i, a) => a.indexOf(v) === i).join('; ')})`);
  if (result.baselineNote) lines.push(`note: ${result.baselineNote}`);
  return lines.join('\n');
}
