/**
 * The fingerprint of a synced workspace: every file's path and content hash, plus the
 * versions of the schema and of the checks. When a resync computes the same fingerprint
 * from file stats alone, nothing can have changed and nothing needs parsing.
 */
import { createHash } from 'node:crypto';
import { MIGRATIONS } from './migrations.js';

import { CHECKS_VERSION } from '../../core/checks-version.js';

export function workspaceFingerprint(files: Iterable<readonly [string, string]>): string {
  const hash = createHash('sha256').update(`schema:${MIGRATIONS.length};checks:${CHECKS_VERSION}\n`);
  for (const [path, fileHash] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) hash.update(`${path}\0${fileHash}\n`);
  return hash.digest('hex');
}
