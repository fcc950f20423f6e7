/**
 * Batch input records: streaming readers of JSONL, CSV and YAML lists (a file or stdin), one
 * record at a time with backpressure, so a file of any length reads in flat memory; and the
 * input file's content hash, streamed too.
 */
export { hashRecordFile } from './hash.js';
export { MAX_RECORD_BYTES } from './record-problem.js';
export { openRecordSource, type RecordSourceOptions } from './source.js';
