/**
 * The model watch keeps between saves: only the saved files are read, a broken save
 * changes nothing and is retried with the next one, and the workflows a save reaches are
 * named with the file that reaches them. Real temp workspace, real SQLite.
 */
import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { applySave, markModelSynced, openLiveModel, type LiveModel } from '../src/app/live-model.js';
import { syncFiles } from '../src/app/sync.js';
import { createAppContext } from '../src/cli/context.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const FILES: Record<string, string> = {
  'blocks/shared.md': '---\ntags: [common]\n---\nShared.\n',
  'blocks/only-a.md': 'Only A {{block "shared"}}\n',
  'blocks/tagged.md': '---\ntags: [style]\n---\nStyle.\n',
  'workflows/a.payload.yaml': 'blocks: [only-a]\n',
  'workflows/b.payload.yaml': 'blocks: [{ tag: style }]\n',
  'workflows/wa.workflow.yaml': 'name: wa\npayloads: [a]\n',
  'workflows/wb.workflow.yaml': 'name: wb\npayloads: [b]\n',
};

let ws: TempWorkspace;
let ctx: AppContext;
afterEach(async () => {
  await ctx?.close();
  ws?.cleanup();
});

async function open(): Promise<LiveModel> {
  ws = makeWorkspace(FILES);
  ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
  return openLiveModel(ctx);
}

const blockIds = (dbPath: string) => {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT key, id, content FROM blocks ORDER BY key').all();
  db.close();
  return rows;
};

