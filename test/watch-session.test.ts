/**
 * The watch session (app/watch.ts) on a real workspace, database and mock-llm, with the
 * saves handed in as a watcher would report them (the real watcher has its own tests,
 * and the CLI test runs both together).
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { listRuns } from '../src/app/history.js';
import { startWatch, type WatchEvent, type WatchSession } from '../src/app/watch.js';
import { createAppContext } from '../src/cli/context.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const FILES: Record<string, string> = {
  'quire.yaml': 'llm:\n  api: openai\n  retries: 0\n',
  'blocks/ask.md': 'Tell me about {{input.topic}}\n',
  'blocks/other.md': 'Something else\n',
  'workflows/a.payload.yaml': 'response_length: 30\nblocks: [ask]\n',
  'workflows/b.payload.yaml': 'response_length: 30\nblocks: [other]\n',
  'workflows/wa.workflow.yaml': 'name: wa\ninputs:\n  topic: { type: string }\npayloads: [a]\n',
  'workflows/wb.workflow.yaml': 'name: wb\npayloads: [b]\n',
  'workflows/needs.workflow.yaml': 'name: needs\ninputs:\n  missing: { type: string }\npayloads: [b]\n',
};

let mock: MockLlm;
let ws: TempWorkspace;
let ctx: AppContext;
let session: WatchSession | undefined;
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
afterEach(async () => {
  await session?.stop();
  await ctx?.close();
  mock.setFaults({});
  ws?.cleanup();
});

async function watch(config = FILES['quire.yaml']!): Promise<{ events: WatchEvent[]; save: (batch: { changed: string[]; removed: string[] }) => void }> {
  ws = makeWorkspace({ ...FILES, 'quire.yaml': config });
  ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
  const events: WatchEvent[] = [];
  let onBatch: ((batch: { changed: string[]; removed: string[] }) => void) | undefined;
  session = await startWatch(ctx, {
    workflows: [],
    inputs: { topic: 'cats' },
    endpointOverrides: [`5001=${mock.url}`],
    stream: true,
    onEvent: (event) => events.push(event),
    startWatcher: async (handler) => {
      onBatch = handler;
      return { close: async () => {} };
    },
  });
  return { events, save: (batch) => onBatch!(batch) };
}

const runEnds = (events: WatchEvent[]) => events.flatMap((e) => (e.type === 'run' && e.event.type === 'run-end' ? [`${e.workflow}:${e.event.status}`] : []));

describe('watch session', () => {
  it('runs every runnable workflow once, skipping one whose inputs are missing, then reruns only what a save reaches', async () => {
    const { events, save } = await watch();
    await session!.idle();
    expect(events[0]).toMatchObject({ type: 'ready', workflows: ['wa', 'wb'], skipped: [{ workflow: 'needs', reason: expect.stringContaining('missing') }] });
    expect(runEnds(events)).toEqual(['wa:completed', 'wb:completed']);

    ws.write('blocks/ask.md', 'Tell me more about {{input.topic}}\n');
    events.length = 0;
    save({ changed: ['blocks/ask.md'], removed: [] });
    await session!.idle();
    expect(events.filter((e) => e.type === 'rerun')).toEqual([{ type: 'rerun', workflow: 'wa', because: 'blocks/ask.md', cancelledRunning: false }]);
    expect(runEnds(events)).toEqual(['wa:completed']);
    const diff = events.find((e) => e.type === 'step-diff');
    expect(diff).toMatchObject({ workflow: 'wa', step: 'a', diff: { changed: true } });
    const [latest] = await listRuns(ctx, { workflow: 'wa', limit: 1 });
    expect(latest!.metadata).toMatchObject({ trigger: 'watch', changed_files: ['blocks/ask.md'] });
  });

  it('a save that reaches the workflow running now cancels it (recorded cancelled) and runs it once more', async () => {
    const { events, save } = await watch();
    await session!.idle();
    mock.setFaults({ latencyMs: 40 });
    events.length = 0;
    ws.write('blocks/ask.md', 'Version two about {{input.topic}}\n');
    save({ changed: ['blocks/ask.md'], removed: [] });
    // Wait until the rerun is generating, then save again.
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'run' && e.event.type === 'token' && e.workflow === 'wa'); i++) await new Promise((r) => setTimeout(r, 10));
    ws.write('blocks/ask.md', 'Version three about {{input.topic}}\n');
    save({ changed: ['blocks/ask.md'], removed: [] });
    await session!.idle();
    const runs = await listRuns(ctx, { workflow: 'wa', limit: 10 });
    expect(runs.map((r) => r.status)).toEqual(['completed', 'cancelled', 'completed']);
    expect(events.some((e) => e.type === 'rerun' && e.cancelledRunning)).toBe(true);
  });

  it('a broken save reports its problems and runs nothing; the next good save reruns', async () => {
    const { events, save } = await watch();
    await session!.idle();
    events.length = 0;
    ws.write('workflows/a.payload.yaml', 'response_length: 30\nblocks: [nope]\n');
    save({ changed: ['workflows/a.payload.yaml'], removed: [] });
    await session!.idle();
    expect(events.map((e) => e.type)).toEqual(['change', 'problems']);
    expect(events[1]).toMatchObject({ problems: [{ file: 'workflows/a.payload.yaml', line: 2, code: 'MISSING_BLOCK' }] });
    ws.write('workflows/a.payload.yaml', 'response_length: 30\nblocks: [ask, other]\n');
    save({ changed: ['workflows/a.payload.yaml'], removed: [] });
    await session!.idle();
    expect(runEnds(events)).toEqual(['wa:completed']);
  });
  it('cancelling a KoboldCpp generation for a rerun tells the server to abort it (its genkey), then the rerun completes', async () => {
    const { events, save } = await watch('llm:\n  api: kobold\n  retries: 0\n');
    await session!.idle();
    mock.setFaults({ latencyMs: 60 });
    events.length = 0;
    mock.reset();
    ws.write('blocks/ask.md', 'Slow version about {{input.topic}}\n');
    save({ changed: ['blocks/ask.md'], removed: [] });
    for (let i = 0; i < 300 && !events.some((e) => e.type === 'run' && e.event.type === 'token'); i++) await new Promise((r) => setTimeout(r, 10));
    ws.write('blocks/ask.md', 'Final version about {{input.topic}}\n');
    save({ changed: ['blocks/ask.md'], removed: [] });
    await session!.idle();
    const generations = mock.requests.filter((r) => r.path === '/api/extra/generate/stream');
    const aborts = mock.requests.filter((r) => r.path === '/api/extra/abort');
    expect(generations).toHaveLength(2);
    expect(aborts).toHaveLength(1);
    expect((aborts[0]!.body as { genkey?: string }).genkey).toBe((generations[0]!.body as { genkey?: string }).genkey);
    expect(runEnds(events)).toEqual(['wa:cancelled', 'wa:completed']);
  });
  it('a quire.yaml save drops the LLM clients: the reruns detect the server again (restarted behind the same port, say)', async () => {
    const config = 'llm:\n  api: auto\n  retries: 0\n';
    const { events, save } = await watch(config);
    await session!.idle();
    const probes = () => mock.requests.filter((r) => r.method === 'GET' && r.path === '/api/extra/version').length;
    expect(probes()).toBe(1); // detected once for both workflows
    mock.reset();
    events.length = 0;
    ws.write('quire.yaml', `# the same endpoints\n${config}`);
    save({ changed: ['quire.yaml'], removed: [] });
    await session!.idle();
    expect(runEnds(events)).toEqual(['wa:completed', 'wb:completed']);
    expect(probes()).toBe(1);
    // A block save keeps the clients: no probe.
    mock.reset();
    ws.write('blocks/other.md', 'Something else again\n');
    save({ changed: ['blocks/other.md'], removed: [] });
    await session!.idle();
    expect(probes()).toBe(0);
  });
  it('a named workflow that does not exist is an error naming the known ones, before anything runs', async () => {
    ws = makeWorkspace(FILES);
    ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
    const start = startWatch(ctx, { workflows: ['wx'], inputs: {}, stream: false, onEvent: () => {}, startWatcher: async () => ({ close: async () => {} }) });
    await expect(start).rejects.toMatchObject({ code: 'NOT_FOUND', hint: expect.stringContaining('wa') });
    session = undefined;
  });
});
