/**
 * A compact word-level diff of two responses, for a terminal line or a JSON event:
 * `[-removed-]{+added+}` marks, unchanged stretches shortened to their ends.
 */
import { diffWords } from 'diff';

export interface ResponseDiff {
  changed: boolean;
  /** The new text with changes marked, long unchanged stretches elided. */
  text: string;
  added: number;
  removed: number;
}

export function compactWordDiff(before: string, after: string, keep = 24): ResponseDiff {
  if (before === after) return { changed: false, text: '', added: 0, removed: 0 };
  let added = 0;
  let removed = 0;
  const parts = diffWords(before, after).map((part) => {
    if (part.added) {
      added += part.count ?? 1;
      return `{+${part.value}+}`;
    }
    if (part.removed) {
      removed += part.count ?? 1;
      return `[-${part.value}-]`;
    }
    // Context: keep the ends of an unchanged stretch, elide its middle.
    return part.value.length > keep * 2 + 3 ? `${part.value.slice(0, keep)}…${part.value.slice(-keep)}` : part.value;
  });
  return { changed: true, text: parts.join(''), added, removed };
}
