/**
 * `quire test` in the terminal: the report of a test run (one line per case, the failed
 * checks and their reasons under a failing case, a summary line), its `--json` document, and
 * a compact progress display while the cases run. JUnit XML is junit.ts.
 *
 * The `--json` document (stable; snake_case; every field always present, null when unknown):
 *
 *   {
 *     "ok": boolean,              // true only when every case passed
 *     "passed": number,
 *     "failed": number,
 *     "errors": number,
 *     "duration_ms": number,      // the whole test run, wall clock
 *     "cases": [{
 *       "workflow": string,
 *       "name": string,           // for a dataset, "<name> #<record>"
 *       "file": string,           // the tests file, workspace-relative
 *       "line": number,           // the case's line in it
 *       "run_id": number | null,  // `quire show <run_id>`; null when no run was recorded
 *       "status": "passed" | "failed" | "error",
 *       "duration_ms": number,
 *       "error": string | null,   // why the case is an error (server down, invalid record...)
 *       "steps": [{
 *         "step": string,
 *         "pass": boolean,
 *         "score": number,        // weighted mean of the check scores, 0..1
 *         "threshold": number | null,
 *         "checks": [{ "check": string, "pass": boolean, "score": number, "weight": number, "reason": string }]
 *       }]
 *     }]
 *   }
 *
 * Text (`out`): one line per case (✓/✗/! with colour, PASS/FAIL/ERROR without), under a
 * failed or error case its location, error, failed steps with their failed checks and
 * reasons, and `quire show <run id>`; then `N passed, N failed, N errors (in X s)`. With
 * `--quiet`, only the cases that did not pass and the summary. Everything from the
 * workspace or a model (names, reasons quoting output, errors) goes through oneLine.
 */
import type { CaseResult, CheckResult, StepCheckResult, TestReport } from '../../core/checks/types.js';
import { oneLine } from '../report.js';

export interface TestReportOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  out: NodeJS.WritableStream;
}

/** `ok` is true only when every case passed (and the counts agree). */
export function testReportJson(report: TestReport) {
  return {
    ok: report.failed === 0 && report.errors === 0 && report.cases.every((c) => c.status === 'passed'),
    passed: report.passed,
    failed: report.failed,
    errors: report.errors,
    duration_ms: Math.round(report.durationMs),
    cases: report.cases.map((c) => ({
      workflow: c.workflow,
      name: c.name,
      file: c.at.file,
      line: c.at.line,
      run_id: c.runId,
      status: c.status,
      duration_ms: Math.round(c.durationMs),
      error: c.error ?? null,
      steps: c.steps.map((s) => ({
        step: s.step,
        pass: s.pass,
        score: s.score,
        threshold: s.threshold ?? null,
        checks: s.checks.map((k) => ({ check: k.check, pass: k.pass, score: k.score, weight: k.weight, reason: k.reason })),
      })),
    })),
  };
}

export function printTestReport(report: TestReport, options: TestReportOptions): void {
  if (options.json) {
    options.out.write(`${JSON.stringify(testReportJson(report), null, 2)}\n`);
    return;
  }
  const lines = testReportLines(report, options);
  options.out.write(`${lines.join('\n')}\n`);
}

const paint = (on: boolean, code: string) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** "1.23 s", like `quire run`'s summary. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(2)} s`;
}

const errorsText = (n: number) => `${n} ${n === 1 ? 'error' : 'errors'}`;

/** `3 passed, 1 failed, 0 errors (in 2.35 s)` (the text report's last line, without colour). */
export function summaryLine(report: TestReport): string {
  return `${report.passed} passed, ${report.failed} failed, ${errorsText(report.errors)} (in ${formatSeconds(report.durationMs)})`;
}

/** A reason quotes model output: a terminal line shows at most this many characters of it (`--json` keeps it whole). */
const MAX_REASON = 400;
/** Columns are padded up to these widths; longer names just push the rest of their line. */
const MAX_NAME_COLUMN = 48;
const MAX_WORKFLOW_COLUMN = 24;

const width = (text: string) => [...text].length;
const pad = (text: string, to: number) => text + ' '.repeat(Math.max(0, to - width(text)));

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

