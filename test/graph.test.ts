/**
 * The dependency graph (core/graph.ts) on its own: what each workflow reaches, and which
 * workflows a changed file reaches, through every kind of edge.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { inspectWorkspace } from '../src/app/load.js';
import { createDependencyGraph, directBlockKeys, reachableBlockKeys, workflowSlice, workspaceLookup } from '../src/core/graph.js';
import type { Workspace } from '../src/core/types.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const temp: TempWorkspace[] = [];
afterAll(() => temp.forEach((ws) => ws.cleanup()));

function load(files: Record<string, string>): Workspace {
  const ws = makeWorkspace(files);
  temp.push(ws);
  const { workspace, problems } = inspectWorkspace(createWorkspaceReader(ws.root));
  expect(problems).toEqual([]);
  return workspace;
}

const FILES: Record<string, string> = {
  'quire.yaml': 'llm:\n  api: kobold\n',
  'formats/mine.yaml': 'user_prefix: "U:"\nuser_suffix: "\\n"\nassistant_prefix: "A:"\n',
  'blocks/persona.md': 'You are terse.\n',
  'blocks/style/short.md': '---\ntags: [style]\n---\nShort.\n',
  'blocks/style/plain.md': '---\ntags: [style]\n---\nPlain {{block "deep/leaf"}}\n',
  'blocks/deep/leaf.md': 'leaf\n',
  'blocks/via-tag.md': 'T: {{tag "extra"}}\n',
  'blocks/extra/one.md': '---\ntags: [extra]\n---\none\n',
  'blocks/inline-only.md': 'only from inline text\n',
  'blocks/unused.md': 'nobody uses me\n',
  'workflows/a.payload.yaml': 'model_format: mine\nsystem: [persona]\nblocks: [{ tag: style }]\n',
  'workflows/b.payload.yaml': 'blocks: [via-tag, { text: "{{block \\"inline-only\\"}}" }]\n',
  'workflows/one.workflow.yaml': 'name: one\npayloads: [a]\n',
  'workflows/two.workflow.yaml': 'name: two\npayloads: [b, { name: own, blocks: [persona] }]\n',
};

describe('dependency graph', () => {
  const workspace = load(FILES);
  const graph = createDependencyGraph(workspace);

  it('a workflow reaches its payloads, their blocks by key, tag and include, its format and the config', () => {
    expect(graph.filesOf('one')).toEqual([
      'blocks/deep/leaf.md', // included by style/plain
      'blocks/persona.md',
      'blocks/style/plain.md',
      'blocks/style/short.md',
      'formats/mine.yaml',
      'quire.yaml',
      'workflows/a.payload.yaml',
      'workflows/one.workflow.yaml',
    ]);
    expect(graph.filesOf('two')).toEqual([
      'blocks/extra/one.md', // {{tag "extra"}} inside via-tag
      'blocks/inline-only.md', // {{block}} inside inline text
      'blocks/persona.md', // the inline payload's block
      'blocks/via-tag.md',
      'quire.yaml',
      'workflows/b.payload.yaml',
      'workflows/two.workflow.yaml',
    ]);
    expect(graph.filesOf('none')).toEqual([]);
  });

  it('answers which workflows a changed file reaches', () => {
    expect(graph.workflowsAffectedBy(['blocks/deep/leaf.md'])).toEqual(['one']);
    expect(graph.workflowsAffectedBy(['blocks/extra/one.md'])).toEqual(['two']);
    expect(graph.workflowsAffectedBy(['blocks/persona.md'])).toEqual(['one', 'two']);
    expect(graph.workflowsAffectedBy(['quire.yaml'])).toEqual(['one', 'two']);
    expect(graph.workflowsAffectedBy(['formats/mine.yaml', 'blocks/unused.md'])).toEqual(['one']);
    expect(graph.workflowsAffectedBy(['blocks/unused.md', 'README.md'])).toEqual([]);
  });

  it('a newly tagged block reaches the workflows selecting that tag (asked of the graph after the change)', () => {
    const after = load({ ...FILES, 'blocks/new.md': '---\ntags: [style]\n---\nnew\n' });
    expect(createDependencyGraph(after).workflowsAffectedBy(['blocks/new.md'])).toEqual(['one']);
  });

  it('direct keys are the payload_blocks rows: system first, tags expanded by key, no includes', () => {
    const lookup = workspaceLookup(workspace);
    expect(directBlockKeys(workspace.payloads.get('a')!, lookup.tagged)).toEqual(['persona', 'style/plain', 'style/short']);
    expect(directBlockKeys(workspace.payloads.get('b')!, lookup.tagged)).toEqual(['via-tag']);
    expect([...reachableBlockKeys([workspace.payloads.get('b')!], lookup)].sort()).toEqual(['extra/one', 'inline-only', 'via-tag']);
  });

  it("a workflow's slice holds its own workflow, payloads and reached blocks, and only its files' hashes", () => {
    const hashes = new Map(graph.filesOf('one').concat(graph.filesOf('two'), ['blocks/unused.md']).map((path) => [path, `h:${path}`]));
    const slice = workflowSlice(workspace, hashes, 'two');
    expect([...slice.workspace.workflows.keys()]).toEqual(['two']);
    expect([...slice.workspace.payloads.keys()].sort()).toEqual(['b', 'two/own']);
    expect([...slice.workspace.blocks.keys()].sort()).toEqual(['extra/one', 'inline-only', 'persona', 'via-tag']);
    expect([...slice.hashes.keys()]).toEqual(graph.filesOf('two'));
    // Its maps are its own: the model edited in place afterwards does not reach it.
    workspace.blocks.set('persona', { ...workspace.blocks.get('persona')!, content: 'changed\n' });
    try {
      expect(slice.workspace.blocks.get('persona')!.content).toBe('You are terse.\n');
    } finally {
      workspace.blocks.set('persona', slice.workspace.blocks.get('persona')!);
    }
  });
});
