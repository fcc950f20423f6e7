/**
 * Batches: one workflow run per input record, read from a JSONL, CSV or YAML file (or
 * stdin). The types shared by the record readers (adapters/records), the batch runner
 * (app/batch.ts) and the progress display (cli/output/batch.ts). No logic here but the
 * record's check against the workflow's inputs and the progress arithmetic.
 */
import { AppError, type Problem } from './errors.js';
import { resolveInputs } from './inputs.js';
import type { Workflow } from './types.js';

export type RecordFormat = 'jsonl' | 'csv' | 'yaml';

/** One input record as its file holds it, before it is checked against the workflow. */
export interface InputRecord {
  /** 1-based position among the file's records (problems count: a bad record keeps its number). */
  index: number;
  /** 1-based line of the file where the record starts. */
  line: number;
  values: Record<string, unknown>;
  /** True when every value is text to convert to the declared input types (CSV). */
  text: boolean;
}

/** What a record reader yields, in file order: a record, or a record that could not be read. */
export type RecordItem = { kind: 'record'; record: InputRecord } | { kind: 'problem'; index: number; problem: Problem };

/** A stream of records and how far through its input the reading is. */
export interface RecordSource {
  format: RecordFormat;
  /** The file's workspace-relative or absolute path as given; '-' for stdin. */
  path: string;
  records: AsyncIterable<RecordItem>;
  /** Bytes read so far, and the input's size when known (a file; not stdin). */
  position(): { bytesRead: number; totalBytes?: number };
  /** Releases the input (also when `records` was never iterated, or was left early); harmless twice. */
  close(): Promise<void>;
}

/**
 * A record's values checked against the workflow's inputs (types, required, unknown
 * names; CSV text converted to the declared types, an empty cell taken as not given), or
 * the problem naming its line.
 */
export function recordInputs(workflow: Workflow, record: InputRecord, file: string): { ok: true; inputs: Record<string, unknown> } | { ok: false; problem: Problem } {
  // An empty CSV cell is a value not given (its default applies), as spreadsheet users mean it.
  const given = record.text ? Object.fromEntries(Object.entries(record.values).filter(([, value]) => value !== '')) : record.values;
  try {
    return { ok: true, inputs: resolveInputs(workflow, given) };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const message = error.message.replace(/^\d+ input problems:\n\s*/, '').replace(/\n\s*/g, '; ').replace(/; pass --input (\S+)=\.\.\./g, '');
    return { ok: false, problem: { file, line: record.line, col: 1, code: 'RECORD', message: `record ${record.index}: ${message}` } };
  }
}

/** Counts of a batch's records by what became of them. */
export interface BatchCounts {
  completed: number;
  failed: number;
  cancelled: number;
  /** Records that could not be read or did not fit the workflow's inputs. */
  invalid: number;
  /** Records a resume skipped: an earlier run of the batch completed them. */
  skipped: number;
  /** Steps answered from the step cache. */
  cacheHits: number;
}

export const emptyCounts = (): BatchCounts => ({ completed: 0, failed: 0, cancelled: 0, invalid: 0, skipped: 0, cacheHits: 0 });

/** One endpoint's share of a batch, for the progress display. */
export interface EndpointProgress {
  /** The port the payloads name. */
  port: number;
  url: string;
  limit: number;
  inFlight: number;
  requests: number;
  completionTokens: number;
}

/** A snapshot of a running batch. */
export interface BatchProgress {
  batchId: number;
  workflow: string;
  counts: BatchCounts;
  /** Records whose run is under way. */
  inFlight: number;
  /** Records read so far (all kinds), and the input's position. */
  read: number;
  /** The whole input has been read: `read` is the number of records. */
  readDone: boolean;
  bytesRead: number;
  totalBytes?: number;
  elapsedMs: number;
  endpoints: EndpointProgress[];
}

export type BatchEvent =
  | { type: 'batch-start'; batchId: number; workflow: string; input: string; resumed: boolean; concurrency: { port: number; limit: number }[] }
  | { type: 'record-problem'; index: number; problem: Problem }
  | { type: 'record-end'; index: number; line: number; runId: number; status: 'completed' | 'failed' | 'cancelled'; error?: string; cacheHits: number }
  | { type: 'progress'; progress: BatchProgress }
  | { type: 'batch-end'; batchId: number; status: BatchStatus; counts: BatchCounts; elapsedMs: number; reason?: string };

export type BatchStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** Requests and tokens per second, and the time left, from a snapshot (estimates; undefined when unknown). */
export function progressRates(progress: BatchProgress): { requestsPerSecond: number; tokensPerSecond: number; etaMs?: number } {
  const seconds = Math.max(progress.elapsedMs, 1) / 1000;
  const requests = progress.endpoints.reduce((sum, e) => sum + e.requests, 0);
  const tokens = progress.endpoints.reduce((sum, e) => sum + e.completionTokens, 0);
  let etaMs: number | undefined;
  // By the share of the input read: records are read a little ahead of the runs that finish them.
  if (progress.totalBytes && progress.bytesRead > 0) {
    const finished = progress.counts.completed + progress.counts.failed + progress.counts.cancelled + progress.counts.invalid + progress.counts.skipped;
    const share = (progress.bytesRead / progress.totalBytes) * (progress.read > 0 ? finished / progress.read : 0);
    if (share > 0) etaMs = Math.max(0, progress.elapsedMs * (1 / share - 1));
  }
  return { requestsPerSecond: requests / seconds, tokensPerSecond: tokens / seconds, ...(etaMs !== undefined ? { etaMs } : {}) };
}

/** How a batch was started: recorded with it, and what a resume must match. */
export interface BatchSettings {
  concurrency?: number;
  endpointOverrides?: string[];
  cache?: boolean;
  strict?: boolean;
  maxFailures?: number;
  /** The process running it, while it runs (so a dead process's batch is not shown running). */
  pid?: number;
  process_start?: string;
  [key: string]: unknown;
}

/** A `batches` row. */
export interface BatchRecord {
  id: number;
  workflowId: number | null;
  workflow: string;
  inputPath: string;
  /** Content hash of the input file; null for stdin. */
  inputHash: string | null;
  inputFormat: RecordFormat;
  /** Records read so far (every kind). */
  recordCount: number;
  counts: BatchCounts;
  status: BatchStatus;
  startedAt: string;
  completedAt: string | null;
  settings: BatchSettings;
}

/** What became of one record of a batch (`batch_records`). */
export interface BatchRecordResult {
  record: number;
  line: number;
  runId: number | null;
  status: 'completed' | 'failed' | 'cancelled' | 'invalid';
  /** The record's provenance: its inputs and the workflow's file hashes (a resume skips a completed record only when it matches). */
  key: string | null;
  error: string | null;
}

/** A record of a batch run by workers (`--workers`), as queued: its inputs already checked. */
export interface QueuedRecord {
  record: number;
  line: number;
  inputs: Record<string, unknown>;
}

/** A queued record leased to one worker until its lease ends. */
export interface LeasedRecord extends QueuedRecord {
  batchId: number;
  /** How many times it has been leased, this time included (above 1: an earlier worker's lease ran out). */
  attempts: number;
}

/** Where a batch run by workers stands in its queue. */
export interface QueueProgress {
  queued: number;
  leased: number;
  done: number;
  /** Workers holding leases now. */
  workers: number;
}
