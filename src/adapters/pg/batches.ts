/**
 * Batches (BatchStore) in PostgreSQL, behaving as the SQLite one (adapters/db/batches.ts):
 * the `batches` row with its counts, one `batch_records` row per settled record. A group of
 * results is saved in one transaction with the counts (one multi-row upsert), so counts
 * never disagree with the rows.
 */
import type { BatchCounts, BatchRecordResult } from '../../core/batch.js';
import { parseSettings, toBatch, toResult, type BatchRow, type ResultRow } from '../../core/store-rows.js';
import type { BatchStore } from '../../core/ports.js';
import { RUN_COLUMNS, sqlTimestamp, toRun, type RunRow } from './history.js';
import type { PgDb } from './open.js';

const countValues = (progress: { recordCount: number; counts: BatchCounts }) => {
  const { counts } = progress;
  return [progress.recordCount, counts.completed, counts.failed, counts.cancelled, counts.invalid, counts.skipped, counts.cacheHits];
};
/** The counts' assignments, their parameters numbered from `from`. */
const setCounts = (from: number) =>
  ['record_count', 'completed', 'failed', 'cancelled', 'invalid', 'skipped', 'cache_hits'].map((column, i) => `${column} = $${from + i}`).join(', ');

const RESULT_COLUMNS = 'record, line, run_id, status, key, error';

export function createPgBatchStore(db: PgDb): BatchStore {
  const one = async <T extends object>(sql: string, params: readonly unknown[]) => (await db.query<T>(sql, params))[0];

  return {
    async createBatch({ workflowId, workflow, inputPath, inputHash, inputFormat, settings, startedAt }) {
      const row = await one<{ id: number }>("INSERT INTO batches (workflow_id, workflow_name, input_path, input_hash, input_format, status, started_at, settings) VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) RETURNING id",
        [workflowId, workflow, inputPath, inputHash, inputFormat, sqlTimestamp(startedAt), JSON.stringify(settings)]);
      return row!.id;
    },
    async getBatch(id) {
      const row = await one<BatchRow>('SELECT * FROM batches WHERE id = $1', [id]);
      return row ? toBatch(row) : undefined;
    },
    async listBatches({ workflow, limit }) {
      const rows = workflow !== undefined
        ? await db.query<BatchRow>('SELECT * FROM batches WHERE workflow_name = $1 ORDER BY id DESC LIMIT $2', [workflow, limit])
        : await db.query<BatchRow>('SELECT * FROM batches ORDER BY id DESC LIMIT $1', [limit]);
      return rows.map(toBatch);
    },
    async latestBatch(workflow, inputPath, inputHash) {
      const row = await one<BatchRow>('SELECT * FROM batches WHERE workflow_name = $1 AND input_path = $2 AND input_hash IS NOT DISTINCT FROM $3 ORDER BY id DESC LIMIT 1', [workflow, inputPath, inputHash]);
      return row ? toBatch(row) : undefined;
    },
    async reopenBatch(id, settings) {
      await db.query("UPDATE batches SET status = 'running', completed_at = NULL, settings = $1 WHERE id = $2", [JSON.stringify(settings), id]);
    },
    async recordResult(batchId, record) {
      const row = await one<ResultRow>(`SELECT ${RESULT_COLUMNS} FROM batch_records WHERE batch_id = $1 AND record = $2`, [batchId, record]);
      return row ? toResult(row) : undefined;
    },
    async saveResults(batchId, results, progress) {
      // The last result of a record wins (as INSERT OR REPLACE row by row does); one upsert cannot touch a row twice.
      const latest = new Map<number, BatchRecordResult>();
      for (const r of results) {
        latest.delete(r.record);
        latest.set(r.record, r);
      }
      const rows = [...latest.values()];
      await db.transaction(async (client) => {
        if (rows.length > 0) {
          await client.query(`INSERT INTO batch_records (batch_id, ${RESULT_COLUMNS})
            SELECT $1, * FROM unnest($2::integer[], $3::integer[], $4::bigint[], $5::text[], $6::text[], $7::text[])
            ON CONFLICT (batch_id, record) DO UPDATE SET line = EXCLUDED.line, run_id = EXCLUDED.run_id, status = EXCLUDED.status, key = EXCLUDED.key, error = EXCLUDED.error`,
          [batchId, rows.map((r) => r.record), rows.map((r) => r.line), rows.map((r) => r.runId), rows.map((r) => r.status), rows.map((r) => r.key), rows.map((r) => r.error)]);
        }
        await client.query(`UPDATE batches SET ${setCounts(1)} WHERE id = $8`, [...countValues(progress), batchId]);
      });
    },
    async finishBatch(id, status, completedAt, progress) {
      await db.query(`UPDATE batches SET status = $1, completed_at = $2, ${setCounts(3)} WHERE id = $10`, [status, sqlTimestamp(completedAt), ...countValues(progress), id]);
    },
    async markInterrupted(isAlive, at) {
      const running = await db.query<{ id: number; settings: string }>("SELECT id, settings FROM batches WHERE status = 'running' ORDER BY id");
      const marked: number[] = [];
      for (const row of running) {
        if (isAlive(parseSettings(row.settings))) continue;
        const updated = await db.query("UPDATE batches SET status = 'cancelled', completed_at = $1 WHERE id = $2 AND status = 'running' RETURNING id", [sqlTimestamp(at), row.id]);
        if (updated.length > 0) marked.push(row.id);
      }
      return marked;
    },
    async countResults(batchId) {
      const rows = await db.query<{ status: string; n: number }>('SELECT status, count(*) AS n FROM batch_records WHERE batch_id = $1 GROUP BY status', [batchId]);
      const counts = { completed: 0, failed: 0, cancelled: 0, invalid: 0 };
      for (const row of rows) if (row.status in counts) counts[row.status as keyof typeof counts] = row.n;
      return counts;
    },
    async unsavedRuns(batchId) {
      // quire_json(): NULL for text that is not JSON (rows typed into the original system may hold any text).
      const rows = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id
        WHERE r.status != 'running' AND quire_json(r.metadata) -> 'batch_id' = to_jsonb($1::bigint)
          AND NOT EXISTS (SELECT 1 FROM batch_records b WHERE b.batch_id = $1 AND b.run_id = r.id)
        ORDER BY r.id`, [batchId]);
      return rows.map(toRun);
    },
    async results(batchId, { afterRecord, limit }) {
      const rows = await db.query<ResultRow>(`SELECT ${RESULT_COLUMNS} FROM batch_records WHERE batch_id = $1 AND record > $2 ORDER BY record LIMIT $3`, [batchId, afterRecord, limit]);
      return rows.map(toResult);
    },
  };
}
