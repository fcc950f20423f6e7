/**
 * What the batch, test and workers benchmarks share: their options, the mock in its own
 * process (workers/batch-mock.mjs), their result rows, and (for the workers benchmark) the
 * one-step batch workspace and its records, and a child run measured with its CPU time.
 */
import { fork, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, monoMs, planChild, round, stats } from './lib.mjs';

const BATCH_MOCK = join(BENCH_DIR, 'workers', 'batch-mock.mjs');

/** A positive integer option from this process's arguments (run.mjs passes its argv through untouched). */
export function intOption(flag, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(flag);
  if (at === -1) return fallback;
  const n = Number(args[at + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer (got ${JSON.stringify(args[at + 1] ?? null)})`);
  return n;
}

/** Starts workers/batch-mock.mjs; resolves to { url, latency, pid, take(), close() }. */
export async function startMockProcess(dist, latency) {
  const child = fork(BATCH_MOCK, ['--latency', String(latency)], { env: { ...process.env, QUIRE_BENCH_DIST: dist }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = [];
  child.on('message', (message) => waiters.shift()?.(message));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  const ready = await Promise.race([
    next(),
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`batch mock worker exited (${code}) before it was ready`)))),
  ]);
  return {
    url: ready.url,
    latency,
    /** The mock's process id (to read its CPU time and peak RSS from /proc). */
    pid: child.pid,
    /** What the mock saw since the last take (see batch-mock.mjs). */
    async take() {
      const reply = next();
      child.send({ type: 'take' });
      return reply;
    },
    async close() {
      if (!child.connected) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** A measurement row; `op` is how the median meets the target ('<=' unless said). */
export function row(id, label, unit, values, { target, op = '<=', digits = 1 } = {}) {
  const s = stats(values.filter((v) => Number.isFinite(v)));
  const pass = target === undefined || !Number.isFinite(s.median) ? (target === undefined ? null : false)
    : op === '>=' ? s.median >= target : op === '<' ? s.median < target : s.median <= target;
  return {
    id, label, unit, ...s,
    median: round(s.median, digits), min: round(s.min, digits), max: round(s.max, digits),
    ...(digits !== 1 ? { digits } : {}),
    target: target === undefined ? null : target,
    ...(target !== undefined && op !== '<=' ? { targetOp: op } : {}),
    pass,
  };
}

/** A ratio row (no samples of its own): passes when the value is at most the target. */
export function ratioRow(id, label, value, runs, target, digits = 2) {
  return { id, label, unit: 'x', median: round(value, digits), min: null, max: null, runs, samples: [], ...(digits !== 2 ? { digits } : {}), target: target ?? null, pass: target === undefined ? null : value <= target };
}

/**
 * A batch workspace in `root` (made anew): quire.yaml `api: openai` (so --concurrency is the
 * only limit) and the workflow `workflow` with one inline step (chatml, `response_length: 1`,
 * temperature 0, llm_port 5001, prompt "Reply to: {{input.text}}"), the same as bench/batch.mjs
 * generates for its own runs.
 */
export function writeBatchWorkspace(root, workflow, step = 'answer') {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'workflows'), { recursive: true });
  writeFileSync(join(root, 'quire.yaml'), 'llm:\n  api: openai\n');
  writeFileSync(join(root, 'workflows', `${workflow}.workflow.yaml`), [
    'inputs:',
    '  text: { type: string }',
    'payloads:',
    `  - name: ${step}`,
    '    model_format: chatml',
    '    response_length: 1',
    '    temperature: 0',
    '    llm_port: 5001',
    '    blocks:',
    '      - text: "Reply to: {{input.text}}"',
    '',
  ].join('\n'));
}

const RECORD_WORDS = ['sea', 'harbour', 'lighthouse', 'gull', 'tide', 'anchor', 'sail', 'reef', 'storm', 'keel', 'buoy', 'pier'];

/** The inputs of record `i` (0-based) of writeBatchRecords, as bench/batch.mjs writes them. */
export function batchRecordInputs(i) {
  return { text: `Record ${i + 1}: the ${RECORD_WORDS[i % RECORD_WORDS.length]} and the ${RECORD_WORDS[(i * 7 + 3) % RECORD_WORDS.length]} at ${i % 24}h.` };
}

/** `n` JSONL records (batchRecordInputs), each a little different; written in chunks. */
export function writeBatchRecords(file, n) {
  const fd = openSync(file, 'w');
  try {
    let chunk = '';
    for (let i = 0; i < n; i++) {
      chunk += `${JSON.stringify(batchRecordInputs(i))}\n`;
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/**
 * `node <nodeArgs> <args>` as a child without blocking this process (lib's runNodeAsync,
 * plus CPU time): resolves to { wallMs, startedAtMs, endedAtMs, rssMb, userS, sysS, cpuS,
 * status, stdout, stderr } once it exits (any status: the caller checks). Peak RSS and CPU
 * time from GNU time (`/usr/bin/time -v`) when it works here; else peak RSS from the exit
 * hook and no CPU time (NaN). The child leads its own process group (detached), so
 * `process.kill(-pid, 'SIGKILL')` stops it with GNU time around it; `onSpawn(pid)` is called
 * with that pid.
 */
export function spawnMeasured(args, { nodeArgs = [], env = {}, cwd, onSpawn } = {}) {
  const { method, command, argv, env: childEnv, rssFile } = planChild(args, { nodeArgs, env });
  return new Promise((resolve, reject) => {
    const startedAtMs = monoMs();
    const child = spawn(command, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(cwd ? { cwd } : {}) });
    onSpawn?.(child.pid);
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      const endedAtMs = monoMs();
      let stderr = Buffer.concat(err).toString('utf8');
      let rssMb = NaN;
      let userS = NaN;
      let sysS = NaN;
      if (method === 'gnu-time') {
        const number = (re) => {
          const match = re.exec(stderr);
          return match ? Number(match[1]) : NaN;
        };
        rssMb = number(/Maximum resident set size \(kbytes\): (\d+)/) / 1024;
        userS = number(/User time \(seconds\): ([\d.]+)/);
        sysS = number(/System time \(seconds\): ([\d.]+)/);
        const cut = stderr.lastIndexOf('\tCommand being timed:');
        if (cut !== -1) stderr = stderr.slice(0, cut).replace(/Command exited with non-zero status \d+\n$/, '');
      } else if (rssFile && existsSync(rssFile)) {
        rssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
        rmSync(rssFile, { force: true });
      }
      resolve({ wallMs: endedAtMs - startedAtMs, startedAtMs, endedAtMs, rssMb, userS, sysS, cpuS: userS + sysS, status, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
  });
}
