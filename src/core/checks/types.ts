/**
 * Checks on outputs (`expect:` on a workflow step, and in test cases): the types shared by
 * the check parser and evaluator (core/checks), the test runner (app/test.ts) and the
 * output (cli/output/test.ts). Types only.
 */
import type { SourceLocation } from '../errors.js';

export type CheckName =
  | 'equals' | 'contains' | 'icontains' | 'not_contains' | 'starts_with' | 'regex'
  | 'min_words' | 'max_words' | 'min_chars' | 'max_chars' | 'one_of'
  | 'json' | 'json_schema'
  | 'similar' | 'embedding_similar'
  | 'judge'
  | 'max_tokens' | 'max_ms'
  | 'approved';

/** One check as written, validated: its name, its argument (the shape its name implies), its weight and where it is. */
export interface CheckSpec {
  name: CheckName;
  /** The check's argument as validated (a string, number, list, or mapping, per check). */
  args: unknown;
  /** Default 1. */
  weight: number;
  at: SourceLocation;
}

/** What a check looks at: one step's output and what it cost. */
export interface StepOutput {
  text: string;
  completionTokens?: number | null;
  totalMs?: number | null;
}

export interface CheckResult {
  /** The check's name (as written). */
  check: CheckName;
  pass: boolean;
  /** 0..1: 1 or 0 for yes/no checks; the similarity for `similar` and `embedding_similar`. */
  score: number;
  weight: number;
  /** Why it failed, quoting the part of the output that failed; why it passed, briefly. */
  reason: string;
}

/** One step's checks together: passes when every check passes, or, with a threshold, when the weighted score reaches it. */
export interface StepCheckResult {
  step: string;
  pass: boolean;
  /** Weighted mean of the check scores. */
  score: number;
  threshold?: number;
  checks: CheckResult[];
}

/** One test case (or one record of a case's dataset) and how it went. */
export interface CaseResult {
  workflow: string;
  /** The case's name; for a dataset, `<name> #<record>`. */
  name: string;
  /** The tests file and the case's position in it. */
  at: SourceLocation;
  runId: number | null;
  /** `error`: the run itself failed (server down, context too long) or the record was invalid. */
  status: 'passed' | 'failed' | 'error';
  durationMs: number;
  error?: string;
  steps: StepCheckResult[];
}

export interface TestReport {
  cases: CaseResult[];
  passed: number;
  failed: number;
  errors: number;
  durationMs: number;
}
