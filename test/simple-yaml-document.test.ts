/**
 * The fast YAML path for payloads, workflows and configs must agree with the `yaml`
 * library on every value and node position whenever it answers.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseSimpleDocument } from '../src/core/simple-yaml-document.js';
import { parseYamlSource } from '../src/core/yaml-source.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
    return statSync(path).isDirectory() ? yamlFiles(path) : /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function expectAgreement(text: string, label: string): boolean {
  const fast = parseSimpleDocument(text);
  if (!fast) return false;
  let full;
  try {
    full = parseYamlSource('f', text);
  } catch {
    expect.fail(`${label}: fast path accepted what yaml rejects`);
  }
  expect(full.ok, `${label}: fast path accepted invalid YAML`).toBe(true);
  if (!full.ok) return true;
  expect(fast.value, label).toEqual(parse(text));
  for (const [key, offset] of fast.offsets) {
    const path = key === '' ? [] : key.split('\u0000').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    const { line, col } = full.source.locate(path);
    const before = text.slice(0, offset).split('\n');
    expect({ path: key, line: before.length, col: before.at(-1)!.length + 1 }, label).toEqual({ path: key, line, col });
  }
  return true;
}

const CRAFTED = [
  'name: a\ntemperature: 0.6\nresponse_length: 1000\nllm_port: 5001\nblocks:\n  - x/y\n  - { tag: "t" }\n  - { text: "Text: {{input.text}}" }\nparams: { top_p: 0.9, stop: ["###"], seed: 42 }\n',
  '# modeline\nname: w\ninputs:\n  text: { type: string }\n  words: { type: integer, default: 50 }\npayloads:\n  - a\n  - payload: b\n    as: review\n    vars: { tone: blunt }\n  - name: final\n    blocks:\n      - { text: "x" }\n',
  'llm:\n  host: 127.0.0.1\n  api: auto\nendpoints:\n  5001: { api: kobold }\n',
  'a: -1\nb: 0\nc: 1.50\nd: true\ne: "q\\"x"\nf: \'it\'\'s\'\ng: []\nh: {}\n',
  'a: 1e3', 'a: 0x10', 'a: .5', 'a: 01', 'a: +1', 'a: null', 'a: ~', 'a: yes', 'a:', 'a: |\n  x', 'a: &x 1\nb: *x', 'a: 1 # c',
  'a: [1, [2]]', 'a: {b: 1}', 'a: { b: 1, b: 2 }', 'a: 1\na: 2', 'a:\n- b', 'a:\n  - b\n   - c', 'a:\n  b: 1\n    c: 2', '- a\n- b',
  'a: "x', 'a: [1,]', 'a: x: y', 'a: \'x\' y', 'a: { b: }', 'a: 9007199254740993', 'a: -0', 'a: b c', 'a:  spaced', 'k-1: v_1',
  'a:\r\n  - b\r\n  - c\r\n', 'a: "\\x41"', 'a: x\n\n\nb: y\n', 'payloads:\n  - name: x\n    blocks: [a]\n  - y\n',
];

describe('parseSimpleDocument', () => {
  // Payloads and workflows in the documented style, and plain scalars of every type.
  it.each([CRAFTED[0]!, CRAFTED[1]!, CRAFTED[3]!])('answers %j, agreeing with yaml on values and positions', (text) => {
    expect(expectAgreement(text, JSON.stringify(text))).toBe(true);
  });

  // Numeric keys (quire.yaml ports) and everything unusual: declining is fine; answering wrong is not.
  it.each([CRAFTED[2]!, ...CRAFTED.slice(4)])('declines %j or agrees with yaml', (text) => {
    expectAgreement(text, JSON.stringify(text));
  });

  it('agrees on every YAML file in the repository (examples, fixtures, starter)', () => {
    let answered = 0;
    for (const file of yamlFiles(REPO)) if (expectAgreement(readFileSync(file, 'utf8'), file)) answered++;
    expect(answered).toBeGreaterThan(10);
  });

  it('takes the fast path for the documented styles', () => {
    expect(parseSimpleDocument(CRAFTED[0]!)?.value).toMatchObject({ name: 'a', params: { stop: ['###'] } });
    expect(parseSimpleDocument(CRAFTED[1]!)).toBeDefined();
    expect(parseSimpleDocument('a: 1e3')).toBeUndefined();
  });
});

describe('nesting depth (issue 7 item 1)', () => {
  /** Each form nests `depth` lists or mappings, the top mapping included. */
  const FORMS: Record<string, (depth: number) => string> = {
    'flow lists': (depth) => `a: ${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}`,
    'flow mappings': (depth) => `a: ${'{b: '.repeat(depth - 1)}1${'}'.repeat(depth - 1)}`,
    'block mappings': (depth) => Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i === depth - 1 ? ': 1' : ':'}`).join('\n'),
    'block lists on one line': (depth) => `a:\n  ${'- '.repeat(depth - 1)}x`,
  };
  const where = (text: string) => {
    const result = parseYamlSource('f', text);
    return result.ok ? 'ok' : result.problems.map((p) => `${p.line}:${p.col} ${p.code} ${p.message}`);
  };
  const TOO_DEEP = 'YAML_PARSE lists and mappings are nested more than 64 levels deep here; quire reads at most 64';

  it.each(Object.keys(FORMS))('%s: 64 levels are read, the 65th is reported where it opens, on both paths', (form) => {
    const make = FORMS[form]!;
    expect(where(make(64))).toBe('ok');
    if (form !== 'block lists on one line') expect(expectAgreement(make(64), form)).toBe(true); // the fast path answers it
    expect(parseSimpleDocument(make(65))).toBeUndefined();
    const expected = {
      'flow lists': `1:67 ${TOO_DEEP}`, // `a: ` + the 64th `[`
      'flow mappings': `1:256 ${TOO_DEEP}`, // `a: ` + 63 × `{b: ` + the 64th `{`
      'block mappings': `65:65 ${TOO_DEEP}`, // the 65th key, indented 64
      'block lists on one line': `2:129 ${TOO_DEEP}`, // 2 spaces + 63 × `- ` + the 64th list
    }[form];
    expect(where(make(65))).toEqual([expected]);
  });

  it('5000 levels (and 2 million) are one located problem, not a stack overflow, and quick', () => {
    const text = `params: {seed: ${'['.repeat(5000)}${']'.repeat(5000)}}\n`;
    expect(() => parseSimpleDocument(text)).not.toThrow();
    expect(parseSimpleDocument(text)).toBeUndefined();
    expect(where(text)).toEqual([`1:78 ${TOO_DEEP}`]);
    const started = performance.now();
    expect(where(`a: ${'['.repeat(2_000_000)}`)).toEqual([`1:67 ${TOO_DEEP}`]);
    expect(where(`a:\n  ${'- '.repeat(1_000_000)}x`)).toEqual([`2:129 ${TOO_DEEP}`]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('aliases count: a value nested past 64 through aliases, or containing itself, is located at the alias', () => {
    const deep = `a: &a ${'['.repeat(40)}${']'.repeat(40)}\nb: ${'['.repeat(30)}*a${']'.repeat(30)}\n`;
    expect(where(deep)).toEqual([`2:34 ${TOO_DEEP}`]); // 1 + 30 + 40 levels; `*a` after `b: ` and 30 `[`
    expect(where(`a: &a ${'['.repeat(40)}${']'.repeat(40)}\nb: ${'['.repeat(23)}*a${']'.repeat(23)}\n`)).toBe('ok'); // 1 + 23 + 40 = 64
    const cycle = 'YAML_PARSE this alias is inside the list or mapping it refers to, so the value would contain itself';
    expect(where('a: &x [1, *x]\n')).toEqual([`1:11 ${cycle}`]);
    expect(where('a: &x\n  b:\n    c: *x\n')).toEqual([`3:8 ${cycle}`]);
    // Implicit pairs in flow lists (`[b: ...]`) are mappings the text does not bracket.
    expect(where(`a: ${'[b: '.repeat(40)}1${']'.repeat(40)}`)).toEqual([expect.stringMatching(/^1:\d+ YAML_PARSE lists and mappings are nested more than 64/)]);
  });

  it('a list or mapping as a key (or an alias of one) is located, not turned into a string key', () => {
    const key = 'YAML_PARSE a list or mapping cannot be a key; use a plain key';
    expect(where('x: &a [1]\ny:\n  *a : b\n')).toEqual([`3:3 ${key}`]);
    expect(where('y:\n  ? {a: 1}\n  : b\n')).toEqual([`2:5 ${key}`]);
    expect(where('x: &a 1\ny:\n  *a : b\n')).toBe('ok'); // an alias of a scalar is a plain key
  });

  it('front matter lines are shifted, and several documents are still one problem', () => {
    expect(parseYamlSource('f', `tags: ${'['.repeat(100)}${']'.repeat(100)}`, 1)).toMatchObject({ ok: false, problems: [{ line: 2, col: 70, code: 'YAML_PARSE' }] });
    expect(where('a: 1\n---\nb: 2\n')).toEqual(['2:1 YAML_PARSE invalid YAML: Source contains multiple documents; please use YAML.parseAllDocuments()']);
  });
});
