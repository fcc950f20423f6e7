/**
 * One argument parser per check: the YAML value after the check's name -> the validated,
 * normalized argument (args.ts), or undefined with located problems. Shorthands are
 * normalized here so the evaluator sees one shape per check.
 */
import type { CheckArgs, RegexArgs, SimilarityMetric } from './args.js';
import { DEFAULT_JUDGE_PASS, DEFAULT_THRESHOLD } from './args.js';
import { compileSchema } from './json-schema.js';
import { compileRegex, flagsProblem } from './regex.js';
import type { CheckName } from './types.js';
import { count, fraction, isMapping, label, mapping, oneOf, port, positive, text, textList, typeName, type ArgContext, type Path } from './parse-values.js';

type ArgParser<N extends CheckName> = (value: unknown, ctx: ArgContext) => CheckArgs[N] | undefined;

const METRICS: readonly SimilarityMetric[] = ['levenshtein', 'rouge_l'];

/** A string, or a list of strings (all / none of them, per check). Empty strings would match anything. */
const textOrList = (value: unknown, ctx: ArgContext) => (Array.isArray(value) ? textList(ctx, [], value, { nonEmpty: true }) : text(ctx, [], value, { nonEmpty: true }));

export const ARG_PARSERS: { [N in CheckName]: ArgParser<N> } = {
  equals: (value, ctx) => text(ctx, [], value),
  contains: textOrList,
  icontains: textOrList,
  not_contains: textOrList,
  starts_with: (value, ctx) => text(ctx, [], value, { nonEmpty: true }),
  regex: (value, ctx) => regexArg(value, ctx, []),
  min_words: (value, ctx) => count(ctx, [], value),
  max_words: (value, ctx) => count(ctx, [], value),
  min_chars: (value, ctx) => count(ctx, [], value),
  max_chars: (value, ctx) => count(ctx, [], value),
  one_of: (value, ctx) => textList(ctx, [], value),
  json: (value, ctx) => (value === true ? true : fail(ctx, [], `json must be true (the output parses as JSON), got ${typeName(value)}`)),
  json_schema: jsonSchemaArg,
  similar: (value, ctx) => {
    if (typeof value === 'string') return shorthand(ctx, value, (to) => ({ to, metric: 'levenshtein', threshold: DEFAULT_THRESHOLD }));
    const args = mapping(ctx, [], value, ['to', 'metric', 'threshold'], ['to'], 'a reference text or { to, metric, threshold }');
    if (!args) return undefined;
    const to = text(ctx, ['to'], args['to'], { nonEmpty: true });
    const metric = args['metric'] === undefined ? 'levenshtein' : oneOf(ctx, ['metric'], args['metric'], METRICS);
    const threshold = args['threshold'] === undefined ? DEFAULT_THRESHOLD : fraction(ctx, ['threshold'], args['threshold']);
    return to !== undefined && metric && threshold !== undefined ? { to, metric, threshold } : undefined;
  },
  embedding_similar: (value, ctx) => {
    if (typeof value === 'string') return shorthand(ctx, value, (to) => ({ to, threshold: DEFAULT_THRESHOLD }));
    const args = mapping(ctx, [], value, ['to', 'threshold', 'port', 'model'], ['to'], 'a reference text or { to, threshold, port, model }');
    if (!args) return undefined;
    const to = text(ctx, ['to'], args['to'], { nonEmpty: true });
    const threshold = args['threshold'] === undefined ? DEFAULT_THRESHOLD : fraction(ctx, ['threshold'], args['threshold']);
    const endpoint = args['port'] === undefined ? undefined : port(ctx, ['port'], args['port']);
    const model = args['model'] === undefined ? undefined : text(ctx, ['model'], args['model'], { nonEmpty: true });
    if (to === undefined || threshold === undefined) return undefined;
    return { to, threshold, ...(endpoint !== undefined ? { port: endpoint } : {}), ...(model !== undefined ? { model } : {}) };
  },
  judge: (value, ctx) => {
    if (typeof value === 'string') return shorthand(ctx, value, (payload) => ({ payload, pass: DEFAULT_JUDGE_PASS }));
    const args = mapping(ctx, [], value, ['payload', 'pass', 'expected'], ['payload'], 'a payload name or { payload, pass, expected }');
    if (!args) return undefined;
    const payload = text(ctx, ['payload'], args['payload'], { nonEmpty: true });
    const pass = args['pass'] === undefined ? DEFAULT_JUDGE_PASS : regexArg(args['pass'], ctx, ['pass']);
    const expected = args['expected'] === undefined ? undefined : text(ctx, ['expected'], args['expected']);
    if (payload === undefined || pass === undefined) return undefined;
    return { payload, pass, ...(expected !== undefined ? { expected } : {}) };
  },
  max_tokens: (value, ctx) => positive(ctx, [], value),
  max_ms: (value, ctx) => positive(ctx, [], value),
  approved: (value, ctx) => {
    if (value === true) return { exact: true };
    const args = mapping(ctx, [], value, ['similar', 'metric'], ['similar'], 'true (exactly the approved output) or { similar: 0..1, metric }');
    if (!args) return undefined;
    const similar = fraction(ctx, ['similar'], args['similar']);
    const metric = args['metric'] === undefined ? 'levenshtein' : oneOf(ctx, ['metric'], args['metric'], METRICS);
    return similar !== undefined && metric ? { similar, metric } : undefined;
  },
};

