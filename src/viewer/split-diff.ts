/**
 * A unified patch (core/run-diff's prompt patch) laid out side by side: removed lines on
 * the left, added lines on the right, each changed line paired with its counterpart and
 * highlighted word by word with core's `wordParts`. Presentation only: the diff itself is
 * core's, computed once.
 */
import { wordParts, type DiffPart } from '../core/run-diff.js';

export interface SideLine {
  /** 1-based line number in that run's prompt. */
  line: number;
  kind: 'same' | 'removed' | 'added';
  /** The line's text in parts: `same` stretches and, on a changed line, the words that differ. */
  parts: DiffPart[];
}

export type SplitRow = { kind: 'hunk'; header: string } | { kind: 'line'; left: SideLine | null; right: SideLine | null };

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

export function splitPatch(patch: string): SplitRow[] {
  const rows: SplitRow[] = [];
  let oldLine = 0;
  let newLine = 0;
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      const a = removed[i];
      const b = added[i];
      // A changed line (both sides): highlight the words; a line on one side only is whole.
      const parts = a !== undefined && b !== undefined ? wordParts(a, b) : undefined;
      rows.push({
        kind: 'line',
        left: a === undefined ? null : { line: oldLine++, kind: 'removed', parts: parts ? parts.filter((p) => p.kind !== 'added') : [{ kind: 'removed', text: a }] },
        right: b === undefined ? null : { line: newLine++, kind: 'added', parts: parts ? parts.filter((p) => p.kind !== 'removed') : [{ kind: 'added', text: b }] },
      });
    }
    removed = [];
    added = [];
  };
  let inHunk = false;
  for (const text of patch.split('\n')) {
    const hunk = HUNK.exec(text);
    if (hunk) {
      flush();
      oldLine = Number(hunk[1]);
      newLine = Number(hunk[2]);
      rows.push({ kind: 'hunk', header: text });
      inHunk = true;
      continue;
    }
    if (!inHunk) continue; // the ---/+++ file headers
    if (text.startsWith('-')) removed.push(text.slice(1));
    else if (text.startsWith('+')) added.push(text.slice(1));
    else if (text.startsWith(' ')) {
      flush();
      const same = text.slice(1);
      rows.push({ kind: 'line', left: { line: oldLine++, kind: 'same', parts: [{ kind: 'same', text: same }] }, right: { line: newLine++, kind: 'same', parts: [{ kind: 'same', text: same }] } });
    }
    // `\ No newline at end of file` and the final empty string carry no line.
  }
  flush();
  return rows;
}
