/**
 * The `expect:` list as a JSON Schema fragment (draft-07), for the editor schemas
 * (core/schemas.ts embeds it): completion and hover text in yaml-language-server. It accepts
 * what parseChecks accepts; parseChecks stays the one that reports problems, with "did you
 * mean" and compiled patterns and schemas. It compiles under the project's strict ajv options.
 */
import { CHECK_DESCRIPTIONS, CHECK_NAMES } from './args.js';
import type { CheckName } from './types.js';

const text = { type: 'string' };
const nonEmpty = { type: 'string', minLength: 1 };
const fraction = { type: 'number', minimum: 0, maximum: 1 };
const metric = { enum: ['levenshtein', 'rouge_l'], default: 'levenshtein', description: 'levenshtein: edit distance ratio of the characters; rouge_l: longest common subsequence of the words (F1)' };
const flags = { type: 'string', pattern: '^(?!.*(.).*\\1)[gimsuy]*$', description: 'Letters from gimsuy, each at most once' };
const regex = {
  anyOf: [
    nonEmpty,
    { type: 'object', properties: { pattern: { ...nonEmpty, description: 'A JavaScript regular expression' }, flags }, required: ['pattern'], additionalProperties: false },
  ],
};
const textOrList = { anyOf: [nonEmpty, { type: 'array', items: nonEmpty, minItems: 1 }] };
const count = { type: 'integer', minimum: 0 };
const positive = { type: 'number', exclusiveMinimum: 0 };

const ARGUMENTS: Record<CheckName, object> = {
  equals: text,
  contains: textOrList,
  icontains: textOrList,
  not_contains: textOrList,
  starts_with: nonEmpty,
  regex,
  min_words: count,
  max_words: count,
  min_chars: count,
  max_chars: count,
  one_of: { type: 'array', items: text, minItems: 1 },
  json: { const: true },
  json_schema: { anyOf: [{ ...nonEmpty, description: 'A JSON Schema file, relative to the workspace root' }, { type: 'object', description: 'An inline JSON Schema' }] },
  similar: {
    anyOf: [
      { ...nonEmpty, description: 'The reference text (levenshtein, threshold 0.8)' },
      {
        type: 'object',
        properties: { to: { ...nonEmpty, description: 'The reference text' }, metric, threshold: { ...fraction, default: 0.8, description: 'Passes when the similarity is at least this' } },
        required: ['to'],
        additionalProperties: false,
      },
    ],
  },
  embedding_similar: {
    anyOf: [
      { ...nonEmpty, description: 'The reference text (threshold 0.8)' },
      {
        type: 'object',
        properties: {
          to: { ...nonEmpty, description: 'The reference text' },
          threshold: { ...fraction, default: 0.8, description: 'Passes when the cosine similarity is at least this' },
          port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The endpoint serving embeddings (default: the step\'s llm_port)' },
          model: { ...nonEmpty, description: 'The embedding model (default: the endpoint\'s)' },
        },
        required: ['to'],
        additionalProperties: false,
      },
    ],
  },
  judge: {
    anyOf: [
      { ...nonEmpty, description: 'The grading payload (passes when its answer starts with PASS)' },
      {
        type: 'object',
        properties: {
          payload: { ...nonEmpty, description: 'The grading payload; it gets the output (and expected)' },
          pass: { ...regex, description: 'A regular expression its answer must match (default ^\\s*PASS\\b)' },
          expected: { ...text, description: 'What a good answer says, for the judge' },
        },
        required: ['payload'],
        additionalProperties: false,
      },
    ],
  },
  max_tokens: positive,
  max_ms: positive,
  approved: {
    anyOf: [
      { const: true, description: 'Exactly the approved output' },
      { type: 'object', properties: { similar: { ...fraction, description: 'Passes when the similarity to the approved output is at least this' }, metric }, required: ['similar'], additionalProperties: false },
    ],
  },
};

export const EXPECT_LIST_SCHEMA = {
  type: 'array',
  description: 'Checks on this step\'s output: each item one check, e.g. - contains: fox, with an optional weight',
  items: {
    type: 'object',
    description: 'One check and an optional weight',
    properties: {
      ...Object.fromEntries(CHECK_NAMES.map((name) => [name, { ...ARGUMENTS[name], description: CHECK_DESCRIPTIONS[name] }])),
      weight: { ...positive, default: 1, description: 'Weight of this check in the step\'s score (default 1)' },
    },
    additionalProperties: false,
    // Exactly one check per item.
    oneOf: CHECK_NAMES.map((name) => ({ required: [name] })),
  },
};
