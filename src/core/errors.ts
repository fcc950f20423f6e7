/**
 * The two kinds of failure quire knows.
 *
 * An `AppError` is expected and user-facing: the CLI prints its message (and hint)
 * without a stack. Anything else reaching the CLI funnel is a bug and is printed
 * with its stack.
 */

/** Stable machine-readable codes; tests assert on these, not on wording. */
export type ErrorCode =
  | 'USAGE'
  | 'IO'
  | 'ENCODING'
  | 'YAML_PARSE'
  | 'FRONTMATTER'
  | 'SCHEMA'
  | 'BAD_PATH'
  | 'DUPLICATE_NAME'
  | 'MISSING_BLOCK'
  | 'MISSING_TAG'
  | 'MISSING_PAYLOAD'
  | 'MISSING_WORKFLOW'
  | 'UNKNOWN_FORMAT'
  | 'INCLUDE_CYCLE'
  | 'TEMPLATE'
  | 'FORMAT'
  | 'INPUT'
  /** A batch input record that cannot be read, or does not fit the workflow's inputs. */
  | 'RECORD'
  | 'MIGRATION'
  | 'DATABASE'
  | 'NOT_FOUND'
  | 'LLM_HTTP'
  | 'LLM_CONNECT'
  | 'LLM_TIMEOUT'
  | 'LLM_PROTOCOL'
  | 'LLM_CONTEXT'
  | 'CANCELLED'
  | 'PROBLEMS';

/** A 1-based position inside a workspace file. */
export interface SourceLocation {
  /** Workspace-relative path, `/`-separated. */
  file: string;
  line: number;
  col: number;
}

/** One thing wrong with the workspace, located in a file. */
export interface Problem extends SourceLocation {
  code: ErrorCode;
  message: string;
}

export interface AppErrorOptions {
  hint?: string;
  cause?: unknown;
  location?: SourceLocation;
}

/** An expected, user-facing failure. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('USAGE', message, options);
    this.name = 'UsageError';
  }
}

/** A database that cannot be opened or migrated safely. */
export class MigrationError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('MIGRATION', message, options);
    this.name = 'MigrationError';
  }
}

/** Every problem found in the workspace, reported at once. */
export class ProblemsError extends AppError {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    const count = problems.length;
    super('PROBLEMS', `${count} problem${count === 1 ? '' : 's'} found`);
    this.name = 'ProblemsError';
    this.problems = sortProblems(problems);
  }
}

/** Sorts problems by file, then line, then column, so output is stable. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col,
  );
}

/** Formats a problem the way compilers do: `path:line:col: message`. */
export function formatProblem(problem: Problem): string {
  return `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`;
}
