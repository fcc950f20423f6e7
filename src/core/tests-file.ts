/**
 * Test case files (`workflows/**\/*.tests.yaml`): a workflow's cases, each with inputs (or
 * a dataset of input records) and checks per step, added to the workflow's own `expect`.
 * Whether the workflow, its steps and inputs exist is checked across files (references.ts).
 */
import { parseChecks } from './checks/parse.js';
import type { CheckSpec } from './checks/types.js';
import type { Problem, SourceLocation } from './errors.js';
import { parseCheckedYaml } from './yaml-document.js';

export const TESTS_SUFFIX = '.tests.yaml';

export interface TestCase {
  name: string;
  description: string;
  inputs: Record<string, unknown>;
  /** A records file (workspace-relative): one case per record, its values over `inputs`. */
  dataset?: string;
  /** Step name -> checks, run besides the step's own `expect`. */
  expect: Record<string, CheckSpec[]>;
  skip: boolean;
  at: SourceLocation;
}

export interface TestSuite {
  workflow: string;
  description: string;
  cases: TestCase[];
  sourcePath: string;
  contentHash: string;
  at: SourceLocation;
}

export type TestsParse = { ok: true; suite: TestSuite; problems: Problem[] } | { ok: false; problems: Problem[] };

/** Parses a tests file; every problem in it at once. Never throws. */
export function parseTestsFile(path: string, text: string, contentHash: string): TestsParse {
  const parsed = parseCheckedYaml(path, text, 'tests');
  if (!parsed.ok) return parsed;
  const { source } = parsed;
  const value = source.value as { workflow: string; description?: string; cases: Record<string, unknown>[] };
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const cases = value.cases.map((entry, index): TestCase => {
    const name = entry['name'] as string;
    const at = { file: path, ...source.locate(['cases', index]) };
    const first = seen.get(name);
    if (first !== undefined) problems.push({ ...at, code: 'DUPLICATE_NAME', message: `case name "${name}" is also used by case ${first + 1}; names must be unique in a file` });
    else seen.set(name, index);
    const expect: Record<string, CheckSpec[]> = {};
    for (const [step, list] of Object.entries((entry['expect'] as Record<string, unknown> | undefined) ?? {})) {
      const checks = parseChecks(list, path, source.locate, ['cases', index, 'expect', step]);
      problems.push(...checks.problems);
      expect[step] = checks.checks;
    }
    return {
      name,
      description: (entry['description'] as string | undefined) ?? '',
      inputs: (entry['inputs'] as Record<string, unknown> | undefined) ?? {},
      ...(typeof entry['dataset'] === 'string' ? { dataset: entry['dataset'] } : {}),
      expect,
      skip: entry['skip'] === true,
      at,
    };
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, suite: { workflow: value.workflow, description: value.description ?? '', cases, sourcePath: path, contentHash, at: { file: path, ...source.locate(['workflow']) } }, problems: [] };
}
