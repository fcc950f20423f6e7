/**
 * A test report as JUnit XML, the format CI systems read test results in (GitHub Actions
 * test reporters, GitLab's junit artifacts, Jenkins):
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <testsuites name="quire" tests failures errors time>
 *     <testsuite name="<workflow>" tests failures errors skipped="0" time timestamp hostname>
 *       <testcase name="<case>" classname="<workflow>" time file line>
 *         <failure message="<first failed check>" type="check">every failed check and its reason</failure>
 *         | <error message="<first line of the error>" type="error">the error</error>
 *         <system-out>the case's file:line, run #id and `quire show <id>`</system-out>
 *       </testcase>
 *
 * One suite per workflow, in the order the workflows first appear in the report. Times are
 * seconds with 3 decimals; a suite's time is the sum of its cases (they may overlap), the
 * root's the whole run's wall clock. `timestamp` is the run's start in UTC, ISO 8601 without
 * a zone as the JUnit schema's pattern wants. Counts are those of the cases written, so the
 * file always agrees with itself.
 *
 * Text from a model can hold anything: `& < > " '` are escaped everywhere; characters XML 1.0
 * does not allow (controls other than tab, newline and CR; lone surrogates; U+FFFE, U+FFFF),
 * and the discouraged DEL and C1 controls, become the text `\uXXXX`; CR, and tab and newline
 * in attributes, are written as character references so a parser gives them back as they were.
 */
import { hostname as osHostname } from 'node:os';
import type { CaseResult, TestReport } from '../../core/checks/types.js';
import { failedChecks } from './test.js';

export interface JUnitOptions {
  /** The root's name (default "quire"). */
  suiteName?: string;
  /** When the run started (default: now minus the report's duration). */
  timestamp?: Date;
  /** Default: this machine's name. */
  hostname?: string;
}

/** What XML 1.0 forbids (outside Char), plus DEL and the C1 controls it discourages. Paired surrogates are one code point under the `u` flag and pass. */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[^\t\n\r\u0020-\u007e\u00a0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Text only XML 1.0 allows: any other character becomes the six characters `\uXXXX`. */
export function xmlSafe(text: string): string {
  return text.replace(NOT_XML, hex4);
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };
const ATTRIBUTE_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '\n': '&#10;', '\t': '&#9;' };

/** Element text: markup characters escaped, CR kept (a parser turns a literal CR into a newline). */
export function escapeXmlText(text: string): string {
  return xmlSafe(text).replace(/[&<>"'\r]/g, (c) => TEXT_ESCAPES[c]!);
}

/** An attribute value: as text, and tab and newline kept (a parser turns literal ones into spaces). */
export function escapeXmlAttribute(text: string): string {
  return xmlSafe(String(text)).replace(/[&<>"'\r\n\t]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/** ISO 8601 in UTC without the zone and milliseconds: `2024-05-01T12:30:00`. */
const junitTimestamp = (date: Date) => date.toISOString().slice(0, 19);

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values).map(([key, value]) => ` ${key}="${escapeXmlAttribute(String(value))}"`).join('');
}

/** A message attribute: one line, at most this many characters (the element's text has everything). */
const MAX_MESSAGE = 200;

function headline(text: string): string {
  const first = text.split(/\r\n|\r|\n/).find((line) => line.trim() !== '') ?? text;
  const chars = [...first.trim()];
  return chars.length <= MAX_MESSAGE ? chars.join('') : `${chars.slice(0, MAX_MESSAGE).join('')}…`;
}

/** Every failed step and check with its reason, for the body of `<failure>` (or `<error>`). */
function failureText(c: CaseResult): string {
  const lines: string[] = [];
  for (const { step, checks } of failedChecks(c)) {
    const score = step.threshold === undefined ? '' : ` (score ${step.score.toFixed(2)} < threshold ${step.threshold.toFixed(2)})`;
    lines.push(`step ${step.step}${score}`);
    for (const check of checks) {
      const weight = check.weight === 1 ? '' : `, weight ${check.weight}`;
      lines.push(`  ${check.check} (score ${check.score.toFixed(2)}${weight}): ${check.reason}`);
    }
  }
  return lines.join('\n');
}

function failureMessage(c: CaseResult): string {
  const failed = failedChecks(c);
  const checks = failed.flatMap(({ step, checks }) => checks.map((check) => ({ step, check })));
  const first = checks[0];
  if (!first) return failed[0] ? `step ${failed[0].step.step} failed` : 'failed';
  const more = checks.length > 1 ? ` (and ${checks.length - 1} more)` : '';
  return `${first.step.step}: ${first.check.check}: ${headline(first.check.reason)}${more}`;
}

function testcase(c: CaseResult): string {
  const head = `    <testcase${attributes({ name: c.name, classname: c.workflow, time: seconds(c.durationMs), file: c.at.file, line: c.at.line })}`;
  const body: string[] = [];
  if (c.status === 'failed') {
    body.push(`      <failure${attributes({ message: failureMessage(c), type: 'check' })}>${escapeXmlText(failureText(c))}</failure>`);
  } else if (c.status === 'error') {
    const error = c.error ?? 'error';
    const checks = failureText(c);
    body.push(`      <error${attributes({ message: headline(error), type: 'error' })}>${escapeXmlText(checks === '' ? error : `${error}\n${checks}`)}</error>`);
  }
  const out = [`${c.at.file}:${c.at.line}`];
  if (c.runId !== null) out.push(`run #${c.runId} · quire show ${c.runId}`);
  body.push(`      <system-out>${escapeXmlText(out.join('\n'))}</system-out>`);
  return `${head}>\n${body.join('\n')}\n    </testcase>`;
}

const count = (cases: CaseResult[], status: CaseResult['status']) => cases.filter((c) => c.status === status).length;

export function toJUnitXml(report: TestReport, options: JUnitOptions = {}): string {
  const timestamp = junitTimestamp(options.timestamp ?? new Date(Date.now() - report.durationMs));
  const host = options.hostname ?? osHostname();
  const suites = new Map<string, CaseResult[]>();
  for (const c of report.cases) {
    const cases = suites.get(c.workflow);
    if (cases) cases.push(c);
    else suites.set(c.workflow, [c]);
  }
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites${attributes({
    name: options.suiteName ?? 'quire',
    tests: report.cases.length,
    failures: count(report.cases, 'failed'),
    errors: count(report.cases, 'error'),
    time: seconds(report.durationMs),
  })}>`);
  for (const [workflow, cases] of suites) {
    lines.push(`  <testsuite${attributes({
      name: workflow,
      tests: cases.length,
      failures: count(cases, 'failed'),
      errors: count(cases, 'error'),
      skipped: 0,
      time: seconds(cases.reduce((sum, c) => sum + Math.max(0, c.durationMs), 0)),
      timestamp,
      hostname: host,
    })}>`);
    for (const c of cases) lines.push(testcase(c));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
