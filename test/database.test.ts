/**
 * The database contract: the seven original tables exactly, migrations, upgrade of an
 * original-system database, refusal of a newer one, atomic and idempotent sync,
 * archiving instead of deleting history, and export -> adoption.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/adapters/db/migrations.js';
import { openDatabase } from '../src/adapters/db/open.js';
import { syncFiles } from '../src/app/sync.js';
import { createAppContext } from '../src/cli/context.js';
import { runCli } from './helpers/cli.js';
import { MINIMAL_WORKSPACE, makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const SEED_DDL = readFileSync(new URL('./fixtures/seed-schema.sql', import.meta.url), 'utf8');
const SEED_TABLES = ['blocks', 'payloads', 'payload_blocks', 'workflows', 'workflow_payloads', 'runs', 'responses'];

const workspaces: TempWorkspace[] = [];
function workspace(files: Record<string, string> = MINIMAL_WORKSPACE): TempWorkspace {
  const ws = makeWorkspace(files);
  workspaces.push(ws);
  return ws;
}
afterEach(() => {
  while (workspaces.length) workspaces.pop()!.cleanup();
});

function fileHash(path: string): string {
  const parts = [path, `${path}-wal`].filter(existsSync).map((p) => readFileSync(p));
  return createHash('sha256').update(Buffer.concat(parts)).digest('hex');
}

function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(SEED_TABLES.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

/**
 * Every file of the workspace a minute old: files written within 2 s of a sync are
 * "racily clean" and read again by later syncs, which would make a test's outcome depend on
 * how fast its syncs run on a loaded machine.
 */
function ageFiles(root: string): void {
  const old = new Date(Date.now() - 60_000);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else utimesSync(path, old, old);
    }
  };
  walk(root);
}

function sync(ws: TempWorkspace, ...extra: string[]) {
  const result = runCli(['-w', ws.root, 'sync', '--json', ...extra]);
  return { ...result, json: result.stdout ? (JSON.parse(result.stdout) as Record<string, Record<string, number>>) : undefined };
}

/** An original-system database: the seed DDL with rows in every table, no migration record. */
function makeOriginalDatabase(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.exec(SEED_DDL);
  db.exec(`
    INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Intro', 'Hello {{input.name}}.', 'greeting, intro', 'Phase 1/Instructions');
    INSERT INTO blocks (title, content, tags, folder_path) VALUES ('Outro', 'Bye.', NULL, NULL);
    INSERT INTO payloads (name, temperature, response_length, llm_port, model_format) VALUES ('greet', 0.7, 300, 5001, 'mistral');
    INSERT INTO payload_blocks (payload_id, block_id, order_index) VALUES (1, 1, 0), (1, 2, 1);
    INSERT INTO workflows (name) VALUES ('hello flow');
    INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (1, 1, 0);
    INSERT INTO runs (workflow_id, status, completed_at, metadata) VALUES (1, 'completed', CURRENT_TIMESTAMP, '{"inputs":{}}');
    INSERT INTO responses (run_id, payload_id, content, metadata) VALUES (1, 1, 'Hello there.', '{"tokens":3}');
  `);
  db.close();
}

