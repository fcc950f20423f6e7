/**
 * What the viewer tests share: a workspace whose runs are recorded against a real
 * mock-llm (through runWorkflow), batches written through the stores (1,000 records in
 * well under a second), rows typed in the way the original system wrote them, a viewer
 * started on its own context, and a plain HTTP client that can send any Host header.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { dirname } from 'node:path';
import type { AppContext } from '../src/app/context.js';
import { runWorkflow } from '../src/app/run.js';
import { createAppContext } from '../src/cli/context.js';
import type { BatchRecordResult } from '../src/core/batch.js';
import { startViewer, type Viewer, type ViewerOptions } from '../src/viewer/server.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

/** Two steps: `one` asks about the topic (the mock echoes the last line), `two` repeats step one's answer. */
export function pairWorkspace(mockUrl: string): TempWorkspace {
  return makeWorkspace({
    'quire.yaml': `llm:\n  api: openai\n  retries: 0\nendpoints:\n  "5001": { urls: ["${mockUrl}"] }\n`,
    'blocks/ask.md': '---\ntags: [asking]\n---\nAnswer briefly.\nTopic: {{input.topic}}\n',
    'workflows/one.payload.yaml': 'response_length: 40\nblocks: [{ tag: asking }]\n',
    'workflows/two.payload.yaml': 'response_length: 40\nblocks: [{ text: "Again: {{steps.one.output}}" }]\n',
    'workflows/pair.workflow.yaml': 'name: pair\ndescription: ask, then ask again\ninputs:\n  topic: { type: string }\npayloads:\n  - payload: one\n    expect: [{ contains: fox }]\n  - two\n',
  });
}

/** Records one run of `pair` per topic (a real run against the mock); returns the run ids. */
export async function recordRuns(ctx: AppContext, topics: readonly string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const topic of topics) {
    const outcome = await runWorkflow(ctx, { workflow: 'pair', inputs: { topic }, trigger: 'cli', stream: false });
    ids.push(outcome.runId);
  }
  return ids;
}

export interface BatchSpec {
  records: number;
  /** The topic of record n (1-based). */
  topic?: (n: number) => string;
  /** What became of record n (default completed). */
  status?: (n: number) => BatchRecordResult['status'];
}

/**
 * A finished batch of `pair` written through the stores, as the batch runner writes it:
 * one run per record (trigger batch, its responses with checks), the records' rows and
 * the counts. Returns the batch id.
 */
export async function insertBatch(ctx: AppContext, spec: BatchSpec): Promise<number> {
  const { history, batches, mirror } = await ctx.stores.forWriting();
  const links = await mirror.runLinks('pair');
  const now = new Date();
  const batchId = await batches.createBatch({ workflowId: links.workflowId, workflow: 'pair', inputPath: 'records.jsonl', inputHash: 'sha256:records', inputFormat: 'jsonl', settings: { concurrency: 4 }, startedAt: now });
  const results: BatchRecordResult[] = [];
  const counts = { completed: 0, failed: 0, cancelled: 0, invalid: 0, skipped: 0, cacheHits: 0 };
  for (let n = 1; n <= spec.records; n++) {
    const status = spec.status?.(n) ?? 'completed';
    counts[status]++;
    if (status === 'invalid') {
      results.push({ record: n, line: n, runId: null, status, key: null, error: `records.jsonl:${n}:1: record ${n}: topic must be a string` });
      continue;
    }
    const topic = spec.topic?.(n) ?? `record ${n}`;
    const base = { inputs: { topic }, trigger: 'batch', batch_id: batchId, batch_record: n, batch_line: n };
    const runId = await history.startRun({ workflowId: links.workflowId, metadata: base, startedAt: now });
    const output = `echo: Topic: ${topic}`;
    const pass = output.includes('fox');
    const checks = { step: 'one', pass, score: pass ? 1 : 0, checks: [{ check: 'contains' as const, pass, score: pass ? 1 : 0, weight: 1, reason: pass ? 'contains "fox"' : `"fox" not found in "${output}"` }] };
    await history.addResponse({ runId, payloadId: links.payloadIds.get('one') ?? null, content: output, prompt: `Answer briefly.\nTopic: ${topic}`, metadata: { step: 'one', step_index: 0, api: 'openai', model: 'mock-model', prompt_tokens: 6, completion_tokens: 4, total_ms: 3, finish_reason: 'stop', checks } }, now);
    if (status === 'completed') {
      await history.addResponse({ runId, payloadId: links.payloadIds.get('two') ?? null, content: `echo: Again: ${output}`, prompt: `Again: ${output}`, metadata: { step: 'two', step_index: 1, prompt_tokens: 8, completion_tokens: 6, total_ms: 2, finish_reason: 'stop' } }, now);
    }
    const end = new Date(now.getTime() + (n % 7) * 10);
    await history.finishRun(runId, status === 'completed' ? 'completed' : status === 'failed' ? 'failed' : 'cancelled', { ...base, checks: { passed: pass ? 1 : 0, failed: pass ? 0 : 1 }, ...(status === 'failed' ? { error: `step two failed for record ${n}` } : {}) }, end);
    results.push({ record: n, line: n, runId, status, key: `key-${n}`, error: status === 'failed' ? `step two failed for record ${n}` : null });
  }
  await batches.saveResults(batchId, results, { recordCount: spec.records, counts });
  await batches.finishBatch(batchId, 'completed', new Date(), { recordCount: spec.records, counts });
  return batchId;
}

