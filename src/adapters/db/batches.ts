/**
 * Batches (BatchStore) in SQLite: the `batches` row with its counts, and one
 * `batch_records` row per record once it is settled. Results are saved a group at a time
 * (the runner gathers the records that end together) in one transaction with the counts,
 * so a crash never leaves counts that disagree with the rows.
 */
import type { BatchCounts } from '../../core/batch.js';
import { parseSettings, toBatch, toResult, type BatchRow, type ResultRow } from '../../core/store-rows.js';
import type { BatchStore } from '../../core/ports.js';
import { RUN_COLUMNS, sqlTimestamp, toRun, type RunRow } from './history.js';
import type { Db } from './open.js';

const countValues = (progress: { recordCount: number; counts: BatchCounts }) => {
  const { counts } = progress;
  return [progress.recordCount, counts.completed, counts.failed, counts.cancelled, counts.invalid, counts.skipped, counts.cacheHits];
};
const SET_COUNTS = 'record_count = ?, completed = ?, failed = ?, cancelled = ?, invalid = ?, skipped = ?, cache_hits = ?';

export function createBatchStore(db: Db, beforeWrite: () => void = () => {}): BatchStore {
  let statements: ReturnType<typeof prepare> | undefined;
  // Prepared on first use: a read-only connection cannot prepare the writes.
  const prepare = () => ({
    insert: db.prepare("INSERT INTO batches (workflow_id, workflow_name, input_path, input_hash, input_format, status, started_at, settings) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)"),
    upsertResult: db.prepare('INSERT OR REPLACE INTO batch_records (batch_id, record, line, run_id, status, key, error) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    counts: db.prepare(`UPDATE batches SET ${SET_COUNTS} WHERE id = ?`),
    finish: db.prepare(`UPDATE batches SET status = ?, completed_at = ?, ${SET_COUNTS} WHERE id = ?`),
  });
  const writes = () => {
    beforeWrite();
    return (statements ??= prepare());
  };

  return {
    async createBatch({ workflowId, workflow, inputPath, inputHash, inputFormat, settings, startedAt }) {
      return Number(writes().insert.run(workflowId, workflow, inputPath, inputHash, inputFormat, sqlTimestamp(startedAt), JSON.stringify(settings)).lastInsertRowid);
    },
    async getBatch(id) {
      const row = db.prepare('SELECT * FROM batches WHERE id = ?').get(id) as BatchRow | undefined;
      return row ? toBatch(row) : undefined;
    },
    async listBatches({ workflow, limit }) {
      const rows = (workflow !== undefined
        ? db.prepare('SELECT * FROM batches WHERE workflow_name = ? ORDER BY id DESC LIMIT ?').all(workflow, limit)
        : db.prepare('SELECT * FROM batches ORDER BY id DESC LIMIT ?').all(limit)) as BatchRow[];
      return rows.map(toBatch);
    },
    async latestBatch(workflow, inputPath, inputHash) {
      const row = db.prepare('SELECT * FROM batches WHERE workflow_name = ? AND input_path = ? AND input_hash IS ? ORDER BY id DESC LIMIT 1').get(workflow, inputPath, inputHash) as BatchRow | undefined;
      return row ? toBatch(row) : undefined;
    },
    async reopenBatch(id, settings) {
      writes();
      db.prepare("UPDATE batches SET status = 'running', completed_at = NULL, settings = ? WHERE id = ?").run(JSON.stringify(settings), id);
    },
    async recordResult(batchId, record) {
      const row = db.prepare('SELECT record, line, run_id, status, key, error FROM batch_records WHERE batch_id = ? AND record = ?').get(batchId, record) as ResultRow | undefined;
      return row ? toResult(row) : undefined;
    },
    async saveResults(batchId, results, progress) {
      const { upsertResult, counts } = writes();
      db.transaction(() => {
        for (const r of results) upsertResult.run(batchId, r.record, r.line, r.runId, r.status, r.key, r.error);
        counts.run(...countValues(progress), batchId);
      }).immediate();
    },
    async finishBatch(id, status, completedAt, progress) {
      writes().finish.run(status, sqlTimestamp(completedAt), ...countValues(progress), id);
    },
    async markInterrupted(isAlive, at) {
      const running = db.prepare("SELECT id, settings FROM batches WHERE status = 'running'").all() as { id: number; settings: string }[];
      const marked: number[] = [];
      for (const row of running) {
        if (isAlive(parseSettings(row.settings))) continue;
        writes();
        db.prepare("UPDATE batches SET status = 'cancelled', completed_at = ? WHERE id = ? AND status = 'running'").run(sqlTimestamp(at), row.id);
        marked.push(row.id);
      }
      return marked;
    },
    async countResults(batchId) {
      const rows = db.prepare('SELECT status, count(*) AS n FROM batch_records WHERE batch_id = ? GROUP BY status').all(batchId) as { status: string; n: number }[];
      const counts = { completed: 0, failed: 0, cancelled: 0, invalid: 0 };
      for (const row of rows) if (row.status in counts) counts[row.status as keyof typeof counts] = row.n;
      return counts;
    },
    async unsavedRuns(batchId) {
      // json_valid first: rows typed into the original system may hold any text.
      const rows = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id
        WHERE r.status != 'running' AND json_valid(r.metadata) AND json_extract(r.metadata, '$.batch_id') = ?
          AND NOT EXISTS (SELECT 1 FROM batch_records b WHERE b.batch_id = ? AND b.run_id = r.id)
        ORDER BY r.id`).all(batchId, batchId) as RunRow[];
      return rows.map(toRun);
    },
    async results(batchId, { afterRecord, limit }) {
      const rows = db.prepare('SELECT record, line, run_id, status, key, error FROM batch_records WHERE batch_id = ? AND record > ? ORDER BY record LIMIT ?').all(batchId, afterRecord, limit) as ResultRow[];
      return rows.map(toResult);
    },
  };
}
