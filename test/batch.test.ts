/**
 * Batches (app/batch.ts) on real workspaces, real SQLite and real mock-llm servers: the
 * per-endpoint limits measured at the servers, invalid records, --strict, resume by
 * provenance (also of runs whose results were never saved), --max-failures, pool
 * failover, the step cache, and results as `show` reports them.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRecordSource } from '../src/adapters/records/index.js';
import { runBatch, type BatchOptions } from '../src/app/batch.js';
import { batchResults } from '../src/app/batches.js';
import type { AppContext } from '../src/app/context.js';
import { showRun } from '../src/app/history.js';
import { runWorkflow } from '../src/app/run.js';
import { createAppContext } from '../src/cli/context.js';
import type { BatchEvent } from '../src/core/batch.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

let first: MockLlm;
let second: MockLlm;
beforeAll(async () => {
  [first, second] = await Promise.all([startMockLlm({ api: 'openai' }), startMockLlm({ api: 'openai' })]);
});
afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
});

let ws: TempWorkspace;
let ctx: AppContext;
afterEach(async () => {
  await ctx?.close();
  first.setFaults({});
  second.setFaults({});
  first.reset();
  second.reset();
  ws?.cleanup();
});

/** Two steps on two ports (two servers), limits 2 and 3. */
function workspace(config = `llm:\n  api: openai\n  retries: 0\nendpoints:\n  "5001": { urls: ["${first.url}"], concurrency: 2 }\n  "5002": { urls: ["${second.url}"], concurrency: 3 }\n`) {
  ws = makeWorkspace({
    'quire.yaml': config,
    'blocks/ask.md': 'Say something about {{input.topic}}\n',
    'workflows/one.payload.yaml': 'response_length: 8\nblocks: [ask]\n',
    'workflows/two.payload.yaml': 'response_length: 8\nllm_port: 5002\nblocks: [{ text: "Again: {{steps.one.output}}" }]\n',
    'workflows/pair.workflow.yaml': 'name: pair\ninputs:\n  topic: { type: string }\n  n: { type: integer, default: 1 }\npayloads: [one, two]\n',
  });
  ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
}

