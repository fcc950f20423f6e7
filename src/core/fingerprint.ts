/**
 * A fingerprint of a set of files: every file's path and content hash, under a salt that
 * names what else the result depends on (the schema, the checks). Equal fingerprints mean
 * the same files, byte for byte.
 */
import { createHash } from 'node:crypto';
import { CHECKS_VERSION } from './checks-version.js';

export function filesFingerprint(files: Iterable<readonly [string, string]>, salt: string): string {
  const lines: string[] = [];
  for (const [path, fileHash] of files) lines.push(`${path}\0${fileHash}\n`);
  // Each line starts with its path and a path never holds NUL: sorting the lines sorts by path.
  lines.sort();
  // One update of the whole text: 11k small updates cost ~10 ms more.
  return createHash('sha256').update(`${salt}\n${lines.join('')}`).digest('hex');
}

/**
 * The files a shared mirror's rows were made from (MirrorStore.holdsFiles): another
 * checkout that syncs the same commit computes the same value and need not write.
 */
export function mirrorFingerprint(hashes: Iterable<readonly [string, string]>): string {
  return filesFingerprint(hashes, `mirror:1;checks:${CHECKS_VERSION}`);
}
