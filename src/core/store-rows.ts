/**
 * The rows every store reads (the original schema's `runs` and `responses`, quire's
 * `batches` and `batch_records`) as columns come back, and the typed records they map to.
 * One mapping for SQLite and Postgres alike; the SQL itself stays in each adapter.
 */
import type { BatchRecord, BatchRecordResult, BatchSettings, BatchStatus, RecordFormat } from './batch.js';
import type { ResponseMetadata, ResponseRecord, RunMetadata, RunRecord, RunStatus } from './history.js';

/** Metadata JSON; rows typed into the original system may hold any text (kept as `raw`). */
export function parseMetadata<T extends object>(text: string | null): T {
  if (!text) return {} as T;
  try {
    const value = JSON.parse(text) as unknown;
    return (value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { raw: text }) as T;
  } catch {
    return { raw: text } as T;
  }
}

/** The original schema's timestamp text: `YYYY-MM-DD HH:MM:SS.mmm`, UTC. */
export function sqlTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export type RunRow = { id: number; workflow_id: number | null; workflow: string | null; status: RunStatus; started_at: string; completed_at: string | null; metadata: string | null };
export type ResponseRow = { id: number; run_id: number; payload_id: number | null; payload: string | null; content: string | null; prompt: string | null; metadata: string | null; created_at: string };

export const toRun = (row: RunRow): RunRecord => ({
  id: row.id,
  workflowId: row.workflow_id,
  workflow: row.workflow,
  status: row.status,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  metadata: parseMetadata<RunMetadata>(row.metadata),
});

export const toResponse = (row: ResponseRow): ResponseRecord => ({
  id: row.id,
  runId: row.run_id,
  payloadId: row.payload_id,
  payload: row.payload,
  content: row.content,
  prompt: row.prompt,
  metadata: parseMetadata<ResponseMetadata>(row.metadata),
  createdAt: row.created_at,
});

export type BatchRow = {
  id: number; workflow_id: number | null; workflow_name: string; input_path: string; input_hash: string | null; input_format: string;
  record_count: number; completed: number; failed: number; cancelled: number; invalid: number; skipped: number; cache_hits: number;
  status: string; started_at: string; completed_at: string | null; settings: string;
};
export type ResultRow = { record: number; line: number; run_id: number | null; status: BatchRecordResult['status']; key: string | null; error: string | null };

/** Batch settings JSON; anything else reads as no settings. */
export function parseSettings(text: string): BatchSettings {
  const value = parseMetadata<BatchSettings>(text);
  return 'raw' in value ? {} : value;
}

export const toBatch = (row: BatchRow): BatchRecord => ({
  id: row.id,
  workflowId: row.workflow_id,
  workflow: row.workflow_name,
  inputPath: row.input_path,
  inputHash: row.input_hash,
  inputFormat: row.input_format as RecordFormat,
  recordCount: row.record_count,
  counts: { completed: row.completed, failed: row.failed, cancelled: row.cancelled, invalid: row.invalid, skipped: row.skipped, cacheHits: row.cache_hits },
  status: row.status as BatchStatus,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  settings: parseSettings(row.settings),
});

export const toResult = (row: ResultRow): BatchRecordResult => ({ record: row.record, line: row.line, runId: row.run_id, status: row.status, key: row.key, error: row.error });
