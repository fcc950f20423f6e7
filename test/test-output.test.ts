/**
 * `quire test`'s output (cli/output/test.ts, cli/output/junit.ts) from a handmade TestReport:
 * a passing case, a failing case with several failed checks and markup in a reason, an
 * error case, and a case whose output holds a NUL, an escape, an emoji, a lone surrogate and
 * U+FFFE. Text and JSON into real streams; the JUnit XML read back by a strict little XML
 * parser written here (well-formedness, XML 1.0 characters, references decoded the way a
 * conforming parser does), so escaping is checked by what a CI system would read.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CaseResult, TestReport } from '../src/core/checks/types.js';
import { createTestProgress, printTestReport, summaryLine } from '../src/cli/output/test.js';
import { escapeXmlAttribute, escapeXmlText, toJUnitXml, xmlSafe } from '../src/cli/output/junit.js';

function sink(): PassThrough & { text(): string } {
  const stream = new PassThrough() as PassThrough & { text(): string };
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  return stream;
}

const MARKUP = `<script>alert("x") & 'y'</script>`;
const WEIRD = `a\u0000b 🎉 \u001b[31mred\uFFFE \uD800 end`;

const passing: CaseResult = {
  workflow: 'summarize',
  name: 'short article',
  at: { file: 'tests/summarize.yaml', line: 3, col: 3 },
  runId: 41,
  status: 'passed',
  durationMs: 412.4,
  steps: [{ step: 'summary', pass: true, score: 1, checks: [{ check: 'contains', pass: true, score: 1, weight: 1, reason: 'contains "budget"' }] }],
};

const failing: CaseResult = {
  workflow: 'summarize',
  name: 'long article',
  at: { file: 'tests/summarize.yaml', line: 12, col: 3 },
  runId: 42,
  status: 'failed',
  durationMs: 1203,
  steps: [
    {
      step: 'summary',
      pass: false,
      score: 0.4,
      threshold: 0.8,
      checks: [
        { check: 'max_words', pass: false, score: 0, weight: 1, reason: 'has 62 words, at most 50' },
        { check: 'contains', pass: false, score: 0, weight: 2, reason: `"conclusion" not found in "${MARKUP}"` },
        { check: 'similar', pass: true, score: 0.91, weight: 1, reason: 'similarity 0.91 >= 0.85' },
      ],
    },
    { step: 'title', pass: false, score: 0, checks: [{ check: 'not_contains', pass: false, score: 0, weight: 1, reason: 'found "TODO" in "line one\nTODO: more"' }] },
    { step: 'tags', pass: true, score: 1, checks: [{ check: 'json', pass: true, score: 1, weight: 1, reason: 'valid JSON' }] },
  ],
};

const erroring: CaseResult = {
  workflow: 'extract',
  name: 'server down',
  at: { file: 'tests/extract.yaml', line: 5, col: 3 },
  runId: null,
  status: 'error',
  durationMs: 20,
  error: 'connect ECONNREFUSED 127.0.0.1:8080\nretried 3 times',
  steps: [],
};

const weird: CaseResult = {
  workflow: 'extract',
  name: 'emoji 🎉 #3',
  at: { file: 'tests/extract.yaml', line: 9, col: 3 },
  runId: 44,
  status: 'failed',
  durationMs: 700,
  steps: [{ step: 'fields', pass: false, score: 0, checks: [{ check: 'regex', pass: false, score: 0, weight: 1, reason: `no match in "${WEIRD}"` }] }],
};

const report: TestReport = { cases: [passing, failing, erroring, weird], passed: 1, failed: 2, errors: 1, durationMs: 2345 };

function text(r: TestReport, options: { quiet?: boolean; color?: boolean } = {}): string {
  const out = sink();
  printTestReport(r, { json: false, quiet: options.quiet ?? false, color: options.color ?? false, out });
  return out.text();
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

describe('printTestReport: text', () => {
  const output = text(report);
  const lines = output.split('\n');

  it('one line per case with its status, name, workflow and duration, and the summary last', () => {
    expect(output.endsWith('\n')).toBe(true);
    const caseLines = lines.filter((l) => /^(PASS|FAIL|ERROR)\b/.test(l));
    expect(caseLines).toHaveLength(4);
    expect(caseLines[0]).toMatch(/^PASS {2}short article {2,}summarize {2}0\.41 s$/);
    expect(caseLines[1]).toMatch(/^FAIL {2}long article {2,}summarize {2}1\.20 s$/);
    expect(caseLines[2]).toMatch(/^ERROR server down {2,}extract {2,}0\.02 s$/);
    expect(caseLines[3]).toMatch(/^FAIL {2}emoji 🎉 #3 /);
    expect(lines.at(-2)).toBe('1 passed, 2 failed, 1 error (in 2.35 s)');
    expect(summaryLine(report)).toBe('1 passed, 2 failed, 1 error (in 2.35 s)');
    expect(summaryLine({ ...report, errors: 0 })).toMatch(/, 0 errors \(/);
  });

  it('a passing case is one line; a failing one lists its failed steps, checks and reasons, and quire show', () => {
    const at = lines.findIndex((l) => l.startsWith('PASS'));
    expect(lines[at + 1]).toMatch(/^FAIL {2}long article/);
    const block = lines.slice(at + 2, lines.findIndex((l) => l.startsWith('ERROR')));
    expect(block).toEqual([
      '    tests/summarize.yaml:12',
      '    step summary: score 0.40 < threshold 0.80',
      '      max_words: has 62 words, at most 50',
      `      contains (weight 2): "conclusion" not found in "${MARKUP}"`,
      '    step title',
      '      not_contains: found "TODO" in "line one\\nTODO: more"',
      '    quire show 42',
    ]);
    expect(output).not.toContain('similarity 0.91'); // passing checks and steps are not listed
    expect(output).not.toContain('valid JSON');
  });

  it('an error case shows its error on one line and no run to show', () => {
    expect(output).toContain('    tests/extract.yaml:5\n    error: connect ECONNREFUSED 127.0.0.1:8080\\nretried 3 times\n');
    expect(output).not.toContain('quire show null');
  });

  it('control characters in quoted output are escaped; the emoji stays', () => {
    expect(output).toContain('no match in "a\\u0000b 🎉 \\u001b[31mred');
    // Nothing but newlines between lines: no NUL, no escape sequence (no colour asked for), no CR or tab.
    for (const ch of output) expect(ch === '\n' || ch.charCodeAt(0) >= 0x20).toBe(true);
    expect(output).toContain('    quire show 44');
  });

  it('--quiet: only the cases that did not pass, and the summary', () => {
    const quiet = text(report, { quiet: true });
    expect(quiet).not.toContain('short article');
    expect(quiet).toContain('FAIL  long article');
    expect(quiet).toContain('      max_words: has 62 words, at most 50');
    expect(quiet).toContain('ERROR server down');
    expect(quiet.trimEnd().split('\n').at(-1)).toBe('1 passed, 2 failed, 1 error (in 2.35 s)');
    const allPassed = text({ cases: [passing], passed: 1, failed: 0, errors: 0, durationMs: 500 }, { quiet: true });
    expect(allPassed).toBe('1 passed, 0 failed, 0 errors (in 0.50 s)\n');
  });

  it('with colour: ✓/✗/! marks, and the same words once the colour is taken off', () => {
    const coloured = text(report, { color: true });
    expect(coloured).toContain('\u001b[32m✓\u001b[0m short article');
    expect(coloured).toContain('\u001b[31m✗\u001b[0m long article');
    expect(coloured).toContain('\u001b[33m!\u001b[0m server down');
    expect(stripAnsi(coloured).trimEnd().split('\n').at(-1)).toBe('1 passed, 2 failed, 1 error (in 2.35 s)');
    expect(stripAnsi(coloured)).toContain(`contains (weight 2): "conclusion" not found in "${MARKUP}"`);
  });
});

describe('printTestReport: --json', () => {
  const json = (r: TestReport) => {
    const out = sink();
    printTestReport(r, { json: true, quiet: true, color: true, out });
    return JSON.parse(out.text()) as Record<string, unknown> & { cases: Record<string, unknown>[] };
  };

  it('one stable document, snake_case, every field present', () => {
    const doc = json(report);
    expect(Object.keys(doc)).toEqual(['ok', 'passed', 'failed', 'errors', 'duration_ms', 'cases']);
    expect(doc).toMatchObject({ ok: false, passed: 1, failed: 2, errors: 1, duration_ms: 2345 });
    expect(doc.cases.map((c) => c['status'])).toEqual(['passed', 'failed', 'error', 'failed']);
    for (const c of doc.cases) {
      expect(Object.keys(c)).toEqual(['workflow', 'name', 'file', 'line', 'run_id', 'status', 'duration_ms', 'error', 'steps']);
    }
    expect(doc.cases[1]).toEqual({
      workflow: 'summarize',
      name: 'long article',
      file: 'tests/summarize.yaml',
      line: 12,
      run_id: 42,
      status: 'failed',
      duration_ms: 1203,
      error: null,
      steps: [
        {
          step: 'summary',
          pass: false,
          score: 0.4,
          threshold: 0.8,
          checks: [
            { check: 'max_words', pass: false, score: 0, weight: 1, reason: 'has 62 words, at most 50' },
            { check: 'contains', pass: false, score: 0, weight: 2, reason: `"conclusion" not found in "${MARKUP}"` },
            { check: 'similar', pass: true, score: 0.91, weight: 1, reason: 'similarity 0.91 >= 0.85' },
          ],
        },
        { step: 'title', pass: false, score: 0, threshold: null, checks: [{ check: 'not_contains', pass: false, score: 0, weight: 1, reason: 'found "TODO" in "line one\nTODO: more"' }] },
        { step: 'tags', pass: true, score: 1, threshold: null, checks: [{ check: 'json', pass: true, score: 1, weight: 1, reason: 'valid JSON' }] },
      ],
    });
    expect(doc.cases[0]).toMatchObject({ duration_ms: 412, run_id: 41, error: null });
    expect(doc.cases[2]).toMatchObject({ run_id: null, error: 'connect ECONNREFUSED 127.0.0.1:8080\nretried 3 times', steps: [] });
  });

  it('keeps the exact text (JSON escapes it), and ok is true only when every case passed', () => {
    const doc = json(report);
    const steps = doc.cases[3]!['steps'] as { checks: { reason: string }[] }[];
    // JSON.stringify writes a lone surrogate as \ud800, so even that comes back as it was.
    expect(steps[0]!.checks[0]!.reason).toBe(`no match in "${WEIRD}"`);
    expect(json({ cases: [passing], passed: 1, failed: 0, errors: 0, durationMs: 500 }).ok).toBe(true);
    expect(json({ cases: [passing, erroring], passed: 1, failed: 0, errors: 1, durationMs: 500 }).ok).toBe(false);
  });
});

describe('createTestProgress', () => {
  const run = (options: { tty: boolean; quiet?: boolean; json?: boolean; total?: number }, cases: CaseResult[]) => {
    const err = sink();
    const progress = createTestProgress({ quiet: false, json: false, ...options, err });
    for (const c of cases) progress.caseEnd(c);
    progress.close();
    progress.close();
    return err.text();
  };

  it('not a terminal: one character per case, then a newline', () => {
    expect(run({ tty: false }, [passing, failing, erroring, weird, passing])).toBe('.FEF.\n');
    expect(run({ tty: false }, [])).toBe('');
    const many = run({ tty: false }, Array.from({ length: 85 }, () => passing));
    expect(many).toBe(`${'.'.repeat(80)}\n.....\n`);
  });

  it('a terminal: one line redrawn in place, cleared on close', () => {
    const out = run({ tty: true, total: 40 }, [passing, failing, erroring]);
    const frames = out.split('\r').filter((f) => f !== '');
    expect(frames).toEqual(['1/40 cases\u001b[K', '2/40 cases · 1 failed\u001b[K', '3/40 cases · 1 failed · 1 error\u001b[K', '\u001b[K']);
    expect(run({ tty: true }, [passing])).toBe('\r1 case\u001b[K\r\u001b[K');
  });

  it('nothing with --json or --quiet', () => {
    expect(run({ tty: true, json: true }, [passing, failing])).toBe('');
    expect(run({ tty: false, quiet: true }, [passing, failing])).toBe('');
  });
});

// --- A strict little XML reader: enough XML 1.0 to check what we write, rejecting anything else. ---

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

const isXmlChar = (cp: number) => cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
const isNameStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === ':';
const isNameChar = (c: string) => isNameStart(c) || (c >= '0' && c <= '9') || c === '-' || c === '.';
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

function parseXml(source: string): XmlElement {
  for (const ch of source) {
    const cp = ch.codePointAt(0)!;
    if (!isXmlChar(cp)) throw new Error(`character U+${cp.toString(16)} is not allowed in XML 1.0`);
  }
  const declaration = '<?xml version="1.0" encoding="UTF-8"?>';
  if (!source.startsWith(declaration)) throw new Error('no XML declaration');
  // End-of-line handling (XML 1.0 section 2.11), as every parser does before anything else.
  const xml = source.split('\r\n').join('\n').split('\r').join('\n');
  let i = declaration.length;
  const fail = (message: string): never => {
    throw new Error(`${message} at ${i}: ${JSON.stringify(xml.slice(i, i + 30))}`);
  };
  const skipSpace = () => {
    while (isSpace(xml[i])) i += 1;
  };
  const name = () => {
    const start = i;
    if (!isNameStart(xml[i] ?? '')) fail('name expected');
    while (isNameChar(xml[i] ?? '')) i += 1;
    return xml.slice(start, i);
  };
  const reference = (): string => {
    const end = xml.indexOf(';', i);
    if (end < 0 || end - i > 12) fail('bad reference');
    const body = xml.slice(i + 1, end);
    i = end + 1;
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (body in named) return named[body]!;
    let cp = NaN;
    if (body.startsWith('#x')) cp = Number.parseInt(body.slice(2), 16);
    else if (body.startsWith('#')) cp = Number.parseInt(body.slice(1), 10);
    if (!Number.isInteger(cp) || !isXmlChar(cp)) fail(`bad reference &${body};`);
    return String.fromCodePoint(cp);
  };
  const element = (): XmlElement => {
    if (xml[i] !== '<') fail('< expected');
    i += 1;
    const el: XmlElement = { name: name(), attributes: {}, children: [] };
    for (;;) {
      const spaced = isSpace(xml[i]);
      skipSpace();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (xml[i] === '>') {
        i += 1;
        break;
      }
      if (!spaced) fail('space expected before an attribute');
      const key = name();
      if (key in el.attributes) fail(`duplicate attribute ${key}`);
      if (xml[i] !== '=') fail('= expected');
      i += 1;
      const quote = xml[i];
      if (quote !== '"' && quote !== "'") fail('quote expected');
      i += 1;
      let value = '';
      while (xml[i] !== quote) {
        const c = xml[i];
        if (c === undefined || c === '<') fail('unterminated attribute or < in it');
        if (c === '&') value += reference();
        else {
          value += isSpace(c) ? ' ' : c; // attribute-value normalization
          i += 1;
        }
      }
      i += 1;
      el.attributes[key] = value;
    }
    let text = '';
    const flush = () => {
      if (text !== '') el.children.push(text);
      text = '';
    };
    for (;;) {
      const c = xml[i];
      if (c === undefined) fail(`unclosed <${el.name}>`);
      if (xml.startsWith('</', i)) {
        i += 2;
        if (name() !== el.name) fail(`mismatched end tag for <${el.name}>`);
        skipSpace();
        if (xml[i] !== '>') fail('> expected');
        i += 1;
        flush();
        return el;
      }
      if (c === '<') {
        if (xml.startsWith('<!', i) || xml.startsWith('<?', i)) fail('unexpected markup');
        flush();
        el.children.push(element());
      } else if (c === '&') text += reference();
      else {
        if (xml.startsWith(']]>', i)) fail(']]> in text');
        text += c;
        i += 1;
      }
    }
  };
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== xml.length) fail('content after the root element');
  return root;
}

const elements = (el: XmlElement, name: string) => el.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === name);
const textOf = (el: XmlElement) => el.children.filter((c): c is string => typeof c === 'string').join('');

describe('toJUnitXml', () => {
  const timestamp = new Date('2024-05-01T12:30:00.250Z');
  const xml = toJUnitXml(report, { suiteName: 'prompts', timestamp, hostname: 'ci-runner "7" & <co>' });
  const root = parseXml(xml);

  it('is well-formed XML 1.0 with the declaration, and no forbidden character remains', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    expect(root.name).toBe('testsuites');
    for (const ch of xml) expect(isXmlChar(ch.codePointAt(0)!)).toBe(true);
    expect(xml).not.toContain('\u0000');
    expect(xml).not.toContain('\u001b');
  });

  it('counts agree with the report: the root, one suite per workflow, one testcase per case', () => {
    expect(root.attributes).toEqual({ name: 'prompts', tests: '4', failures: '2', errors: '1', time: '2.345' });
    const suites = elements(root, 'testsuite');
    expect(suites.map((s) => s.attributes)).toEqual([
      { name: 'summarize', tests: '2', failures: '1', errors: '0', skipped: '0', time: '1.615', timestamp: '2024-05-01T12:30:00', hostname: 'ci-runner "7" & <co>' },
      { name: 'extract', tests: '2', failures: '1', errors: '1', skipped: '0', time: '0.720', timestamp: '2024-05-01T12:30:00', hostname: 'ci-runner "7" & <co>' },
    ]);
    const cases = suites.flatMap((s) => elements(s, 'testcase'));
    expect(cases).toHaveLength(report.cases.length);
    expect(cases.filter((c) => elements(c, 'failure').length === 1)).toHaveLength(report.failed);
    expect(cases.filter((c) => elements(c, 'error').length === 1)).toHaveLength(report.errors);
    for (const [index, c] of cases.entries()) {
      const source = report.cases[index]!;
      expect(c.attributes).toEqual({ name: source.name, classname: source.workflow, time: (source.durationMs / 1000).toFixed(3), file: source.at.file, line: String(source.at.line) });
      expect(c.attributes['time']).toMatch(/^\d+\.\d{3}$/);
    }
  });

  it('a failure lists every failed check with its reason; markup round-trips', () => {
    const failure = elements(elements(elements(root, 'testsuite')[0]!, 'testcase')[1]!, 'failure')[0]!;
    expect(failure.attributes).toEqual({ message: 'summary: max_words: has 62 words, at most 50 (and 2 more)', type: 'check' });
    expect(textOf(failure)).toBe([
      'step summary (score 0.40 < threshold 0.80)',
      '  max_words (score 0.00): has 62 words, at most 50',
      `  contains (score 0.00, weight 2): "conclusion" not found in "${MARKUP}"`,
      'step title',
      '  not_contains (score 0.00): found "TODO" in "line one\nTODO: more"',
    ].join('\n'));
    expect(xml).toContain('&lt;script&gt;alert(&quot;x&quot;) &amp; &apos;y&apos;&lt;/script&gt;');
  });

  it('an error case has <error> with the first line as its message; system-out names the run', () => {
    const [passed, failed] = elements(elements(root, 'testsuite')[0]!, 'testcase');
    expect(passed!.children.filter((c) => typeof c !== 'string').map((c) => (c as XmlElement).name)).toEqual(['system-out']);
    expect(textOf(elements(passed!, 'system-out')[0]!)).toBe('tests/summarize.yaml:3\nrun #41 · quire show 41');
    expect(textOf(elements(failed!, 'system-out')[0]!)).toContain('quire show 42');
    const errored = elements(elements(root, 'testsuite')[1]!, 'testcase')[0]!;
    const error = elements(errored, 'error')[0]!;
    expect(error.attributes).toEqual({ message: 'connect ECONNREFUSED 127.0.0.1:8080', type: 'error' });
    expect(textOf(error)).toBe('connect ECONNREFUSED 127.0.0.1:8080\nretried 3 times');
    expect(textOf(elements(errored, 'system-out')[0]!)).toBe('tests/extract.yaml:5');
  });

  it('characters XML cannot hold become \\uXXXX text; the emoji stays', () => {
    const weirdCase = elements(elements(root, 'testsuite')[1]!, 'testcase')[1]!;
    expect(weirdCase.attributes['name']).toBe('emoji 🎉 #3');
    const expected = 'no match in "a\\u0000b 🎉 \\u001b[31mred\\ufffe \\ud800 end"';
    expect(textOf(elements(weirdCase, 'failure')[0]!)).toBe(`step fields\n  regex (score 0.00): ${expected}`);
    expect(elements(weirdCase, 'failure')[0]!.attributes['message']).toBe(`fields: regex: ${expected}`);
  });

  it('escaped text and attributes round-trip exactly, tabs, newlines and CRs included', () => {
    const samples = [MARKUP, 'tab\there\nnewline\r\nCRLF\rCR', `]]> &amp; already "escaped" 'quotes'`, 'plain 🎉 ünïcödé 中文', ''];
    for (const s of samples) {
      const el = parseXml(`<?xml version="1.0" encoding="UTF-8"?>\n<a v="${escapeXmlAttribute(s)}" w='${escapeXmlAttribute(s)}'>${escapeXmlText(s)}</a>`);
      expect(el.attributes['v']).toBe(s);
      expect(el.attributes['w']).toBe(s);
      expect(textOf(el)).toBe(s);
    }
    expect(xmlSafe('\u0001\u0008\u000b\u000c\u001f\u007f\u0085\uFFFF\uDC00x\uD83D\uDE00')).toBe('\\u0001\\u0008\\u000b\\u000c\\u001f\\u007f\\u0085\\uffff\\udc00x😀');
  });

  it('defaults: the root named quire, a timestamp without zone, this host', () => {
    const parsed = parseXml(toJUnitXml({ cases: [], passed: 0, failed: 0, errors: 0, durationMs: 0 }));
    expect(parsed.attributes).toEqual({ name: 'quire', tests: '0', failures: '0', errors: '0', time: '0.000' });
    const suite = elements(parseXml(toJUnitXml({ ...report, cases: [passing] })), 'testsuite')[0]!;
    expect(suite.attributes['timestamp']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(suite.attributes['hostname']).not.toBe('');
  });
});
