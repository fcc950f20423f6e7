/**
 * What changed between two recorded runs (`quire diff`), as data: the files they used (by
 * content hash), their inputs, and per step the prompt sent (a line-level unified patch),
 * the response (word-level parts) and the settings recorded with it. Pure: the runs and
 * their responses come in, the diff comes out.
 *
 * Steps are paired by step name first (so a step moved, inserted or removed elsewhere
 * still meets its counterpart), then the steps left over by position (so two workflows
 * whose steps are named differently still compare step by step).
 */
import { diffLines, diffWordsWithSpace, FILE_HEADERS_ONLY, formatPatch, structuredPatch, type Change, type StructuredPatch } from 'diff';
import type { ResponseRecord, RunRecord } from './history.js';

export interface RunWithResponses {
  run: RunRecord;
  responses: readonly ResponseRecord[];
}

export type FileChangeKind = 'changed' | 'added' | 'removed';

/** A file whose content hash differs between the runs; hashes are null on the side that did not use it. */
export interface FileChange {
  path: string;
  change: FileChangeKind;
  a: string | null;
  b: string | null;
}

/** A recorded value that differs (an input, a setting); null where a run recorded none. */
export interface ValueChange {
  key: string;
  a: unknown;
  b: unknown;
}

export type DiffPartKind = 'same' | 'added' | 'removed';

/** A stretch of text: the `same` and `removed` parts, in order, are run a's text; `same` and `added` are run b's. */
export interface DiffPart {
  kind: DiffPartKind;
  text: string;
}

/**
 * `added` and `removed`: the step is in one run only. `changed`: its name, prompt,
 * response or settings differ.
 */
export type StepStatus = 'changed' | 'unchanged' | 'added' | 'removed';

export interface StepDiff {
  /** The step's name in run b (in run a when only run a has it). */
  name: string;
  /** The step's name in run a, null when only run b has it (differs from `name` when paired by position). */
  aName: string | null;
  /** Workflow positions (0-based); null on the side without the step. */
  aIndex: number | null;
  bIndex: number | null;
  status: StepStatus;
  prompt: {
    changed: boolean;
    /**
     * Unified line diff of the prompts (chat prompts one message after another, see
     * `promptText`); null when they are the same, or when a run did not record its prompt.
     */
    patch: string | null;
  };
  response: {
    changed: boolean;
    /** Word-level (whitespace kept exactly); a side without the step counts as empty. */
    parts: DiffPart[];
  };
  /** Settings recorded with each response that differ; empty for a step in one run only. */
  settings: ValueChange[];
}

export interface RunDiff {
  a: RunRecord;
  b: RunRecord;
  files: FileChange[];
  inputs: ValueChange[];
  steps: StepDiff[];
}

/** More edits than this and the texts are shown as replaced whole (the diff would take too long to be useful). */
const MAX_EDITS = 1000;

/** One recorded step of a run. */
interface Step {
  name: string;
  index: number;
  response: ResponseRecord;
}

function stepsOf(responses: readonly ResponseRecord[]): Step[] {
  return responses.map((response, position) => {
    const { step, step_index: index } = response.metadata;
    return {
      name: typeof step === 'string' ? step : (response.payload ?? `response ${response.id}`),
      index: typeof index === 'number' && Number.isInteger(index) ? index : position,
      response,
    };
  });
}

/**
 * Pairs the steps of two runs: by name (the n-th step of a name with the n-th of that
 * name), then the rest by workflow position. Ordered as run b's steps, each step only in
 * run a placed after the step it followed there.
 */
