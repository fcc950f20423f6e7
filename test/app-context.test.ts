/**
 * One process, many runs: a long-lived AppContext (what watch and batch keep) runs many
 * workflow runs on one model and one database connection, and runs that share an LLM
 * client do not fail each other. Real SQLite file, real mock-llm over HTTP.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { listRuns, showRun } from '../src/app/history.js';
import { runWorkflow, type RunOutcome } from '../src/app/run.js';
import { syncModel } from '../src/app/sync.js';
import { createAppContext } from '../src/cli/context.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const FILES: Record<string, string> = {
  'blocks/task.md': 'Answer about {{input.topic}}:\n',
  'workflows/ask.payload.yaml': 'model_format: chatml\nresponse_length: 20\nblocks: [task, { text: "{{input.topic}} please" }]\n',
  'workflows/follow.payload.yaml': 'model_format: llama3\nresponse_length: 20\nblocks: [{ text: "Again: {{previous.output}}" }]\n',
  'workflows/two.workflow.yaml': 'name: two\ninputs:\n  topic: { type: string }\npayloads: [ask, follow]\n',
};

let mock: MockLlm;
let ws: TempWorkspace;
let app: AppContext;
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
afterEach(async () => {
  await app?.close();
  mock.setFaults({});
  mock.reset();
  ws?.cleanup();
});

function open(config = 'llm:\n  api: openai\n  retries: 0\n'): AppContext {
  ws = makeWorkspace({ ...FILES, 'quire.yaml': config });
  app = createAppContext({ root: ws.root, dbPath: ws.dbPath });
  return app;
}

/** Open file descriptors of this process that point at the database file itself. */
function databaseHandles(dbPath: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === dbPath;
    } catch {
      return false;
    }
  }).length;
}

describe('one app context, many runs', () => {
  it('runs 50 workflow runs on one model and one database connection, recording every one', async () => {
    const ctx = open();
    const model = await syncModel(ctx);
    const endpoint = [`5001=${mock.url}`];
    const stores = await ctx.stores.forWriting();
    const outcomes: RunOutcome[] = [];
    for (let i = 0; i < 50; i++) {
      outcomes.push(await runWorkflow(ctx, { workflow: 'two', inputs: { topic: `t${i}` }, endpointOverrides: endpoint, trigger: 'batch', stream: i % 2 === 0, model }));
    }
    expect(outcomes.map((o) => o.status)).toEqual(Array(50).fill('completed'));
    expect(new Set(outcomes.map((o) => o.runId)).size).toBe(50);
    expect(outcomes[7]!.outputs[0]!.content).toBe('echo: t7 please');
    // The same stores (no reopen) and exactly one open handle on the database file.
    expect(await ctx.stores.forWriting()).toBe(stores);
    expect(databaseHandles(ws.dbPath)).toBe(1);
    expect(mock.requests.filter((r) => r.path === '/v1/completions')).toHaveLength(100);

    const runs = await listRuns(ctx, { workflow: 'two', limit: 100 });
    expect(runs).toHaveLength(50);
    expect(runs.every((r) => r.status === 'completed' && r.steps === 2 && r.metadata.trigger === 'batch')).toBe(true);
    const shown = await showRun(ctx, outcomes[49]!.runId);
    expect(shown.responses.map((r) => r.content)).toEqual(['echo: t49 please', 'echo: Again: echo: t49 please']);
    expect(shown.run.metadata.files).toHaveProperty(['blocks/task.md']);
  });

  // Both start together: they share the endpoint's client, its API detection and its one-at-a-time queue.
  it('a run cancelled while the shared API detection is in flight does not fail a concurrent run sharing its client', async () => {
    const cancelWhen = () => mock.requests.length > 0;
    const ctx = open('llm:\n  api: auto\n  retries: 0\nendpoints:\n  5001: { concurrency: 1 }\n');
    const model = await syncModel(ctx);
    mock.setFaults({ latencyMs: 30 });
    const endpoint = [`5001=${mock.url}`];
    const cancel = new AbortController();
    const poll = setInterval(() => {
      if (cancelWhen()) {
        cancel.abort();
        clearInterval(poll);
      }
    }, 1);
    const cancelled = runWorkflow(ctx, { workflow: 'two', inputs: { topic: 'a' }, endpointOverrides: endpoint, trigger: 'cli', stream: true, signal: cancel.signal, model });
    const survivor = runWorkflow(ctx, { workflow: 'two', inputs: { topic: 'b' }, endpointOverrides: endpoint, trigger: 'cli', stream: true, model });
    const [a, b] = await Promise.all([cancelled, survivor]);
    expect(a.status).toBe('cancelled');
    expect(b.status).toBe('completed');
    expect(b.outputs.map((o) => o.content)).toEqual(['echo: b please', 'echo: Again: echo: b please']);
    const runs = await listRuns(ctx, { limit: 10 });
    expect(runs.map((r) => r.status).sort()).toEqual(['cancelled', 'completed']);
  });

  it('a run cancelled while it generates does not fail the run queued behind it on the same client', async () => {
    const ctx = open('llm:\n  api: auto\n  retries: 0\nendpoints:\n  5001: { concurrency: 1 }\n');
    const model = await syncModel(ctx);
    mock.setFaults({ latencyMs: 30 });
    const endpoint = [`5001=${mock.url}`];
    const cancel = new AbortController();
    const until = async (condition: () => boolean) => {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    const generating = () => mock.requests.filter((r) => /generate|completions/.test(r.path)).length;
    const cancelled = runWorkflow(ctx, { workflow: 'two', inputs: { topic: 'a' }, endpointOverrides: endpoint, trigger: 'cli', stream: true, signal: cancel.signal, model });
    await until(() => generating() === 1);
    const survivor = runWorkflow(ctx, { workflow: 'two', inputs: { topic: 'b' }, endpointOverrides: endpoint, trigger: 'cli', stream: true, model });
    await new Promise((resolve) => setTimeout(resolve, 20)); // b is now waiting for a's slot
    cancel.abort();
    const [a, b] = await Promise.all([cancelled, survivor]);
    expect(a.status).toBe('cancelled');
    expect(b.status).toBe('completed');
    expect(b.outputs.map((o) => o.content)).toEqual(['echo: b please', 'echo: Again: echo: b please']);
  });

  it('a cached block keeps its text after the stores are closed', async () => {
    const ctx = open();
    await syncModel(ctx);
    const cache = ctx.stores.readCache()!;
    const block = cache.entries().get('blocks/task.md')!.parsed;
    await ctx.stores.close();
    expect(block.kind === 'block' && block.block.content).toBe('Answer about {{input.topic}}:\n');
  });
});
