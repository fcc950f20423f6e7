/**
 * Text and vector similarity for `similar`, `embedding_similar` and `approved`, each 0..1.
 */
import { distance } from 'fastest-levenshtein';
import type { SimilarityMetric } from './args.js';

/**
 * Characters compared by Levenshtein on each side (UTF-16 units). fastest-levenshtein is
 * bit-parallel, about n·m/32 steps: 50,000 a side is well under a second. Longer texts are
 * compared on their first 50,000 characters.
 */
export const LEVENSHTEIN_MAX_CHARS = 50_000;

/**
 * Tokens compared by ROUGE-L on each side. The LCS table is n·m cells: 4,000 a side is 16
 * million, a few tens of milliseconds. Longer texts are compared on their first 4,000 tokens.
 */
export const ROUGE_MAX_TOKENS = 4_000;

/** 1 - distance / the longer length; two empty texts are identical (1). */
export function levenshteinRatio(a: string, b: string): number {
  const x = a.slice(0, LEVENSHTEIN_MAX_CHARS);
  const y = b.slice(0, LEVENSHTEIN_MAX_CHARS);
  const longer = Math.max(x.length, y.length);
  return longer === 0 ? 1 : 1 - distance(x, y) / longer;
}

/**
 * Words for ROUGE: lowercased runs of letters and digits; punctuation and spaces separate
 * them and are dropped (as in Google's rouge-score, but any script's letters, not only a-z).
 */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
}

/** ROUGE-L F1 of a candidate against a reference: the longest common subsequence of their words. */
export function rougeL(candidate: string, reference: string): number {
  const c = wordTokens(candidate).slice(0, ROUGE_MAX_TOKENS);
  const r = wordTokens(reference).slice(0, ROUGE_MAX_TOKENS);
  if (c.length === 0 && r.length === 0) return 1;
  const lcs = lcsLength(c, r);
  if (lcs === 0) return 0;
  const precision = lcs / c.length;
  const recall = lcs / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Two rows of the LCS table: memory grows with one side only. */
function lcsLength(a: string[], b: string[]): number {
  let previous = new Int32Array(b.length + 1);
  let current = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      current[j] = a[i - 1] === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

export function textSimilarity(metric: SimilarityMetric, output: string, reference: string): number {
  return metric === 'rouge_l' ? rougeL(output, reference) : levenshteinRatio(output, reference);
}

/**
 * Cosine similarity of two vectors, -1..1. Vectors that cannot be compared (different
 * lengths, a zero vector, a value that is not a finite number) give 0 and say why.
 */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): { value: number; problem?: string } {
  if (a.length !== b.length) return { value: 0, problem: `the embeddings have different lengths (${a.length} and ${b.length})` };
  if (a.length === 0) return { value: 0, problem: 'the embeddings are empty' };
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  if (!Number.isFinite(dot + normA + normB)) return { value: 0, problem: 'an embedding holds a value that is not a finite number' };
  if (normA === 0 || normB === 0) return { value: 0, problem: 'an embedding is a zero vector' };
  return { value: Math.min(1, Math.max(-1, dot / Math.sqrt(normA * normB))) };
}
