/**
 * The check engine (core/checks): `expect:` lists parsed from real YAML (positions from the
 * project's YAML source), every check evaluated on passing and failing outputs with its exact
 * reason, weights and thresholds, services absent and throwing, and the similarity measures.
 */
import { describe, expect, it } from 'vitest';
import AjvModule from 'ajv';
import { AJV_OPTIONS } from '../src/core/schema-code.js';
import { parseYamlSource } from '../src/core/yaml-source.js';
import {
  CHECK_NAMES,
  EXPECT_LIST_SCHEMA,
  cosineSimilarity,
  levenshteinRatio,
  parseChecks,
  readJsonOutput,
  rougeL,
  runChecks,
  stripFence,
  wordTokens,
  type CheckServices,
  type CheckSpec,
  type StepOutput,
} from '../src/core/checks/index.js';
import { jsonErrorOffset } from '../src/core/checks/json-position.js';
import { showScore } from '../src/core/checks/quote.js';

/** Parses `expect:` out of a YAML document, as a workflow parser would, with real positions. */
function parse(yaml: string, basePath: (string | number)[] = ['expect']) {
  const parsed = parseYamlSource('w.workflow.yaml', yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  let value: unknown = parsed.source.value;
  for (const part of basePath) value = (value as Record<string | number, unknown>)[part];
  return parseChecks(value, 'w.workflow.yaml', parsed.source.locate, basePath);
}

/** The checks of a list that must parse cleanly. */
function checksOf(yaml: string): CheckSpec[] {
  const { checks, problems } = parse(`expect:\n${yaml.replace(/^/gm, '  ')}\n`);
  expect(problems).toEqual([]);
  return checks;
}

/** `line:col message` per problem, for compact assertions. */
function problemsOf(yaml: string): string[] {
  return parse(yaml).problems.map((p) => `${p.line}:${p.col} ${p.message}`);
}

/** One check's result on an output. */
async function one(check: string, output: string | StepOutput, services: CheckServices = {}) {
  const [spec] = checksOf(check);
  const result = await runChecks([spec!], typeof output === 'string' ? { text: output } : output, services, { step: 's' });
  const [only] = result.checks;
  return { pass: only!.pass, score: only!.score, reason: only!.reason };
}

const FOX = 'The quick brown fox jumps over the lazy dog.';
const DOG = 'The quick brown dog jumps over the lazy cat.';

describe('parseChecks: the YAML shapes', () => {
  it('reads every check into its normalized argument, with weight and position', () => {
    const checks = checksOf(`- equals: Paris
- contains: fox
- contains: [fox, dog]
- icontains: FOX
- not_contains: "As an AI"
- starts_with: Dear
- regex: "^A.*"
- regex: { pattern: "^a", flags: i }
- min_words: 3
- max_words: 40
- min_chars: 0
- max_chars: 200
- one_of: [yes, no]
- json: true
- json_schema: { type: object, required: [a] }
- json_schema: schemas/answer.json
- similar: { to: reference, metric: rouge_l, threshold: 0.5 }
- similar: reference
- embedding_similar: { to: reference, threshold: 0.7, port: 5002, model: nomic }
- embedding_similar: reference
- judge: { payload: grader, pass: "^PASS", expected: Paris }
- judge: { payload: grader, pass: { pattern: "^pass", flags: i } }
- judge: grader
- max_tokens: 200
- max_ms: 5000
- approved: true
- approved: { similar: 0.9 }
- approved: { similar: 0.7, metric: rouge_l }
  weight: 2.5`);
    expect(checks.map((c) => [c.name, c.args])).toEqual([
      ['equals', 'Paris'],
      ['contains', 'fox'],
      ['contains', ['fox', 'dog']],
      ['icontains', 'FOX'],
      ['not_contains', 'As an AI'],
      ['starts_with', 'Dear'],
      ['regex', { pattern: '^A.*', flags: '' }],
      ['regex', { pattern: '^a', flags: 'i' }],
      ['min_words', 3],
      ['max_words', 40],
      ['min_chars', 0],
      ['max_chars', 200],
      ['one_of', ['yes', 'no']],
      ['json', true],
      ['json_schema', { schema: { type: 'object', required: ['a'] } }],
      ['json_schema', { file: 'schemas/answer.json' }],
      ['similar', { to: 'reference', metric: 'rouge_l', threshold: 0.5 }],
      ['similar', { to: 'reference', metric: 'levenshtein', threshold: 0.8 }],
      ['embedding_similar', { to: 'reference', threshold: 0.7, port: 5002, model: 'nomic' }],
      ['embedding_similar', { to: 'reference', threshold: 0.8 }],
      ['judge', { payload: 'grader', pass: { pattern: '^PASS', flags: '' }, expected: 'Paris' }],
      ['judge', { payload: 'grader', pass: { pattern: '^pass', flags: 'i' } }],
      ['judge', { payload: 'grader', pass: { pattern: '^\\s*PASS\\b', flags: '' } }],
      ['max_tokens', 200],
      ['max_ms', 5000],
      ['approved', { exact: true }],
      ['approved', { similar: 0.9, metric: 'levenshtein' }],
      ['approved', { similar: 0.7, metric: 'rouge_l' }],
    ]);
    expect(new Set(checks.map((c) => c.name))).toEqual(new Set(CHECK_NAMES));
    expect(checks.at(-1)!.weight).toBe(2.5);
    expect(checks[0]!.weight).toBe(1);
    expect(checks[0]!.at).toEqual({ file: 'w.workflow.yaml', line: 2, col: 5 });
    expect(checks[3]!.at).toEqual({ file: 'w.workflow.yaml', line: 5, col: 5 });
  });

  it('keeps arguments plain JSON (parsed workflows are cached as JSON)', () => {
    const checks = checksOf('- regex: { pattern: "^a", flags: i }\n- json_schema: { type: object }\n- judge: grader');
    expect(JSON.parse(JSON.stringify(checks))).toEqual(checks);
  });

  it('finds the list under any base path (a step in a workflow)', () => {
    const { checks, problems } = parse(`payloads:
  - payload: summarize
    expect:
      - contains: fox
      - contans: dog
`, ['payloads', 0, 'expect']);
    expect(checks).toEqual([{ name: 'contains', args: 'fox', weight: 1, at: { file: 'w.workflow.yaml', line: 4, col: 9 } }]);
    expect(problems).toEqual([{ file: 'w.workflow.yaml', line: 5, col: 9, code: 'SCHEMA', message: 'unknown check "contans"; did you mean "contains"?' }]);
  });

  it('an absent list is no checks; an empty list too', () => {
    expect(parseChecks(undefined, 'f', () => ({ line: 1, col: 1 }), ['expect'])).toEqual({ checks: [], problems: [] });
    expect(parse('expect: []\n')).toEqual({ checks: [], problems: [] });
  });
});

describe('parseChecks: problems, every one at once, located', () => {
  it('unknown names, two checks in one item, unknown keys, no check, items that are not mappings', () => {
    expect(problemsOf(`expect:
  - contans: fox
  - contains: fox
    wieght: 2
  - contains: fox
    regex: x
  - weight: 2
  - json
  - xyzzy: 1
  - "just text"
`)).toEqual([
      '2:5 unknown check "contans"; did you mean "contains"?',
      '4:5 unknown key "wieght"; did you mean "weight"?',
      '6:5 one check per item: "contains" and "regex" are both here; give each its own "- " item',
      `7:5 no check in this item; one of: ${CHECK_NAMES.join(', ')}`,
      '8:5 each check must be a mapping with one check (write "- json: <argument>"), got the string "json"',
      `9:5 unknown check "xyzzy" (checks: ${CHECK_NAMES.join(', ')}; and weight)`,
      '10:5 each check must be a mapping with one check (e.g. "- contains: fox"), got the string "just text"',
    ]);
  });

  it('an expect that is not a list', () => {
    expect(problemsOf('expect:\n  contains: fox\n')).toEqual(['2:3 expect must be a list of checks (e.g. "- contains: fox"), got a mapping']);
  });

  it('wrong argument types, at the argument (nested ones at their key)', () => {
    expect(problemsOf(`expect:
  - equals: 42
  - contains: ""
  - not_contains: [ok, 3]
  - starts_with: true
  - min_words: 2.5
  - max_chars: -1
  - one_of: []
  - json: false
  - max_tokens: 0
  - max_ms: fast
  - contains: fox
    weight: 0
  - similar: { to: x, threshold: 1.5, metrc: rouge_l }
  - similar: { to: x, metric: cosine }
  - similar: { threshold: 0.5 }
  - embedding_similar: { to: a, port: 70000 }
  - judge: { pass: "^OK" }
  - approved: false
  - approved: { similar: 2 }
`)).toEqual([
      '2:13 equals must be a string, got the number 42 (quote it for text: "42")',
      '3:15 contains must be a non-empty string, got the string ""',
      '4:24 not_contains[1] must be a non-empty string, got the number 3 (quote it for text: "3")',
      '5:18 starts_with must be a non-empty string, got the boolean true (quote it for text: "true")',
      '6:16 min_words must be a whole number, 0 or more, got the number 2.5',
      '7:16 max_chars must be a whole number, 0 or more, got the number -1',
      '8:13 one_of must be a non-empty list of strings, got an empty list',
      '9:11 json must be true (the output parses as JSON), got the boolean false',
      '10:17 max_tokens must be a number greater than 0, got the number 0',
      '11:13 max_ms must be a number greater than 0, got the string "fast"',
      '13:13 weight must be a number greater than 0, got the number 0',
      '14:39 unknown key "metrc" in similar; did you mean "metric"?',
      '14:34 similar.threshold must be a number from 0 to 1, got the number 1.5',
      '15:31 similar.metric must be one of: levenshtein, rouge_l, got the string "cosine"',
      '16:14 similar needs "to"',
      '17:39 embedding_similar.port must be a port number (1 to 65535), got the number 70000',
      '18:12 judge needs "payload"',
      '19:15 approved must be true (exactly the approved output) or { similar: 0..1, metric }, got the boolean false',
      '20:26 approved.similar must be a number from 0 to 1, got the number 2',
    ]);
  });

  it('regular expressions are compiled with their flags: a bad pattern or flag is a problem at it', () => {
    expect(problemsOf(`expect:
  - regex: "("
  - regex: { pattern: "a", flags: "gg" }
  - regex: { pattern: "a", flags: "x" }
  - regex: { pattern: "a{2,1}", flags: "u" }
  - regex: { flags: "i" }
  - regex: ""
  - judge: { payload: grader, pass: "[" }
  - judge: { payload: grader, pass: { pattern: "(" } }
`)).toEqual([
      '2:12 regex is not a valid regular expression: Unterminated group',
      '3:35 regex.flags must be letters from "gimsuy", each at most once (got "gg")',
      '4:35 regex.flags must be letters from "gimsuy", each at most once (got "x")',
      '5:23 regex.pattern is not a valid regular expression: numbers out of order in {} quantifier',
      '6:12 regex needs "pattern"',
      '7:12 regex must be a non-empty string, got the string ""',
      '8:37 judge.pass is not a valid regular expression: Unterminated character class',
      '9:48 judge.pass.pattern is not a valid regular expression: Unterminated group',
    ]);
  });

  it('inline JSON Schemas are compiled: a bad one is a problem where it is wrong', () => {
    expect(problemsOf(`expect:
  - json_schema: { type: objekt }
  - json_schema:
      type: object
      properties:
        a: { type: string, minLenght: 2 }
  - json_schema: { type: object, required: a }
  - json_schema: { $ref: "other.json" }
  - json_schema: [a]
  - json_schema: ../outside.json
  - json_schema: /etc/schema.json
`)).toEqual([
      '2:26 json_schema is not a valid JSON Schema: /type must be equal to one of the allowed values ("array", "boolean", "integer", "null", "number", "object", "string")',
      '6:28 json_schema is not a valid JSON Schema: unknown keyword "minLenght"; did you mean "minLength"?',
      '7:44 json_schema is not a valid JSON Schema: /required must be array',
      '8:18 json_schema is not a valid JSON Schema: can\'t resolve reference other.json from id #',
      '9:18 json_schema must be a schema (a mapping) or a file path relative to the workspace root, got a list',
      '10:18 json_schema must be a schema or a file path relative to the workspace root, inside it, with "/" (got "../outside.json")',
      '11:18 json_schema must be a schema or a file path relative to the workspace root, inside it, with "/" (got "/etc/schema.json")',
    ]);
  });

  it('a problem drops only its own item', () => {
    const { checks, problems } = parse('expect:\n  - contains: fox\n  - contans: dog\n  - max_words: 3\n');
    expect(checks.map((c) => c.name)).toEqual(['contains', 'max_words']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.code).toBe('SCHEMA');
  });
});

describe('runChecks: text checks', () => {
  it('equals: the whole output, surrounding whitespace ignored', async () => {
    expect(await one('- equals: Paris', '  Paris\n')).toEqual({ pass: true, score: 1, reason: 'equals "Paris"' });
    expect(await one('- equals: Paris', 'Lyon')).toEqual({ pass: false, score: 0, reason: 'output is "Lyon", expected "Paris"' });
    // Long texts: the first difference, with the text around it on both sides.
    expect((await one(`- equals: "${FOX} And then it slept for the rest of the afternoon."`, `${DOG} And then it slept for the rest of the afternoon.`)).reason)
      .toBe('output differs from the expected text at line 1 col 17: expected "The quick brown fox jumps over the l…", got "The quick brown dog jumps over the l…"');
  });

  it('contains, icontains (a list: every one), not_contains (quoting the occurrence)', async () => {
    expect(await one('- contains: fox', FOX)).toEqual({ pass: true, score: 1, reason: 'contains "fox"' });
    expect(await one('- contains: fox', DOG)).toEqual({ pass: false, score: 0, reason: `output does not contain "fox": "${DOG}"` });
    expect((await one('- contains: [quick, fox, cat]', DOG)).reason).toBe(`output does not contain "fox": "${DOG}"`);
    expect((await one('- icontains: [QUICK, FOX]', FOX)).reason).toBe('contains "QUICK", "FOX" (ignoring case)');
    expect((await one('- icontains: [QUICK, FOX]', DOG)).reason).toBe(`output does not contain "FOX" (ignoring case): "${DOG}"`);
    expect(await one('- not_contains: "As an AI"', 'Paris.')).toEqual({ pass: true, score: 1, reason: 'does not contain "As an AI"' });
    expect(await one('- not_contains: [sorry, "As an AI"]', 'Well.\nAs an AI language model, I cannot answer that question.'))
      .toEqual({ pass: false, score: 0, reason: 'output contains "As an AI" at line 2 col 1: "Well.\\nAs an AI language model, I c…"' });
  });

  it('quotes a long output shortened, with an ellipsis', async () => {
    const long = 'word '.repeat(40).trim();
    expect((await one('- contains: fox', long)).reason).toBe(`output does not contain "fox": "${long.slice(0, 59)}…"`);
  });

  it('starts_with ignores leading whitespace of the output', async () => {
    expect(await one('- starts_with: Dear', '\n  Dear Sir,')).toEqual({ pass: true, score: 1, reason: 'starts with "Dear"' });
    expect((await one('- starts_with: Dear', 'Hello Sir,')).reason).toBe('output does not start with "Dear": "Hello Sir,"');
  });

  it('regex: with flags; g and y do not carry state between runs', async () => {
    expect(await one('- regex: "^A.*"', 'A fox')).toEqual({ pass: true, score: 1, reason: 'matches /^A.*/' });
    expect((await one('- regex: "^A.*"', 'a fox')).reason).toBe('output does not match /^A.*/: "a fox"');
    expect((await one('- regex: { pattern: "^a", flags: i }', 'A fox')).pass).toBe(true);
    const [sticky] = checksOf('- regex: { pattern: "fox", flags: g }');
    for (let i = 0; i < 3; i++) expect((await runChecks([sticky!], { text: 'fox' }, {})).pass).toBe(true);
  });

  it('min_words, max_words, min_chars, max_chars: the count, and the output', async () => {
    expect(await one('- min_words: 3', ' one two  three ')).toEqual({ pass: true, score: 1, reason: '3 words (min 3)' });
    expect(await one('- min_words: 3', 'one two')).toEqual({ pass: false, score: 0, reason: 'output has 2 words, fewer than 3: "one two"' });
    expect((await one('- max_words: 1', 'one two')).reason).toBe('output has 2 words, more than 1: "one two"');
    expect((await one('- min_words: 1', '   ')).reason).toBe('output has 0 words, fewer than 1: ""');
    expect((await one('- max_words: 1', 'one')).reason).toBe('1 word (max 1)');
    // Characters are code points of the trimmed output: the emoji is one.
    expect(await one('- max_chars: 3', ' ab😀 ')).toEqual({ pass: true, score: 1, reason: '3 characters (max 3)' });
    expect((await one('- max_chars: 2', 'abc')).reason).toBe('output has 3 characters, more than 2: "abc"');
    expect((await one('- min_chars: 4', 'abc')).reason).toBe('output has 3 characters, fewer than 4: "abc"');
  });

  it('one_of: the trimmed output equals one of them', async () => {
    expect(await one('- one_of: [yes, no]', 'no\n')).toEqual({ pass: true, score: 1, reason: 'is "no"' });
    expect((await one('- one_of: [yes, no]', 'maybe')).reason).toBe('output "maybe" is not one of: "yes", "no"');
  });

  it('max_tokens and max_ms: the reported cost; a missing one fails', async () => {
    expect(await one('- max_tokens: 200', { text: 'x', completionTokens: 120 })).toEqual({ pass: true, score: 1, reason: '120 completion tokens (max 200)' });
    expect((await one('- max_tokens: 200', { text: 'x', completionTokens: 250 })).reason).toBe('used 250 completion tokens, more than 200');
    expect((await one('- max_tokens: 200', { text: 'x', completionTokens: null })).reason).toBe('the server did not report how many completion tokens it generated');
    expect(await one('- max_ms: 5000', { text: 'x', totalMs: 5000 })).toEqual({ pass: true, score: 1, reason: '5000 ms (max 5000)' });
    expect((await one('- max_ms: 5000', { text: 'x', totalMs: 6200.4 })).reason).toBe('took 6200 ms, more than 5000');
    expect((await one('- max_ms: 5000', 'x')).reason).toBe('the step\'s duration was not recorded');
  });
});

describe('runChecks: JSON', () => {
  it('json: one surrounding code fence and whitespace are stripped', async () => {
    expect(await one('- json: true', '{"a": 1}')).toEqual({ pass: true, score: 1, reason: 'valid JSON (an object)' });
    expect((await one('- json: true', '\n```json\n[1, 2]\n```\n')).reason).toBe('valid JSON (a list of 2)');
    expect((await one('- json: true', '```\n"text"\n```')).reason).toBe('valid JSON (a string)');
    expect((await one('- json: true', '```JSON\n  null  \n```')).reason).toBe('valid JSON (null)');
  });

  it('json: the parse error with its line and column in the output and the text around it', async () => {
    expect(await one('- json: true', '{"a":1,}')).toEqual({ pass: false, score: 0, reason: 'output is not valid JSON (Expected double-quoted property name) at line 1 col 8: "{\\"a\\":1,}"' });
    expect((await one('- json: true', '```json\n{\n  "a": 1,\n  "b": tru\n}\n```')).reason)
      .toBe('output is not valid JSON (Unexpected token \'\\n\') at line 4 col 11: "…  \\"a\\": 1,\\n  \\"b\\": tru\\n}\\n```"');
    expect((await one('- json: true', 'Sure! {"a": 1}')).reason).toBe('output is not valid JSON (Unexpected token \'S\') at line 1 col 1: "Sure! {\\"a\\": 1}"');
    expect((await one('- json: true', '  ')).reason).toBe('output is empty, not JSON');
    expect((await one('- json: true', '```json\n```')).reason).toBe('output is an empty code fence, not JSON');
    // Only one fence is stripped.
    expect((await one('- json: true', '```\n```json\n{}\n```\n```')).pass).toBe(false);
  });

  it('json_schema inline: the ajv error path and message', async () => {
    const check = '- json_schema: { type: object, required: [name], properties: { name: { type: string }, tags: { type: array, items: { enum: [a, b] } } } }';
    expect(await one(check, '```json\n{"name": "x"}\n```')).toEqual({ pass: true, score: 1, reason: 'JSON matches the schema' });
    expect((await one(check, '{"name": 3, "tags": ["a", "c"]}')).reason).toBe('output does not match the schema: /name must be string; /tags/1 must be equal to one of the allowed values ("a", "b")');
    expect((await one(check, '{}')).reason).toBe('output does not match the schema: (root) must have required property \'name\'');
    expect((await one(check, 'not json')).reason).toBe('output is not valid JSON (Unexpected token \'o\') at line 1 col 2: "not json"');
    const many = '- json_schema: { type: object, properties: { a: { type: string }, b: { type: string }, c: { type: string }, d: { type: string }, e: { type: string } } }';
    expect((await one(many, '{"a":1,"b":1,"c":1,"d":1,"e":1}')).reason).toBe('output does not match the schema: /a must be string; /b must be string; /c must be string; and 2 more');
  });

  it('json_schema from a file, through the service', async () => {
    const check = '- json_schema: schemas/answer.json';
    const schemaFile = (path: string) => (path === 'schemas/answer.json' ? { type: 'object', required: ['a'] } : undefined);
    expect(await one(check, '{"a": 1}', { schemaFile })).toEqual({ pass: true, score: 1, reason: 'JSON matches schema file schemas/answer.json' });
    expect((await one(check, '{}', { schemaFile })).reason).toBe('output does not match schema file schemas/answer.json: (root) must have required property \'a\'');
    expect((await one('- json_schema: schemas/missing.json', '{}', { schemaFile })).reason).toBe('schema file schemas/missing.json was not found');
    expect((await one(check, '{}', {})).reason).toBe('cannot read the schema file schemas/answer.json: no schema file service');
    expect((await one(check, '{}', { schemaFile: () => ({ type: 'objekt' }) })).reason).toMatch(/^schema file schemas\/answer\.json is not a valid JSON Schema: \/type must be equal to one of the allowed values/);
    expect((await one(check, '{}', { schemaFile: () => { throw new Error('EACCES: permission denied'); } }))).toEqual({ pass: false, score: 0, reason: 'EACCES: permission denied' });
  });

  it('json_schema: schemas of later drafts, and an edited schema with the same $id', async () => {
    const draft2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'number' }] };
    expect((await one('- json_schema: schemas/a.json', '[1]', { schemaFile: () => draft2020 })).pass).toBe(true);
    expect((await one('- json_schema: schemas/a.json', '["x"]', { schemaFile: () => draft2020 })).reason).toBe('output does not match schema file schemas/a.json: /0 must be number');
    const id = 'https://example.com/answer.schema.json';
    expect((await one('- json_schema: schemas/a.json', '"x"', { schemaFile: () => ({ $id: id, type: 'string' }) })).pass).toBe(true);
    expect((await one('- json_schema: schemas/a.json', '"x"', { schemaFile: () => ({ $id: id, type: 'number' }) })).reason).toBe('output does not match schema file schemas/a.json: (root) must be number');
    expect((await one('- json_schema: schemas/a.json', '"x"', { schemaFile: () => ({ $id: `${id}#`, type: 'string' }) })).pass).toBe(true);
  });

  it('stripFence and readJsonOutput', () => {
    expect(stripFence('  ```json\n{"a":1}\n```  ')).toEqual({ body: '{"a":1}', offset: 10 });
    expect(stripFence('{"a":1}')).toEqual({ body: '{"a":1}', offset: 0 });
    expect(stripFence('```{"a":1}```')).toEqual({ body: '{"a":1}', offset: 3 });
    expect(readJsonOutput('```json\n{"a": [1, 2]}\n```')).toEqual({ ok: true, value: { a: [1, 2] } });
  });

  it('finds the position of every kind of JSON error', () => {
    const cases: [string, number | undefined][] = [
      ['{"a": [1, {"b": null}], "c": "\\u00e9"}', undefined],
      ['', 0],
      ['abc', 0],
      ['{"a":1,}', 7],
      ['{"a" 1}', 5],
      ['[1,2', 4],
      ['{"a":1} x', 8],
      ['"a\nb"', 2],
      ['"\\x"', 2],
      ['"\\u12g4"', 2],
      ['-a', 1],
      ['01', 1],
      ['{"a": tru}', 9],
      ['[1 2]', 3],
      ['"open', 5],
    ];
    for (const [text, offset] of cases) expect(jsonErrorOffset(text), text).toBe(offset);
    // Deep nesting does not reach the call stack's limit.
    expect(jsonErrorOffset(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined();
  });
});

