/**
 * `quire diff`'s printer: a compact terminal view (changed files and inputs, then per
 * changed step its settings, prompt patch and word-level response; unchanged steps in one
 * line), or the `--json` document.
 */
import type { RunRecord } from '../../core/history.js';
import type { DiffPart, RunDiff, StepDiff, ValueChange } from '../../core/run-diff.js';
import type { CommandContext } from '../context.js';
import { bold, dim, printJson, useColor } from '../report.js';

/** Unchanged text longer than this around a change is shortened to its ends. */
const CONTEXT_CHARS = 80;

export function printDiff(context: CommandContext, diff: RunDiff): void {
  if (context.json) {
    printJson(diffDocument(diff));
    return;
  }
  process.stdout.write(formatDiff(diff, colors()));
}

/** The `--json` document (README, "--json"). */
export function diffDocument(diff: RunDiff) {
  const run = (r: RunRecord) => ({ id: r.id, workflow: r.workflow, status: r.status, started_at: r.startedAt });
  return {
    ok: true,
    a: run(diff.a),
    b: run(diff.b),
    files: diff.files.map((f) => ({ path: f.path, change: f.change, a: f.a, b: f.b })),
    inputs: diff.inputs.map(value),
    steps: diff.steps.map((s) => ({
      name: s.name,
      a_name: s.aName,
      a_index: s.aIndex,
      b_index: s.bIndex,
      status: s.status,
      prompt: { changed: s.prompt.changed, patch: s.prompt.patch },
      response: { changed: s.response.changed, parts: s.response.parts.map((p) => ({ kind: p.kind, text: p.text })) },
      settings: s.settings.map(value),
    })),
  };
}

const value = (v: ValueChange) => ({ key: v.key, a: v.a, b: v.b });

