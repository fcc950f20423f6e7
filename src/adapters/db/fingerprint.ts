/**
 * The fingerprint of a synced workspace: every file's path and content hash, plus the
 * versions of the schema and of the checks. When a resync computes the same fingerprint
 * from file stats alone, nothing can have changed and nothing needs parsing.
 */
import { CHECKS_VERSION } from '../../core/checks-version.js';
import { filesFingerprint } from '../../core/fingerprint.js';
import { MIGRATIONS } from './migrations.js';

export function workspaceFingerprint(files: Iterable<readonly [string, string]>): string {
  return filesFingerprint(files, `schema:${MIGRATIONS.length};checks:${CHECKS_VERSION}`);
}