export function pairSteps<T extends { name: string; index: number }>(a: readonly T[], b: readonly T[]): { a?: T; b?: T }[] {
  const partnerOfA = new Map<number, number>();
  const usedB = new Set<number>();
  const byName = new Map<string, number[]>();
  b.forEach((step, j) => byName.set(step.name, [...(byName.get(step.name) ?? []), j]));
  a.forEach((step, i) => {
    const j = byName.get(step.name)?.shift();
    if (j === undefined) return;
    partnerOfA.set(i, j);
    usedB.add(j);
  });
  a.forEach((step, i) => {
    if (partnerOfA.has(i)) return;
    const j = b.findIndex((other, k) => !usedB.has(k) && other.index === step.index);
    if (j < 0) return;
    partnerOfA.set(i, j);
    usedB.add(j);
  });

  const entries: { a?: number; b?: number }[] = b.map((_, j) => ({ b: j }));
  for (const [i, j] of partnerOfA) entries[j]!.a = i;
  let insertAt = 0;
  a.forEach((_, i) => {
    const j = partnerOfA.get(i);
    if (j !== undefined) {
      insertAt = entries.findIndex((entry) => entry.b === j) + 1;
      return;
    }
    entries.splice(insertAt++, 0, { a: i });
  });
  return entries.map((entry) => ({
    ...(entry.a !== undefined ? { a: a[entry.a]! } : {}),
    ...(entry.b !== undefined ? { b: b[entry.b]! } : {}),
  }));
}

export function diffRuns(a: RunWithResponses, b: RunWithResponses): RunDiff {
  const labelA = `run-${a.run.id}`;
  const labelB = `run-${b.run.id}`;
  const steps = pairSteps(stepsOf(a.responses), stepsOf(b.responses)).map(({ a: stepA, b: stepB }) => diffStep(stepA, stepB, labelA, labelB));
  return {
    a: a.run,
    b: b.run,
    files: diffFiles(a.run.metadata.files, b.run.metadata.files),
    inputs: diffValues(a.run.metadata.inputs ?? {}, b.run.metadata.inputs ?? {}),
    steps,
  };
}

function diffStep(a: Step | undefined, b: Step | undefined, labelA: string, labelB: string): StepDiff {
  const name = (b ?? a)!.name;
  const promptA = a ? a.response.prompt : '';
  const promptB = b ? b.response.prompt : '';
  const textA = promptA === null ? null : promptText(promptA);
  const textB = promptB === null ? null : promptText(promptB);
  const promptChanged = textA !== textB;
  const patch = promptChanged && textA !== null && textB !== null
    ? linePatch(a ? `${labelA}/${a.name}` : '/dev/null', b ? `${labelB}/${b.name}` : '/dev/null', textA, textB)
    : null;

  const contentA = a?.response.content ?? '';
  const contentB = b?.response.content ?? '';
  const parts = wordParts(contentA, contentB);
  const settings = a && b ? diffValues(settingsOf(a.response), settingsOf(b.response)) : [];

  const status: StepStatus = !a ? 'added' : !b ? 'removed'
    : promptChanged || contentA !== contentB || settings.length > 0 || a.name !== b.name ? 'changed' : 'unchanged';
  return {
    name,
    aName: a?.name ?? null,
    aIndex: a?.index ?? null,
    bIndex: b?.index ?? null,
    status,
    prompt: { changed: promptChanged, patch },
    response: { changed: contentA !== contentB, parts },
    settings,
  };
}

/**
 * The prompt as lines to compare. A text prompt as sent; a chat prompt (the JSON messages
 * sent to a chat API, on one line) as each message's `[role]` line followed by its content,
 * so a changed sentence shows as a changed line rather than one long changed line.
 */
export function promptText(prompt: string): string {
  if (!prompt.startsWith('[')) return prompt;
  let messages: unknown;
  try {
    messages = JSON.parse(prompt);
  } catch {
    return prompt;
  }
  if (!Array.isArray(messages) || !messages.every((m) => m !== null && typeof m === 'object' && typeof (m as { role?: unknown }).role === 'string')) return prompt;
  return (messages as { role: string; content?: unknown }[])
    .map(({ role, content }) => `[${role}]\n${typeof content === 'string' ? content : JSON.stringify(content ?? null)}\n`)
    .join('');
}