describe('live model', () => {
  it('applies an edit: reads that file, mirrors its row, names the workflows it reaches and why', async () => {
    const model = await open();
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nShared, edited.\n');
    const update = await applySave(ctx, model, { changed: ['blocks/shared.md'], removed: [] });
    expect(update.ok).toBe(true);
    if (!update.ok) return;
    expect(update.changed).toEqual(['blocks/shared.md']);
    expect([...update.affected]).toEqual([['wa', 'blocks/shared.md']]);
    expect(update.report.blocks).toMatchObject({ updated: 1, unchanged: 2 });
    expect(update.model.workspace.blocks.get('shared')!.content).toBe('Shared, edited.\n');
  });

  it('a new block carrying a tag reaches the workflows selecting that tag; a removed one, those it was reached by', async () => {
    const model = await open();
    ws.write('blocks/more.md', '---\ntags: [style]\n---\nMore.\n');
    const added = await applySave(ctx, model, { changed: ['blocks/more.md'], removed: [] });
    expect(added.ok && [...added.affected.keys()]).toEqual(['wb']);
    rmSync(`${ws.root}/blocks/more.md`);
    const removed = await applySave(ctx, added.model, { changed: [], removed: ['blocks/more.md'] });
    expect(removed.ok && removed.removed).toEqual(['blocks/more.md']);
    expect(removed.ok && [...removed.affected.keys()]).toEqual(['wb']);
  });

  it('a broken save writes nothing and keeps the last good model; the next save anywhere re-reads it', async () => {
    const model = await open();
    const before = readFileSync(ws.dbPath);
    ws.write('workflows/a.payload.yaml', 'blocks: [nope\n');
    const broken = await applySave(ctx, model, { changed: ['workflows/a.payload.yaml'], removed: [] });
    expect(broken.ok).toBe(false);
    if (broken.ok) return;
    expect(broken.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code}`)).toEqual(['workflows/a.payload.yaml:2:1 YAML_PARSE']);
    expect(readFileSync(ws.dbPath).equals(before)).toBe(true);
    expect(broken.model.workspace.payloads.get('a')).toBe(model.workspace.payloads.get('a'));
    // Still broken, another file saved: the broken file is read again, so the model is not taken as good.
    ws.write('blocks/tagged.md', '---\ntags: [style]\n---\nStyle 2.\n');
    const still = await applySave(ctx, broken.model, { changed: ['blocks/tagged.md'], removed: [] });
    expect(still.ok).toBe(false);
    ws.write('workflows/a.payload.yaml', 'blocks: [only-a, tagged]\n');
    const fixed = await applySave(ctx, still.model, { changed: ['workflows/a.payload.yaml'], removed: [] });
    expect(fixed.ok).toBe(true);
    expect(fixed.ok && fixed.changed).toEqual(['blocks/tagged.md', 'workflows/a.payload.yaml']);
    expect(fixed.ok && [...fixed.affected.keys()].sort()).toEqual(['wa', 'wb']);
  });

  it('a file deleted and created again in one save keeps its block id', async () => {
    const model = await open();
    const before = blockIds(ws.dbPath);
    rmSync(`${ws.root}/blocks/shared.md`);
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nShared again.\n');
    const update = await applySave(ctx, model, { changed: ['blocks/shared.md'], removed: ['blocks/shared.md'] });
    expect(update.ok).toBe(true);
    const after = blockIds(ws.dbPath) as { key: string; id: number }[];
    expect(after.map((r) => [r.key, r.id])).toEqual((before as { key: string; id: number }[]).map((r) => [r.key, r.id]));
  });
  it('an edit that adds an include cycle to an existing block is still caught (the include graph is checked when a block changes shape)', async () => {
    const model = await open();
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nShared {{block "only-a"}}\n');
    const update = await applySave(ctx, model, { changed: ['blocks/shared.md'], removed: [] });
    expect(update.ok).toBe(false);
    expect(!update.ok && update.problems.map((p) => p.code)).toContain('INCLUDE_CYCLE');
    // A text-only edit of the same block is fine again.
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nShared, plain.\n');
    expect((await applySave(ctx, update.model, { changed: ['blocks/shared.md'], removed: [] })).ok).toBe(true);
  });
  it('saves clear the sync shortcut (no stale fingerprint); markSynced writes it once, and the next sync is a no-op', async () => {
    const model = await open();
    const cache = () => ctx.stores.readCache()!;
    expect(cache().matchesLastSync(model.hashes)).toBe(true);
    ws.write('blocks/other.md', 'new\n');
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nShared, edited.\n');
    const update = await applySave(ctx, model, { changed: ['blocks/shared.md'], removed: [] });
    expect(update.ok).toBe(true);
    if (!update.ok) return;
    expect(cache().matchesLastSync(update.model.hashes)).toBe(false);
    expect(cache().matchesLastSync(model.hashes)).toBe(false);
    await markModelSynced(ctx, update.model);
    expect(cache().matchesLastSync(update.model.hashes)).toBe(true);
    // A file the watcher never reported (blocks/other.md) is still found by the next sync.
    const report = await syncFiles(ctx);
    expect(report.blocks).toMatchObject({ added: 1, unchanged: 3 });
  });
  it('a body-only edit skips the cross-file checks but not the checks of the file itself: a template error in it is still reported', async () => {
    const model = await open();
    ws.write('blocks/only-a.md', 'Only A, edited {{block "shared"}}\n');
    const fine = await applySave(ctx, model, { changed: ['blocks/only-a.md'], removed: [] });
    expect(fine.ok).toBe(true);
    expect(fine.ok && fine.model.graph).toBe(model.graph); // nothing another file refers to changed: the graph is kept
    ws.write('blocks/only-a.md', 'Only A {{#if input.x}}unclosed {{block "shared"}}\n');
    const broken = await applySave(ctx, fine.model, { changed: ['blocks/only-a.md'], removed: [] });
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.problems.map((p) => p.code)).toEqual(['TEMPLATE']);
  });

  it('a body-only save costs no reload: the same model is edited in place, the row mirrored, the file cached; a run slice taken before keeps the old text', async () => {
    const model = await open();
    const { workflowSlice } = await import('../src/core/graph.js');
    const slice = workflowSlice(model.workspace, model.hashes, 'wa');
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nShared, in place.\n');
    const update = await applySave(ctx, model, { changed: ['blocks/shared.md'], removed: [] });
    expect(update.ok).toBe(true);
    if (!update.ok) return;
    expect(update.model.workspace.blocks).toBe(model.workspace.blocks);
    expect(model.workspace.blocks.get('shared')!.content).toBe('Shared, in place.\n');
    expect(update.model.hashes.get('blocks/shared.md')).not.toBe(slice.hashes.get('blocks/shared.md'));
    expect(slice.workspace.blocks.get('shared')!.content).toBe('Shared.\n');
    expect(blockIds(ws.dbPath)).toContainEqual(expect.objectContaining({ key: 'shared', content: 'Shared, in place.\n' }));
    // A save of the same bytes (a touch) changes nothing and reruns nothing.
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nShared, in place.\n');
    const again = await applySave(ctx, update.model, { changed: ['blocks/shared.md'], removed: [] });
    expect(again.ok && [again.changed, [...again.affected.keys()]]).toEqual([[], []]);
  });

  it('a body-only save the mirror cannot write leaves the model as it was', async () => {
    const model = await open();
    ws.write('blocks/shared.md', '---\ntags: [common]\n---\nNot written.\n');
    const stores = ctx.stores;
    const failing = { ...stores, forWriting: async () => { throw new Error('disk full'); } };
    await expect(applySave({ ...ctx, stores: failing }, model, { changed: ['blocks/shared.md'], removed: [] })).rejects.toThrow('disk full');
    expect(model.workspace.blocks.get('shared')!.content).toBe('Shared.\n');
    const retried = await applySave(ctx, model, { changed: ['blocks/shared.md'], removed: [] });
    expect(retried.ok && retried.changed).toEqual(['blocks/shared.md']);
  });
});
