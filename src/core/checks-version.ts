/**
 * The version of parsing and checking. Bump it whenever a file that passed before could
 * now be refused (or read differently): cached parses of another version are not reused.
 * Its own module: the database adapter needs it at startup, without the parsers.
 *
 * 2: helper set, strict own-field variables, include and nesting limits, invisible characters (issue 7).
 * 3: `expect` and `threshold` on workflow steps; test case files.
 */
export const CHECKS_VERSION = 3;