describe('schema', () => {
  it('keeps the seven original tables exactly: columns, types, defaults, keys, foreign keys', () => {
    const seed = new Database(':memory:');
    seed.exec(SEED_DDL);
    const ours = openDatabase(':memory:');
    for (const table of SEED_TABLES) {
      const expected = seed.pragma(`table_info(${table})`) as { cid: number }[];
      const actual = ours.pragma(`table_info(${table})`) as { cid: number }[];
      // quire only appends columns: the original ones come first, unchanged.
      expect(actual.slice(0, expected.length), table).toEqual(expected);
      expect(ours.pragma(`foreign_key_list(${table})`), table).toEqual(seed.pragma(`foreign_key_list(${table})`));
    }
    expect(ours.pragma('foreign_keys', { simple: true })).toBe(1);
    seed.close();
    ours.close();
  });

  it('records every migration by name, in order, and applies nothing twice', () => {
    const ws = workspace();
    expect(sync(ws).code).toBe(0);
    const db = new Database(ws.dbPath, { readonly: true });
    const names = (db.prepare('SELECT name FROM quire_migrations ORDER BY rowid').all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(MIGRATIONS.map((m) => m.name));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(sync(ws).code).toBe(0);
  });

  it('upgrades an original-system database in place, keeping every row', () => {
    const ws = workspace();
    makeOriginalDatabase(ws.dbPath);
    const before = dump(ws.dbPath);
    const result = sync(ws);
    expect(result.code, result.stderr).toBe(0);
    const after = dump(ws.dbPath);
    for (const table of SEED_TABLES) {
      const original = before[table]!;
      // Every original row is still there with its original values (new columns added, none changed).
      const kept = after[table]!.filter((row) => original.some((o) => Object.entries(o as object).every(([k, v]) => (row as Record<string, unknown>)[k] === v)));
      expect(kept.length, table).toBe(original.length);
    }
    // The database-only rows were not touched by sync (they did not come from files).
    const db = new Database(ws.dbPath, { readonly: true });
    expect(db.prepare("SELECT source_path FROM blocks WHERE title = 'Intro'").get()).toEqual({ source_path: null });
    db.close();
  });

  it('refuses a database migrated by a newer quire, and leaves it untouched', () => {
    const ws = workspace();
    expect(sync(ws).code).toBe(0);
    const db = new Database(ws.dbPath);
    db.prepare("INSERT INTO quire_migrations (name, applied_at) VALUES ('m999_from_the_future', 'x')").run();
    db.close();
    const hash = fileHash(ws.dbPath);
    const result = runCli(['-w', ws.root, 'sync']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/newer version of quire.*m999_from_the_future/);
    expect(fileHash(ws.dbPath)).toBe(hash);
  });
});

describe('sync', () => {
  it('mirrors blocks, payloads and workflows with their links', () => {
    const ws = workspace();
    const result = sync(ws);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['blocks']).toMatchObject({ added: 2 });
    const db = new Database(ws.dbPath, { readonly: true });
    const block = db.prepare("SELECT title, content, tags, folder_path, source_path FROM blocks WHERE key = 'tasks/summarize'").get();
    expect(block).toEqual({ title: 'Summarize', content: 'Summarize in {{input.words}} words.\n\n{{tag "style"}}\n', tags: '', folder_path: 'tasks', source_path: 'blocks/tasks/summarize.md' });
    const payload = db.prepare("SELECT name, temperature, response_length, llm_port, model_format FROM payloads").get();
    expect(payload).toEqual({ name: 'summarize', temperature: 0.6, response_length: 1000, llm_port: 5001, model_format: 'chatml' });
    const links = db.prepare('SELECT b.key FROM payload_blocks pb JOIN blocks b ON b.id = pb.block_id ORDER BY pb.order_index').all();
    expect(links).toEqual([{ key: 'tasks/summarize' }]);
    expect(db.prepare('SELECT count(*) AS n FROM workflow_payloads').get()).toEqual({ n: 1 });
    db.close();
  });

  it('is idempotent: a second sync reports everything unchanged and writes nothing', () => {
    const ws = workspace();
    // Files saved a while ago (a file saved within 2 s of a sync is re-checked once more).
    const past = new Date(Date.now() - 60_000);
    for (const path of Object.keys(MINIMAL_WORKSPACE)) utimesSync(join(ws.root, path), past, past);
    expect(sync(ws).code).toBe(0);
    const hash = fileHash(ws.dbPath);
    const second = sync(ws);
    expect(second.code).toBe(0);
    for (const kind of ['blocks', 'payloads', 'workflows']) {
      expect(second.json![kind]).toMatchObject({ added: 0, updated: 0, removed: 0, archived: 0 });
    }
    expect(second.json!['blocks']!['unchanged']).toBe(2);
    expect(fileHash(ws.dbPath)).toBe(hash);
  });

  it('rewrites only the changed file, and follows tag membership into payload links', () => {
    const ws = workspace({ ...MINIMAL_WORKSPACE, 'workflows/styled.payload.yaml': 'blocks:\n  - tag: style\n' });
    expect(sync(ws).code).toBe(0);
    ws.write('blocks/extra.md', '---\ntags: [style]\n---\nUse plain words.\n');
    const result = sync(ws);
    expect(result.json!['blocks']).toMatchObject({ added: 1, updated: 0, unchanged: 2 });
    expect(result.json!['payloads']).toMatchObject({ updated: 1, unchanged: 1 });
    const db = new Database(ws.dbPath, { readonly: true });
    const keys = db.prepare("SELECT b.key FROM payload_blocks pb JOIN blocks b ON b.id = pb.block_id JOIN payloads p ON p.id = pb.payload_id WHERE p.name = 'styled' ORDER BY pb.order_index").all();
    expect(keys).toEqual([{ key: 'extra' }, { key: 'style/concise' }]);
    db.close();
  });

  it('stays exact through incremental changes: retag, touch, delete, rename', () => {
    const ws = workspace({ ...MINIMAL_WORKSPACE, 'workflows/styled.payload.yaml': 'blocks:\n  - tag: style\n  - tasks/summarize\n', 'blocks/plain.md': 'Plain.\n' });
    ageFiles(ws.root);
    expect(sync(ws).code).toBe(0);
    const links = () => {
      const db = new Database(ws.dbPath, { readonly: true });
      const rows = db.prepare("SELECT b.key FROM payload_blocks pb JOIN blocks b ON b.id = pb.block_id JOIN payloads p ON p.id = pb.payload_id WHERE p.name = 'styled' ORDER BY pb.order_index").all();
      db.close();
      return (rows as { key: string }[]).map((r) => r.key);
    };
    expect(links()).toEqual(['style/concise', 'tasks/summarize']);
    // Retag an existing block: the payload's tag selection follows.
    ws.write('blocks/plain.md', '---\ntags: [style]\n---\nPlain.\n');
    ageFiles(ws.root);
    expect(sync(ws).json!['payloads']).toMatchObject({ updated: 1, unchanged: 1 });
    expect(links()).toEqual(['plain', 'style/concise', 'tasks/summarize']);
    // Touch without changing: nothing is rewritten, and the next sync does not even read it.
    // An mtime well in the past: not "racily clean", so the outcome does not depend on how fast the syncs run.
    const later = new Date(Date.now() - 120_000);
    utimesSync(join(ws.root, 'blocks/plain.md'), later, later);
    expect(sync(ws).json!['blocks']).toMatchObject({ updated: 0, unchanged: 3 });
    const hash = fileHash(ws.dbPath);
    expect(sync(ws).json!['blocks']).toMatchObject({ unchanged: 3 });
    expect(fileHash(ws.dbPath)).toBe(hash);
    // Delete a tagged block, rename another: links and rows follow.
    rmSync(join(ws.root, 'blocks/style/concise.md'));
    ws.write('blocks/tasks/summary.md', readFileSync(join(ws.root, 'blocks/tasks/summarize.md')));
    rmSync(join(ws.root, 'blocks/tasks/summarize.md'));
    ws.write('workflows/summarize.payload.yaml', MINIMAL_WORKSPACE['workflows/summarize.payload.yaml']!.replace('tasks/summarize', 'tasks/summary'));
    ws.write('workflows/styled.payload.yaml', 'blocks:\n  - tag: style\n  - tasks/summary\n');
    ws.write('blocks/tasks/summary.md', 'Summarize in {{input.words}} words.\n');
    const result = sync(ws);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['blocks']).toMatchObject({ added: 1, removed: 2, unchanged: 1 });
    expect(links()).toEqual(['plain', 'tasks/summary']);
    const db = new Database(ws.dbPath, { readonly: true });
    expect((db.prepare('SELECT key FROM blocks ORDER BY key').all() as { key: string }[]).map((r) => r.key)).toEqual(['plain', 'tasks/summary']);
    expect((db.prepare('SELECT path FROM quire_files ORDER BY path').all() as { path: string }[]).map((r) => r.path)).toEqual([
      'blocks/plain.md', 'blocks/tasks/summary.md', 'workflows/research.workflow.yaml', 'workflows/styled.payload.yaml', 'workflows/summarize.payload.yaml',
    ]);
    db.close();
  });

  it('notices a same-size edit that kept its mtime, right after a sync (racily clean files)', async () => {
    const ws = workspace();
    const path = join(ws.root, 'blocks/style/concise.md');
    // In process: what is measured is the 2 s window after the sync, which a child process's
    // start on a loaded machine could use up before the sync even reads the file.
    const syncNow = async () => {
      const ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
      try {
        return await syncFiles(ctx);
      } finally {
        await ctx.close();
      }
    };
    // A filesystem with a one-second clock: the file's mtime is this very second.
    const coarse = new Date(Math.floor(Date.now() / 1000) * 1000);
    utimesSync(path, coarse, coarse);
    await syncNow();
    // Edited again within that second: same size, same mtime.
    ws.write('blocks/style/concise.md', readFileSync(path, 'utf8').replace('Be concise.', 'Be CONCISE.'));
    utimesSync(path, coarse, coarse);
    const report = await syncNow();
    expect(report.blocks).toMatchObject({ updated: 1 });
    const db = new Database(ws.dbPath, { readonly: true });
    expect(db.prepare("SELECT content FROM blocks WHERE key = 'style/concise'").pluck().get()).toBe('Be CONCISE.\n');
    db.close();
  });

  it('is atomic: a sync that fails midway leaves the database byte-identical', () => {
    const ws = workspace();
    expect(sync(ws).code).toBe(0);
    const db = new Database(ws.dbPath);
    // Fail on the second new block, after the first has been inserted in the same transaction.
    db.exec("CREATE TRIGGER fail_midway BEFORE INSERT ON blocks WHEN (SELECT count(*) FROM blocks) >= 3 BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    db.close();
    ws.write('blocks/new-a.md', 'A\n');
    ws.write('blocks/new-b.md', 'B\n');
    ws.write('blocks/tasks/summarize.md', 'changed {{input.text}}\n');
    const hash = fileHash(ws.dbPath);
    const before = dump(ws.dbPath);
    const result = runCli(['-w', ws.root, 'sync']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('disk on fire');
    expect(fileHash(ws.dbPath)).toBe(hash);
    expect(dump(ws.dbPath)).toEqual(before);
  });

  it('writes nothing when any file is invalid', () => {
    const ws = workspace();
    expect(sync(ws).code).toBe(0);
    const hash = fileHash(ws.dbPath);
    ws.write('blocks/new.md', 'fine\n');
    ws.write('workflows/bad.payload.yaml', 'blocks: [nope]\ntemperature: hot\n');
    const result = runCli(['-w', ws.root, 'sync']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('workflows/bad.payload.yaml:2:14: temperature must be a number');
    expect(fileHash(ws.dbPath)).toBe(hash);
  });

  it('never deletes history: payloads and workflows with runs are archived, others removed', () => {
    const ws = workspace({ ...MINIMAL_WORKSPACE, 'workflows/unused.payload.yaml': 'blocks: [style/concise]\n' });
    expect(sync(ws).code).toBe(0);
    const db = new Database(ws.dbPath);
    const workflow = db.prepare("SELECT id FROM workflows WHERE name = 'research'").get() as { id: number };
    const payload = db.prepare("SELECT id FROM payloads WHERE name = 'summarize'").get() as { id: number };
    const run = db.prepare("INSERT INTO runs (workflow_id, status) VALUES (?, 'completed')").run(workflow.id);
    db.prepare('INSERT INTO responses (run_id, payload_id, content) VALUES (?, ?, ?)').run(run.lastInsertRowid, payload.id, 'kept');
    db.close();
    rmSync(join(ws.root, 'workflows/research.workflow.yaml'));
    rmSync(join(ws.root, 'workflows/summarize.payload.yaml'));
    rmSync(join(ws.root, 'workflows/unused.payload.yaml'));
    const result = sync(ws);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['workflows']).toMatchObject({ archived: 1, removed: 0 });
    expect(result.json!['payloads']).toMatchObject({ archived: 1, removed: 1 });
    const after = new Database(ws.dbPath, { readonly: true });
    expect(after.prepare('SELECT name, archived FROM payloads ORDER BY name').all()).toEqual([{ name: 'summarize', archived: 1 }]);
    expect(after.prepare('SELECT content, payload_id FROM responses').all()).toEqual([{ content: 'kept', payload_id: payload.id }]);
    expect(after.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 1 });
    after.close();
    // The file comes back: the archived row is revived, not duplicated.
    ws.write('workflows/summarize.payload.yaml', MINIMAL_WORKSPACE['workflows/summarize.payload.yaml']!);
    ws.write('workflows/research.workflow.yaml', MINIMAL_WORKSPACE['workflows/research.workflow.yaml']!);
    const back = sync(ws);
    expect(back.json!['payloads']).toMatchObject({ updated: 1, added: 0 });
    expect(back.json!['workflows']).toMatchObject({ updated: 1, added: 0 });
  });
});

