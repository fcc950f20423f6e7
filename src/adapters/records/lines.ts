/**
 * Byte chunks -> lines, for the line-based readers (JSONL, YAML). Lines come in batches (the
 * lines that end in one chunk) so a million-line file costs one await per chunk, not per
 * line. A line longer than the record limit is counted, not kept: memory stays bounded by
 * the limit plus one chunk whatever the input holds.
 */

export interface Line {
  /** 1-based line number (lines end at LF; a CR before it is dropped). */
  number: number;
  /** The line's bytes without its line ending; for an oversized line, only its first bytes. */
  bytes: Buffer;
  /** Set when the line is longer than the limit: its full length in bytes. */
  oversized?: number;
}

/** Bytes kept of an oversized line: enough to tell what kind of line it starts. */
const OVERSIZED_PREFIX = 64;

export async function* splitLines(chunks: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Line[]> {
  // The unfinished line: pieces of earlier chunks (views, not copies) and its length so far.
  let parts: Buffer[] = [];
  let partBytes = 0;
  let prefix: Buffer | undefined;
  let number = 0;

  const finish = (tail: Buffer): Line => {
    const length = partBytes + tail.length;
    let line: Line;
    if (prefix !== undefined || length > maxBytes) {
      line = { number: ++number, bytes: prefix ?? firstBytes([...parts, tail]), oversized: length };
    } else {
      let bytes = parts.length > 0 ? Buffer.concat([...parts, tail], length) : tail;
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      line = { number: ++number, bytes };
    }
    parts = [];
    partBytes = 0;
    prefix = undefined;
    return line;
  };

  const keep = (piece: Buffer) => {
    partBytes += piece.length;
    if (prefix !== undefined) return;
    if (partBytes > maxBytes) {
      // From here on the line is only counted: keep its start, drop the rest.
      prefix = firstBytes([...parts, piece]);
      parts = [];
    } else {
      parts.push(piece);
    }
  };

  for await (const chunk of chunks) {
    const batch: Line[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      batch.push(finish(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
    if (batch.length > 0) yield batch;
  }
  // A last line without a line ending.
  if (partBytes > 0) yield [finish(Buffer.alloc(0))];
}

/** A copy of the first OVERSIZED_PREFIX bytes of some pieces (a copy: the chunks can go). */
function firstBytes(pieces: Buffer[]): Buffer {
  const head: Buffer[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (length >= OVERSIZED_PREFIX) break;
    const part = piece.subarray(0, OVERSIZED_PREFIX - length);
    head.push(part);
    length += part.length;
  }
  return Buffer.concat(head, length);
}
