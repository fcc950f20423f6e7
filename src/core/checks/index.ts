/**
 * The check engine: `expect:` lists parsed into checks, checks run on a step's output.
 */
export type { CheckArgs, CheckSpecOf, RegexArgs, SimilarityMetric } from './args.js';
export { CHECK_DESCRIPTIONS, CHECK_NAMES } from './args.js';
export { parseChecks, type Locate } from './parse.js';
export { runChecks, type CheckServices } from './evaluate.js';
export { cosineSimilarity, levenshteinRatio, rougeL, textSimilarity, wordTokens } from './similarity.js';
export { readJsonOutput, stripFence } from './json-text.js';
export { EXPECT_LIST_SCHEMA } from './schema.js';
export type * from './types.js';