interface Colors {
  added(text: string): string;
  removed(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  /** Without colour, word changes are marked `[-removed-]{+added+}` (git's --word-diff=plain). */
  marks: boolean;
}

function colors(): Colors {
  const on = useColor() && Boolean(process.stdout.isTTY);
  const paint = (code: string) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { added: paint('32'), removed: paint('31'), dim, bold, marks: !on };
}

export function formatDiff(diff: RunDiff, c: Colors): string {
  const out: string[] = [];
  const runLabel = (r: RunRecord) => `run #${r.id} ${r.workflow ?? '(deleted workflow)'}${r.status === 'completed' ? '' : ` (${r.status})`}`;
  out.push(`${c.bold(`${runLabel(diff.a)} → ${runLabel(diff.b)}`)}\n`);
  out.push(c.dim(`started ${diff.a.startedAt} → ${diff.b.startedAt} UTC`) + '\n');

  if (diff.files.length === 0) out.push(c.dim('files: no change') + '\n');
  else {
    out.push(`files: ${diff.files.length} differ\n`);
    for (const f of diff.files) {
      const line = `  ${f.change.padEnd(8)} ${f.path}`;
      out.push(`${f.change === 'added' ? c.added(line) : f.change === 'removed' ? c.removed(line) : line}\n`);
    }
  }
  if (diff.inputs.length > 0) {
    out.push('inputs:\n');
    for (const v of diff.inputs) out.push(`  ${formatValueChange(v, c)}\n`);
  }

  const unchanged: StepDiff[] = [];
  for (const step of diff.steps) {
    if (step.status === 'unchanged') {
      unchanged.push(step);
      continue;
    }
    if (step.status === 'added') {
      out.push(c.added(`+ step ${step.name}: only in run #${diff.b.id}`) + '\n');
      continue;
    }
    if (step.status === 'removed') {
      out.push(c.removed(`- step ${step.name}: only in run #${diff.a.id}`) + '\n');
      continue;
    }
    out.push(formatStep(step, diff, c));
  }
  if (unchanged.length > 0) {
    const names = unchanged.map((s) => s.name).join(', ');
    out.push(c.dim(`= ${unchanged.length} step${unchanged.length === 1 ? '' : 's'} unchanged: ${names}`) + '\n');
  }
  if (diff.steps.length === 0) out.push(c.dim('no steps recorded in either run') + '\n');
  return out.join('');
}

function formatStep(step: StepDiff, diff: RunDiff, c: Colors): string {
  const out: string[] = [];
  const renamed = step.aName !== null && step.aName !== step.name ? ` (run #${diff.a.id}: ${step.aName})` : '';
  out.push(`\n${c.bold(`── ${step.name}${renamed} `.padEnd(72, '─'))}\n`);
  if (step.settings.length > 0) {
    out.push(c.dim('settings:') + '\n');
    for (const v of step.settings) out.push(`  ${formatValueChange(v, c)}\n`);
  }
  if (step.prompt.changed) {
    out.push(c.dim('prompt:') + '\n');
    if (step.prompt.patch === null) out.push(c.dim(`  (not recorded in run #${diff.a.id} or #${diff.b.id}: nothing to compare)`) + '\n');
    else out.push(formatPatchLines(step.prompt.patch, c));
  }
  if (step.response.changed) {
    out.push(c.dim('response:') + '\n');
    out.push(`${formatParts(step.response.parts, c)}\n`);
  }
  if (!step.prompt.changed && !step.response.changed && step.settings.length === 0) out.push(c.dim('same prompt, response and settings') + '\n');
  return out.join('');
}

/**
 * The patch's hunks (its ---/+++ header names the runs, which the heading already does).
 * "\ No newline at end of file" is shown only when one prompt ends with a newline and the
 * other does not (prompts often end without one).
 */
function formatPatchLines(patch: string, c: Colors): string {
  const lines = patch.split('\n');
  if (lines.at(-1) === '') lines.pop();
  // After a context line, or once per side, the marker says both prompts end the same way.
  const bothUnterminated = lines.filter((line) => line.startsWith('\\')).length > 1;
  return lines
    .filter((line, i) => !line.startsWith('--- ') && !line.startsWith('+++ ') && !(line.startsWith('\\') && (bothUnterminated || lines[i - 1]?.startsWith(' '))))
    .map((line) => (line.startsWith('@@') || line.startsWith('\\') ? c.dim(line) : line.startsWith('+') ? c.added(line) : line.startsWith('-') ? c.removed(line) : line))
    .map((line) => `${line}\n`)
    .join('');
}

/** Word-level parts inline; long unchanged stretches keep only the ends next to a change. */
function formatParts(parts: readonly DiffPart[], c: Colors): string {
  return parts
    .map((part, i) => {
      if (part.kind === 'added') return c.marks ? `{+${part.text}+}` : c.added(part.text);
      if (part.kind === 'removed') return c.marks ? `[-${part.text}-]` : c.removed(part.text);
      return shorten(part.text, i > 0, i < parts.length - 1, c);
    })
    .join('');
}

/** Keeps `CONTEXT_CHARS` after a change before it and before a change after it, cut at whitespace. */
export function shorten(text: string, changeBefore: boolean, changeAfter: boolean, c: Pick<Colors, 'dim'>): string {
  const keep = (changeBefore ? CONTEXT_CHARS : 0) + (changeAfter ? CONTEXT_CHARS : 0);
  if (text.length <= keep + 20) return text;
  let head = changeBefore ? text.slice(0, CONTEXT_CHARS) : '';
  let tail = changeAfter ? text.slice(text.length - CONTEXT_CHARS) : '';
  const headCut = head.search(/\s\S*$/);
  if (head && headCut > 0) head = head.slice(0, headCut + 1);
  const tailCut = tail.search(/\s/);
  if (tail && tailCut >= 0 && tailCut < tail.length - 1) tail = tail.slice(tailCut);
  return `${head}${c.dim('…')}${tail}`;
}

function formatValueChange(v: ValueChange, c: Colors): string {
  const show = (x: unknown) => (x === null || x === undefined ? '(none)' : JSON.stringify(x));
  return `${v.key}: ${c.removed(show(v.a))} → ${c.added(show(v.b))}`;
}
