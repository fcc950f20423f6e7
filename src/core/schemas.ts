/**
 * JSON Schemas of the workspace files. These objects are the source of truth: ajv
 * validates with them, and `npm run schemas` writes them to `schemas/*.json` for editors
 * (a test keeps the two identical). Unknown keys are errors everywhere, so typos fail loudly.
 */

import { EXPECT_LIST_SCHEMA } from './checks/schema.js';
import { FORMAT_SCHEMA } from './formats/custom.js';

const DRAFT = 'http://json-schema.org/draft-07/schema#';
const BASE_ID = 'https://github.com/quire-dev/quire/schemas/';

const blockRef = {
  description: 'A block key (its path under blocks/ without .md), a tag selection, or inline text',
  anyOf: [
    { type: 'string', minLength: 1, description: 'A block key, e.g. "Phase 1/Instructions/summarize"' },
    {
      type: 'object',
      // Trimmed like the tags in block front matter, so it must not be blank.
      properties: { tag: { type: 'string', minLength: 1, pattern: '\\S', description: 'Every block with this tag, ordered by key' } },
      required: ['tag'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { text: { type: 'string', description: 'Inline Handlebars text' } },
      required: ['text'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { block: { type: 'string', minLength: 1, description: 'A block key' } },
      required: ['block'],
      additionalProperties: false,
    },
  ],
};

const payloadProperties = {
  temperature: { type: 'number', minimum: 0, maximum: 5, default: 0.6, description: 'Sampling temperature' },
  response_length: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1000, description: 'Max new tokens (at most 1000000)' },
  llm_port: { type: 'integer', minimum: 1, maximum: 65535, default: 5001, description: 'Port of the LLM endpoint (see quire.yaml endpoints)' },
  model_format: { type: 'string', minLength: 1, default: 'default', description: 'Instruct format: a built-in (mistral, llama3, chatml...) or formats/<name>.yaml' },
  system: { type: 'array', items: blockRef, description: 'Blocks for the system part' },
  blocks: { type: 'array', items: blockRef, description: 'The prompt, in order, joined by one blank line' },
  params: { type: 'object', description: 'Extra sampler parameters passed to the server (top_p, stop, seed...)' },
} as const;

const NAME = { type: 'string', minLength: 1, pattern: '^[^\\s/][^/]*$', description: 'Unique name (no "/")' };

export const BLOCK_SCHEMA = {
  $schema: DRAFT,
  $id: `${BASE_ID}block.schema.json`,
  title: 'quire block front matter',
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 1, description: 'Default: the file name without .md' },
    tags: {
      description: 'A list, or a comma-separated string',
      anyOf: [{ type: 'array', items: { type: 'string', pattern: '^[^,]*$' } }, { type: 'string' }],
    },
    description: { type: 'string' },
  },
  additionalProperties: false,
};

export const PAYLOAD_SCHEMA = {
  $schema: DRAFT,
  $id: `${BASE_ID}payload.schema.json`,
  title: 'quire payload',
  type: 'object',
  properties: { name: { ...NAME, description: 'Default: the file name without .payload.yaml' }, description: { type: 'string' }, ...payloadProperties },
  required: ['blocks'],
  additionalProperties: false,
};

const inputSpec = {
  type: 'object',
  properties: {
    type: { enum: ['string', 'integer', 'number', 'boolean', 'object', 'array'], default: 'string' },
    default: {},
    description: { type: 'string' },
    required: { type: 'boolean', description: 'Default: true unless a default is given' },
  },
  additionalProperties: false,
};

/**
 * Checks on a step's output. Each item is validated in detail by core/checks (one check per
 * item, "did you mean" for unknown names); here only the shape of the list.
 */
const expectList = { type: 'array', items: { type: 'object' }, description: 'Checks on this step\'s output, e.g. [{ contains: fox }, { max_words: 40 }] (see README: Testing prompts)' };
const stepThreshold = { type: 'number', minimum: 0, maximum: 1, description: 'The step passes when the weighted mean score of its checks reaches this (default: every check must pass)' };

const stepRef = {
  type: 'object',
  properties: {
    payload: { type: 'string', minLength: 1, description: 'A payload by name' },
    as: { ...NAME, description: 'Step name (default: the payload name)' },
    vars: { type: 'object', description: 'Available to templates as vars.*' },
    expect: expectList,
    threshold: stepThreshold,
  },
  required: ['payload'],
  additionalProperties: false,
};

const inlinePayload = {
  type: 'object',
  description: 'An inline payload, synced as "<workflow>/<name>"',
  properties: {
    name: NAME,
    as: { ...NAME, description: 'Step name (default: the name)' },
    vars: { type: 'object' },
    description: { type: 'string' },
    expect: expectList,
    threshold: stepThreshold,
    ...payloadProperties,
  },
  required: ['name', 'blocks'],
  additionalProperties: false,
};

