/**
 * `quire test`: every test case of the workspace (`workflows/**\/*.tests.yaml`) run as a
 * batch of its workflow (per-endpoint limits, pools, the step cache, recorded runs), the
 * checks of each step (the workflow's `expect` plus the case's) run on its output, and a
 * report of cases x checks.
 *
 * Golden outputs: `update` writes the outputs of the cases whose checks pass to
 * `<name>.approved.yaml` beside the tests file (reviewable in `git diff`); an `approved`
 * check compares later outputs with them.
 */
import { AppError } from '../core/errors.js';
import type { InputRecord, RecordItem, RecordSource } from '../core/batch.js';
import type { CaseResult, StepCheckResult, TestReport } from '../core/checks/types.js';
import { loadYaml } from '../core/parsers.js';
import { TESTS_SUFFIX, type TestCase, type TestSuite } from '../core/tests-file.js';
import type { AppContext } from './context.js';
import { runBatch } from './batch.js';
import type { RunOutcome } from './run.js';
import { syncModel } from './sync.js';

export interface TestOptions {
  /** Only the suites of these workflows (default: every suite). */
  workflows: readonly string[];
  endpointOverrides?: readonly string[];
  concurrency?: number;
  cache?: boolean;
  /** Approve the outputs of the cases whose checks pass (their `approved` checks are not judged). */
  update?: boolean;
  signal?: AbortSignal;
  onCaseEnd?: (result: CaseResult) => void;
  /** Cases to run, once known (for a progress display). */
  onStart?: (cases: number) => void;
}

export interface TestOutcome {
  report: TestReport;
  /** Approved-output files written by `update`. */
  approvedFiles: string[];
}

/** One run of a case: the case and, for a dataset, the record it came from. */
interface PlannedCase {
  suite: TestSuite;
  testCase: TestCase;
  /** The record's number in the dataset, when the case has one. */
  record?: number;
  values: Record<string, unknown>;
  text: boolean;
  line: number;
}

/** The approved outputs file beside a tests file. */
export const approvedPath = (testsPath: string): string => `${testsPath.slice(0, -TESTS_SUFFIX.length)}.approved.yaml`;

const caseName = (planned: PlannedCase) => (planned.record !== undefined ? `${planned.testCase.name} #${planned.record}` : planned.testCase.name);