/** Rows as other tools type them: metadata that is not JSON, JSON that is not an object, no prompt, a workflow row gone. */
export function insertOddRows(dbPath: string): { notJson: number; array: number; orphan: number } {
  const db = new Database(dbPath);
  try {
    db.pragma('foreign_keys = OFF');
    const run = db.prepare('INSERT INTO runs (workflow_id, status, started_at, completed_at, metadata) VALUES (?, ?, ?, ?, ?)');
    const notJson = Number(run.run(1, 'completed', '2020-01-01 10:00:00', 'yesterday', 'not json {').lastInsertRowid);
    const array = Number(run.run(1, 'failed', 'odd time', null, '[1,2,3]').lastInsertRowid);
    const orphan = Number(run.run(9999, 'running', '2020-01-02 10:00:00', null, null).lastInsertRowid);
    const response = db.prepare('INSERT INTO responses (run_id, payload_id, content, metadata, prompt) VALUES (?, ?, ?, ?, ?)');
    response.run(notJson, 4242, 'typed by hand', '{"checks": "weird", "sampler": [1], "prompt_tokens": "many"}', null);
    response.run(array, null, null, 'also not json', null);
    return { notJson, array, orphan };
  } finally {
    db.close();
  }
}

/** The original system's schema and rows, no quire migration applied. */
export function makeOriginalDatabase(path: string): void {
  const ddl = readFileSync(new URL('./fixtures/seed-schema.sql', import.meta.url), 'utf8');
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.exec(ddl);
  db.exec(`
    INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Intro', 'Hello {{input.name}}.', 'greeting, intro', 'Phase 1/Instructions');
    INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Outro', 'Bye.', NULL, NULL);
    INSERT INTO payloads (name, temperature, response_length, llm_port, model_format) VALUES ('greet', 0.7, 300, 5001, 'mistral');
    INSERT INTO payload_blocks (payload_id, block_id, order_index) VALUES (1, 1, 0), (1, 2, 1);
    INSERT INTO workflows (name) VALUES ('hello flow');
    INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (1, 1, 0);
    INSERT INTO runs (workflow_id, status, completed_at, metadata) VALUES (1, 'completed', CURRENT_TIMESTAMP, '{"inputs":{"name":"Ada"}}');
    INSERT INTO responses (run_id, payload_id, content, metadata) VALUES (1, 1, 'Hello there, <b>Ada</b>.', '{"tokens":3}');
  `);
  db.close();
}

/** A viewer on its own context (read-only), closed with it. */
export async function openViewer(ws: { root: string; dbPath: string }, options: Partial<ViewerOptions> = {}): Promise<{ viewer: Viewer; ctx: AppContext; base: string; close(): Promise<void> }> {
  const ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
  try {
    const viewer = await startViewer(ctx, { port: 0, ...options });
    const base = `http://127.0.0.1:${viewer.port}`;
    return { viewer, ctx, base, close: async () => { await viewer.close(); await ctx.close(); } };
  } catch (error) {
    await ctx.close();
    throw error;
  }
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with node:http (fetch will not send another Host header). */
export function get(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** sha256 of a file's bytes; '' when it does not exist. */
export function fileHash(path: string): string {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : '';
}
