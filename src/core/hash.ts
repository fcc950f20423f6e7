import { createHash } from 'node:crypto';

/** Content hash used to skip unchanged files and to record exactly what a run used. */
export function contentHash(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
