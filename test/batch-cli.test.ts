/**
 * Batches end to end: the built CLI in child processes (`quire run --batch`, `batches`,
 * `show --batch`, `results`), a real SQLite file in a temp workspace, one mock-llm over HTTP
 * in this process. Killed (SIGKILL) and interrupted (SIGINT) batches and their resume, stdin,
 * CSV as spreadsheets write it, --strict, exit codes and outputs, --max-failures, --cache,
 * and the concurrency the server sees.
 */
import Database from 'better-sqlite3';
import { parse as parseCsv } from 'csv-parse/sync';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { BIN, type CliResult } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

type Event = Record<string, unknown> & { type: string };
type Counts = { completed: number; failed: number; cancelled: number; invalid: number; skipped: number; cacheHits: number };

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm({ api: 'openai' });
});
afterAll(async () => {
  await mock.close();
});

let ws: TempWorkspace | undefined;
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  mock.setFaults({});
  mock.reset();
  ws?.cleanup();
  ws = undefined;
});

/**
 * A workspace on the mock: `wf` (one step) and `pair` (two steps), both on port 5001.
 * Step one is at temperature 0 (cacheable); `n` is an integer input (converted from CSV text).
 */
function workspace(): TempWorkspace {
  ws = makeWorkspace({
    'quire.yaml': `llm:\n  api: openai\n  retries: 0\nendpoints:\n  "5001": { urls: ["${mock.url}"] }\n`,
    'blocks/ask.md': 'Say something about {{input.topic}} ({{input.n}})\n',
    'workflows/one.payload.yaml': 'response_length: 12\ntemperature: 0\nblocks: [ask]\n',
    'workflows/two.payload.yaml': 'response_length: 12\nblocks: [{ text: "Again: {{steps.one.output}}" }]\n',
    'workflows/wf.workflow.yaml': 'name: wf\ninputs:\n  topic: { type: string }\n  n: { type: integer, default: 1 }\npayloads: [one]\n',
    'workflows/pair.workflow.yaml': 'name: pair\ninputs:\n  topic: { type: string }\n  n: { type: integer, default: 1 }\npayloads: [one, two]\n',
  });
  return ws;
}

function jsonl(name: string, records: unknown[]): string {
  writeFileSync(join(ws!.root, name), records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return name;
}

const topics = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => ({ topic: `${prefix}${i + 1}` }));