describe('runChecks: similarity, approved output, services', () => {
  it('similar: the score is the similarity; passes at the threshold', async () => {
    const result = await one('- similar: { to: kitten, threshold: 0.5 }', 'sitting');
    expect(result).toEqual({ pass: true, score: 1 - 3 / 7, reason: 'levenshtein similarity 0.571 >= 0.5 to "kitten"' });
    expect(await one('- similar: kitten', 'sitting')).toEqual({ pass: false, score: 1 - 3 / 7, reason: 'levenshtein similarity 0.571 < 0.8 to "kitten": "sitting"' });
    const rouge = await one('- similar: { to: "the cat sat on the mat", metric: rouge_l, threshold: 0.8 }', 'The cat lay on the mat!');
    expect(rouge.score).toBeCloseTo(5 / 6, 12);
    expect(rouge.reason).toBe('rouge_l similarity 0.833 >= 0.8 to "the cat sat on the mat"');
  });

  it('approved: exact by default, or by similarity; none yet is a clear failure', async () => {
    expect(await one('- approved: true', 'Paris', { approved: 'Paris' })).toEqual({ pass: true, score: 1, reason: 'equals the approved output' });
    expect((await one('- approved: true', 'Paris.', { approved: 'Paris' })).reason).toBe('output differs from the approved output at line 1 col 6: approved "Paris", got "Paris."');
    expect(await one('- approved: true', 'Paris', {})).toEqual({ pass: false, score: 0, reason: 'no approved output yet: run `quire test --update`' });
    expect(await one('- approved: { similar: 0.5 }', 'sitting', { approved: 'kitten' })).toEqual({ pass: true, score: 1 - 3 / 7, reason: 'levenshtein similarity 0.571 >= 0.5 to the approved output' });
    expect((await one('- approved: { similar: 0.9 }', 'sitting', { approved: 'kitten' })).reason).toBe('levenshtein similarity 0.571 < 0.9 to the approved output: "sitting"');
  });

  it('embedding_similar: cosine of the two embeddings from the service', async () => {
    const seen: unknown[] = [];
    const embed = async (texts: string[], check: CheckSpec) => {
      seen.push([texts, check.args]);
      return texts.map((t) => (t === 'reference' ? [1, 0] : t === 'close' ? [0.8, 0.6] : [0, 1]));
    };
    expect(await one('- embedding_similar: { to: reference, threshold: 0.8, port: 5002 }', 'close', { embed })).toEqual({ pass: true, score: 0.8, reason: 'embedding similarity 0.8 >= 0.8 to "reference"' });
    expect(seen).toEqual([[['close', 'reference'], { to: 'reference', threshold: 0.8, port: 5002 }]]);
    expect(await one('- embedding_similar: reference', 'far', { embed })).toEqual({ pass: false, score: 0, reason: 'embedding similarity 0 < 0.8 to "reference": "far"' });
    expect(await one('- embedding_similar: reference', 'x', { embed: async () => [[1, 0], [1, 0, 0]] })).toEqual({ pass: false, score: 0, reason: 'cannot compare embeddings: the embeddings have different lengths (2 and 3)' });
    expect((await one('- embedding_similar: reference', 'x', { embed: async () => [[0, 0], [1, 0]] })).reason).toBe('cannot compare embeddings: an embedding is a zero vector');
    expect((await one('- embedding_similar: reference', 'x', { embed: async () => [[1, 0]] })).reason).toBe('the embedding service returned 1 embeddings for 2 texts');
    // Opposite directions score 0, not a negative score.
    expect((await one('- embedding_similar: reference', 'x', { embed: async () => [[-1, 0], [1, 0]] })).score).toBe(0);
    expect(await one('- embedding_similar: reference', 'x', {})).toEqual({ pass: false, score: 0, reason: 'no embedding service: embedding_similar needs an endpoint that serves embeddings' });
    expect(await one('- embedding_similar: reference', 'x', { embed: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5002'); } }))
      .toEqual({ pass: false, score: 0, reason: 'connect ECONNREFUSED 127.0.0.1:5002' });
  });

  it('judge: the payload\'s answer must match the pass pattern', async () => {
    const calls: unknown[] = [];
    const judge = async (check: CheckSpec, output: StepOutput) => {
      calls.push([check.args, output.text]);
      return output.text.includes('fox') ? 'PASS: mentions the fox' : 'FAIL: no fox here';
    };
    expect(await one('- judge: { payload: grader, expected: a fox }', FOX, { judge })).toEqual({ pass: true, score: 1, reason: 'judge "grader" answered "PASS: mentions the fox"' });
    expect(calls).toEqual([[{ payload: 'grader', pass: { pattern: '^\\s*PASS\\b', flags: '' }, expected: 'a fox' }, FOX]]);
    expect(await one('- judge: grader', DOG, { judge })).toEqual({ pass: false, score: 0, reason: 'judge "grader" answer does not match /^\\s*PASS\\b/: "FAIL: no fox here"' });
    expect((await one('- judge: { payload: grader, pass: { pattern: "^pass", flags: i } }', FOX, { judge })).pass).toBe(true);
    expect((await one('- judge: grader', FOX, {})).reason).toBe('no judge service: cannot run payload "grader"');
    expect(await one('- judge: grader', FOX, { judge: async () => { throw new Error('HTTP 500 from grader endpoint'); } })).toEqual({ pass: false, score: 0, reason: 'HTTP 500 from grader endpoint' });
  });

  it('a throwing service fails its own check only', async () => {
    const checks = checksOf('- contains: fox\n- judge: grader\n- embedding_similar: x');
    const result = await runChecks(checks, { text: FOX }, { judge: () => Promise.reject(new Error('judge down')), embed: () => { throw new Error('sync throw'); } }, { step: 'summary' });
    expect(result.step).toBe('summary');
    expect(result.checks.map((c) => [c.check, c.pass, c.reason])).toEqual([
      ['contains', true, 'contains "fox"'],
      ['judge', false, 'judge down'],
      ['embedding_similar', false, 'sync throw'],
    ]);
    expect(result.pass).toBe(false);
  });
});

describe('runChecks: the step result, weights and thresholds', () => {
  it('passes when every check passes; the score is the weighted mean', async () => {
    const checks = checksOf('- contains: fox\n  weight: 3\n- max_words: 3\n  weight: 1');
    const fox = await runChecks(checks, { text: 'a fox' }, {}, { step: 's' });
    expect(fox).toEqual({
      step: 's',
      pass: true,
      score: 1,
      checks: [
        { check: 'contains', pass: true, score: 1, weight: 3, reason: 'contains "fox"' },
        { check: 'max_words', pass: true, score: 1, weight: 1, reason: '2 words (max 3)' },
      ],
    });
    const long = await runChecks(checks, { text: 'a fox and a dog' }, {}, { step: 's' });
    expect([long.pass, long.score]).toEqual([false, 0.75]);
    expect('threshold' in long).toBe(false);
  });

  it('with a threshold, the weighted mean decides (a similarity counts by its score)', async () => {
    const checks = checksOf('- contains: fox\n  weight: 3\n- max_words: 3\n  weight: 1');
    expect(await runChecks(checks, { text: 'a fox and a dog' }, {}, { step: 's', threshold: 0.75 })).toMatchObject({ pass: true, score: 0.75, threshold: 0.75 });
    expect(await runChecks(checks, { text: 'a fox and a dog' }, {}, { step: 's', threshold: 0.8 })).toMatchObject({ pass: false, score: 0.75, threshold: 0.8 });
    const similar = checksOf('- similar: { to: kitten, threshold: 0.9 }\n- contains: i');
    const result = await runChecks(similar, { text: 'sitting' }, {}, { step: 's', threshold: 0.7 });
    expect(result.score).toBeCloseTo((1 - 3 / 7 + 1) / 2, 12);
    expect(result.pass).toBe(true);
    expect(result.checks[0]!.pass).toBe(false);
  });

  it('a weighted mean equal to the threshold on paper passes despite floating point', async () => {
    // 0.1 + 0.7 is 0.7999999999999999 in floating point.
    const checks = checksOf('- contains: a\n  weight: 0.1\n- contains: b\n  weight: 0.7\n- contains: z\n  weight: 0.2');
    const result = await runChecks(checks, { text: 'ab' }, {}, { step: 's', threshold: 0.8 });
    expect(result.pass).toBe(true);
  });

  it('no checks: passes with score 1', async () => {
    expect(await runChecks([], { text: '' }, {}, { step: 's' })).toEqual({ step: 's', pass: true, score: 1, checks: [] });
  });

  it('a check of an unknown kind (say, from an older cache) fails alone', async () => {
    const stale = { name: 'contains_all', args: ['a'], weight: 1, at: { file: 'f', line: 1, col: 1 } } as unknown as CheckSpec;
    const result = await runChecks([stale], { text: 'a' }, {});
    expect(result.checks[0]).toEqual({ check: 'contains_all', pass: false, score: 0, weight: 1, reason: 'unknown check "contains_all"' });
  });
});

describe('similarity measures', () => {
  it('levenshtein ratio', () => {
    expect(levenshteinRatio('kitten', 'sitting')).toBe(1 - 3 / 7);
    expect(levenshteinRatio('', '')).toBe(1);
    expect(levenshteinRatio('abc', '')).toBe(0);
    expect(levenshteinRatio('same', 'same')).toBe(1);
  });

  it('ROUGE-L F1 over lowercased words, punctuation split off', () => {
    expect(wordTokens('The cat, the HAT; état-major 42!')).toEqual(['the', 'cat', 'the', 'hat', 'état', 'major', '42']);
    // The classic pair: LCS "the cat was under the bed" = 6 of 7 candidate words, 6 of 6 reference words.
    expect(rougeL('the cat was found under the bed', 'the cat was under the bed')).toBeCloseTo(12 / 13, 12);
    expect(rougeL('The cat lay on the mat.', 'the cat sat on the mat')).toBeCloseTo(5 / 6, 12);
    expect(rougeL('', '')).toBe(1);
    expect(rougeL('a b', '')).toBe(0);
    expect(rougeL('x y', 'a b')).toBe(0);
  });

  it('ROUGE-L is capped: long texts finish quickly', () => {
    const words = Array.from({ length: 20_000 }, (_, i) => `w${i % 997}`).join(' ');
    const started = performance.now();
    const score = rougeL(words, words.split(' ').reverse().join(' '));
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThan(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('cosine similarity, and the vectors it cannot compare', () => {
    expect(cosineSimilarity([1, 0], [1, 0])).toEqual({ value: 1 });
    expect(cosineSimilarity([1, 0], [0, 1])).toEqual({ value: 0 });
    expect(cosineSimilarity([3, 4], [4, 3]).value).toBeCloseTo(24 / 25, 12);
    expect(cosineSimilarity([1, 0], [-1, 0])).toEqual({ value: -1 });
    expect(cosineSimilarity([1, 2], [1, 2, 3])).toEqual({ value: 0, problem: 'the embeddings have different lengths (2 and 3)' });
    expect(cosineSimilarity([0, 0], [1, 2])).toEqual({ value: 0, problem: 'an embedding is a zero vector' });
    expect(cosineSimilarity([], [])).toEqual({ value: 0, problem: 'the embeddings are empty' });
    expect(cosineSimilarity([Number.NaN, 1], [1, 1])).toEqual({ value: 0, problem: 'an embedding holds a value that is not a finite number' });
  });

  it('scores in reasons never show a failing score equal to its threshold', () => {
    expect(showScore(0.7996, 0.8)).toBe('0.7996');
    expect(showScore(0.8, 0.8)).toBe('0.8');
    expect(showScore(1 - 3 / 7)).toBe('0.571');
  });
});

describe('EXPECT_LIST_SCHEMA', () => {
  const Ajv = AjvModule.default;
  const validate = new Ajv({ ...AJV_OPTIONS }).compile({ $schema: 'http://json-schema.org/draft-07/schema#', ...EXPECT_LIST_SCHEMA });

  it('compiles under the project\'s strict ajv options and names every check, with descriptions', () => {
    const properties = EXPECT_LIST_SCHEMA.items.properties as Record<string, { description?: string }>;
    expect(Object.keys(properties).sort()).toEqual([...CHECK_NAMES, 'weight'].sort());
    for (const [name, schema] of Object.entries(properties)) expect(schema.description, name).toBeTruthy();
  });

  it('accepts what parseChecks accepts, and rejects two checks in one item or unknown keys', () => {
    const good = parseYamlSource('f.yaml', `- equals: Paris
- contains: [fox, dog]
- regex: { pattern: "^a", flags: i }
- json: true
- json_schema: { type: object }
- json_schema: schemas/a.json
- similar: { to: x, metric: rouge_l, threshold: 0.5 }
- embedding_similar: x
- judge: { payload: grader, pass: { pattern: "^ok", flags: i }, expected: y }
- approved: { similar: 0.9 }
- max_ms: 10
  weight: 2
`);
    if (!good.ok) throw new Error('bad YAML');
    expect(validate(good.source.value), JSON.stringify(validate.errors)).toBe(true);
    expect(validate([{ contains: 'a', regex: 'b' }])).toBe(false);
    expect(validate([{ contans: 'a' }])).toBe(false);
    expect(validate([{ weight: 1 }])).toBe(false);
    expect(validate([{ regex: { pattern: 'a', flags: 'gg' } }])).toBe(false);
  });
});
