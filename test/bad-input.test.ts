/**
 * The bad-input corpus: every way a user can get a workspace file wrong, each case a
 * whole mini workspace under test/fixtures/bad-input/<case>/ (the `valid` workspace with
 * one kind of defect). Binary, huge and symlink cases are made at runtime from `valid`.
 *
 * For each bad case:
 * - in process (`inspectWorkspace`): the exact problems, `path:line:col` + code, nothing more;
 * - the real CLI, `sync --json` over a database synced from `valid`: exit 1, the same problems,
 *   and the database left byte-identical (same sha256, no WAL frames, same `blocks` rows);
 * - the real CLI, `validate`: exit 1 and one `path:line:col: message` line per problem, sorted.
 * Cases that must work (BOM, CRLF, spaces and unicode in names, symlinks inside) are synced
 * and their rows read back with better-sqlite3.
 *
 * Positions below were checked by hand against the fixture files (1-based, column in
 * characters from the start of the line).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, expect as globalExpect, it, type ExpectStatic } from 'vitest';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { inspectWorkspace } from '../src/app/load.js';
import { sortProblems, type ErrorCode, type Problem } from '../src/core/errors.js';
import { BIN, runCli, runCliAsync, type CliResult } from './helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/bad-input/', import.meta.url));

const P = 'workflows/summarize.payload.yaml';
const W = 'workflows/research.workflow.yaml';
const S = 'blocks/style.md';
const T = 'blocks/tasks/summarize.md';
const C = 'quire.yaml';

// --- temp workspaces -----------------------------------------------------------------

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix = 'quire-bad-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A fresh copy of a fixture workspace in a temp folder. */
function copyFixture(name: string): string {
  const root = tempDir();
  cpSync(join(FIXTURES, name), root, { recursive: true });
  return root;
}

function write(root: string, path: string, content: string | Uint8Array): void {
  const absolute = join(root, path);
  mkdirSync(dirname(absolute), { recursive: true });
  writeFileSync(absolute, content);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function readRows(dbPath: string, sql: string): Record<string, unknown>[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

// --- the database synced from `valid`, shared by every "database untouched" check ---

let baseDb: Buffer;
let baseBlocks: Record<string, unknown>[];

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  const root = copyFixture('valid');
  const dbPath = join(root, 'data', 'quire.db');
  const result = runCli(['-w', root, '--db', dbPath, 'sync', '--quiet']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(existsSync(`${dbPath}-wal`)).toBe(false); // closed cleanly: everything is in the main file
  baseDb = readFileSync(dbPath);
  baseBlocks = readRows(dbPath, 'SELECT * FROM blocks ORDER BY id');
  expect(baseBlocks.map((row) => row['key'])).toEqual(['style', 'tasks/summarize']);
});

// --- bad cases -----------------------------------------------------------------------

interface Expected {
  file: string;
  line: number;
  col: number;
  code: ErrorCode;
  /** Part of the message that must be there (a did-you-mean, both file names...). */
  message?: RegExp;
}

interface BadCase {
  /** Folder under test/fixtures/bad-input/ (runtime cases start from `valid`). */
  name: string;
  fixture?: string;
  /** Makes the defect at runtime (binary, huge, symlinks). */
  setup?: (root: string) => void;
  /** Every problem, sorted by file, line, column: nothing else may be reported. */
  problems: Expected[];
  /** Extra checks on the two CLI runs. */
  check?: (runs: { sync: CliResult; validate: CliResult }, expect: ExpectStatic) => void;
}

const hexBytes = (text: string, ...bytes: number[]) => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(bytes)]);

