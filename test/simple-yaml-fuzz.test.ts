/**
 * Both fast YAML paths (front matter: simple-yaml.ts; payloads, workflows, configs, formats:
 * simple-yaml-document.ts) must give the model the full parser gives, for every input: when
 * a fast path answers, its value (and, for documents, every node position) is the full
 * parser's. Declining is always allowed: the caller then uses the full parser.
 *
 * Issue 7 item 9: the fast paths trimmed characters YAML keeps (NBSP, U+FEFF) and split
 * lines where YAML does not, so one file read two ways depending on an unrelated line.
 * The fuzzer mutates valid files with the odd bytes real files carry (seeded, so a failure
 * replays; bounded, so it runs in well under a second or two).
 */
import { describe, expect, it } from 'vitest';
import { parseSimpleDocument } from '../src/core/simple-yaml-document.js';
import { parseSimpleYaml } from '../src/core/simple-yaml.js';
import { parseYamlSource } from '../src/core/yaml-source.js';

/** Outcome of the fast document path, in the full parser's terms; undefined when it declines. */
function documentDisagreement(text: string): string | undefined {
  const fast = parseSimpleDocument(text);
  if (!fast) return undefined;
  const full = parseYamlSource('f', text);
  if (!full.ok) return `fast path answered, full parser reports ${full.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('; ')}`;
  if (!isDeepStrictEqual(fast.value, full.source.value)) return `values differ: fast ${JSON.stringify(fast.value)}, full ${JSON.stringify(full.source.value)}`;
  for (const [key, offset] of fast.offsets) {
    const path = key === '' ? [] : key.split('\u0000').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    const before = text.slice(0, offset).split('\n');
    const fastAt = `${before.length}:${before.at(-1)!.length + 1}`;
    const { line, col } = full.source.locate(path);
    if (fastAt !== `${line}:${col}`) return `position of ${JSON.stringify(path)} differs: fast ${fastAt}, full ${line}:${col}`;
  }
  return '';
}

/** The same for front matter (its YAML only; the block file puts it on line 2). */
function frontMatterDisagreement(yaml: string): string | undefined {
  const fast = parseSimpleYaml(yaml);
  if (fast === undefined) return undefined;
  const full = parseYamlSource('f', yaml, 1);
  if (!full.ok) return `fast path answered, full parser reports ${full.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('; ')}`;
  // An empty front matter is null to the parser and {} to the fast path: both mean "no keys".
  const fullValue = full.source.value ?? {};
  return isDeepStrictEqual(fast, fullValue) ? '' : `values differ: fast ${JSON.stringify(fast)}, full ${JSON.stringify(fullValue)}`;
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b)) && !Object.is(a, -0) === !Object.is(b, -0);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  return value;
}

const PAYLOAD = 'name: summarize\ntemperature: 0.6\nresponse_length: 200\nllm_port: 5001\nmodel_format: chatml\nblocks:\n  - tasks/summarize\n  - { tag: style }\n  - text: "Text: {{input.text}}"\nparams: { top_p: 0.9, stop: ["###", \'end\'], seed: 42 }\n';
const WORKFLOW = '# research\nname: research\ndescription: Summarize a text\ninputs:\n  text: { type: string }\n  words: { type: integer, default: 20 }\npayloads:\n  - summarize\n  - payload: critique\n    as: review\n    vars: { tone: blunt, n: [1, 2] }\n  - name: final\n    temperature: 0.2\n    blocks:\n      - tasks/final\n';
const CONFIG = 'llm:\n  host: localhost\n  retries: 1\n  api_key_env: QUIRE_KEY\n';
const FRONT_MATTER = ['title: Summarize\ntags: [summary, phase-1]\n', 'title: "Quoted: with colon"\ntags: ["a b", \'c\'\'d\', e]\ndescription: One line\n', 'title: Style\ntags: style, tone\n'];