interface Proc {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Every complete stdout line parsed as JSON (throws on a line that is not). */
  events(): Event[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** Starts quire in the workspace (cwd = its root, so paths are workspace-relative). */
function start(args: string[], input?: string): Proc {
  const child = spawn(process.execPath, [BIN, '-w', ws!.root, ...args], { cwd: ws!.root, env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {}); // a usage error may exit before reading stdin
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  // 'close': the process was reaped (its pid is free) and its output read to the end.
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const events = () => stdout.split('\n').slice(0, -1).map((line) => JSON.parse(line) as Event);
  const until = async (predicate: () => boolean, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`quire exited (${child.exitCode ?? child.signalCode}) waiting for ${what}; stderr: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout: ${stdout.slice(-2000)}; stderr: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { child, stdout: () => stdout, stderr: () => stderr, events, exit, until };
}

/** Runs quire to its end (killed after 20 s). */
async function quire(args: string[], input?: string): Promise<CliResult> {
  const proc = start(args, input);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
  const { code } = await proc.exit;
  clearTimeout(timer);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

async function quireJson<T>(args: string[]): Promise<T> {
  const result = await quire([...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const jsonLines = (text: string) => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Event);
const generationRequests = () => mock.requests.filter((r) => r.method === 'POST' && /completions$/.test(r.path)).length;
const batchEnd = (events: Event[]) => events.find((e) => e.type === 'batch-end') as (Event & { batchId: number; status: string; counts: Counts; reason?: string }) | undefined;

interface BatchJson { id: number; workflow: string; status: string; input: string; input_hash: string | null; format: string; records: number; completed: number; failed: number; cancelled: number; invalid: number; skipped: number; started_at: string; completed_at: string | null; settings: Record<string, unknown> }
interface ResultRow { record: number; line: number; status: string; run_id: number | null; error: string | null; inputs: Record<string, unknown>; steps: Record<string, { output: string | null; completion_tokens: number | null; total_ms: number | null }> }
interface ShownRun { run: { id: number; status: string; metadata: Record<string, unknown> }; responses: { id: number; content: string | null; metadata: Record<string, unknown> }[] }

/** The runs of a batch, straight from the database (runs.metadata links them to the batch and record). */
function batchRuns(batchId: number): { id: number; status: string; record: number; error: string | undefined }[] {
  const db = new Database(ws!.dbPath, { readonly: true });
  const rows = db.prepare('SELECT id, status, metadata FROM runs ORDER BY id').all() as { id: number; status: string; metadata: string }[];
  db.close();
  return rows.flatMap((row) => {
    const m = JSON.parse(row.metadata) as { batch_id?: number; batch_record?: number; error?: string };
    return m.batch_id === batchId ? [{ id: row.id, status: row.status, record: m.batch_record!, error: m.error }] : [];
  });
}

/** One query on the database (read-only). */
function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(ws!.dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Record number -> how many completed runs it has. */
function completedPerRecord(batchId: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const run of batchRuns(batchId)) if (run.status === 'completed') counts.set(run.record, (counts.get(run.record) ?? 0) + 1);
  return counts;
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const sortedKeys = (map: Map<number, number>) => [...map.keys()].sort((a, b) => a - b);

describe('quire run --batch: killed and interrupted', () => {
  it('SIGKILL mid-batch: no run or batch left running; --resume (the latest over the file) completes every record exactly once', async () => {
    workspace();
    const input = jsonl('kill.jsonl', topics(30));
    mock.setFaults({ latencyMs: 15 });
    const proc = start(['run', 'wf', '--batch', input, '--concurrency', '2', '--json']);
    await proc.until(() => proc.events().filter((e) => e.type === 'record-end' && e['status'] === 'completed').length >= 5, 'five finished records');
    proc.child.kill('SIGKILL');
    expect(await proc.exit).toEqual({ code: null, signal: 'SIGKILL' });
    const batchId = (proc.events()[0] as Event & { batchId: number }).batchId;
    expect(proc.events()[0]).toMatchObject({ type: 'batch-start', workflow: 'wf', input: 'kill.jsonl', resumed: false, concurrency: [{ port: 5001, limit: 2 }] });
    expect(batchEnd(proc.events())).toBeUndefined();

    // Before any other command the dead process's rows still say running.
    expect(batchRuns(batchId).some((r) => r.status === 'running')).toBe(true);
    const { runs } = await quireJson<{ runs: { id: number; status: string; error: string | null }[] }>(['runs', '--limit', '100']);
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    const { batches } = await quireJson<{ batches: BatchJson[] }>(['batches']);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ id: batchId, workflow: 'wf', status: 'cancelled' });

    // The runs in flight were settled as interrupted; the finished ones stand.
    const before = batchRuns(batchId);
    const unfinished = before.filter((r) => r.status !== 'completed');
    expect(unfinished.length).toBeGreaterThanOrEqual(1);
    for (const run of unfinished) expect(run).toMatchObject({ status: 'failed', error: expect.stringContaining('interrupted') });
    const completedBefore = before.filter((r) => r.status === 'completed').length;
    expect(completedBefore).toBeGreaterThanOrEqual(5);
    expect(completedBefore).toBeLessThan(30);

    mock.setFaults({});
    mock.reset();
    const resumed = await quire(['run', 'wf', '--batch', input, '--json', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const events = jsonLines(resumed.stdout);
    expect(events[0]).toMatchObject({ type: 'batch-start', batchId, resumed: true });
    // Only the records that had not completed ran again; the killed batch's completed ones were skipped.
    expect(batchEnd(events)).toMatchObject({ batchId, status: 'completed', counts: { completed: 30, failed: 0, cancelled: 0, invalid: 0, skipped: completedBefore } });
    expect(generationRequests()).toBe(30 - completedBefore);
    const perRecord = completedPerRecord(batchId);
    expect(sortedKeys(perRecord)).toEqual(oneToN(30));
    expect([...perRecord.values()].every((n) => n === 1)).toBe(true);
    expect(query('SELECT id, status, record_count, completed, failed, cancelled FROM batches')).toEqual([{ id: batchId, status: 'completed', record_count: 30, completed: 30, failed: 0, cancelled: 0 }]);
  });

  it('Ctrl-C (SIGINT): the runs in flight are cancelled, the batch cancelled, exit 130; --resume <id> finishes it', async () => {
    workspace();
    const input = jsonl('int.jsonl', topics(16));
    mock.setFaults({ latencyMs: 15 });
    const proc = start(['run', 'wf', '--batch', input, '--concurrency', '2', '--json']);
    await proc.until(() => proc.events().filter((e) => e.type === 'record-end').length >= 3, 'three finished records');
    proc.child.kill('SIGINT');
    expect(await proc.exit).toEqual({ code: 130, signal: null });
    const events = proc.events();
    const end = batchEnd(events)!;
    expect(end).toMatchObject({ type: 'batch-end', status: 'cancelled', reason: 'cancelled by the user' });
    expect(events.at(-1)).toBe(end);
    const batchId = end.batchId;

    const runs = batchRuns(batchId);
    expect(runs.filter((r) => r.status !== 'completed' && r.status !== 'cancelled')).toEqual([]);
    const cancelled = runs.filter((r) => r.status === 'cancelled');
    expect(cancelled.length).toBeGreaterThanOrEqual(1);
    expect(cancelled.length).toBe(end.counts.cancelled);
    expect(runs.filter((r) => r.status === 'completed').length).toBe(end.counts.completed);
    expect(end.counts.completed).toBeLessThan(16);
    // `show --batch`: cancelled, its counts, and how to resume it.
    const shown = await quire(['show', '--batch', String(batchId)]);
    expect(shown.stdout).toContain(`batch #${batchId} · wf · cancelled\n`);
    expect(shown.stdout).toContain(`: ${end.counts.completed} completed, 0 failed, ${end.counts.cancelled} cancelled, 0 invalid\n`);
    expect(shown.stdout).toContain(`resume: quire run wf --batch int.jsonl --resume ${batchId}`);

    mock.setFaults({});
    mock.reset();
    const resumed = await quire(['run', 'wf', '--batch', input, '--resume', String(batchId), '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(batchEnd(jsonLines(resumed.stdout))).toMatchObject({ batchId, status: 'completed', counts: { completed: 16, cancelled: 0, skipped: end.counts.completed } });
    expect(generationRequests()).toBe(16 - end.counts.completed);
    const perRecord = completedPerRecord(batchId);
    expect(sortedKeys(perRecord)).toEqual(oneToN(16));
    expect([...perRecord.values()].every((n) => n === 1)).toBe(true);
    // The cancelled runs stay in the history as they were.
    expect(batchRuns(batchId).filter((r) => r.status === 'cancelled').map((r) => r.id)).toEqual(cancelled.map((r) => r.id));
  });
});

describe('quire run --batch: input', () => {
  // BUG: `--batch -` (the form `quire run --help` documents: "- reads stdin") is refused by the
  // argument parser (cac/mri takes a lone "-" for a flag): "option `--batch <file>` value is
  // missing", exit 2, stdin never read. `--batch=-` works, so the other stdin tests use it.
  // Remove `.fails` once `--batch -` is accepted.
  it('`--batch -` (space-separated, as documented) reads stdin', async () => {
    workspace();
    const result = await quire(['run', 'wf', '--batch', '-', '--quiet'], '{"topic": "piped"}\n');
    expect(result.stderr).not.toContain('value is missing');
    expect(result.code, result.stderr).toBe(0);
    expect(generationRequests()).toBe(1);
  });

  it('reads JSONL and (sniffed) CSV from stdin; --resume and --strict with stdin are usage errors', async () => {
    workspace();
    const fromJsonl = await quire(['run', 'wf', '--batch=-', '--json'], '{"topic": "piped one"}\n{"topic": "piped two", "n": 2}\n');
    expect(fromJsonl.code, fromJsonl.stderr).toBe(0);
    expect(batchEnd(jsonLines(fromJsonl.stdout))).toMatchObject({ batchId: 1, status: 'completed', counts: { completed: 2, invalid: 0 } });
    const fromCsv = await quire(['run', 'wf', '--batch=-', '--json'], 'topic,n\n"piped, csv",3\nplain,4\n');
    expect(fromCsv.code, fromCsv.stderr).toBe(0);
    expect(batchEnd(jsonLines(fromCsv.stdout))).toMatchObject({ batchId: 2, status: 'completed', counts: { completed: 2, invalid: 0 } });
    expect(generationRequests()).toBe(4);

    const [{ batches }, fromCsvRows, fromJsonlRows, resume, resumeId, strict] = await Promise.all([
      quireJson<{ batches: BatchJson[] }>(['batches']),
      quire(['results', '2']),
      quire(['results', '1']),
      quire(['run', 'wf', '--batch=-', '--resume'], '{"topic": "x"}\n'),
      quire(['run', 'wf', '--batch=-', '--resume', '1'], '{"topic": "x"}\n'),
      quire(['run', 'wf', '--batch=-', '--strict'], '{"topic": "x"}\n'),
    ]);
    expect(batches.map((b) => [b.id, b.input, b.input_hash, b.format, b.status, b.records])).toEqual([
      [2, '-', null, 'csv', 'completed', 2],
      [1, '-', null, 'jsonl', 'completed', 2],
    ]);
    expect(jsonLines(fromCsvRows.stdout).map((r) => r['inputs'])).toEqual([{ topic: 'piped, csv', n: 3 }, { topic: 'plain', n: 4 }]);
    expect(jsonLines(fromJsonlRows.stdout).map((r) => r['inputs'])).toEqual([{ topic: 'piped one', n: 1 }, { topic: 'piped two', n: 2 }]);

    // Usage errors: exit 2, before any request or batch.
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/--resume.*stdin cannot be resumed/);
    expect(resumeId.code).toBe(2);
    expect(resumeId.stderr).toContain('stdin cannot be resumed');
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/--strict.*not stdin/);
    expect(generationRequests()).toBe(4);
    expect(query('SELECT id FROM batches')).toHaveLength(2);
  });

  it('CSV from a spreadsheet: BOM, CRLF, quoted commas, doubled quotes, line breaks in a field, CJK and emoji; a bad value is reported at its line and the rest run', async () => {
    workspace();
    const csv = [
      '\uFEFFtopic,n', // line 1: the header, after a BOM
      'plain,1', // 2
      '"comma, inside",2', // 3
      '"say ""hi""",3', // 4
      '"multi\r\nline\r\nfield",4', // 5-7: one record over three lines
      '東京 🌸 naïve,5', // 8
      'bad,two', // 9: not an integer
      'last,6', // 10
    ].join('\r\n') + '\r\n';
    writeFileSync(join(ws!.root, 'in.csv'), csv, 'utf8');
    const result = await quire(['run', 'wf', '--batch', 'in.csv']);
    // Not every record completed: exit 1.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('in.csv:9:1: record 6: input "n" must be an integer, got "two"');
    expect(result.stderr.match(/^in\.csv:\d+:\d+: /gm)).toHaveLength(1);
    expect(result.stderr).toMatch(/batch #1 completed in [\d.]+s: 6 completed · 0 failed · 1 invalid/);
    expect(generationRequests()).toBe(6);

    const rows = jsonLines((await quire(['results', '1'])).stdout) as unknown as ResultRow[];
    expect(rows.map((r) => [r.record, r.line, r.status])).toEqual([
      [1, 2, 'completed'], [2, 3, 'completed'], [3, 4, 'completed'], [4, 5, 'completed'], [5, 8, 'completed'], [6, 9, 'invalid'], [7, 10, 'completed'],
    ]);
    expect(rows.map((r) => r.inputs)).toEqual([
      { topic: 'plain', n: 1 },
      { topic: 'comma, inside', n: 2 },
      { topic: 'say "hi"', n: 3 },
      { topic: 'multi\r\nline\r\nfield', n: 4 },
      { topic: '東京 🌸 naïve', n: 5 },
      {},
      { topic: 'last', n: 6 },
    ]);
    expect(rows[5]!.error).toBe('record 6: input "n" must be an integer, got "two"');
    // The text reached the server and came back intact (the mock echoes the prompt's last line).
    expect(rows[4]!.steps['one']!.output).toContain('Say something about 東京 🌸 naïve (5)');
    expect(rows[2]!.steps['one']!.output).toContain('Say something about say "hi" (3)');
    const { batches } = await quireJson<{ batches: BatchJson[] }>(['batches']);
    expect(batches[0]).toMatchObject({ status: 'completed', format: 'csv', records: 7, completed: 6, invalid: 1, failed: 0 });
  });

  it('--strict: one bad record stops the batch before any request; the message names its line', async () => {
    workspace();
    const input = jsonl('in.jsonl', [{ topic: 'a' }, '', '{"topic": "b"}', { topic: 'c', n: 'x' }, { topic: 'd' }]);
    const result = await quire(['run', 'wf', '--batch', input, '--strict']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('1 bad record; nothing was run (--strict)');
    expect(result.stderr).toContain('in.jsonl:4:1: record 3: input "n" must be an integer');
    expect(mock.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(query('SELECT id FROM batches')).toEqual([]);
    expect(query('SELECT id FROM runs')).toEqual([]);
    // Without --strict the same file runs the good records and exits 1.
    const lenient = await quire(['run', 'wf', '--batch', input, '--quiet']);
    expect(lenient.code).toBe(1);
    expect(lenient.stderr).toContain('in.jsonl:4:1: record 3:');
    expect(generationRequests()).toBe(3);
  });
});

describe('quire run --batch: outputs', () => {
  it('all good: exit 0, --json events only; batches, show --batch, and results (JSONL = show, CSV parses back)', async () => {
    workspace();
    const records = [{ topic: 'plain' }, { topic: 'has, a comma and "quotes"', n: 2 }, { topic: 'ünïcødé 🌍 中文', n: 3 }];
    const input = jsonl('in.jsonl', records);
    const run = await quire(['run', 'pair', '--batch', input, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    // Every stdout line is one JSON event: batch-start first, batch-end last.
    const events = jsonLines(run.stdout);
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(events.length).toBe(run.stdout.split('\n').length - 1);
    expect(events[0]).toMatchObject({ type: 'batch-start', batchId: 1, workflow: 'pair', input: 'in.jsonl', resumed: false, concurrency: [{ port: 5001, limit: 4 }] });
    expect(events.at(-1)).toMatchObject({ type: 'batch-end', batchId: 1, status: 'completed', counts: { completed: 3, failed: 0, cancelled: 0, invalid: 0, skipped: 0, cacheHits: 0 } });
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['batch-start', 'record-end', 'progress', 'batch-end']));
    expect(events.filter((e) => e.type === 'record-end').map((e) => e['index']).sort()).toEqual([1, 2, 3]);
    expect(generationRequests()).toBe(6);

    const [listed, filtered, text, shownText, shownJson, missing] = await Promise.all([
      quireJson<{ ok: boolean; batches: BatchJson[] }>(['batches']),
      quireJson<{ batches: BatchJson[] }>(['batches', '--workflow', 'wf']),
      quire(['batches']),
      quire(['show', '--batch', '1']),
      quireJson<{ ok: boolean; batch: BatchJson }>(['show', '--batch', '1']),
      quire(['show', '--batch', '9']),
    ]);
    expect(listed.ok).toBe(true);
    expect(listed.batches).toHaveLength(1);
    const batch = listed.batches[0]!;
    expect(batch).toMatchObject({ id: 1, workflow: 'pair', status: 'completed', input: 'in.jsonl', format: 'jsonl', records: 3, completed: 3, failed: 0, cancelled: 0, invalid: 0, skipped: 0 });
    expect(batch.input_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(batch.completed_at).not.toBeNull();
    expect(filtered.batches).toEqual([]);
    expect(text.stdout).toMatch(/^batch +workflow +status +input +records +done +failed +invalid +started \(UTC\)\n#1 +pair +completed +in\.jsonl +3 +3 +0 +0 +\d{4}-/);
    expect(shownJson).toEqual({ ok: true, batch });
    expect(shownText.code).toBe(0);
    expect(shownText.stdout).toContain('batch #1 · pair · completed\n');
    expect(shownText.stdout).toContain(`input in.jsonl (jsonl, ${batch.input_hash!.slice(0, 12)})`);
    expect(shownText.stdout).toContain('3 records read: 3 completed, 0 failed, 0 cancelled, 0 invalid\n');
    expect(shownText.stdout).toContain('records: quire results 1');
    expect(shownText.stdout).not.toContain('resume:');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no batch #9');

    // results (JSONL): what `show <run>` reports, record by record.
    const resultsRun = await quire(['results', '1']);
    expect(resultsRun.code, resultsRun.stderr).toBe(0);
    const rows = jsonLines(resultsRun.stdout) as unknown as ResultRow[];
    expect(rows.map((r) => [r.record, r.line, r.status])).toEqual([[1, 1, 'completed'], [2, 2, 'completed'], [3, 3, 'completed']]);
    expect(rows.map((r) => r.inputs)).toEqual([{ topic: 'plain', n: 1 }, { topic: 'has, a comma and "quotes"', n: 2 }, { topic: 'ünïcødé 🌍 中文', n: 3 }]);
    const shown = await Promise.all(rows.map((r) => quireJson<ShownRun>(['show', String(r.run_id)])));
    for (const [i, row] of rows.entries()) {
      const { run, responses } = shown[i]!;
      expect(run).toMatchObject({ id: row.run_id, status: 'completed', metadata: { inputs: row.inputs, batch_id: 1, batch_record: row.record } });
      expect(Object.keys(row.steps)).toEqual(['one', 'two']);
      expect(responses.map((r) => r.content)).toEqual([row.steps['one']!.output, row.steps['two']!.output]);
      expect(responses.map((r) => r.metadata['completion_tokens'])).toEqual([row.steps['one']!.completion_tokens, row.steps['two']!.completion_tokens]);
      expect(row.steps['one']!.output).toContain(String(records[i]!.topic));
    }

    // results (CSV, to a file): parses back to the same records.
    const csvRun = await quire(['results', '1', '--format', 'csv', '--out', 'out.csv']);
    expect(csvRun.code, csvRun.stderr).toBe(0);
    expect(csvRun.stdout).toBe('');
    expect(csvRun.stderr).toBe('wrote 3 records to out.csv\n');
    const parsed = parseCsv(readFileSync(join(ws!.root, 'out.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(parsed[0]!)).toEqual(['record', 'line', 'status', 'run_id', 'input.topic', 'input.n', 'one.output', 'one.completion_tokens', 'one.total_ms', 'two.output', 'two.completion_tokens', 'two.total_ms', 'error']);
    expect(parsed.map((p) => ({ record: Number(p['record']), status: p['status'], run_id: Number(p['run_id']), inputs: { topic: p['input.topic'], n: Number(p['input.n']) }, one: p['one.output'], two: p['two.output'], error: p['error'] }))).toEqual(
      rows.map((r) => ({ record: r.record, status: r.status, run_id: r.run_id, inputs: r.inputs, one: r.steps['one']!.output, two: r.steps['two']!.output, error: '' })),
    );
  });

  // BUG: `quire results <id> --out <file>` whose file cannot be opened (a missing folder, a
  // folder) ends in "quire: internal error (this is a bug)" and an ENOENT/EISDIR stack on
  // stderr instead of an ordinary `error: ...` naming the file (and JSON with --json).
  // Remove `.fails` once it is an AppError.
  it('results --out to a path that cannot be written is an ordinary error, not an internal one', async () => {
    workspace();
    const empty = await quire(['run', 'wf', '--batch=-', '--quiet'], '');
    expect(empty.code, empty.stderr).toBe(0);
    const result = await quire(['results', '1', '--out', 'missing/out.jsonl']);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).toMatch(/^error: .*missing\/out\.jsonl/m);
  });

  it('--max-failures: a server answering 500 stops the batch early; exit 1, the batch is failed', async () => {
    workspace();
    mock.setFaults({ status: 500 });
    const input = jsonl('in.jsonl', topics(12));
    const result = await quire(['run', 'wf', '--batch', input, '--concurrency', '1', '--max-failures', '2']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^record 1 \(line 1\) failed: .* · quire show \d+$/m);
    expect(result.stderr).toMatch(/batch #1 failed after [\d.]+s \(2 records failed \(--max-failures 2\)\): 0 completed · 2 failed/);
    expect(result.stderr).toContain('resume:  quire run wf --batch in.jsonl --resume 1');
    // One record at a time, no retries: exactly two requests, then no more records were read.
    expect(generationRequests()).toBe(2);
    const [{ batches }, text] = await Promise.all([quireJson<{ batches: BatchJson[] }>(['batches']), quire(['batches'])]);
    expect(batches[0]).toMatchObject({ id: 1, status: 'failed', records: 2, completed: 0, failed: 2 });
    expect(text.stdout).toMatch(/^#1 +wf +failed +in\.jsonl +2 +0 +2 +0 /m);
  });

  it('--cache: an identical batch at temperature 0 makes no generation request; show reports cache_hit', async () => {
    workspace();
    const input = jsonl('in.jsonl', topics(2, 'cached '));
    const first = await quire(['run', 'wf', '--batch', input, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(generationRequests()).toBe(2);
    mock.reset();
    const second = await quire(['run', 'wf', '--batch', input, '--cache', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(batchEnd(jsonLines(second.stdout))).toMatchObject({ batchId: 2, status: 'completed', counts: { completed: 2, cacheHits: 2 } });
    expect(generationRequests()).toBe(0);
    const runsOf = (batchId: number) => new Map(batchRuns(batchId).map((r) => [r.record, r.id]));
    const [before, after] = [runsOf(1), runsOf(2)];
    const show = (id: number | undefined) => quireJson<ShownRun>(['show', String(id)]);
    const [{ batch }, ...shown] = await Promise.all([
      quireJson<{ batch: BatchJson }>(['show', '--batch', '2']),
      ...[1, 2].flatMap((record) => [show(before.get(record)), show(after.get(record))]),
    ]);
    expect(batch.settings).toMatchObject({ cache: true });
    for (const record of [1, 2]) {
      const [original, cached] = [shown[2 * record - 2] as ShownRun, shown[2 * record - 1] as ShownRun];
      expect(cached.run.status).toBe('completed');
      expect(cached.responses[0]!.metadata).toMatchObject({ cache_hit: true, cached_from: original.responses[0]!.id });
      expect(cached.responses[0]!.content).toBe(original.responses[0]!.content);
      expect(original.responses[0]!.metadata['cache_hit']).toBeUndefined();
    }
  });

  it('concurrency at the server: --concurrency 3 -> exactly 3 at once; quire.yaml concurrency 2 and no flag -> 2', async () => {
    workspace();
    mock.setFaults({ latencyMs: 10 });
    const input = jsonl('in.jsonl', topics(12));
    const flagged = await quire(['run', 'wf', '--batch', input, '--concurrency', '3', '--quiet']);
    expect(flagged.code, flagged.stderr).toBe(0);
    expect(generationRequests()).toBe(12);
    expect(mock.generations().peak).toBe(3);

    ws!.write('quire.yaml', `llm:\n  api: openai\n  retries: 0\nendpoints:\n  "5001": { urls: ["${mock.url}"], concurrency: 2 }\n`);
    mock.reset();
    const configured = await quire(['run', 'wf', '--batch', input, '--json']);
    expect(configured.code, configured.stderr).toBe(0);
    expect(jsonLines(configured.stdout)[0]).toMatchObject({ type: 'batch-start', concurrency: [{ port: 5001, limit: 2 }] });
    expect(generationRequests()).toBe(12);
    expect(mock.generations().peak).toBe(2);
  });

  it('SQLite under load: --concurrency 64 while other processes sync, list and run against the same database: no "database is locked"', async () => {
    workspace();
    const input = jsonl('in.jsonl', topics(300));
    expect((await quire(['sync'])).code).toBe(0);
    const batch = quire(['run', 'pair', '--batch', input, '--concurrency', '64', '--quiet']);
    // Beside it: the commands a user runs while a batch goes (each opens, reads and writes the same file).
    const others: CliResult[] = [];
    for (let i = 0; i < 3; i++) others.push(...(await Promise.all([quire(['sync']), quire(['runs', '--limit', '5']), quire(['run', 'wf', '--input', `topic=side ${i}`, '--no-stream'])])));
    const done = await batch;
    expect(done.code, done.stderr).toBe(0);
    for (const other of others) {
      expect(other.code, other.stderr).toBe(0);
      expect(other.stderr).not.toMatch(/locked|busy/i);
    }
    const db = new Database(join(ws!.root, 'data', 'quire.db'), { readonly: true });
    const completed = db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'completed'").get() as { n: number };
    db.close();
    expect(completed.n).toBe(303);
  });
});
