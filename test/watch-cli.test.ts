/**
 * `quire watch` end to end: the built CLI in a child process with the real watcher on a
 * temp workspace, mock-llm over HTTP, the JSON event stream read line by line.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { BIN, runCliAsync } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const FILES: Record<string, string> = {
  'quire.yaml': 'llm:\n  api: openai\n  retries: 0\n',
  'blocks/ask.md': 'Tell me about {{input.topic}}\n',
  'blocks/other.md': 'Something else\n',
  'workflows/a.payload.yaml': 'response_length: 30\nblocks: [ask]\n',
  'workflows/b.payload.yaml': 'response_length: 30\nblocks: [other]\n',
  'workflows/wa.workflow.yaml': 'name: wa\ninputs:\n  topic: { type: string }\npayloads: [a]\n',
  'workflows/wb.workflow.yaml': 'name: wb\npayloads: [b]\n',
};

type Event = Record<string, unknown> & { type: string };
let mock: MockLlm;
let ws: TempWorkspace;
let child: ChildProcessWithoutNullStreams | undefined;
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  mock.setFaults({});
  ws?.cleanup();
});

function startWatch(): { events: Event[]; until: (predicate: (events: Event[]) => boolean, what: string) => Promise<void>; exit: Promise<number | null>; stderr: () => string } {
  ws = makeWorkspace(FILES);
  child = spawn(process.execPath, [BIN, '-w', ws.root, 'watch', '--json', '--input', 'topic=cats', '--endpoint', `5001=${mock.url}`]);
  const events: Event[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, newline)) as Event);
      buffer = buffer.slice(newline + 1);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  const until = async (predicate: (events: Event[]) => boolean, what: string) => {
    for (let i = 0; i < 1000; i++) {
      if (predicate(events)) return;
      if (child!.exitCode !== null) throw new Error(`watch exited (${child!.exitCode}) waiting for ${what}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.type))}; stderr: ${stderr}`);
  };
  return { events, until, exit, stderr: () => stderr };
}

const runEnds = (events: Event[], workflow?: string) => events.filter((e) => e.type === 'run-end' && (!workflow || e['workflow'] === workflow));

describe('quire watch', () => {
  it('runs at start, reruns on saves of every style, reports a broken save, and exits 130 on SIGINT', async () => {
    const { events, until, exit } = startWatch();
    await until((e) => runEnds(e).length === 2, 'the first runs');
    expect(events[0]).toMatchObject({ type: 'ready', workflows: ['wa', 'wb'] });

    // Write in place.
    writeFileSync(join(ws.root, 'blocks/ask.md'), 'Tell me more about {{input.topic}}\n');
    await until((e) => runEnds(e, 'wa').length === 2, 'the rerun after an in-place write');
    // Write-then-rename (vim, atomic writers).
    writeFileSync(join(ws.root, 'blocks/ask.md.tmp'), 'Tell me everything about {{input.topic}}\n');
    renameSync(join(ws.root, 'blocks/ask.md.tmp'), join(ws.root, 'blocks/ask.md'));
    await until((e) => runEnds(e, 'wa').length === 3, 'the rerun after a rename over the file');
    expect(runEnds(events, 'wb')).toHaveLength(1);
    const diff = events.filter((e) => e.type === 'step-diff').at(-1)!;
    expect(diff).toMatchObject({ workflow: 'wa', diff: { changed: true } });

    // A broken save: problems, no run; then the fix reruns.
    writeFileSync(join(ws.root, 'workflows/a.payload.yaml'), 'response_length: 30\nblocks: [nope]\n');
    await until((e) => e.some((x) => x.type === 'problems'), 'the problems of a broken save');
    writeFileSync(join(ws.root, 'workflows/a.payload.yaml'), 'response_length: 30\nblocks: [ask, other]\n');
    await until((e) => runEnds(e, 'wa').length === 4, 'the rerun after the fix');

    // Another process on the same database meanwhile: no lock errors either side.
    const other = await runCliAsync(['-w', ws.root, 'sync']);
    expect(other.code, other.stderr).toBe(0);

    // Ctrl-C in the middle of a slow run: cancelled, recorded, exit 130.
    mock.setFaults({ latencyMs: 100 });
    const seen = events.length;
    writeFileSync(join(ws.root, 'blocks/ask.md'), 'One last time about {{input.topic}}\n');
    await until((e) => e.slice(seen).some((x) => x.type === 'token' && x['workflow'] === 'wa'), 'the last run generating');
    child!.kill('SIGINT');
    expect(await exit).toBe(130);
    const db = new Database(ws.dbPath, { readonly: true });
    const statuses = (db.prepare("SELECT r.status, r.metadata FROM runs r JOIN workflows w ON w.id = r.workflow_id WHERE w.name = 'wa' ORDER BY r.id").all() as { status: string; metadata: string }[]);
    db.close();
    expect(statuses.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'cancelled']);
    expect(JSON.parse(statuses[1]!.metadata)).toMatchObject({ trigger: 'watch', changed_files: ['blocks/ask.md'] });
  });
});
