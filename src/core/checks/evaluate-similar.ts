/**
 * Checks that compare the output with another text: `similar` (a reference written in the
 * check), `approved` (the golden output the app keeps), `embedding_similar` (through the
 * app's embedding service), and `judge` (another payload grades it).
 */
import type { CheckArgs, SimilarityMetric } from './args.js';
import { failed, passed, reaches, type Outcome } from './outcome.js';
import { firstDifference, quote, showScore } from './quote.js';
import { compileRegex, matches, showRegex } from './regex.js';
import { cosineSimilarity, textSimilarity } from './similarity.js';

/** Surrounding whitespace is noise for a similarity; the metrics see trimmed texts. */
export function similar(metric: SimilarityMetric, threshold: number, text: string, reference: string, referenceName?: string): Outcome {
  const score = textSimilarity(metric, text.trim(), reference.trim());
  return scored(`${metric} similarity`, score, threshold, referenceName ?? quote(reference, 40), text);
}

/** The approved output, exactly (by default) or by similarity. */
export function approved(args: CheckArgs['approved'], text: string, golden: string | undefined): Outcome {
  if (golden === undefined) return failed('no approved output yet: run `quire test --update`');
  if ('similar' in args) return similar(args.metric, args.similar, text, golden, 'the approved output');
  return text === golden ? passed('equals the approved output') : failed(`output ${firstDifference(text, golden, { long: 'the approved output', short: 'approved' })}`);
}

export async function embeddingSimilar(args: CheckArgs['embedding_similar'], text: string, embed: ((texts: string[]) => Promise<number[][]>) | undefined): Promise<Outcome> {
  if (!embed) return failed('no embedding service: embedding_similar needs an endpoint that serves embeddings');
  const vectors = await embed([text, args.to]);
  const [a, b] = vectors;
  if (vectors.length !== 2 || !Array.isArray(a) || !Array.isArray(b)) return failed(`the embedding service returned ${vectors.length} embeddings for 2 texts`);
  const cosine = cosineSimilarity(a, b);
  if (cosine.problem) return { pass: false, score: 0, reason: `cannot compare embeddings: ${cosine.problem}` };
  // A score is 0..1: opposite directions (cosine < 0) count as no similarity at all.
  return scored('embedding similarity', Math.max(0, cosine.value), args.threshold, quote(args.to, 40), text);
}

export async function judge(args: CheckArgs['judge'], judgeOutput: (() => Promise<string>) | undefined): Promise<Outcome> {
  if (!judgeOutput) return failed(`no judge service: cannot run payload "${args.payload}"`);
  const answer = await judgeOutput();
  const pass = compileRegex(args.pass);
  if (!(pass instanceof RegExp)) return failed(`${showRegex(args.pass)} is not a valid regular expression: ${pass.error}`);
  return matches(pass, answer)
    ? passed(`judge "${args.payload}" answered ${quote(answer)}`)
    : failed(`judge "${args.payload}" answer does not match ${showRegex(args.pass)}: ${quote(answer)}`);
}

function scored(what: string, score: number, threshold: number, reference: string, text: string): Outcome {
  const pass = reaches(score, threshold);
  const shown = showScore(score, threshold);
  return pass
    ? { pass, score, reason: `${what} ${shown} >= ${threshold} to ${reference}` }
    : { pass, score, reason: `${what} ${shown} < ${threshold} to ${reference}: ${quote(text.trim())}` };
}