export const WORKFLOW_SCHEMA = {
  $schema: DRAFT,
  $id: `${BASE_ID}workflow.schema.json`,
  title: 'quire workflow',
  type: 'object',
  properties: {
    name: { ...NAME, description: 'Default: the file name without .workflow.yaml' },
    description: { type: 'string' },
    inputs: { type: 'object', additionalProperties: inputSpec },
    payloads: {
      type: 'array',
      minItems: 1,
      items: {
        if: { type: 'object', required: ['payload'] },
        then: stepRef,
        else: { if: { type: 'object' }, then: inlinePayload, else: { type: 'string', minLength: 1 } },
      },
    },
  },
  required: ['payloads'],
  additionalProperties: false,
};

export const TESTS_SCHEMA = {
  $schema: DRAFT,
  $id: `${BASE_ID}tests.schema.json`,
  title: 'quire test cases (workflows/**/*.tests.yaml)',
  type: 'object',
  properties: {
    workflow: { type: 'string', minLength: 1, description: 'The workflow the cases run' },
    description: { type: 'string' },
    cases: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, description: 'Unique within the file' },
          description: { type: 'string' },
          inputs: { type: 'object', description: 'The workflow\'s inputs for this case' },
          dataset: { type: 'string', minLength: 1, description: 'A JSONL, CSV or YAML file of input records (relative to the workspace): one case per record, each over `inputs`' },
          expect: { type: 'object', additionalProperties: expectList, description: 'Step name -> checks, added to the workflow\'s own' },
          skip: { type: 'boolean', description: 'Listed but not run' },
        },
        required: ['name'],
        additionalProperties: false,
      },
    },
  },
  required: ['workflow', 'cases'],
  additionalProperties: false,
};

/** 1..65535 written plainly (no sign, no leading zero): the keys of `endpoints:`. */
const PORT_PATTERN = '^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';

const endpoint = {
  type: 'object',
  properties: {
    api: { enum: ['auto', 'kobold', 'openai', 'openai-chat', 'ollama', 'llamacpp'] },
    host: { type: 'string', minLength: 1 },
    urls: { type: 'array', items: { type: 'string', pattern: '^https?://' }, minItems: 1 },
    model: { type: 'string' },
    // Upper bounds keep every integer setting exact (an INTEGER column, a timer): a day at most.
    concurrency: { type: 'integer', minimum: 1, maximum: 1024 },
    timeout_ms: { type: 'integer', minimum: 1, maximum: 86_400_000, description: 'Per request, in milliseconds (at most a day)' },
    deadline_ms: {
      type: 'integer', minimum: 1, maximum: 86_400_000,
      description: 'Total time one request may take, retries included, in milliseconds (at most a day); past it the request is stopped and the step fails (LLM_TIMEOUT)',
    },
    retries: { type: 'integer', minimum: 0, maximum: 20 },
    api_key_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Name of the environment variable holding the API key' },
  },
  additionalProperties: false,
};

export const CONFIG_SCHEMA = {
  $schema: DRAFT,
  $id: `${BASE_ID}config.schema.json`,
  title: 'quire workspace config (quire.yaml)',
  type: 'object',
  properties: {
    llm: {
      type: 'object',
      properties: {
        // The defaults every endpoint starts from.
        host: { ...endpoint.properties.host, default: '127.0.0.1' },
        api: endpoint.properties.api,
        timeout_ms: { ...endpoint.properties.timeout_ms, default: 300000 },
        deadline_ms: { ...endpoint.properties.deadline_ms, default: 1800000 },
        retries: { ...endpoint.properties.retries, default: 2 },
        api_key_env: endpoint.properties.api_key_env,
      },
      additionalProperties: false,
    },
    endpoints: {
      type: 'object',
      propertyNames: { pattern: PORT_PATTERN, description: 'a port number from 1 to 65535' },
      additionalProperties: endpoint,
    },
    store: {
      type: 'string', minLength: 1,
      description: 'Where runs and the mirror are kept: a SQLite file (relative to the workspace) or postgres://user@host:port/database, never with a password (use PGPASSWORD or ~/.pgpass). QUIRE_DB and --db override it',
    },
  },
  additionalProperties: false,
};

export { FORMAT_SCHEMA };

/**
 * The schema an editor gets: check lists spelled out (each check's name and argument, for
 * completion and hover). Validation keeps the plain list: core/checks reports each check's
 * problems once, with "did you mean".
 */
function forEditors<T>(schema: T): T {
  const swap = (node: unknown): unknown => {
    if (node === expectList) return EXPECT_LIST_SCHEMA;
    if (Array.isArray(node)) return node.map(swap);
    if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, swap(value)]));
    return node;
  };
  return swap(schema) as T;
}

/** Every schema, by the file name it is written to under schemas/. */
export const SCHEMA_FILES: Record<string, object> = {
  'block.schema.json': BLOCK_SCHEMA,
  'payload.schema.json': PAYLOAD_SCHEMA,
  'workflow.schema.json': forEditors(WORKFLOW_SCHEMA),
  'config.schema.json': CONFIG_SCHEMA,
  'format.schema.json': FORMAT_SCHEMA,
  'tests.schema.json': forEditors(TESTS_SCHEMA),
};