/** A unified diff with `---`/`+++` headers and 3 lines of context. */
function linePatch(nameA: string, nameB: string, a: string, b: string): string {
  const patch = structuredPatch(nameA, nameB, a, b, undefined, undefined, { context: 3, maxEditLength: MAX_EDITS }) ?? replacedWhole(nameA, nameB, a, b);
  return formatPatch(patch, FILE_HEADERS_ONLY);
}

/** One hunk taking every line of `a` out and every line of `b` in (each side diffed against nothing: linear). */
function replacedWhole(nameA: string, nameB: string, a: string, b: string): StructuredPatch {
  const out = structuredPatch(nameA, nameB, a, '', undefined, undefined, { context: 0 }).hunks[0];
  const into = structuredPatch(nameA, nameB, '', b, undefined, undefined, { context: 0 }).hunks[0];
  return {
    oldFileName: nameA,
    newFileName: nameB,
    oldHeader: undefined,
    newHeader: undefined,
    hunks: [{
      oldStart: out?.oldStart ?? 0,
      oldLines: out?.oldLines ?? 0,
      newStart: into?.newStart ?? 0,
      newLines: into?.newLines ?? 0,
      lines: [...(out?.lines ?? []), ...(into?.lines ?? [])],
    }],
  };
}

/** Word-level parts (whitespace is kept exactly); line-level when the word diff is too large, replaced whole when that is too. */
export function wordParts(a: string, b: string): DiffPart[] {
  if (a === b) return a === '' ? [] : [{ kind: 'same', text: a }];
  if (a === '' || b === '') return [a === '' ? { kind: 'added', text: b } : { kind: 'removed', text: a }];
  const changes: Change[] | undefined = diffWordsWithSpace(a, b, { maxEditLength: MAX_EDITS }) ?? diffLines(a, b, { maxEditLength: MAX_EDITS });
  if (!changes) return [{ kind: 'removed', text: a }, { kind: 'added', text: b }];
  return changes.filter((c) => c.value !== '').map((c) => ({ kind: c.added ? 'added' : c.removed ? 'removed' : 'same', text: c.value }));
}

function diffFiles(a: Record<string, string> | undefined, b: Record<string, string> | undefined): FileChange[] {
  const before = a ?? {};
  const after = b ?? {};
  const paths = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: FileChange[] = [];
  for (const path of paths) {
    const hashA = Object.hasOwn(before, path) ? before[path]! : null;
    const hashB = Object.hasOwn(after, path) ? after[path]! : null;
    if (hashA === hashB) continue;
    changes.push({ path, change: hashA === null ? 'added' : hashB === null ? 'removed' : 'changed', a: hashA, b: hashB });
  }
  return changes;
}

/**
 * The settings a response was made with, flat: model format (and the date it printed),
 * API, endpoint, model, and each sampler parameter as `sampler.<name>`.
 */
export function settingsOf(response: ResponseRecord): Record<string, unknown> {
  const m = response.metadata;
  const settings: Record<string, unknown> = {};
  for (const key of ['model_format', 'date_string', 'api', 'endpoint', 'model'] as const) {
    if (m[key] !== undefined) settings[key] = m[key];
  }
  if (m.sampler !== null && typeof m.sampler === 'object' && !Array.isArray(m.sampler)) {
    for (const [key, value] of Object.entries(m.sampler)) if (value !== undefined) settings[`sampler.${key}`] = value;
  }
  return settings;
}

/** Keys whose values differ (compared as JSON, object keys in any order), sorted by key. */
function diffValues(a: Record<string, unknown>, b: Record<string, unknown>): ValueChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const changes: ValueChange[] = [];
  for (const key of keys) {
    const valueA = Object.hasOwn(a, key) ? a[key] : null;
    const valueB = Object.hasOwn(b, key) ? b[key] : null;
    if (canonical(valueA) !== canonical(valueB)) changes.push({ key, a: valueA ?? null, b: valueB ?? null });
  }
  return changes;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v) ?? 'null';
}
