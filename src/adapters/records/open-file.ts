/**
 * Opening a batch input file for streaming, with the errors a user can act on: a missing
 * path is NOT_FOUND, anything else that stops the read (a folder, no permission) is IO, and
 * both name the path as it was given.
 */
import type { ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { AppError } from '../../core/errors.js';

/** Chunk size of file reads: also how far a reader reads ahead of the record it yields. */
export const CHUNK_BYTES = 64 * 1024;

export interface OpenedFile {
  stream: ReadStream;
  /** The size of a regular file; absent for a pipe or device (`<(cmd)`, /dev/stdin). */
  size: number | undefined;
}

/** @throws AppError NOT_FOUND or IO naming `path` */
export async function openFile(path: string, absolute: string): Promise<OpenedFile> {
  let handle;
  try {
    handle = await open(absolute, 'r');
  } catch (error) {
    throw openError(path, error);
  }
  try {
    const stats = await handle.stat();
    // Opening a folder for reading succeeds on Linux; reading it would fail with EISDIR later.
    if (stats.isDirectory()) throw new AppError('IO', `cannot read ${path}: it is a folder, not a file`);
    // The stream owns the handle from here: it closes it at the end, on error and on destroy.
    return { stream: handle.createReadStream({ highWaterMark: CHUNK_BYTES }), size: stats.isFile() ? stats.size : undefined };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error instanceof AppError ? error : openError(path, error);
  }
}

export function openError(path: string, error: unknown): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new AppError('NOT_FOUND', `batch input ${path} not found`, { cause: error });
  return readError(path, error);
}

export function readError(path: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder, not a file' : (error as Error).message;
  return new AppError('IO', `cannot read ${path}: ${reason}`, { cause: error });
}
