/**
 * The pure side of `quire diff` (core/run-diff.ts): step pairing, file and setting
 * changes, prompt patches that really turn one prompt into the other, and word parts that
 * rebuild both responses exactly.
 */
import { applyPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import type { ResponseMetadata, ResponseRecord, RunMetadata, RunRecord } from '../src/core/history.js';
import { diffRuns, pairSteps, promptText, type DiffPart, type RunWithResponses } from '../src/core/run-diff.js';

let nextId = 1;
function run(id: number, metadata: RunMetadata, steps: { step?: string; prompt?: string | null; content?: string | null; meta?: ResponseMetadata }[]): RunWithResponses {
  const record: RunRecord = { id, workflowId: 1, workflow: 'w', status: 'completed', startedAt: '2026-01-01 00:00:00.000', completedAt: null, metadata };
  const responses: ResponseRecord[] = steps.map((s, index) => ({
    id: nextId++,
    runId: id,
    payloadId: null,
    payload: s.step ?? null,
    content: s.content === undefined ? `answer ${index}` : s.content,
    prompt: s.prompt === undefined ? `prompt ${index}\n` : s.prompt,
    metadata: { ...(s.step !== undefined ? { step: s.step, step_index: index } : {}), ...s.meta },
    createdAt: '2026-01-01 00:00:01.000',
  }));
  return { run: record, responses };
}

const textOf = (parts: DiffPart[], side: 'a' | 'b') => parts.filter((p) => p.kind !== (side === 'a' ? 'added' : 'removed')).map((p) => p.text).join('');

describe('pairSteps', () => {
  const steps = (...names: string[]) => names.map((name, index) => ({ name, index }));
  const names = (pairs: { a?: { name: string }; b?: { name: string } }[]) => pairs.map((p) => `${p.a?.name ?? '∅'}>${p.b?.name ?? '∅'}`);

  it('pairs by name even when a step moved, and places a step only in run a after the step it followed', () => {
    expect(names(pairSteps(steps('x', 'y', 'z'), steps('z', 'x')))).toEqual(['z>z', 'x>x', 'y>∅']);
    expect(names(pairSteps(steps('a', 'b', 'c'), steps('a', 'c')))).toEqual(['a>a', 'b>∅', 'c>c']);
    expect(names(pairSteps(steps('gone', 'a'), steps('a', 'new')))).toEqual(['gone>∅', 'a>a', '∅>new']);
  });

  it('pairs the steps left over by position, so two workflows with other step names still compare', () => {
    expect(names(pairSteps(steps('sum', 'review'), steps('summary', 'review', 'final')))).toEqual(['sum>summary', 'review>review', '∅>final']);
    expect(names(pairSteps(steps('a1', 'a2', 'a3'), steps('b1')))).toEqual(['a1>b1', 'a2>∅', 'a3>∅']);
  });

  it('pairs repeated names in order', () => {
    expect(names(pairSteps(steps('s', 's', 't'), steps('s', 't', 's')))).toEqual(['s>s', 't>t', 's>s']);
    const pairs = pairSteps(steps('s', 's'), steps('s', 's'));
    expect(pairs.map((p) => [p.a?.index, p.b?.index])).toEqual([[0, 0], [1, 1]]);
  });
});

describe('diffRuns', () => {
  it('lists files changed, added and removed by content hash, sorted by path, and changed inputs', () => {
    const a = run(1, { files: { 'b.md': 'h1', 'gone.md': 'h2', 'same.md': 'h3' }, inputs: { text: 'x', n: 1, same: [1, { k: 1, j: 2 }] } }, []);
    const b = run(2, { files: { 'b.md': 'h9', 'a-new.md': 'h4', 'same.md': 'h3' }, inputs: { text: 'y', same: [1, { j: 2, k: 1 }], extra: true } }, []);
    const diff = diffRuns(a, b);
    expect(diff.files).toEqual([
      { path: 'a-new.md', change: 'added', a: null, b: 'h4' },
      { path: 'b.md', change: 'changed', a: 'h1', b: 'h9' },
      { path: 'gone.md', change: 'removed', a: 'h2', b: null },
    ]);
    expect(diff.inputs).toEqual([
      { key: 'extra', a: null, b: true },
      { key: 'n', a: 1, b: null },
      { key: 'text', a: 'x', b: 'y' },
    ]);
  });

  it('gives a unified prompt patch that turns run a\'s prompt into run b\'s, and none for an unchanged prompt', () => {
    const before = 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\n';
    const after = before.replace('line 2\n', 'line two\n').replace('line 9\n', 'line 9\nline 10');
    const diff = diffRuns(run(3, {}, [{ step: 's', prompt: before }, { step: 't', prompt: 'same' }]), run(4, {}, [{ step: 's', prompt: after }, { step: 't', prompt: 'same' }]));
    const [s, t] = diff.steps;
    expect(s!.prompt.changed).toBe(true);
    expect(s!.prompt.patch).toMatch(/^--- run-3\/s\n\+\+\+ run-4\/s\n@@ /);
    expect(s!.prompt.patch).toContain('-line 2\n+line two\n');
    expect(applyPatch(before, s!.prompt.patch!)).toBe(after);
    expect(t!.prompt).toEqual({ changed: false, patch: null });
    expect(t!.status).toBe('unchanged');
  });

  it('splits a response into word parts that rebuild each side exactly, whitespace included', () => {
    const before = 'The quick  brown fox\n\tjumps over the dog.';
    const after = 'The slow brown fox\n\tjumps  over the lazy dog!';
    const diff = diffRuns(run(5, {}, [{ step: 's', content: before }]), run(6, {}, [{ step: 's', content: after }]));
    const parts = diff.steps[0]!.response.parts;
    expect(diff.steps[0]!.response.changed).toBe(true);
    expect(textOf(parts, 'a')).toBe(before);
    expect(textOf(parts, 'b')).toBe(after);
    expect(parts).toContainEqual({ kind: 'removed', text: 'quick  ' });
    expect(parts).toContainEqual({ kind: 'added', text: 'slow ' });
    expect(parts).toContainEqual({ kind: 'added', text: 'lazy ' });
    expect(parts.filter((p) => p.kind === 'same').map((p) => p.text).join('')).toContain('brown fox');
  });

  it('reports only the settings that differ: model format, endpoint, model and each sampler parameter', () => {
    const meta = (over: ResponseMetadata): ResponseMetadata => ({
      model_format: 'chatml', api: 'kobold', endpoint: 'http://h:5001', model: 'm1', total_ms: 5, prompt_tokens: 3,
      sampler: { temperature: 0.7, max_tokens: 50, stop: ['<|im_end|>'], top_p: 0.9 },
      ...over,
    });
    const a = run(7, {}, [{ step: 's', meta: meta({}) }]);
    const b = run(8, {}, [{ step: 's', meta: meta({ model: 'm2', total_ms: 99, prompt_tokens: 7, sampler: { temperature: 0.2, max_tokens: 50, stop: ['<|im_end|>', 'x'], min_p: 0.1 } }) }]);
    const step = diffRuns(a, b).steps[0]!;
    expect(step.settings).toEqual([
      { key: 'model', a: 'm1', b: 'm2' },
      { key: 'sampler.min_p', a: null, b: 0.1 },
      { key: 'sampler.stop', a: ['<|im_end|>'], b: ['<|im_end|>', 'x'] },
      { key: 'sampler.temperature', a: 0.7, b: 0.2 },
      { key: 'sampler.top_p', a: 0.9, b: null },
    ]);
    // Same prompt and response, other settings: the step still changed.
    expect(step.status).toBe('changed');
    expect(step.prompt.changed).toBe(false);
    expect(step.response.changed).toBe(false);
  });

  it('marks steps in one run only as added or removed, diffed against nothing, without settings', () => {
    const a = run(9, {}, [{ step: 'keep' }, { step: 'old', prompt: 'p old\n', content: 'bye' }]);
    const b = run(10, {}, [{ step: 'keep' }, { step: 'old2', prompt: 'p new\n', content: 'hi' }, { step: 'new', prompt: 'x\ny\n', content: 'hello there', meta: { model: 'm' } }]);
    const steps = diffRuns(a, b).steps;
    expect(steps.map((s) => [s.name, s.aName, s.aIndex, s.bIndex, s.status])).toEqual([
      ['keep', 'keep', 0, 0, 'unchanged'],
      ['old2', 'old', 1, 1, 'changed'],
      ['new', null, null, 2, 'added'],
    ]);
    const added = steps[2]!;
    expect(added.prompt.patch).toMatch(/^--- \/dev\/null\n\+\+\+ run-10\/new\n/);
    expect(applyPatch('', added.prompt.patch!)).toBe('x\ny\n');
    expect(added.response.parts).toEqual([{ kind: 'added', text: 'hello there' }]);
    expect(added.settings).toEqual([]);
    const removed = diffRuns(b, a).steps.find((s) => s.status === 'removed')!;
    expect(removed).toMatchObject({ name: 'new', aName: 'new', aIndex: 2, bIndex: null });
    expect(removed.response.parts).toEqual([{ kind: 'removed', text: 'hello there' }]);
  });

  it('names a step without metadata by its payload or response, and has no patch for a prompt a run did not record', () => {
    const a = run(11, {}, [{ prompt: null, content: 'x' }]);
    const b = run(12, {}, [{ prompt: 'now recorded', content: 'x' }]);
    const step = diffRuns(a, b).steps[0]!;
    expect(step.name).toMatch(/^response \d+$/);
    expect(step.prompt).toEqual({ changed: true, patch: null });
    const both = diffRuns(a, run(13, {}, [{ prompt: null, content: 'x' }])).steps[0]!;
    expect(both.prompt).toEqual({ changed: false, patch: null });
  });

  it('replaces very different long texts whole instead of searching for their edit script, and the patch still applies', () => {
    const before = Array.from({ length: 6000 }, (_, i) => `a${i}`).join('\n');
    const after = Array.from({ length: 6000 }, (_, i) => `b${i}`).join('\n');
    const started = performance.now();
    const step = diffRuns(run(14, {}, [{ step: 's', prompt: before, content: before }]), run(15, {}, [{ step: 's', prompt: after, content: after }])).steps[0]!;
    expect(performance.now() - started).toBeLessThan(3000);
    expect(applyPatch(before, step.prompt.patch!)).toBe(after);
    expect(textOf(step.response.parts, 'a')).toBe(before);
    expect(textOf(step.response.parts, 'b')).toBe(after);
  });
});

describe('promptText', () => {
  it('shows chat messages (the JSON sent to a chat API) one after another, each under its role', () => {
    const sent = JSON.stringify([{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Line one\nLine two' }]);
    expect(promptText(sent)).toBe('[system]\nBe terse.\n[user]\nLine one\nLine two\n');
  });

  it('keeps a text prompt as sent, also one that only looks like JSON', () => {
    expect(promptText('[INST] hi [/INST]')).toBe('[INST] hi [/INST]');
    expect(promptText('[1, 2]')).toBe('[1, 2]');
    expect(promptText('plain\n')).toBe('plain\n');
  });
});
