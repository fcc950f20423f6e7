/**
 * Finding the workspace and its database from flags, environment and the current folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ProblemsError, UsageError } from '../core/errors.js';
import { CONFIG_FILE_NAME as CONFIG_FILE, isPostgresUrl, passwordInUrl, PASSWORD_IN_CONFIG } from '../core/store-location.js';

const MARKERS = ['quire.yaml', 'blocks', 'workflows'];

/** The workspace root: `--workspace`, else the nearest folder upward with a marker. */
export function findWorkspaceRoot(flag: string | undefined, cwd = process.cwd()): string {
  if (flag !== undefined) {
    const root = resolve(cwd, flag);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`workspace folder not found: ${root}`);
    return root;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (MARKERS.some((marker) => existsSync(join(dir, marker)))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new UsageError(`no quire workspace here or in any parent folder of ${cwd} (looked for quire.yaml, blocks/ or workflows/)`, {
    hint: 'run `quire init` to create one, or pass -w <dir>',
  });
}

/**
 * Where the stores are: `--db`, else QUIRE_DB, else quire.yaml's `store:`, else
 * <root>/data/quire.db. A postgres:// URL is kept as given; a path is made absolute
 * (quire.yaml's relative to the workspace).
 * @throws ProblemsError when quire.yaml's `store:` holds a password
 */
export function resolveDbPath(root: string, flag: string | undefined, cwd = process.cwd()): string {
  const given = flag || process.env['QUIRE_DB'];
  if (given) return isPostgresUrl(given) ? given : resolve(cwd, given);
  const configured = configuredStore(root);
  if (configured) return isPostgresUrl(configured) ? configured : resolve(root, configured);
  return join(root, 'data', 'quire.db');
}

/** The local file a shared store keeps this checkout's parse cache in. */
export function localCachePath(root: string): string {
  return join(root, 'data', 'quire-cache.db');
}

/**
 * quire.yaml's top-level `store:` scalar, read with one pattern: every command starts here,
 * and loading the YAML parser and the schemas for one key would slow each of them. The sync
 * checks the whole file (a `store:` that is not a plain string is reported there).
 */
function configuredStore(root: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(root, CONFIG_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/);
  const line = lines.findIndex((l) => /^store\s*:/.test(l));
  if (line < 0) return undefined;
  const raw = lines[line]!.replace(/^store\s*:\s*/, '').replace(/\s+#.*$/, '').trim();
  const value = /^(["'])(.*)\1$/.exec(raw)?.[2] ?? raw;
  if (value === '') return undefined;
  if (passwordInUrl(value)) {
    const col = lines[line]!.indexOf(value) + 1;
    throw new ProblemsError([{ file: CONFIG_FILE, line: line + 1, col, code: 'SCHEMA', message: PASSWORD_IN_CONFIG }]);
  }
  return value;
}