export async function runTests(ctx: AppContext, options: TestOptions): Promise<TestOutcome> {
  const started = performance.now();
  const model = await syncModel(ctx);
  const suites = [...model.workspace.tests.values()].filter((suite) => options.workflows.length === 0 || options.workflows.includes(suite.workflow));
  if (suites.length === 0) {
    const known = [...new Set([...model.workspace.tests.values()].map((s) => s.workflow))].sort();
    throw new AppError('NOT_FOUND', options.workflows.length > 0 ? `no test cases for ${options.workflows.map((w) => `"${w}"`).join(', ')}` : 'no test cases in this workspace', {
      hint: known.length > 0 ? `workflows with tests: ${known.join(', ')}` : 'add workflows/<name>.tests.yaml (see README: Testing prompts)',
    });
  }

  const planned = new Map<TestSuite, PlannedCase[]>();
  for (const suite of suites) planned.set(suite, await planCases(ctx, suite));
  options.onStart?.([...planned.values()].reduce((n, cases) => n + cases.length, 0));

  const results: CaseResult[] = [];
  const approvedFiles: string[] = [];
  // Every suite at once: the endpoints' limits are shared through the clients, so the
  // servers stay busy across suites.
  await Promise.all(suites.map(async (suite) => {
    const cases = planned.get(suite)!;
    const approved = readApproved(ctx, suite);
    const outputs = new Map<string, Record<string, string>>();
    const caseOf = (record: InputRecord) => cases[record.index - 1]!;
    const source = memorySource(suite.sourcePath, cases);
    const started = new Map<number, number>();
    await runBatch(ctx, {
      workflow: suite.workflow,
      model: { workspace: model.workspace, hashes: model.hashes },
      openSource: async () => source(),
      inputPath: suite.sourcePath,
      inputHash: suite.contentHash,
      trigger: 'test',
      ...(options.endpointOverrides ? { endpointOverrides: options.endpointOverrides } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.cache ? { cache: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      runOptionsFor: (record) => {
        started.set(record.index, performance.now());
        const testCase = caseOf(record).testCase;
        const name = caseName(caseOf(record));
        return {
          extraChecks: (step) => testCase.expect[step] ?? [],
          approved: (step) => (options.update ? undefined : approved[name]?.[step]),
        };
      },
      onRecordOutcome: (record, outcome) => {
        const result = caseResult(caseOf(record), outcome, performance.now() - (started.get(record.index) ?? performance.now()), options.update === true);
        results.push(result);
        if (result.status === 'passed') outputs.set(result.name, Object.fromEntries(outcome.outputs.map((o) => [o.name, o.content])));
        options.onCaseEnd?.(result);
      },
      onEvent: (event) => {
        if (event.type !== 'record-problem') return;
        const planned = cases[event.index - 1];
        if (!planned) return;
        const result: CaseResult = { workflow: suite.workflow, name: caseName(planned), at: planned.testCase.at, runId: null, status: 'error', durationMs: 0, error: event.problem.message, steps: [] };
        results.push(result);
        options.onCaseEnd?.(result);
      },
    });
    if (options.update && outputs.size > 0) approvedFiles.push(writeApproved(ctx, suite, { ...approved, ...Object.fromEntries(outputs) }));
  }));

  results.sort((a, b) => (a.at.file < b.at.file ? -1 : a.at.file > b.at.file ? 1 : a.at.line - b.at.line || (a.name < b.name ? -1 : 1)));
  const count = (status: CaseResult['status']) => results.filter((r) => r.status === status).length;
  return {
    report: { cases: results, passed: count('passed'), failed: count('failed'), errors: count('error'), durationMs: performance.now() - started },
    approvedFiles,
  };
}

/** A case's runs: one, or one per record of its dataset (the record's values over the case's inputs). */
async function planCases(ctx: AppContext, suite: TestSuite): Promise<PlannedCase[]> {
  const planned: PlannedCase[] = [];
  for (const testCase of suite.cases) {
    if (testCase.skip) continue;
    if (!testCase.dataset) {
      planned.push({ suite, testCase, values: testCase.inputs, text: false, line: testCase.at.line });
      continue;
    }
    const source = await ctx.openRecords(testCase.dataset);
    try {
      for await (const item of source.records) {
        if (item.kind === 'problem') throw new AppError('RECORD', `case "${testCase.name}" (${suite.sourcePath}:${testCase.at.line}): ${item.problem.file}:${item.problem.line}:${item.problem.col}: ${item.problem.message}`);
        planned.push({ suite, testCase, record: item.record.index, values: { ...testCase.inputs, ...item.record.values }, text: item.record.text, line: testCase.at.line });
      }
    } finally {
      await source.close();
    }
  }
  return planned;
}

/** The planned cases as records in memory, numbered from 1 in order. */
function memorySource(path: string, cases: PlannedCase[]): () => RecordSource {
  return () => ({
    format: 'yaml',
    path,
    records: (async function* (): AsyncGenerator<RecordItem> {
      for (const [i, c] of cases.entries()) yield { kind: 'record', record: { index: i + 1, line: c.line, values: c.values, text: c.text } };
    })(),
    position: () => ({ bytesRead: 0 }),
    close: async () => {},
  });
}

/** A case's result from its run: error when the run did not complete, failed when a step's checks failed. */
function caseResult(planned: PlannedCase, outcome: RunOutcome, durationMs: number, updating: boolean): CaseResult {
  // Approving: `approved` checks are not judged (their outputs are being replaced).
  const steps: StepCheckResult[] = outcome.checks.map((step) => (updating ? withoutApproved(step) : step));
  const base = { workflow: planned.suite.workflow, name: caseName(planned), at: planned.testCase.at, runId: outcome.runId, durationMs, steps };
  if (outcome.status !== 'completed') return { ...base, status: 'error', error: outcome.error?.message ?? outcome.status };
  return { ...base, status: steps.every((s) => s.pass) ? 'passed' : 'failed' };
}

function withoutApproved(step: StepCheckResult): StepCheckResult {
  const checks = step.checks.filter((c) => c.check !== 'approved');
  if (checks.length === step.checks.length) return step;
  const weight = checks.reduce((sum, c) => sum + c.weight, 0);
  const score = weight > 0 ? checks.reduce((sum, c) => sum + c.score * c.weight, 0) / weight : 1;
  const pass = step.threshold !== undefined ? score >= step.threshold : checks.every((c) => c.pass);
  return { ...step, checks, score, pass };
}

type Approved = Record<string, Record<string, string>>;

/** The approved outputs beside a tests file: case name -> step -> output. */
function readApproved(ctx: AppContext, suite: TestSuite): Approved {
  const path = approvedPath(suite.sourcePath);
  const read = ctx.files.readAuxiliary(path);
  if (read.text === undefined) {
    if (read.problem) throw new AppError('IO', read.problem);
    return {};
  }
  return parseApproved(path, read.text);
}

function parseApproved(path: string, text: string): Approved {
  const value = loadYaml().parse(text) as unknown;
  if (value === null || value === undefined) return {};
  const bad = () => new AppError('SCHEMA', `${path}: approved outputs must map case names to step names to text`, { hint: `delete it and run \`quire test --update\` to write it again` });
  if (typeof value !== 'object' || Array.isArray(value)) throw bad();
  for (const steps of Object.values(value as Record<string, unknown>)) {
    if (typeof steps !== 'object' || steps === null || Array.isArray(steps) || Object.values(steps).some((v) => typeof v !== 'string')) throw bad();
  }
  return value as Approved;
}

/** Writes the approved outputs (sorted, block scalars: a change reads well in review). */
function writeApproved(ctx: AppContext, suite: TestSuite, approved: Approved): string {
  const path = approvedPath(suite.sourcePath);
  const sorted = Object.fromEntries(Object.keys(approved).sort().map((name) => [name, Object.fromEntries(Object.keys(approved[name]!).sort().map((step) => [step, approved[name]![step]!]))]));
  const header = `# Approved outputs of ${suite.sourcePath}, written by \`quire test --update\`: review the diff, commit it.\n`;
  const body = loadYaml().stringify(sorted, { blockQuote: 'literal', lineWidth: 0 });
  const plan = ctx.writer.plan(ctx.root, [{ path, content: header + body, replace: true, owner: `approved outputs of ${suite.sourcePath}` }]);
  ctx.writer.apply(plan);
  return path;
}