const BAD_CASES: BadCase[] = [
  {
    name: 'yaml-tabs',
    problems: [
      { file: S, line: 4, col: 1, code: 'YAML_PARSE', message: /tabs are not allowed/ }, // front matter line 3 of the file's YAML = file line 4
      { file: P, line: 5, col: 1, code: 'YAML_PARSE', message: /tabs are not allowed/ },
      { file: P, line: 6, col: 1, code: 'YAML_PARSE', message: /tabs are not allowed/ },
    ],
  },
  {
    name: 'yaml-bad-indent',
    problems: [{ file: W, line: 4, col: 1, code: 'YAML_PARSE', message: /same column/ }],
  },
  {
    name: 'yaml-duplicate-keys',
    problems: [
      { file: S, line: 4, col: 1, code: 'YAML_PARSE', message: /duplicate key "title"/ },
      { file: P, line: 4, col: 1, code: 'YAML_PARSE', message: /duplicate key "temperature"/ },
    ],
  },
  {
    name: 'frontmatter-unclosed',
    problems: [{ file: S, line: 1, col: 1, code: 'FRONTMATTER', message: /never closed/ }],
  },
  {
    name: 'wrong-types',
    problems: [
      { file: P, line: 1, col: 14, code: 'SCHEMA', message: /^temperature must be a number, got the string "hot"$/ },
      { file: P, line: 2, col: 18, code: 'SCHEMA', message: /^response_length must be an integer, got number 1\.5$/ },
      { file: P, line: 3, col: 11, code: 'SCHEMA', message: /^llm_port must be <= 65535$/ },
    ],
  },
  {
    name: 'unknown-keys',
    problems: [
      { file: S, line: 3, col: 1, code: 'SCHEMA', message: /unknown key "tagz"; did you mean "tags"\?/ },
      { file: W, line: 4, col: 27, code: 'SCHEMA', message: /unknown key "defualt" in inputs\.words; did you mean "default"\?/ },
      { file: W, line: 7, col: 5, code: 'SCHEMA', message: /unknown key "varz" in payloads\[0\]; did you mean "vars"\?/ },
      { file: P, line: 1, col: 1, code: 'SCHEMA', message: /unknown key "temprature"; did you mean "temperature"\?/ },
    ],
  },
  {
    name: 'config-bad-keys',
    problems: [
      { file: C, line: 2, col: 3, code: 'SCHEMA', message: /unknown key "hots" in llm; did you mean "host"\?/ },
      { file: C, line: 3, col: 12, code: 'SCHEMA', message: /llm\.retries must be an integer, got the string "many"/ },
      { file: C, line: 4, col: 1, code: 'SCHEMA', message: /unknown key "endpoint"; did you mean "endpoints"\?/ },
      { file: C, line: 7, col: 16, code: 'SCHEMA', message: /endpoints\[5002\]\.api must be one of: auto, kobold,/ },
      { file: C, line: 7, col: 34, code: 'SCHEMA', message: /endpoints\[5002\]\.urls\[0\]/ },
    ],
  },
  {
    // Broken files are not reported again as "unknown" where they are referenced.
    name: 'empty-files',
    problems: [
      { file: S, line: 1, col: 1, code: 'SCHEMA', message: /block file is empty/ },
      { file: W, line: 1, col: 1, code: 'SCHEMA', message: /file is empty/ },
      { file: P, line: 1, col: 1, code: 'SCHEMA', message: /file is empty/ },
    ],
  },
  {
    name: 'payload-is-list',
    problems: [{ file: P, line: 1, col: 1, code: 'SCHEMA', message: /must be a YAML mapping/ }],
  },
  {
    name: 'wrong-shapes',
    problems: [
      { file: S, line: 2, col: 1, code: 'SCHEMA', message: /must be a mapping, got a list/ },
      { file: C, line: 1, col: 1, code: 'SCHEMA', message: /must be a YAML mapping/ },
      { file: W, line: 3, col: 3, code: 'SCHEMA', message: /^payloads must be a list, got a mapping$/ },
    ],
  },
  {
    // CRLF must not shift lines or columns.
    name: 'crlf-bad',
    problems: [
      { file: T, line: 6, col: 17, code: 'MISSING_BLOCK', message: /unknown block "nope"/ },
      { file: P, line: 1, col: 14, code: 'SCHEMA', message: /^temperature must be a number, got the string "hot"$/ },
    ],
  },
  {
    name: 'invalid-utf8',
    fixture: 'valid',
    setup(root) {
      // Latin-1 "é" (0xE9) on line 5, after "Be caf".
      write(root, S, hexBytes('---\ntitle: Style\ntags: [style]\n---\nBe caf', 0xe9, ...Buffer.from(' and concise.\n')));
      // A stray 0xFF on line 6, column 33 (after `  - text: "Text: {{input.text}} `).
      write(root, P, hexBytes('temperature: 0.6\nresponse_length: 200\nmodel_format: chatml\nblocks:\n  - tasks/summarize\n  - text: "Text: {{input.text}} ', 0xff, ...Buffer.from('"\n')));
      // Notepad's "Unicode": UTF-16 LE with its BOM (FF FE).
      write(root, 'blocks/notes.md', Buffer.from('\ufeff---\ntitle: Notes\n---\nHello\n', 'utf16le'));
    },
    problems: [
      { file: 'blocks/notes.md', line: 1, col: 1, code: 'ENCODING', message: /file is UTF-16; save it as UTF-8/ },
      { file: S, line: 5, col: 7, code: 'ENCODING', message: /invalid UTF-8 byte 0xe9/ },
      { file: P, line: 6, col: 33, code: 'ENCODING', message: /invalid UTF-8 byte 0xff/ },
    ],
  },
  {
    // Issue 7 item 10: a newline in a file name split the one-line `path:line:col: message`
    // output in two. `validate` prints control characters JSON-style (`\n`); --json keeps the name.
    name: 'newline-in-file-name',
    fixture: 'valid',
    setup(root) {
      write(root, 'blocks/two\nlines.md', '---\ntitle: Two lines\n'); // front matter never closed
      write(root, 'workflows/tab\there.payload.yaml', 'blocks: [nope]\n');
    },
    problems: [
      { file: 'blocks/two\nlines.md', line: 1, col: 1, code: 'FRONTMATTER', message: /never closed/ },
      { file: 'workflows/tab\there.payload.yaml', line: 1, col: 10, code: 'MISSING_BLOCK', message: /unknown block "nope"/ },
    ],
    check({ validate }, expect) {
      expect(validate.stderr.split('\n').slice(0, 2).map((line) => line.split(':1:')[0])).toEqual(['blocks/two\\nlines.md', 'workflows/tab\\there.payload.yaml']);
    },
  },
  {
    name: 'huge-block',
    fixture: 'valid',
    setup(root) {
      write(root, S, `---\ntitle: Style\ntags: [style]\n---\n${'Be concise. '.repeat((10 * 1024 * 1024) / 12)}\n`);
    },
    problems: [{ file: S, line: 1, col: 1, code: 'IO', message: /file is 10\.0 MB; quire reads files up to 4 MB/ }],
  },
  {
    name: 'path-escape',
    problems: [
      { file: T, line: 6, col: 17, code: 'BAD_PATH', message: /block key "\.\.\/\.\.\/outside" contains "\." or "\.\." segments/ },
      { file: P, line: 6, col: 5, code: 'BAD_PATH', message: /block key "\.\.\/secrets" contains/ },
      { file: P, line: 7, col: 5, code: 'BAD_PATH', message: /block key "\/etc\/passwd" is an absolute path/ },
      { file: P, line: 8, col: 5, code: 'BAD_PATH', message: /block key "tasks\/\.\.\/style" contains/ },
    ],
  },
  {
    name: 'symlink-outside',
    fixture: 'valid',
    setup(root) {
      const outside = tempDir('quire-outside-');
      write(outside, 'secret.md', 'not yours\n');
      write(outside, 'lib/shared.md', 'not yours either\n');
      symlinkSync(join(outside, 'secret.md'), join(root, 'blocks', 'secret.md'));
      symlinkSync(join(outside, 'lib'), join(root, 'blocks', 'lib'));
      // Relative, climbing out of the workspace.
      const link = join(root, 'workflows', 'up.payload.yaml');
      symlinkSync(relative(dirname(link), join(outside, 'secret.md')), link);
    },
    problems: [
      { file: 'blocks/lib', line: 1, col: 1, code: 'BAD_PATH', message: /symbolic link points outside the workspace/ },
      { file: 'blocks/secret.md', line: 1, col: 1, code: 'BAD_PATH', message: /symbolic link points outside the workspace/ },
      { file: 'workflows/up.payload.yaml', line: 1, col: 1, code: 'BAD_PATH', message: /symbolic link points outside the workspace/ },
    ],
  },
  {
    name: 'duplicate-payload-name',
    // The problem sits in one file and names the other: both files are in the report.
    problems: [{ file: P, line: 1, col: 1, code: 'DUPLICATE_NAME', message: /payload name "summarize" is also defined in workflows\/old\/summarize\.payload\.yaml/ }],
  },
  {
    name: 'duplicate-workflow-name',
    problems: [{ file: W, line: 1, col: 1, code: 'DUPLICATE_NAME', message: /workflow name "research" is also defined in workflows\/archive\/research\.workflow\.yaml/ }],
  },
  {
    name: 'unknown-references',
    problems: [
      { file: T, line: 6, col: 1, code: 'MISSING_TAG', message: /no block has the tag "styles"; did you mean "style"\?/ },
      { file: T, line: 7, col: 1, code: 'MISSING_BLOCK', message: /unknown block "persona\/analyst"/ },
      { file: W, line: 7, col: 5, code: 'MISSING_PAYLOAD', message: /unknown payload "critique"/ },
      { file: P, line: 3, col: 15, code: 'UNKNOWN_FORMAT', message: /unknown model_format "chatmll"; did you mean "chatml"\? \(known: .*chatml.*; or add formats\/chatmll\.yaml\)/ },
      { file: P, line: 4, col: 10, code: 'MISSING_BLOCK', message: /unknown block "stlye"; did you mean "style"\?/ },
      { file: P, line: 6, col: 5, code: 'MISSING_BLOCK', message: /unknown block "tasks\/summarise"; did you mean "tasks\/summarize"\?/ },
      { file: P, line: 7, col: 5, code: 'MISSING_TAG', message: /no block has the tag "stlye"; did you mean "style"\?/ },
    ],
  },
  {
    name: 'include-cycle',
    // Reported once, at the include that closes the cycle.
    problems: [{ file: 'blocks/b.md', line: 5, col: 3, code: 'INCLUDE_CYCLE', message: /include cycle: a -> b -> a/ }],
  },
  {
    name: 'duplicate-step-name',
    problems: [{ file: W, line: 7, col: 5, code: 'DUPLICATE_NAME', message: /step name "summarize" is already used by step on line 6/ }],
  },
  {
    // Lines count from the top of the file, front matter included.
    name: 'handlebars-syntax',
    problems: [
      { file: S, line: 7, col: 1, code: 'TEMPLATE', message: /template syntax error/ }, // `{{input.name}.` on file line 7
      { file: T, line: 7, col: 1, code: 'TEMPLATE', message: /template syntax error: the template ends inside a tag: an unclosed \{\{#if\}\}/ }, // unclosed {{#if}}: seen at the end of the file
    ],
  },
  {
    // Issue 7 item 1: 5000 nested brackets crashed the fast YAML path ("Maximum call stack size
    // exceeded", no location, nothing on stdout under --json). Every YAML file kind now stops at
    // the 65th nested list or mapping, reported where it opens; other files are still reported.
    // Depth counts the file's top mapping as 1, so `params: {seed: [` is depth 3 at its `[`.
    name: 'deep-nesting',
    problems: [
      { file: 'blocks/other.md', line: 1, col: 5, code: 'MISSING_BLOCK', message: /unknown block "nope"/ },
      { file: S, line: 3, col: 70, code: 'YAML_PARSE', message: /^lists and mappings are nested more than 64 levels deep here; quire reads at most 64$/ }, // `tags: ` + 64th `[`
      { file: 'formats/deep.yaml', line: 1, col: 70, code: 'YAML_PARSE', message: /nested more than 64 levels/ }, // `stop: ` + 64th `[`
      { file: C, line: 6, col: 72, code: 'YAML_PARSE', message: /nested more than 64 levels/ }, // endpoints > 5001 > urls > 62nd `[`
      { file: W, line: 11, col: 129, code: 'YAML_PARSE', message: /nested more than 64 levels/ }, // payloads > item > vars > x, then the 61st `- ` on the line
      { file: P, line: 7, col: 78, code: 'YAML_PARSE', message: /nested more than 64 levels/ }, // `params: {seed: ` + 63rd `[`
    ],
  },
  {
    // Issue 7 item 6: Handlebars' own helpers and partials are not part of quire's template language.
    name: 'template-helpers',
    problems: [
      { file: 'blocks/style.md', line: 5, col: 13, code: 'TEMPLATE', message: /partials.*did you mean \{\{block "tasks\/summarize"\}\}/ },
      { file: 'blocks/tasks/summarize.md', line: 5, col: 3, code: 'TEMPLATE', message: /unknown helper "log"/ },
      { file: 'workflows/summarize.payload.yaml', line: 6, col: 5, code: 'TEMPLATE', message: /unknown helper "lookup"/ },
    ],
  },
  {
    // Issue 7 item 7: only input, vars, steps and previous exist at the top level; Object.prototype names are not variables.
    name: 'template-unknown-variable',
    problems: [
      { file: 'blocks/style.md', line: 5, col: 9, code: 'TEMPLATE', message: /unknown variable "__proto__"/ },
      { file: 'blocks/tasks/summarize.md', line: 4, col: 16, code: 'TEMPLATE', message: /unknown variable "inptu.words"; did you mean "input"\?/ },
    ],
  },
  {
    // Issue 7 bounds: include chains longer than rendering allows are reported at validation, naming the chain.
    name: 'include-too-deep',
    problems: [
      { file: 'blocks/tasks/summarize.md', line: 7, col: 1, code: 'TEMPLATE', message: /includes nest 18 blocks deep, more than the 16 rendering allows: tasks\/summarize -> deep\/l1 -> .* -> deep\/l17/ },
    ],
  },
  {
    // Issue 7 bounds: a runaway chat_template is a located FORMAT problem, not a V8 fatal error at render.
    name: 'format-runaway',
    problems: [
      { file: 'formats/dated.yaml', line: 1, col: 1, code: 'FORMAT', message: /date_string applies only to a format that prints a date/ },
      { file: 'formats/runaway.yaml', line: 2, col: 16, code: 'FORMAT', message: /chat_template called range\(\) for 300000000 items/ },
      { file: 'formats/typo.yaml', line: 1, col: 7, code: 'SCHEMA', message: /base must be one of/ },
    ],
  },
  {
    // Found with issue 7 item 1: aliases build values the text does not nest. A list nested
    // 30 deep holding an alias to one nested 40 deep is 72 levels (and crashed `sync` with a
    // stack overflow in JSON.stringify); an alias inside its own anchor is a value containing
    // itself (a TypeError in `sync`). Both are located at the alias.
    name: 'yaml-alias-shapes',
    problems: [
      { file: 'workflows/alias-deep.payload.yaml', line: 5, col: 36, code: 'YAML_PARSE', message: /^lists and mappings are nested more than 64 levels deep here; quire reads at most 64$/ },
      { file: 'workflows/cycle.payload.yaml', line: 3, col: 16, code: 'YAML_PARSE', message: /^this alias is inside the list or mapping it refers to, so the value would contain itself$/ },
    ],
  },
  {
    // A list or mapping as a key was turned into a string key ("[ a ]") with a Node warning on
    // stderr, no location; now a located problem per key.
    name: 'yaml-collection-key',
    problems: [
      { file: P, line: 4, col: 3, code: 'YAML_PARSE', message: /^a list or mapping cannot be a key; use a plain key$/ }, // [c, d]: e
      { file: P, line: 5, col: 7, code: 'YAML_PARSE', message: /^a list or mapping cannot be a key/ }, // {[f]: g}
      { file: P, line: 6, col: 5, code: 'YAML_PARSE', message: /^a list or mapping cannot be a key/ }, // ? [a]
    ],
  },
  {
    // Issue 7 item 9: the fast path trimmed a trailing NBSP (U+00A0) and U+FEFF and read a lone CR
    // after `key:` as a space, so these files validated; an unrelated `params: &p {seed: 1}` line
    // (the full parser) made the same NBSP line an unknown block. YAML keeps these characters in
    // the value, and now every file reads the way the full parser reads it.
    name: 'invisible-whitespace',
    problems: [
      { file: 'workflows/anchored.payload.yaml', line: 3, col: 5, code: 'MISSING_BLOCK', message: /^unknown block "tasks\/summarize\u00a0"; did you mean "tasks\/summarize"\?$/ },
      { file: 'workflows/cr.payload.yaml', line: 1, col: 10, code: 'SCHEMA', message: /^llm_port must be an integer, got the string "\\r5001"$/ },
      { file: P, line: 3, col: 15, code: 'UNKNOWN_FORMAT', message: /^unknown model_format "chatml\ufeff"; did you mean "chatml"\?/ },
      { file: P, line: 5, col: 5, code: 'MISSING_BLOCK', message: /^unknown block "tasks\/summarize\u00a0"; did you mean "tasks\/summarize"\?$/ },
    ],
  },
  {
    // Issue 7 item 10: an endpoint key that is not a port was reported at the first key
    // (`5001`, 4:3) as `endpoints must match pattern "^[0-9]{1,5}$"`, without its name.
    // Ports 0, 99999 and 65536 passed `^[0-9]{1,5}$`; ports are 1..65535 (1 and 65535 are fine).
    // A payload's llm_port had the range already (kept here as a guard).
    name: 'config-endpoint-keys',
    problems: [
      { file: C, line: 5, col: 3, code: 'SCHEMA', message: /^endpoints key "abc" must be a port number from 1 to 65535$/ },
      { file: C, line: 6, col: 3, code: 'SCHEMA', message: /^endpoints key "0" must be a port number from 1 to 65535$/ },
      { file: C, line: 7, col: 3, code: 'SCHEMA', message: /^endpoints key "99999" must be a port number from 1 to 65535$/ },
      { file: C, line: 8, col: 3, code: 'SCHEMA', message: /^endpoints key "65536" must be a port number from 1 to 65535$/ },
      { file: 'workflows/zero.payload.yaml', line: 1, col: 11, code: 'SCHEMA', message: /^llm_port must be >= 1$/ },
    ],
  },
  {
    // Issue 7 item 10: integer settings had no upper bound; `response_length:
    // 99999999999999999999999999` was stored as REAL 1e26 in an INTEGER column. The upper
    // bounds are inclusive (1000000 and 86400000 and 1024 below are accepted).
    name: 'integer-bounds',
    problems: [
      { file: C, line: 3, col: 15, code: 'SCHEMA', message: /^llm\.timeout_ms must be <= 86400000$/ },
      { file: C, line: 5, col: 37, code: 'SCHEMA', message: /^endpoints\[5001\]\.concurrency must be <= 1024$/ },
      { file: C, line: 5, col: 57, code: 'SCHEMA', message: /^endpoints\[5001\]\.timeout_ms must be <= 86400000$/ },
      { file: W, line: 8, col: 22, code: 'SCHEMA', message: /^payloads\[1\]\.response_length must be <= 1000000$/ },
      { file: P, line: 2, col: 18, code: 'SCHEMA', message: /^response_length must be <= 1000000$/ },
    ],
  },
  {
    // Issue 7 item 10: tags are trimmed in block front matter, so a payload's `tag:` is trimmed
    // the same way (`" style "` selects `style`, see "input that must work"); a tag that trims
    // to nothing is a problem at the tag, and so is a tag of the wrong type (both were
    // "blocks[n] must be a block key ..., a tag selection, or inline text" at the entry).
    name: 'blank-tag',
    problems: [
      { file: P, line: 3, col: 10, code: 'SCHEMA', message: /^blocks\[1\]\.tag must not be blank$/ },
      { file: P, line: 4, col: 12, code: 'SCHEMA', message: /^blocks\[2\]\.tag must not be empty$/ },
      { file: P, line: 5, col: 12, code: 'SCHEMA', message: /^blocks\[3\]\.tag must be a string, got number 7$/ },
    ],
  },
  {
    // The same fix for the other `propertyNames` check: a format mixing chat_template with
    // prefix fields was one problem at 1:1 ("the file must be one of: ..."), whatever the count.
    name: 'format-mixed-keys',
    problems: [
      { file: 'formats/mixed.yaml', line: 2, col: 1, code: 'SCHEMA', message: /^key "user_prefix" is not allowed here \(allowed: [^)]*\bchat_template\b[^)]*\)$/ }, // the Jinja shape's keys
      { file: 'formats/mixed.yaml', line: 4, col: 1, code: 'SCHEMA', message: /^key "system_prefix" is not allowed here/ },
    ],
  },
  {
    name: 'many-problems',
    problems: [
      { file: S, line: 1, col: 1, code: 'FRONTMATTER' },
      { file: C, line: 3, col: 3, code: 'SCHEMA', message: /unknown key "retires" in llm; did you mean "retries"\?/ },
      { file: W, line: 3, col: 1, code: 'YAML_PARSE' },
      { file: P, line: 1, col: 14, code: 'SCHEMA' },
    ],
    check({ validate }, expect) {
      // All at once, one line per problem, sorted by file, then the count.
      const lines = validate.stderr.trimEnd().split('\n');
      expect(lines.map((line) => line.split(':')[0])).toEqual([S, C, W, P, '4 problems found']);
    },
  },
];

/** What `validate` prints for a file name or message: control characters escaped JSON-style, so a problem is one line. */
const oneLine = (text: string) =>
  text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const where = (p: { file: string; line: number; col: number; code: string }) => `${p.file}:${p.line}:${p.col} ${p.code}`;

function expectProblems(actual: Problem[], expected: Expected[], expect: ExpectStatic = globalExpect): void {
  expect(actual.map(where)).toEqual(expected.map(where));
  expected.forEach((e, i) => {
    if (e.message) expect(actual[i]!.message).toMatch(e.message);
  });
}

describe.concurrent('bad input: exact problems, exit 1, database untouched', () => {
  it.for(BAD_CASES)('$name', { timeout: 30_000 }, async (c, { expect }) => {
    const root = copyFixture(c.fixture ?? c.name);
    c.setup?.(root);

    // In process: the exact problems, nothing else.
    const inProcess = sortProblems(inspectWorkspace(createWorkspaceReader(root)).problems);
    expectProblems(inProcess, c.problems, expect);

    // The real CLI, over a database synced from the valid workspace.
    const dbPath = join(root, 'data', 'quire.db');
    write(root, 'data/quire.db', baseDb);
    const sync = await runCliAsync(['-w', root, '--db', dbPath, 'sync', '--json']);
    const validate = await runCliAsync(['-w', root, '--db', dbPath, 'validate']);

    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(1);
    const body = JSON.parse(sync.stdout) as { ok: boolean; error: { code: string }; problems: Problem[] };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('PROBLEMS');
    expectProblems(body.problems, c.problems, expect);

    // Nothing written: same bytes, no WAL frames, same rows.
    expect(sha256(readFileSync(dbPath))).toBe(sha256(baseDb));
    expect(existsSync(`${dbPath}-wal`) ? statSync(`${dbPath}-wal`).size : 0).toBe(0);
    expect(readRows(dbPath, 'SELECT * FROM blocks ORDER BY id')).toEqual(baseBlocks);

    // `validate` prints `path:line:col: message` per problem, sorted, then the count.
    expect(validate.code).toBe(1);
    expect(validate.stdout).toBe('');
    const count = c.problems.length;
    expect(validate.stderr).toBe(
      [...body.problems.map((p) => `${oneLine(p.file)}:${p.line}:${p.col}: ${oneLine(p.message)}`), `${count} problem${count === 1 ? '' : 's'} found`, ''].join('\n'),
    );

    c.check?.({ sync, validate }, expect);
  });
});

// --- cases that must work --------------------------------------------------------------

/** Syncs a workspace with the real CLI and returns the database path. */
function syncOk(root: string): string {
  const dbPath = join(root, 'data', 'quire.db');
  const result = runCli(['-w', root, '--db', dbPath, 'sync', '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
  return dbPath;
}

const blockRows = (dbPath: string) =>
  readRows(dbPath, 'SELECT key, title, content, tags, folder_path, source_path, body_line FROM blocks ORDER BY key');

describe('input that must work', () => {
  it('the valid base workspace validates and syncs', () => {
    const root = copyFixture('valid');
    expect(runCli(['-w', root, 'validate'])).toMatchObject({ code: 0, stderr: '', stdout: 'ok: 2 blocks, 1 payloads, 1 workflows, 0 formats\n' });
    expect(inspectWorkspace(createWorkspaceReader(root)).problems).toEqual([]);
  });

  it('a UTF-8 BOM at the start of every file is ignored', () => {
    for (const path of [C, S, T, P, W]) expect([...readFileSync(join(FIXTURES, 'bom', path)).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const root = copyFixture('bom');
    const dbPath = syncOk(root);
    expect(blockRows(dbPath)).toEqual([
      { key: 'style', title: 'Style', content: 'Be concise.\n', tags: 'style', folder_path: '', source_path: S, body_line: 5 },
      { key: 'tasks/summarize', title: 'Summarize', content: 'Summarize in {{input.words}} words.\n\n{{tag "style"}}\n', tags: '', folder_path: 'tasks', source_path: T, body_line: 4 },
    ]);
    expect(readRows(dbPath, 'SELECT name, temperature, response_length, llm_port, model_format FROM payloads')).toEqual([
      { name: 'summarize', temperature: 0.6, response_length: 200, llm_port: 5001, model_format: 'chatml' },
    ]);
    expect(readRows(dbPath, 'SELECT name, description FROM workflows')).toEqual([{ name: 'research', description: 'Summarize a text' }]);
  });

  it('CRLF line endings work, and block content keeps its \\r\\n bytes', () => {
    for (const path of [C, S, T, P, W]) {
      const text = readFileSync(join(FIXTURES, 'crlf', path), 'latin1');
      expect(text.includes('\r\n'), `${path} must have CRLF (check .gitattributes)`).toBe(true);
      expect(/[^\r]\n/.test(text), `${path} must have no bare LF`).toBe(false);
    }
    const root = copyFixture('crlf');
    const dbPath = syncOk(root);
    expect(blockRows(dbPath)).toEqual([
      { key: 'style', title: 'Style', content: 'Be concise.\r\nNo filler.\r\n', tags: 'style', folder_path: '', source_path: S, body_line: 5 },
      { key: 'tasks/summarize', title: 'Summarize', content: 'Summarize in {{input.words}} words.\r\n\r\n{{tag "style"}}\r\n', tags: '', folder_path: 'tasks', source_path: T, body_line: 4 },
    ]);
    const [content] = readRows(dbPath, "SELECT CAST(content AS BLOB) AS bytes FROM blocks WHERE key = 'style'");
    expect(Buffer.from(content!['bytes'] as Uint8Array).toString('latin1')).toBe('Be concise.\r\nNo filler.\r\n');
    expect(readRows(dbPath, 'SELECT name, temperature, response_length, model_format, options FROM payloads')).toEqual([
      { name: 'summarize', temperature: 0.6, response_length: 200, model_format: 'chatml', options: '{"system":[],"blocks":[{"block":"tasks/summarize"},{"text":"Text: {{input.text}}"}],"params":{}}' },
    ]);
    const [workflow] = readRows(dbPath, 'SELECT name, description, definition FROM workflows');
    expect(workflow).toMatchObject({ name: 'research', description: 'Summarize a text' });
    expect(JSON.parse(workflow!['definition'] as string)).toMatchObject({ inputs: { text: { type: 'string' }, words: { type: 'integer', default: 20 } } });
  });

  it('file and folder names with spaces and unicode keep them in keys and names', () => {
    const root = copyFixture('names-with-spaces-unicode');
    const dbPath = syncOk(root);
    expect(blockRows(dbPath)).toContainEqual({
      key: 'Phase 1/Résumé ✓',
      title: 'Résumé ✓',
      content: 'Résumé: {{input.text}} ✓\n',
      tags: 'unicode',
      folder_path: 'Phase 1',
      source_path: 'blocks/Phase 1/Résumé ✓.md',
      body_line: 4,
    });
    expect(readRows(dbPath, 'SELECT name, source_path FROM payloads ORDER BY name')).toEqual([
      { name: 'summarize', source_path: P },
      { name: 'Über summary', source_path: 'workflows/my payloads/Über summary.payload.yaml' },
    ]);
    expect(readRows(dbPath, 'SELECT name, source_path FROM workflows ORDER BY name')).toEqual([
      { name: 'research', source_path: W },
      { name: 'Ünïcode flow', source_path: 'workflows/Ünïcode flow.workflow.yaml' },
    ]);
    // The payload links to the block by its unicode key, once by key and once through its tag.
    expect(
      readRows(dbPath, "SELECT b.key FROM payload_blocks pb JOIN payloads p ON p.id = pb.payload_id JOIN blocks b ON b.id = pb.block_id WHERE p.name = 'Über summary' ORDER BY pb.order_index"),
    ).toEqual([{ key: 'Phase 1/Résumé ✓' }, { key: 'Phase 1/Résumé ✓' }]);
  });

  it("a payload's tag selection is trimmed like block tags", () => {
    const root = copyFixture('valid');
    write(root, S, '---\ntitle: Style\ntags: ["  style ", tone]\n---\nBe concise.\n');
    write(root, P, 'blocks:\n  - { tag: " style " }\n  - tag: "tone\\u00a0"\n  - tasks/summarize\n');
    expect(runCli(['-w', root, 'validate'])).toMatchObject({ code: 0, stderr: '' });
    const dbPath = syncOk(root);
    expect(
      readRows(dbPath, "SELECT b.key FROM payload_blocks pb JOIN payloads p ON p.id = pb.payload_id JOIN blocks b ON b.id = pb.block_id WHERE p.name = 'summarize' ORDER BY pb.order_index"),
    ).toEqual([{ key: 'style' }, { key: 'style' }, { key: 'tasks/summarize' }]);
    expect(JSON.parse(readRows(dbPath, 'SELECT options FROM payloads')[0]!['options'] as string)).toMatchObject({ blocks: [{ tag: 'style' }, { tag: 'tone' }, { block: 'tasks/summarize' }] });
  });

  it('integer settings at their upper bounds are accepted and stored as INTEGER', () => {
    const root = copyFixture('valid');
    write(root, P, 'response_length: 1000000\nllm_port: 65535\nblocks:\n  - tasks/summarize\n');
    write(root, C, 'llm:\n  timeout_ms: 86400000\nendpoints:\n  65535: { concurrency: 1024, timeout_ms: 86400000 }\n  1: { api: kobold }\n');
    const dbPath = syncOk(root);
    expect(readRows(dbPath, 'SELECT response_length, typeof(response_length) AS t, llm_port, typeof(llm_port) AS p FROM payloads')).toEqual([
      { response_length: 1_000_000, t: 'integer', llm_port: 65535, p: 'integer' },
    ]);
  });

  it('a symlinked file inside the workspace is read like any file', () => {
    const root = copyFixture('valid');
    symlinkSync('style.md', join(root, 'blocks', 'alias.md'));
    write(root, P, 'blocks:\n  - alias\n  - tasks/summarize\n');
    const dbPath = syncOk(root);
    expect(blockRows(dbPath).map((row) => [row['key'], row['source_path'], row['content']])).toEqual([
      ['alias', 'blocks/alias.md', 'Be concise.\n'],
      ['style', S, 'Be concise.\n'],
      ['tasks/summarize', T, 'Summarize in {{input.words}} words.\n\n{{tag "style"}}\n'],
    ]);
  });

  it('a symlink loop inside the workspace does not hang the walk', () => {
    const root = copyFixture('valid');
    symlinkSync('.', join(root, 'blocks', 'loop'));
    symlinkSync('..', join(root, 'blocks', 'tasks', 'up'));
    const { problems, workspace } = inspectWorkspace(createWorkspaceReader(root));
    // Skipping the loop or reporting it are both fine; crashing, hanging or losing blocks is not.
    for (const problem of problems) expect(problem).toMatchObject({ code: 'BAD_PATH' });
    expect(workspace.blocks.has('style')).toBe(true);
    expect(workspace.blocks.has('tasks/summarize')).toBe(true);
  });
});

// --- src bugs found by the corpus ---
// Each test below documents a bug this corpus found; all are fixed.

describe('bugs this corpus found (fixed; kept as regressions)', () => {
  // src/core/yaml-source.ts: doc.toJS({ maxAliasCount }) throws a ReferenceError that is not
  // caught, so `validate`/`sync` crash with "internal error (this is a bug)".
  it('a YAML alias bomb is a YAML_PARSE problem, not an internal error', () => {
    const root = copyFixture('yaml-alias-bomb');
    expect(() => inspectWorkspace(createWorkspaceReader(root))).not.toThrow();
    expect(sortProblems(inspectWorkspace(createWorkspaceReader(root)).problems).map(where)).toEqual([`${P}:1:1 YAML_PARSE`]);
    const result = runCli(['-w', root, 'validate']);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/internal error/);
  });

  // src/core/includes.ts templateSyntaxProblem: only parses "Parse error on line N"; Handlebars'
  // "each doesn't match if - 2:5" errors carry lineNumber/column instead, so the problem lands on
  // the body's first line (4:1) instead of file line 5. Column 6 is where Handlebars points (`each`).
  it('a mismatched {{/if}} closing {{#each}} is reported on its own line', () => {
    const root = copyFixture('handlebars-mismatched-close');
    expect(sortProblems(inspectWorkspace(createWorkspaceReader(root)).problems).map(where)).toEqual([`${T}:5:6 TEMPLATE`]);
  });

  // src/core/schemas.ts inputSpec: `default: {}` accepts anything; a default that does not
  // match the input's type passes validate/sync and only fails (or silently misbehaves) at run.
  it('an input default of the wrong type is a SCHEMA problem', () => {
    const root = copyFixture('input-default-wrong-type');
    expect(sortProblems(inspectWorkspace(createWorkspaceReader(root)).problems).map(where)).toEqual([`${W}:4:36 SCHEMA`]);
  });

  // src/core/references.ts only checks includes of blocks; inline `text:` entries of payloads are
  // never parsed at validate time, so a syntax error or an unknown {{block}} there passes sync.
  it('inline text in a payload is checked like a block: syntax errors and unknown includes', () => {
    const root = copyFixture('inline-text-template');
    const problems = sortProblems(inspectWorkspace(createWorkspaceReader(root)).problems);
    // Column inside a quoted scalar is left to the fix (the item, or the text in it).
    expect(problems.map((p) => `${p.file}:${p.line} ${p.code}`)).toEqual([`${P}:6 TEMPLATE`, `${P}:7 MISSING_BLOCK`]);
  });

  // src/adapters/fs/workspace-files.ts walk(): `visitedDirs` is global, so a symlinked folder
  // inside the workspace and its real folder are read only once, whichever readdir lists first.
  // Listed first, blocks/linked hides blocks/tasks (tasks/summarize vanishes: "unknown block" in
  // the payload); listed second, it is dropped without a word. Either the link aliases the folder
  // (both keys) or it is reported; the real folder must never disappear, the link never silently.
  it('a symlinked folder inside the workspace never hides the real folder', () => {
    const root = copyFixture('valid');
    symlinkSync('tasks', join(root, 'blocks', 'linked'));
    const { problems, workspace } = inspectWorkspace(createWorkspaceReader(root));
    expect(workspace.blocks.has('tasks/summarize')).toBe(true);
    const linkReported = problems.some((p) => p.file === 'blocks/linked');
    expect(workspace.blocks.has('linked/summarize') || linkReported).toBe(true);
    expect(problems.filter((p) => p.file !== 'blocks/linked')).toEqual([]);
  });
});
