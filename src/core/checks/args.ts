/**
 * The validated argument of each check, as parseChecks leaves it in `CheckSpec.args`.
 * Plain JSON data only (no RegExp, no compiled validator): parsed workflows are stored as
 * JSON in the parse cache, so patterns and schemas are compiled again where they are used.
 */
import type { CheckName, CheckSpec } from './types.js';

export type SimilarityMetric = 'levenshtein' | 'rouge_l';

export interface RegexArgs {
  pattern: string;
  /** Letters from `gimsuy`, each at most once ('' for none). */
  flags: string;
}

export interface CheckArgs {
  equals: string;
  /** A list: every one must occur. */
  contains: string | string[];
  icontains: string | string[];
  /** A list: none may occur. */
  not_contains: string | string[];
  starts_with: string;
  regex: RegexArgs;
  min_words: number;
  max_words: number;
  min_chars: number;
  max_chars: number;
  one_of: string[];
  json: true;
  /** An inline schema, or a file path relative to the workspace root (read by the app). */
  json_schema: { schema: Record<string, unknown> } | { file: string };
  similar: { to: string; metric: SimilarityMetric; threshold: number };
  embedding_similar: { to: string; threshold: number; port?: number; model?: string };
  judge: { payload: string; pass: RegexArgs; expected?: string };
  max_tokens: number;
  max_ms: number;
  approved: { exact: true } | { similar: number; metric: SimilarityMetric };
}

/** A check whose `args` have the shape its name implies. */
export type CheckSpecOf<N extends CheckName> = CheckSpec & { name: N; args: CheckArgs[N] };

/** One line per check: the editor schema's descriptions, and the list of names (complete by type). */
export const CHECK_DESCRIPTIONS: Record<CheckName, string> = {
  equals: 'The whole output, surrounding whitespace ignored, equals this text',
  contains: 'The output contains this text (a list: every one of them)',
  icontains: 'The output contains this text, ignoring case (a list: every one of them)',
  not_contains: 'The output does not contain this text (a list: none of them)',
  starts_with: 'The output, leading whitespace ignored, starts with this text',
  regex: 'The output matches this regular expression: "pattern" or { pattern, flags } (flags from gimsuy)',
  min_words: 'At least this many words (whitespace-separated)',
  max_words: 'At most this many words (whitespace-separated)',
  min_chars: 'At least this many characters (output trimmed)',
  max_chars: 'At most this many characters (output trimmed)',
  one_of: 'The whole output, trimmed, equals one of these',
  json: 'true: the output is JSON (one surrounding ```json fence allowed)',
  json_schema: 'The output is JSON matching this schema: inline, or a file path relative to the workspace',
  similar: 'Similar to a reference text: { to, metric: levenshtein | rouge_l, threshold: 0..1 } or the text alone',
  embedding_similar: 'Cosine similarity of embeddings: { to, threshold, port, model } or the text alone',
  judge: 'A payload grades the output: { payload, pass (regex on its answer), expected }',
  max_tokens: 'At most this many completion tokens',
  max_ms: 'At most this many milliseconds for the step',
  approved: 'Equals the approved output (`quire test --update`): true, or { similar: 0..1 } for a near match',
};

export const CHECK_NAMES = Object.keys(CHECK_DESCRIPTIONS) as readonly CheckName[];

export const DEFAULT_THRESHOLD = 0.8;
/** Anchored at the start, leading whitespace allowed: "PASS", "PASS: fine". */
export const DEFAULT_JUDGE_PASS: RegexArgs = { pattern: '^\\s*PASS\\b', flags: '' };
