import { AppError, ProblemsError, UsageError, formatProblem } from '../core/errors.js';

/** Exit codes (spec section 8): 0 ok, 1 problems or failure, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function useColor(): boolean {
  if (process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '') return false;
  if (process.argv.includes('--no-color')) return false;
  return Boolean(process.stdout.isTTY);
}

function paint(code: string, text: string, stream: NodeJS.WriteStream = process.stderr): string {
  return useColor() && stream.isTTY ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const red = (s: string) => paint('31', s);
export const dim = (s: string) => paint('2', s, process.stdout);
export const bold = (s: string) => paint('1', s, process.stdout);

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/**
 * A file name or message on one terminal line: control characters (a newline in a file
 * name, a CR in a value), C1 controls and U+2028/U+2029 shown JSON-style (`\n`, `\u0085`).
 * `--json` output keeps the exact text.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function wantsJson(): boolean {
  return process.argv.includes('--json');
}

/**
 * The one error funnel. Known errors print a message (and, for workspace problems, one
 * `path:line:col: message` line each); anything else is a bug and prints its stack.
 * Sets the exit code and never calls process.exit(), so databases and watchers close.
 */
export function handleCliError(error: unknown): void {
  // cac throws plain errors for unknown options and missing arguments: those are usage errors.
  if (error instanceof Error && error.name === 'CACError') {
    error = new UsageError(error.message);
  }
  if (error instanceof AppError) {
    if (wantsJson()) {
      const body: Record<string, unknown> = { ok: false, error: { code: error.code, message: error.message } };
      if (error.hint) (body['error'] as Record<string, unknown>)['hint'] = error.hint;
      if (error.location) (body['error'] as Record<string, unknown>)['location'] = error.location;
      if (error instanceof ProblemsError) body['problems'] = error.problems;
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    } else if (error instanceof ProblemsError) {
      for (const problem of error.problems) process.stderr.write(`${formatProblem({ ...problem, file: oneLine(problem.file), message: oneLine(problem.message) })}\n`);
      process.stderr.write(`${red(error.message)}\n`);
    } else {
      const where = error.location ? `${oneLine(error.location.file)}:${error.location.line}:${error.location.col}: ` : '';
      process.stderr.write(`${red('error')}: ${where}${error.message}\n`);
      if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    }
    process.exitCode = error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
    return;
  }
  process.stderr.write(`quire: internal error (this is a bug)\n`);
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = EXIT_FAILURE;
}

/** Writes a JSON document to stdout (the stable `--json` output). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
