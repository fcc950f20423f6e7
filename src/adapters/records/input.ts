/**
 * The bytes of a batch input (a file, or stdin for `-`), pulled on demand so the reader's
 * pace is the read's pace (backpressure), with a look ahead for the format sniffer, the BOM
 * dropped, and the bytes consumed so far counted for progress.
 */
import { resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import { openFile, readError } from './open-file.js';

export interface ByteInput {
  /**
   * Reads ahead, handing each chunk to `take` until it returns true, the input ends or
   * `limit` bytes are held. The chunks stay to be delivered by chunks().
   */
  readAhead(take: (chunk: Buffer) => boolean, limit: number): Promise<void>;
  /** The input's bytes, read-ahead first; iterate once. Ending the iteration closes the input. */
  chunks(): AsyncGenerator<Buffer>;
  /** Bytes handed to the reader so far (the BOM included), and the file's size when known. */
  position(): { bytesRead: number; totalBytes?: number };
  /** Closes the input when chunks() is never iterated to its end. */
  close(): Promise<void>;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** @throws AppError NOT_FOUND or IO (the file), ENCODING (UTF-16) */
export async function openInput(path: string, options: { stdin?: NodeJS.ReadableStream; cwd?: string }): Promise<ByteInput> {
  let input: Input;
  if (path === '-') {
    const stdin = options.stdin ?? process.stdin;
    input = new Input(path, stdin[Symbol.asyncIterator](), undefined);
  } else {
    const file = await openFile(path, resolve(options.cwd ?? process.cwd(), path));
    input = new Input(path, file.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, file.size);
  }
  try {
    await input.dropBom();
  } catch (error) {
    await input.close();
    throw error;
  }
  return input;
}

class Input implements ByteInput {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  private closed = false;
  private bytesRead = 0;

  constructor(
    private readonly path: string,
    private readonly source: AsyncIterator<Buffer | string>,
    private readonly totalBytes: number | undefined,
  ) {}

  /** A UTF-8 BOM is dropped (and counted as read); a UTF-16 one stops the read. */
  async dropBom(): Promise<void> {
    await this.readAhead(() => this.pendingBytes >= 4, 4);
    if (this.pending.length === 0) return;
    let head = this.pending.length > 1 ? Buffer.concat(this.pending) : this.pending[0]!;
    if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
      throw new AppError('ENCODING', `${this.path} is UTF-16; save it as UTF-8`);
    }
    if (head.subarray(0, 3).equals(UTF8_BOM)) {
      head = head.subarray(3);
      this.bytesRead += 3;
      this.pendingBytes -= 3;
    }
    this.pending = head.length > 0 ? [head] : [];
  }

  async readAhead(take: (chunk: Buffer) => boolean, limit: number): Promise<void> {
    for (const chunk of this.pending) if (take(chunk)) return;
    while (!this.ended && this.pendingBytes < limit) {
      const chunk = await this.pull();
      if (!chunk) return;
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (take(chunk)) return;
    }
  }

  async *chunks(): AsyncGenerator<Buffer> {
    try {
      for (let chunk = this.pending.shift(); chunk; chunk = this.pending.shift()) {
        this.pendingBytes -= chunk.length;
        this.bytesRead += chunk.length;
        yield chunk;
      }
      for (let chunk = await this.pull(); chunk; chunk = await this.pull()) {
        this.bytesRead += chunk.length;
        yield chunk;
      }
    } finally {
      // Also on an early return (a cancelled batch): the file is closed, stdin let go.
      await this.close();
    }
  }

  position(): { bytesRead: number; totalBytes?: number } {
    return this.totalBytes === undefined ? { bytesRead: this.bytesRead } : { bytesRead: this.bytesRead, totalBytes: this.totalBytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    // A Readable's async iterator destroys its stream on return (a file stream closes its handle).
    if (!this.ended) await this.source.return?.().catch(() => undefined);
  }

  /** The next non-empty chunk, or undefined at the end. */
  private async pull(): Promise<Buffer | undefined> {
    while (!this.ended && !this.closed) {
      let next: IteratorResult<Buffer | string>;
      try {
        next = await this.source.next();
      } catch (error) {
        throw readError(this.path, error);
      }
      if (next.done) {
        this.ended = true;
        return undefined;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
      if (chunk.length > 0) return chunk;
    }
    return undefined;
  }
}