function jsonl(name: string, records: unknown[]): string {
  const path = join(ws.root, name);
  writeFileSync(path, records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return path;
}

function options(path: string, extra: Partial<BatchOptions> = {}): BatchOptions & { events: BatchEvent[] } {
  const events: BatchEvent[] = [];
  return {
    workflow: 'pair',
    openSource: () => openRecordSource(path),
    inputPath: path,
    inputHash: `hash-of-${path}`,
    onEvent: (event) => events.push(event),
    events,
    ...extra,
  };
}

const generations = (mock: MockLlm) => mock.requests.filter((r) => r.method === 'POST').length;

function batchRows(dbPath: string, batchId: number) {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT record, line, run_id, status, error FROM batch_records WHERE batch_id = ? ORDER BY record').all(batchId) as { record: number; line: number; run_id: number | null; status: string; error: string | null }[];
  db.close();
  return rows;
}

function completedRunsByRecord(dbPath: string, batchId: number): Map<number, number> {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare("SELECT metadata FROM runs WHERE status = 'completed'").all() as { metadata: string }[];
  db.close();
  const counts = new Map<number, number>();
  for (const { metadata } of rows) {
    const m = JSON.parse(metadata) as { batch_id?: number; batch_record?: number };
    if (m.batch_id === batchId && m.batch_record !== undefined) counts.set(m.batch_record, (counts.get(m.batch_record) ?? 0) + 1);
  }
  return counts;
}

describe('batch', () => {
  it('keeps each endpoint at its limit, never above, with the steps of different records at both servers at once', async () => {
    workspace();
    first.setFaults({ latencyMs: 6 });
    second.setFaults({ latencyMs: 6 });
    const path = jsonl('in.jsonl', Array.from({ length: 24 }, (_, i) => ({ topic: `topic ${i}` })));
    const opts = options(path);
    const outcome = await runBatch(ctx, opts);
    expect(outcome).toMatchObject({ status: 'completed', counts: { completed: 24, failed: 0, invalid: 0 } });
    expect(first.generations().peak).toBe(2);
    expect(second.generations().peak).toBe(3);
    expect(generations(first)).toBe(24);
    expect(generations(second)).toBe(24);
    expect(opts.events[0]).toMatchObject({ type: 'batch-start', concurrency: [{ port: 5001, limit: 2 }, { port: 5002, limit: 3 }] });
    expect(opts.events.at(-1)).toMatchObject({ type: 'batch-end', status: 'completed' });
    const rows = batchRows(ws.dbPath, outcome.batchId);
    expect(rows.map((r) => [r.record, r.line, r.status])).toEqual(Array.from({ length: 24 }, (_, i) => [i + 1, i + 1, 'completed']));
  });

  it('--concurrency overrides every endpoint limit', async () => {
    workspace();
    first.setFaults({ latencyMs: 10 });
    second.setFaults({ latencyMs: 10 });
    const path = jsonl('in.jsonl', Array.from({ length: 12 }, (_, i) => ({ topic: `t${i}` })));
    await runBatch(ctx, options(path, { concurrency: 1 }));
    expect([first.generations().peak, second.generations().peak]).toEqual([1, 1]);
  });

  it('reports a bad record with its line and goes on; the bad ones are recorded invalid', async () => {
    workspace();
    const path = jsonl('in.jsonl', [{ topic: 'fine' }, '{"topic": ', { topik: 'typo' }, { topic: 'also fine', n: 'two' }, { topic: 'last' }]);
    const opts = options(path);
    const outcome = await runBatch(ctx, opts);
    expect(outcome.counts).toMatchObject({ completed: 2, invalid: 3 });
    const problems = opts.events.flatMap((e) => (e.type === 'record-problem' ? [`${e.problem.line}:${e.problem.code}:${e.problem.message}`] : []));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^2:RECORD:/);
    expect(problems[1]).toMatch(/^3:RECORD:record 3: unknown input "topik"; did you mean "topic"\?/);
    expect(problems[2]).toMatch(/^4:RECORD:record 4: input "n" must be an integer/);
    expect(batchRows(ws.dbPath, outcome.batchId).map((r) => r.status)).toEqual(['completed', 'invalid', 'invalid', 'invalid', 'completed']);
  });

  it("CSV: an empty cell is a value not given, so the input's default applies", async () => {
    workspace();
    const path = join(ws.root, 'in.csv');
    writeFileSync(path, 'topic,n\ncats,\ndogs,4\n');
    const outcome = await runBatch(ctx, options(path));
    expect(outcome.counts).toMatchObject({ completed: 2, invalid: 0 });
    const { rows } = await batchResults(ctx, outcome.batchId);
    const inputs = [];
    for await (const row of rows) inputs.push(row.inputs);
    expect(inputs).toEqual([{ topic: 'cats', n: 1 }, { topic: 'dogs', n: 4 }]);
  });

  it('a CSV whose header cannot be read fails the batch with a reason naming the file and line', async () => {
    workspace();
    const path = join(ws.root, 'in.csv');
    writeFileSync(path, 'topic,,n\ncats,x,1\n');
    const outcome = await runBatch(ctx, { ...options(path), inputPath: 'in.csv' });
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(/in\.csv:1:\d+: .*header/);
    expect(generations(first)).toBe(0);
  });

  it('--strict: one bad record stops the batch before any request or batch row', async () => {
    workspace();
    const path = jsonl('in.jsonl', [{ topic: 'fine' }, { topic: 'fine too' }, { nope: 1 }]);
    await expect(runBatch(ctx, options(path, { strict: true }))).rejects.toMatchObject({ code: 'RECORD', message: expect.stringContaining('nothing was run') });
    expect(generations(first)).toBe(0);
    const db = new Database(ws.dbPath, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM batches').get()).toEqual({ n: 0 });
    db.close();
  });

  it('resume skips what completed, reruns what did not, and never runs a record twice, also when its result was never saved', async () => {
    workspace();
    first.setFaults({ latencyMs: 5 });
    const path = jsonl('in.jsonl', Array.from({ length: 10 }, (_, i) => ({ topic: `r${i}` })));
    const controller = new AbortController();
    const opts = options(path, { signal: controller.signal, concurrency: 1 });
    opts.onEvent = (event) => {
      opts.events.push(event);
      if (event.type === 'record-end' && event.index === 4) controller.abort();
    };
    const partial = await runBatch(ctx, opts);
    expect(partial.status).toBe('cancelled');
    expect(partial.counts.completed).toBe(4);
    // A crash after record 4 finished and before its result was saved: its run exists, its row does not.
    const db = new Database(ws.dbPath);
    db.prepare('DELETE FROM batch_records WHERE batch_id = ? AND record = 4').run(partial.batchId);
    db.close();

    first.setFaults({});
    const resumed = await runBatch(ctx, options(path, { resume: 'latest' }));
    expect(resumed.batchId).toBe(partial.batchId);
    expect(resumed).toMatchObject({ status: 'completed', counts: { completed: 10, failed: 0, cancelled: 0, skipped: 4 } });
    const runs = completedRunsByRecord(ws.dbPath, partial.batchId);
    expect([...runs.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });

  it('resume reruns records whose files changed since (provenance), and refuses another input', async () => {
    workspace();
    const path = jsonl('in.jsonl', [{ topic: 'a' }, { topic: 'b' }]);
    const done = await runBatch(ctx, options(path));
    ws.write('blocks/ask.md', 'Say something else about {{input.topic}}\n');
    await ctx.close();
    ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
    first.reset();
    const again = await runBatch(ctx, options(path, { resume: done.batchId }));
    expect(again.counts).toMatchObject({ completed: 2, skipped: 0 });
    expect(generations(first)).toBe(2);
    await expect(runBatch(ctx, { ...options(path, { resume: done.batchId }), inputHash: 'another' })).rejects.toMatchObject({ code: 'INPUT', message: expect.stringContaining('input changed') });
  });

  it('--max-failures stops reading once that many records failed; the batch is failed', async () => {
    workspace(`llm:\n  api: openai\n  retries: 0\nendpoints:\n  "5001": { urls: ["${first.url}"], concurrency: 1 }\n  "5002": { urls: ["${second.url}"], concurrency: 1 }\n`);
    first.setFaults({ status: 500 });
    const path = jsonl('in.jsonl', Array.from({ length: 20 }, (_, i) => ({ topic: `f${i}` })));
    const outcome = await runBatch(ctx, options(path, { maxFailures: 3 }));
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toContain('--max-failures 3');
    expect(outcome.counts.failed).toBeGreaterThanOrEqual(3);
    expect(outcome.counts.failed).toBeLessThan(6);
  });

  it('a pool member that dies mid-batch: its work moves to the other member and every record completes', async () => {
    const dying = await startMockLlm({ api: 'openai' });
    workspace(`llm:\n  api: openai\n  retries: 1\nendpoints:\n  "5001": { urls: ["${dying.url}", "${first.url}"], concurrency: 2 }\n  "5002": { urls: ["${second.url}"], concurrency: 2 }\n`);
    dying.setFaults({ latencyMs: 5 });
    first.setFaults({ latencyMs: 5 });
    const path = jsonl('in.jsonl', Array.from({ length: 16 }, (_, i) => ({ topic: `p${i}` })));
    const opts = options(path);
    opts.onEvent = (event) => {
      if (event.type === 'record-end' && event.index === 3) void dying.close();
    };
    const outcome = await runBatch(ctx, opts);
    await dying.close().catch(() => undefined);
    expect(outcome.counts).toMatchObject({ completed: 16, failed: 0 });
    expect(generations(first)).toBeGreaterThan(0);
  });

  it('results hold what `show` reports for each record', async () => {
    workspace();
    const path = jsonl('in.jsonl', [{ topic: 'x' }, { bad: true }, { topic: 'y', n: 3 }]);
    const outcome = await runBatch(ctx, options(path));
    const { rows } = await batchResults(ctx, outcome.batchId);
    const all = [];
    for await (const row of rows) all.push(row);
    expect(all.map((r) => [r.record, r.status])).toEqual([[1, 'completed'], [2, 'invalid'], [3, 'completed']]);
    for (const row of all.filter((r) => r.run_id !== null)) {
      const shown = await showRun(ctx, row.run_id!);
      expect(row.inputs).toEqual(shown.run.metadata.inputs);
      expect(Object.keys(row.steps)).toEqual(['one', 'two']);
      expect(shown.responses.map((r) => r.content)).toEqual([row.steps['one']!.output, row.steps['two']!.output]);
    }
    expect(all[2]!.inputs).toEqual({ topic: 'y', n: 3 });
  });
});

describe('step cache', () => {
  it('an identical request at temperature 0 is answered from the cache, recorded with the response it came from', async () => {
    workspace();
    ws.write('workflows/one.payload.yaml', 'response_length: 8\ntemperature: 0\nblocks: [ask]\n');
    const run = (cache: boolean) => runWorkflow(ctx, { workflow: 'pair', inputs: { topic: 'cats' }, trigger: 'cli', stream: false, cache });
    const fresh = await run(false);
    expect(fresh).toMatchObject({ status: 'completed', cacheHits: 0 });
    first.reset();
    second.reset();
    const cached = await run(true);
    // Step one is reused; step two (temperature 0.7 by default, no seed) is a new draw.
    expect(cached).toMatchObject({ status: 'completed', cacheHits: 1 });
    expect([generations(first), generations(second)]).toEqual([0, 1]);
    const shown = await showRun(ctx, cached.runId);
    const original = await showRun(ctx, fresh.runId);
    expect(shown.responses[0]!.metadata).toMatchObject({ cache_hit: true, cached_from: original.responses[0]!.id });
    expect(shown.responses[0]!.content).toBe(original.responses[0]!.content);
    expect(shown.responses[1]!.metadata.cache_hit).toBeUndefined();
  });

  it('a fixed seed makes a sampling step cacheable; a changed prompt or temperature is a miss', async () => {
    workspace();
    ws.write('workflows/one.payload.yaml', 'response_length: 8\ntemperature: 0.8\nparams: { seed: 7 }\nblocks: [ask]\n');
    const run = (topic: string) => runWorkflow(ctx, { workflow: 'pair', inputs: { topic }, trigger: 'cli', stream: false, cache: true });
    await run('dogs');
    expect((await run('dogs')).cacheHits).toBe(1);
    expect((await run('birds')).cacheHits).toBe(0);
    ws.write('workflows/one.payload.yaml', 'response_length: 8\ntemperature: 0.9\nparams: { seed: 7 }\nblocks: [ask]\n');
    await ctx.close();
    ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
    expect((await run('dogs')).cacheHits).toBe(0);
  });
});