describe('export', () => {
  it('writes database-only rows as files that the next sync adopts (same ids, history attached)', () => {
    const ws = workspace({});
    makeOriginalDatabase(ws.dbPath);
    const exported = runCli(['-w', ws.root, '--db', ws.dbPath, 'export', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const body = JSON.parse(exported.stdout) as { written: { path: string }[]; warnings: string[] };
    expect(body.written.map((f) => f.path).sort()).toEqual([
      'blocks/Outro.md',
      'blocks/Phase 1/Instructions/Intro.md',
      'workflows/exported/greet.payload.yaml',
      'workflows/exported/hello flow.workflow.yaml',
    ]);
    expect(readFileSync(join(ws.root, 'blocks/Phase 1/Instructions/Intro.md'), 'utf8')).toBe('---\ntags:\n  - greeting\n  - intro\n---\nHello {{input.name}}.');

    const result = sync(ws);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['blocks']).toMatchObject({ adopted: 2, added: 0 });
    expect(result.json!['payloads']).toMatchObject({ adopted: 1, added: 0 });
    expect(result.json!['workflows']).toMatchObject({ adopted: 1, added: 0 });
    const db = new Database(ws.dbPath, { readonly: true });
    expect(db.prepare('SELECT id, title, source_path FROM blocks ORDER BY id').all()).toEqual([
      { id: 1, title: 'Intro', source_path: 'blocks/Phase 1/Instructions/Intro.md' },
      { id: 2, title: 'Outro', source_path: 'blocks/Outro.md' },
    ]);
    expect(db.prepare('SELECT r.workflow_id, w.name FROM runs r JOIN workflows w ON w.id = r.workflow_id').all()).toEqual([{ workflow_id: 1, name: 'hello flow' }]);
    expect(db.prepare('SELECT payload_id FROM responses').all()).toEqual([{ payload_id: 1 }]);
    db.close();

    // Nothing left to export; a second sync changes nothing.
    const again = runCli(['-w', ws.root, 'export', '--json']);
    expect((JSON.parse(again.stdout) as { written: unknown[] }).written).toEqual([]);
    expect(sync(ws).json!['blocks']).toMatchObject({ unchanged: 2, adopted: 0 });
  });

  it('warns about text that sync will refuse as a template', () => {
    const ws = workspace({});
    makeOriginalDatabase(ws.dbPath);
    const db = new Database(ws.dbPath);
    db.prepare("INSERT INTO blocks (title, content, folder_path) VALUES ('Broken', 'Dear {{name,', 'notes')").run();
    db.close();
    const result = runCli(['-w', ws.root, 'export', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as { warnings: string[] };
    expect(body.warnings.some((w) => w.startsWith('blocks/notes/Broken.md:3: template syntax error'))).toBe(true);
  });

  it('refuses to overwrite a file that differs, writing nothing', () => {
    const ws = workspace({ 'blocks/Outro.md': 'my own text\n' });
    makeOriginalDatabase(ws.dbPath);
    const result = runCli(['-w', ws.root, 'export']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('blocks/Outro.md');
    expect(existsSync(join(ws.root, 'workflows/exported'))).toBe(false);
    expect(readFileSync(join(ws.root, 'blocks/Outro.md'), 'utf8')).toBe('my own text\n');
  });
});
