/**
 * Sync does not trust its shortcut past what it can check: rows deleted behind its back
 * (by another tool) are noticed and restored, though every file is unchanged.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliAsync } from './helpers/cli.js';
import { MINIMAL_WORKSPACE, makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const temp: TempWorkspace[] = [];
afterEach(() => {
  while (temp.length) temp.pop()!.cleanup();
});

type Counts = Record<'added' | 'updated' | 'unchanged', number>;

describe('rows deleted by another tool', () => {
  it('are restored by the next sync, with their links, though no file changed', async () => {
    const ws = makeWorkspace(MINIMAL_WORKSPACE);
    temp.push(ws);
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    const links = () => {
      const db = new Database(ws.dbPath, { readonly: true });
      const rows = db.prepare('SELECT p.name AS payload, b.key AS block, pb.order_index FROM payload_blocks pb JOIN payloads p ON p.id = pb.payload_id JOIN blocks b ON b.id = pb.block_id ORDER BY p.name, pb.order_index').all();
      const workflows = db.prepare('SELECT w.name AS workflow, p.name AS payload FROM workflow_payloads wp JOIN workflows w ON w.id = wp.workflow_id JOIN payloads p ON p.id = wp.payload_id').all();
      db.close();
      return { rows, workflows };
    };
    const before = links();
    expect(before.rows).toEqual([{ payload: 'summarize', block: 'tasks/summarize', order_index: 0 }]);

    const db = new Database(ws.dbPath);
    db.pragma('foreign_keys = ON');
    db.prepare("DELETE FROM blocks WHERE key = 'tasks/summarize'").run();
    db.prepare("DELETE FROM payloads WHERE name = 'summarize'").run();
    db.close();

    const result = await runCliAsync(['-w', ws.root, 'sync', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<'blocks' | 'payloads' | 'workflows', Counts>;
    expect(report.blocks).toMatchObject({ added: 1, unchanged: 1 });
    expect(report.payloads).toMatchObject({ added: 1 });
    expect(links()).toEqual(before);
    // And the sync after that is a true no-op again.
    const again = JSON.parse((await runCliAsync(['-w', ws.root, 'sync', '--json'])).stdout) as Record<'blocks', Counts>;
    expect(again.blocks).toMatchObject({ added: 0, updated: 0, unchanged: 2 });
  });

  it('are restored before a run, so the run links to its workflow and payload rows', async () => {
    const ws = makeWorkspace(MINIMAL_WORKSPACE);
    temp.push(ws);
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    const db = new Database(ws.dbPath);
    db.pragma('foreign_keys = ON');
    db.prepare("DELETE FROM blocks WHERE key = 'style/concise'").run();
    db.close();
    expect((await runCliAsync(['-w', ws.root, 'run', 'research', '--dry-run'])).code).toBe(0);
    const { startMockLlm } = await import('../src/mock-llm/index.js');
    const mock = await startMockLlm({ api: 'kobold' });
    try {
      expect((await runCliAsync(['-w', ws.root, 'run', 'research', '--input', 'text=x', '--endpoint', `5001=${mock.url}`])).code).toBe(0);
    } finally {
      await mock.close();
    }
    const after = new Database(ws.dbPath, { readonly: true });
    expect(after.prepare("SELECT count(*) AS n FROM blocks WHERE key = 'style/concise'").get()).toEqual({ n: 1 });
    after.close();
  });
});

describe('--endpoint', () => {
  it.each(['0=http://127.0.0.1:1', '99999=http://127.0.0.1:1', '5001=127.0.0.1:1'])('refuses %s as a usage error naming the form, before any run', async (value) => {
    const ws = makeWorkspace(MINIMAL_WORKSPACE);
    temp.push(ws);
    const result = await runCliAsync(['-w', ws.root, 'run', 'research', '--input', 'text=x', '--endpoint', value]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a port from 1 to 65535');
  });
});

describe('a parse cache written by other checks (an older quire)', () => {
  it('is not reused: every file is read and checked again once, and stale entries are dropped', async () => {
    const ws = makeWorkspace(MINIMAL_WORKSPACE);
    temp.push(ws);
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    // What an older quire left: its version, a parse the current checks would not give, and a file since deleted.
    const db = new Database(ws.dbPath);
    db.prepare("UPDATE quire_state SET value = '1' WHERE key = 'checks'").run();
    const row = db.prepare("SELECT parsed FROM quire_files WHERE path = 'workflows/summarize.payload.yaml'").get() as { parsed: string };
    db.prepare("UPDATE quire_files SET parsed = ? WHERE path = 'workflows/summarize.payload.yaml'").run(row.parsed.replace('"chatml"', '"mistral"'));
    db.prepare("INSERT INTO quire_files (path, kind, size, mtime_ms, hash, parsed) VALUES ('blocks/gone.md', 'block', 1, 1, 'x', '')").run();
    db.close();

    const rendered = await runCliAsync(['-w', ws.root, 'render', 'research', '--input', 'text=x', '--json']);
    expect((JSON.parse(rendered.stdout) as { steps: { model_format: string }[] }).steps[0]!.model_format).toBe('chatml');
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    const after = new Database(ws.dbPath, { readonly: true });
    expect(after.prepare("SELECT value FROM quire_state WHERE key = 'checks'").get()).not.toEqual({ value: '1' });
    expect(after.prepare("SELECT count(*) AS n FROM quire_files WHERE path = 'blocks/gone.md'").get()).toEqual({ n: 0 });
    after.close();
    // Current again: the next sync takes the shortcut.
    const again = JSON.parse((await runCliAsync(['-w', ws.root, 'sync', '--json'])).stdout) as Record<'blocks', Record<string, number>>;
    expect(again.blocks).toMatchObject({ unchanged: 2, updated: 0 });
  });
});

describe('inputs named like Object.prototype members', () => {
  it('are inputs like any other: __proto__ and constructor render their values', async () => {
    const ws = makeWorkspace({ 'blocks/b.md': 'Hi {{input.__proto__}} and {{input.constructor}}\n', 'workflows/p.payload.yaml': 'blocks: [b]\n' });
    temp.push(ws);
    const result = await runCliAsync(['-w', ws.root, 'render', 'p', '--input', '__proto__=X', '--input', 'constructor=Y', '--json']);
    expect(result.code, result.stdout).toBe(0);
    expect((JSON.parse(result.stdout) as { steps: { prompt: string }[] }).steps[0]!.prompt).toBe('Hi X and Y');
  });
});
