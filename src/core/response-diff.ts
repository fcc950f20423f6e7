/**
 * A compact word-level diff of two responses, for a terminal line or a JSON event:
 * `[-removed-]{+added+}` marks, unchanged stretches shortened to their ends. Built on
 * run-diff's word parts, so it is bounded the same way for long texts.
 */
import { wordParts } from './run-diff.js';

export interface ResponseDiff {
  changed: boolean;
  /** The new text with changes marked, long unchanged stretches elided. */
  text: string;
  /** Changed stretches added and removed. */
  added: number;
  removed: number;
}

export function compactWordDiff(before: string, after: string, keep = 24): ResponseDiff {
  if (before === after) return { changed: false, text: '', added: 0, removed: 0 };
  let added = 0;
  let removed = 0;
  const text = wordParts(before, after)
    .map((part) => {
      if (part.kind === 'added') {
        added++;
        return `{+${part.text}+}`;
      }
      if (part.kind === 'removed') {
        removed++;
        return `[-${part.text}-]`;
      }
      // Context: keep the ends of an unchanged stretch, elide its middle.
      return part.text.length > keep * 2 + 3 ? `${part.text.slice(0, keep)}…${part.text.slice(-keep)}` : part.text;
    })
    .join('');
  return { changed: true, text, added, removed };
}