/** The text report as lines (without their newlines). */
export function testReportLines(report: TestReport, options: Pick<TestReportOptions, 'quiet' | 'color'>): string[] {
  const [green, red, yellow, dim, bold] = ['32', '31', '33', '2', '1'].map((code) => paint(options.color, code)) as [
    (s: string) => string, (s: string) => string, (s: string) => string, (s: string) => string, (s: string) => string,
  ];
  const shown = options.quiet ? report.cases.filter((c) => c.status !== 'passed') : report.cases;
  const nameWidth = Math.min(MAX_NAME_COLUMN, Math.max(0, ...shown.map((c) => width(oneLine(c.name)))));
  const workflowWidth = Math.min(MAX_WORKFLOW_COLUMN, Math.max(0, ...shown.map((c) => width(oneLine(c.workflow)))));

  const mark = (status: CaseResult['status']) => {
    if (options.color) return status === 'passed' ? green('✓') : status === 'failed' ? red('✗') : yellow('!');
    return pad(status === 'passed' ? 'PASS' : status === 'failed' ? 'FAIL' : 'ERROR', 5);
  };

  const lines: string[] = [];
  for (const c of shown) {
    lines.push(`${mark(c.status)} ${pad(oneLine(c.name), nameWidth)}  ${dim(pad(oneLine(c.workflow), workflowWidth))}  ${dim(formatSeconds(c.durationMs))}`);
    if (c.status === 'passed') continue;
    lines.push(`    ${dim(`${oneLine(c.at.file)}:${c.at.line}`)}`);
    if (c.error !== undefined) lines.push(`    ${yellow('error')}: ${clip(oneLine(c.error), MAX_REASON)}`);
    for (const { step, checks } of failedChecks(c)) {
      lines.push(`    step ${bold(oneLine(step.step))}${step.threshold === undefined ? '' : dim(`: score ${step.score.toFixed(2)} < threshold ${step.threshold.toFixed(2)}`)}`);
      for (const check of checks) lines.push(`      ${red(checkLabel(check))}: ${clip(oneLine(check.reason), MAX_REASON)}`);
    }
    if (c.runId !== null) lines.push(`    ${dim(`quire show ${c.runId}`)}`);
  }

  const counts = [
    report.passed > 0 ? green(`${report.passed} passed`) : `${report.passed} passed`,
    report.failed > 0 ? red(`${report.failed} failed`) : `${report.failed} failed`,
    report.errors > 0 ? yellow(errorsText(report.errors)) : errorsText(report.errors),
  ];
  if (lines.length > 0) lines.push('');
  lines.push(`${bold(counts.join(', '))} ${dim(`(in ${formatSeconds(report.durationMs)})`)}`);
  return lines;
}

/** `max_words`, `similar 0.62`, `judge (weight 2)`. */
function checkLabel(check: CheckResult): string {
  const score = check.score > 0 && check.score < 1 ? ` ${check.score.toFixed(2)}` : '';
  const weight = check.weight === 1 ? '' : ` (weight ${check.weight})`;
  return `${check.check}${score}${weight}`;
}

/** The failed steps of a case and their failed checks (also used by junit.ts). */
export function failedChecks(c: CaseResult): { step: StepCheckResult; checks: CheckResult[] }[] {
  return c.steps.filter((s) => !s.pass).map((step) => ({ step, checks: step.checks.filter((k) => !k.pass) }));
}

export interface TestProgressOptions {
  /** `err` is a terminal: one line redrawn in place; otherwise one character per case. */
  tty: boolean;
  quiet: boolean;
  json: boolean;
  err: NodeJS.WritableStream;
  /** How many cases will run, when known: `12/40 cases`. */
  total?: number;
}

export interface TestProgress {
  caseEnd(result: CaseResult): void;
  /** Clears the live line (or ends the line of dots). Idempotent; call it before printing the report. */
  close(): void;
}

/** Dots per line when not on a terminal. */
const DOTS_PER_LINE = 80;

/**
 * Progress while cases run, on `err`: on a terminal `12/40 cases · 1 failed` redrawn in
 * place (carriage return and erase-to-end: one short line needs no library); otherwise
 * `.`, `F` or `E` per finished case like classic test runners; nothing with json or quiet.
 */
export function createTestProgress(options: TestProgressOptions): TestProgress {
  if (options.json || options.quiet) return { caseEnd: () => {}, close: () => {} };
  let done = 0;
  let failed = 0;
  let errors = 0;
  let column = 0;
  let closed = false;
  if (options.tty) {
    let drawn = false;
    return {
      caseEnd(result) {
        if (closed) return;
        done += 1;
        if (result.status === 'failed') failed += 1;
        if (result.status === 'error') errors += 1;
        options.err.write(`\r${progressText(done, options.total, failed, errors)}\u001b[K`);
        drawn = true;
      },
      close() {
        if (closed) return;
        closed = true;
        if (drawn) options.err.write('\r\u001b[K');
      },
    };
  }
  return {
    caseEnd(result) {
      if (closed) return;
      options.err.write(result.status === 'passed' ? '.' : result.status === 'failed' ? 'F' : 'E');
      column += 1;
      if (column === DOTS_PER_LINE) {
        options.err.write('\n');
        column = 0;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      if (column > 0) options.err.write('\n');
    },
  };
}

/** `12/40 cases · 1 failed · 2 errors` (the total when known; failures and errors when any). */
export function progressText(done: number, total: number | undefined, failed: number, errors: number): string {
  const parts = [`${done}${total === undefined ? '' : `/${total}`} ${(total ?? done) === 1 ? 'case' : 'cases'}`];
  if (failed > 0) parts.push(`${failed} failed`);
  if (errors > 0) parts.push(errorsText(errors));
  return parts.join(' · ');
}
