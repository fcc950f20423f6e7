/**
 * Runs a step's checks on its output. Each check gives a result; one that throws (a service
 * down, a bug) fails alone, with the error's message as its reason, never the whole step.
 */
import type { CheckArgs } from './args.js';
import * as json from './evaluate-json.js';
import * as similar from './evaluate-similar.js';
import * as text from './evaluate-text.js';
import { failed, reaches, type Outcome } from './outcome.js';
import type { CheckName, CheckResult, CheckSpec, StepCheckResult, StepOutput } from './types.js';

export interface CheckServices {
  /** Embeddings of texts from the endpoint the check names (the app provides it; absent: embedding_similar fails with a clear reason). */
  embed?(texts: string[], check: CheckSpec): Promise<number[][]>;
  /** Runs the judge payload with the output and returns its answer text (the app provides it). */
  judge?(check: CheckSpec, output: StepOutput): Promise<string>;
  /** A JSON Schema file's parsed content, by the path written in the check (the app reads it). */
  schemaFile?(path: string): unknown;
  /** The approved output of this step, when there is one. */
  approved?: string;
}

type Evaluate<N extends CheckName> = (args: CheckArgs[N], output: StepOutput, services: CheckServices, check: CheckSpec) => Outcome | Promise<Outcome>;

const EVALUATORS: { [N in CheckName]: Evaluate<N> } = {
  equals: (args, { text: t }) => text.equals(args, t),
  contains: (args, { text: t }) => text.contains(args, t, false),
  icontains: (args, { text: t }) => text.contains(args, t, true),
  not_contains: (args, { text: t }) => text.notContains(args, t),
  starts_with: (args, { text: t }) => text.startsWith(args, t),
  regex: (args, { text: t }) => text.regex(args, t),
  min_words: (args, { text: t }) => text.size('words', 'min', args, t),
  max_words: (args, { text: t }) => text.size('words', 'max', args, t),
  min_chars: (args, { text: t }) => text.size('characters', 'min', args, t),
  max_chars: (args, { text: t }) => text.size('characters', 'max', args, t),
  one_of: (args, { text: t }) => text.oneOf(args, t),
  json: (_args, { text: t }) => json.json(t),
  json_schema: (args, { text: t }, services) => json.jsonSchema(args, t, services.schemaFile?.bind(services)),
  similar: (args, { text: t }) => similar.similar(args.metric, args.threshold, t, args.to),
  embedding_similar: (args, { text: t }, services, check) => similar.embeddingSimilar(args, t, services.embed && ((texts) => services.embed!(texts, check))),
  judge: (args, output, services, check) => similar.judge(args, services.judge && (() => services.judge!(check, output))),
  max_tokens: (args, output) => text.cost(args, output.completionTokens, 'tokens'),
  max_ms: (args, output) => text.cost(args, output.totalMs, 'ms'),
  approved: (args, { text: t }, services) => similar.approved(args, t, services.approved),
};

/**
 * Every check of a step on its output, in the order written (service checks run
 * concurrently). The step passes when every check passes; with a threshold (0..1), when the
 * weighted mean score reaches it.
 */
export async function runChecks(checks: CheckSpec[], output: StepOutput, services: CheckServices, options?: { step: string; threshold?: number }): Promise<StepCheckResult> {
  const results = await Promise.all(checks.map((check) => runOne(check, output, services)));
  const totalWeight = results.reduce((sum, r) => sum + r.weight, 0);
  // No checks: nothing failed.
  const score = totalWeight === 0 ? 1 : results.reduce((sum, r) => sum + r.score * r.weight, 0) / totalWeight;
  const threshold = options?.threshold;
  const pass = threshold === undefined ? results.every((r) => r.pass) : reaches(score, threshold);
  return { step: options?.step ?? '', pass, score, ...(threshold !== undefined ? { threshold } : {}), checks: results };
}

async function runOne(check: CheckSpec, output: StepOutput, services: CheckServices): Promise<CheckResult> {
  let outcome: Outcome;
  try {
    // A name from elsewhere than parseChecks (an older cache entry, say) fails alone too.
    const evaluate = EVALUATORS[check.name] as Evaluate<CheckName> | undefined;
    outcome = evaluate ? await evaluate(check.args as CheckArgs[CheckName], output, services, check) : failed(`unknown check "${check.name}"`);
  } catch (error) {
    outcome = failed(error instanceof Error ? error.message : String(error));
  }
  return { check: check.name, pass: outcome.pass, score: outcome.score, weight: check.weight, reason: outcome.reason };
}
