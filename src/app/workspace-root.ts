/**
 * Finding the workspace and its database from flags, environment and the current folder.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

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

/** The database path: `--db`, else QUIRE_DB, else <root>/data/quire.db. */
export function resolveDbPath(root: string, flag: string | undefined, cwd = process.cwd()): string {
  if (flag) return resolve(cwd, flag);
  const env = process.env['QUIRE_DB'];
  if (env) return resolve(cwd, env);
  return join(root, 'data', 'quire.db');
}
