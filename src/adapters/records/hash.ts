/**
 * A batch input file's content hash, streamed: the same sha256 hex as core/hash.ts's
 * contentHash of the whole file, without ever holding the whole file.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { openFile, readError } from './open-file.js';

/** @throws AppError NOT_FOUND or IO naming `path` (relative to `cwd`, default the process's). */
export async function hashRecordFile(path: string, options: { cwd?: string } = {}): Promise<{ hash: string; bytes: number }> {
  const { stream } = await openFile(path, resolve(options.cwd ?? process.cwd(), path));
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch (error) {
    throw readError(path, error);
  }
  return { hash: hash.digest('hex'), bytes };
}