describe('issue 7 item 9: invisible whitespace reads the same on both paths', () => {
  // Each was read one way by the fast path and another by the full parser.
  const DOCUMENTS = [
    'blocks:\n  - tasks/summarize\u00a0\n', // NBSP at the end of a list item: part of the value for YAML
    'blocks:\n  - tasks/summarize\u00a0\nparams: &p {seed: 1}\n',
    'model_format: chatml\ufeff\nblocks: [a]\n', // U+FEFF after a value
    'model_format:\rchatml\nblocks: [a]\n', // a lone CR after `key:`: a line break for YAML
    'model_format: chatml\rblocks: [a]\n',
    'blocks:\n  - a\n  - b\u2028\n', 'blocks:\n  - a\u2029b\n', 'blocks:\n  - a\u0085\n', 'name: a\u200b\nblocks: [a]\n', 'name: a\u3000\nblocks: [a]\n',
    'blocks: [a\u00a0, b]\n', 'blocks: [a, b]\u00a0\n', 'name: "a"\u00a0\nblocks: [a]\n', '\u00a0\nname: a\n', 'name: a\n\u00a0\n', 'name:\u00a0a\n', 'name: a\r\r\nb: 1\n', 'name: a\u000b\n',
  ];
  it.each(DOCUMENTS)('payload/workflow fast path declines %j or agrees with the full parser', (text) => {
    expect(documentDisagreement(text) ?? '').toBe('');
  });

  const FRONT = ['title: Summarize\u00a0\n', 'title: x\ufeff\ntags: [a]\n', 'title:\rx\n', 'title: x\rtags: a\n', 'tags: [a\u00a0, b]\n', 'tags: a\u2028b\n', 'title: x\u0085\n', '\u00a0\ntitle: x\n', 'title: x\u3000\n', 'title: x\t\n'];
  it.each(FRONT)('front matter fast path declines %j or agrees with the full parser', (yaml) => {
    expect(frontMatterDisagreement(yaml) ?? '').toBe('');
  });

  it('the plain files around them still take the fast paths', () => {
    expect(parseSimpleDocument(PAYLOAD)).toBeDefined();
    expect(parseSimpleDocument(WORKFLOW)).toBeDefined();
    expect(parseSimpleDocument(CONFIG)).toBeDefined();
    expect(parseSimpleDocument('blocks:\r\n  - Résumé ✓\r\n  - { tag: "naïve" }\r\n')).toBeDefined(); // CRLF and unicode are fine
    for (const yaml of FRONT_MATTER) expect(parseSimpleYaml(yaml)).toBeDefined();
    expect(parseSimpleYaml('title: Résumé ✓\r\ntags: [x]\r\n')).toBeDefined();
  });
});

describe('fuzzer: valid files with odd bytes, fast path == full parser', () => {
  /** mulberry32: small, seeded, the same sequence on every machine. */
  function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const ODD = [
    '\u00a0', '\ufeff', '\r', '\r\n', '\t', '\u200b', ' ', '  ', '"', "'", '#', ' #', ':', ': ', '\u2028', '\u2029', '\u0085',
    '\n', '\n\n', ',', '\\', '\u3000', '\u000b', '\u000c', '\u0000', '\u007f', '\u202f', '\u200e', '-', '- ', '[', ']', '{', '}', 'é',
  ];

  /** 1 to 3 insertions or replacements, half of them at a line's end or after a `:`, where values end and start. */
  function mutate(text: string, next: () => number): string {
    let result = text;
    const count = 1 + Math.floor(next() * 3);
    for (let i = 0; i < count; i++) {
      const odd = ODD[Math.floor(next() * ODD.length)]!;
      const spots = [...result.matchAll(/\n|: /g)].map((m) => (m[0] === '\n' ? m.index : m.index + 1));
      const at = next() < 0.5 && spots.length > 0 ? spots[Math.floor(next() * spots.length)]! : Math.floor(next() * (result.length + 1));
      const replace = next() < 0.25 ? 1 : 0;
      result = result.slice(0, at) + odd + result.slice(at + replace);
    }
    return result;
  }

  function fuzz(seed: number, bases: string[], count: number, disagreement: (text: string) => string | undefined): { answered: number } {
    const next = random(seed);
    let answered = 0;
    for (let i = 0; i < count; i++) {
      const text = mutate(bases[i % bases.length]!, next);
      const problem = disagreement(text);
      if (problem === undefined) continue;
      answered++;
      expect(problem, `seed ${seed}, case ${i}: ${JSON.stringify(text)}`).toBe('');
    }
    return { answered };
  }

  it('payloads, workflows and quire.yaml (seed 7, 3000 texts)', () => {
    const { answered } = fuzz(7, [PAYLOAD, WORKFLOW, CONFIG], 3000, documentDisagreement);
    expect(answered).toBeGreaterThan(100); // the fast path really answers mutated files (trailing spaces, é, quotes...)
  });

  it('front matter (seed 9, 3000 texts)', () => {
    const { answered } = fuzz(9, FRONT_MATTER, 3000, frontMatterDisagreement);
    expect(answered).toBeGreaterThan(100);
  });
});