/** The one-string form of a check (`similar: "text"`): the argument built from the string, if not empty. */
function shorthand<T>(ctx: ArgContext, value: string, build: (text: string) => T): T | undefined {
  const given = text(ctx, [], value, { nonEmpty: true });
  return given === undefined ? undefined : build(given);
}

function fail(ctx: ArgContext, path: Path, message: string): undefined {
  ctx.problem(path, message);
  return undefined;
}

/** `"pattern"` or `{ pattern, flags }`, compiled now so a bad pattern is a problem at its line. Not empty: it would match anything. */
function regexArg(value: unknown, ctx: ArgContext, path: Path): RegexArgs | undefined {
  let args: RegexArgs | undefined;
  let patternPath = path;
  if (isMapping(value)) {
    const given = mapping(ctx, path, value, ['pattern', 'flags'], ['pattern'], 'a pattern or { pattern, flags }');
    if (!given) return undefined;
    const pattern = text(ctx, [...path, 'pattern'], given['pattern'], { nonEmpty: true });
    const flags = given['flags'] === undefined ? '' : text(ctx, [...path, 'flags'], given['flags']);
    if (pattern === undefined || flags === undefined) return undefined;
    const bad = flagsProblem(flags);
    if (bad) return fail(ctx, [...path, 'flags'], `${label(ctx, [...path, 'flags'])} ${bad}`);
    args = { pattern, flags };
    patternPath = [...path, 'pattern'];
  } else {
    const pattern = text(ctx, path, value, { nonEmpty: true });
    if (pattern === undefined) return undefined;
    args = { pattern, flags: '' };
  }
  const compiled = compileRegex(args);
  if (!(compiled instanceof RegExp)) return fail(ctx, patternPath, `${label(ctx, patternPath)} is not a valid regular expression: ${compiled.error}`);
  return args;
}

/** An inline schema (compiled now: a bad schema is a problem here), or a workspace-relative file path the app reads. */
function jsonSchemaArg(value: unknown, ctx: ArgContext): CheckArgs['json_schema'] | undefined {
  if (typeof value === 'string') {
    const file = value.trim();
    const outside = file === '' || /^([/\\]|[A-Za-z]:)/.test(file) || file.includes('\\') || file.split('/').includes('..');
    if (outside) return fail(ctx, [], `json_schema must be a schema or a file path relative to the workspace root, inside it, with "/" (got ${JSON.stringify(value)})`);
    return { file };
  }
  if (!isMapping(value)) return fail(ctx, [], `json_schema must be a schema (a mapping) or a file path relative to the workspace root, got ${typeName(value)}`);
  const compiled = compileSchema(value);
  if (typeof compiled !== 'function') {
    ctx.problem(compiled.path ?? [], `json_schema is not a valid JSON Schema: ${compiled.error}`, compiled.key ? 'key' : 'value');
    return undefined;
  }
  return { schema: value };
}
