/**
 * `expect:` lists -> validated checks, every problem at once, located; never throws.
 *
 * Each item is a mapping with exactly one check and an optional `weight` (a number > 0,
 * default 1):
 *
 *   expect:
 *     - equals: "Paris"                    # whole output, surrounding whitespace ignored
 *     - contains: fox                      # or a list: every one must occur
 *     - icontains: [FOX, dog]              # ignoring case
 *     - not_contains: "As an AI"           # or a list: none may occur
 *     - starts_with: "Dear"                # leading whitespace of the output ignored
 *     - regex: "^A.*"                      # or { pattern: "^a", flags: "i" } (flags from gimsuy)
 *     - min_words: 3                       # also max_words, min_chars, max_chars (whole numbers >= 0)
 *     - one_of: [yes, no]                  # the whole output, trimmed, equals one of them
 *     - json: true                         # JSON, one surrounding ```json fence allowed
 *     - json_schema: { type: object, required: [a] }   # or a file: schemas/answer.json
 *     - similar: { to: "text", metric: rouge_l, threshold: 0.7 }   # or similar: "text" (levenshtein, 0.8)
 *     - embedding_similar: { to: "text", threshold: 0.8, port: 5001, model: name }   # or the text alone
 *     - judge: { payload: grader, pass: "^PASS", expected: "..." }  # or judge: grader (pass: ^\s*PASS\b);
 *                                          # pass may be { pattern, flags } like regex
 *     - max_tokens: 200                    # completion tokens; max_ms: 5000 (numbers > 0)
 *     - approved: true                     # or { similar: 0.9, metric: levenshtein | rouge_l }
 *       weight: 2
 *
 * Text arguments must be strings: `equals: 42` is a problem with a hint to quote it, so
 * YAML's number and boolean conversions (1.0 -> 1, 0x10 -> 16) never change what is compared.
 */
import type { Problem } from '../errors.js';
import { closestName } from '../suggest.js';
import { CHECK_NAMES } from './args.js';
import { ARG_PARSERS } from './parse-args.js';
import { isMapping, positive, typeName, type ArgContext, type Path } from './parse-values.js';
import type { CheckName, CheckSpec } from './types.js';

export type Locate = (path: Path, which?: 'key' | 'value') => { line: number; col: number };

const ITEM_KEYS = [...CHECK_NAMES, 'weight'];

export function parseChecks(value: unknown, file: string, locate: Locate, basePath: Path): { checks: CheckSpec[]; problems: Problem[] } {
  const checks: CheckSpec[] = [];
  const problems: Problem[] = [];
  const problem = (path: Path, message: string, which?: 'key' | 'value') => problems.push({ file, ...locate(path, which), code: 'SCHEMA', message });
  if (value === undefined) return { checks, problems };
  if (!Array.isArray(value)) {
    problem(basePath, `expect must be a list of checks (e.g. "- contains: fox"), got ${typeName(value)}`);
    return { checks, problems };
  }
  value.forEach((item, index) => {
    const itemPath = [...basePath, index];
    const before = problems.length;
    const check = parseItem(item, itemPath, problem);
    if (check && problems.length === before) checks.push({ ...check, at: { file, ...locate(itemPath) } });
  });
  return { checks, problems };
}

type Report = (path: Path, message: string, which?: 'key' | 'value') => void;

function parseItem(item: unknown, itemPath: Path, problem: Report): Omit<CheckSpec, 'at'> | undefined {
  if (!isMapping(item)) {
    const hint = typeof item === 'string' && (CHECK_NAMES as readonly string[]).includes(item) ? `write "- ${item}: <argument>"` : 'e.g. "- contains: fox"';
    problem(itemPath, `each check must be a mapping with one check (${hint}), got ${typeName(item)}`);
    return undefined;
  }
  const keys = Object.keys(item);
  const names = keys.filter((key): key is CheckName => (CHECK_NAMES as readonly string[]).includes(key));
  for (const key of keys) {
    if (key === 'weight' || names.includes(key as CheckName)) continue;
    const suggestion = closestName(key, ITEM_KEYS);
    const what = names.length === 0 ? 'check' : 'key';
    problem([...itemPath, key], `unknown ${what} "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ` (checks: ${CHECK_NAMES.join(', ')}; and weight)`}`, 'key');
  }
  if (names.length > 1) {
    problem([...itemPath, names[1]!], `one check per item: "${names[0]}" and "${names[1]}" are both here; give each its own "- " item`, 'key');
    return undefined;
  }
  const name = names[0];
  if (name === undefined) {
    if (keys.every((key) => key === 'weight')) problem(itemPath, `no check in this item; one of: ${CHECK_NAMES.join(', ')}`);
    return undefined;
  }
  const ctx: ArgContext = { name, problem: (path, message, which) => problem([...itemPath, name, ...path], message, which) };
  const args = ARG_PARSERS[name](item[name], ctx);
  const weight = item['weight'] === undefined ? 1 : positive({ name: 'weight', problem: (path, message) => problem([...itemPath, 'weight', ...path], message) }, [], item['weight']);
  return args === undefined || weight === undefined ? undefined : { name, args, weight };
}
