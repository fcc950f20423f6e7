/**
 * The front matter fast path must agree with the real YAML parser whenever it answers.
 */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseSimpleYaml } from '../src/core/simple-yaml.js';

/** The shapes the fast path exists for: it must answer them (and agree). */
const ANSWERED = [
  'title: Summarize\ntags: [summary, phase-1]',
  'title: "Quoted: with colon"\ntags: ["a b", \'c\'\'d\', e]',
  "title: 'it''s'\ntags: style",
  'tags: a, b, c',
  'title: Résumé ✓\r\ntags: [x]\r\n',
  '# a comment\ntitle: T',
  'title: "esc \\" \\n \\u00e9"',
  'tags: []',
];

/** Tricky input: the fast path must decline or agree. */
const TRICKY = [
  'title: 2024', 'title: true', 'title: null', 'title: ~', 'title: yes', 'title: 1e3', 'title: .5', 'title: -3',
  'title: a # comment', 'title: a: b', 'title: [a, [b]]', 'tags: [a, b,]', 'tags: [a, {b: c}]', 'title: &x a', 'title: *x',
  'title: |\n  block', 'title:\n  nested: x', 'title: a\ntitle: b', 'title: "\\x41"', "title: 'unterminated", 'title: "a" b',
  'tags:\n  - a\n  - b', 'title: !tag x', 'title: %x', 'title: @x', 'title: `x`', 'title: x\t', 'title: "a"  ', 'title:',
  '  title: indented', 'title : spaced', 'title: a\\b', 'tags: [ "a" , b ]', 'tags: [a b, c]', 'title: ∞', 'title: _x',
];

describe('parseSimpleYaml', () => {
  it.each(ANSWERED)('answers %j as yaml does', (text) => {
    expect(parseSimpleYaml(text)).toEqual(parse(text));
  });

  it.each(TRICKY)('declines %j or agrees with yaml', (text) => {
    const fast = parseSimpleYaml(text);
    let expected: unknown;
    try {
      expected = parse(text);
    } catch {
      expected = undefined; // invalid YAML: the fast path must decline it
    }
    expect(fast === undefined || JSON.stringify(fast) === JSON.stringify(expected), JSON.stringify(fast)).toBe(true);
  });

  it('answers the common shapes (so the fast path is really taken)', () => {
    expect(parseSimpleYaml('title: Summarize\ntags: [summary, phase-1]')).toEqual({ title: 'Summarize', tags: ['summary', 'phase-1'] });
    expect(parseSimpleYaml('title: "Assistant formal 15"\ntags: ["policy-15", "Topic 112"]')).toEqual({ title: 'Assistant formal 15', tags: ['policy-15', 'Topic 112'] });
    expect(parseSimpleYaml('title: 2024')).toBeUndefined();
    expect(parseSimpleYaml('title: a\ntitle: b')).toBeUndefined();
  });

  it('agrees on random front matter built from tricky pieces', () => {
    const pieces = ['a', 'B c', 'x-y', 'é', '1', 'true', 'n', ':', '#', ' ', '"', "'", ',', '[', ']', '\\', 'null', '.', '-', '_z'];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const word = () => Array.from({ length: 1 + Math.floor(next() * 4) }, () => pieces[Math.floor(next() * pieces.length)]).join('');
    let answered = 0;
    for (let i = 0; i < 3000; i++) {
      const value = next() < 0.3 ? `[${[word(), word()].join(', ')}]` : next() < 0.5 ? JSON.stringify(word()) : word();
      const text = `title: ${value}\ntags: ${next() < 0.5 ? `[${word()}]` : word()}`;
      const fast = parseSimpleYaml(text);
      if (fast === undefined) continue;
      answered++;
      let expected: unknown;
      try {
        expected = parse(text);
      } catch {
        expect.fail(`fast path accepted invalid YAML: ${JSON.stringify(text)}`);
      }
      expect(fast, JSON.stringify(text)).toEqual(expected);
    }
    expect(answered).toBeGreaterThan(100);
  });
});
