/**
 * The queue of batches run by `quire worker`s (WorkQueue), in PostgreSQL: `batch_queue`
 * holds every record of such a batch with its checked inputs.
 *
 * - A claim takes the first open records with `FOR UPDATE SKIP LOCKED`, so workers
 *   claiming at the same moment never wait for each other or take the same record.
 * - Leases are timed by the server's clock (never a worker's: machines' clocks differ).
 *   A worker renews its leases while it lives; a lease that runs out returns its record to
 *   the queue, and the next claim of it settles the earlier attempt's run (still
 *   `running`, its worker gone) as interrupted.
 * - A result is saved only while its worker holds the lease, in the transaction that marks
 *   the record done and adds to the batch's counts: no record completes twice, and the
 *   counts always match the records.
 */
import type { BatchRecordResult, LeasedRecord, QueuedRecord } from '../../core/batch.js';
import type { WorkQueue } from '../../core/ports.js';
import { sqlTimestamp } from '../../core/store-rows.js';
import type { PgDb } from './open.js';

/** What SQLite's CURRENT_TIMESTAMP is: now, in UTC (the column holds UTC without a zone). */
const NOW = "(now() AT TIME ZONE 'UTC')";
const LEASE_END = `${NOW} + make_interval(secs => $LEASE::double precision / 1000)`;

/** Records per multi-row insert while registering (5 parameters each, well under Postgres's 65,535). */
const GROUP = 2_000;

const INTERRUPTED = 'interrupted: the worker running it stopped renewing its lease; the record went back to the queue';

const CLAIM = `WITH picked AS (
    SELECT q.batch_id, q.record FROM batch_queue q
    WHERE q.status <> 'done' AND (q.status = 'queued' OR q.lease_until < ${NOW})
      AND NOT (q.batch_id = ANY($3::bigint[]))
      AND EXISTS (SELECT 1 FROM batches b WHERE b.id = q.batch_id AND b.status = 'running')
    ORDER BY q.batch_id, q.record
    LIMIT $2
    FOR UPDATE OF q SKIP LOCKED
  )
  UPDATE batch_queue q SET status = 'leased', worker = $1, lease_until = ${LEASE_END.replace('$LEASE', '$4')}, attempts = q.attempts + 1
  FROM picked WHERE q.batch_id = picked.batch_id AND q.record = picked.record
  RETURNING q.batch_id, q.record, q.line, q.inputs, q.attempts`;

/** The runs of records taken back (still `running`: their worker is gone) become failed, interrupted. */
const SETTLE_RETAKEN = `UPDATE runs SET status = 'failed', completed_at = ${NOW},
    metadata = ((coalesce(quire_json(metadata), '{}'::jsonb) - 'pid' - 'process_start') || jsonb_build_object('error', $3::text))::text
  WHERE status = 'running' AND quire_json(metadata) -> 'batch_id' = to_jsonb($1::bigint)
    AND quire_json(metadata) -> 'batch_record' IN (SELECT to_jsonb(x) FROM unnest($2::integer[]) AS x)`;

const UPSERT_RESULTS = `INSERT INTO batch_records (batch_id, record, line, run_id, status, key, error)
  SELECT $1, * FROM unnest($2::integer[], $3::integer[], $4::bigint[], $5::text[], $6::text[], $7::text[])
  ON CONFLICT (batch_id, record) DO UPDATE SET line = EXCLUDED.line, run_id = EXCLUDED.run_id, status = EXCLUDED.status, key = EXCLUDED.key, error = EXCLUDED.error`;
const resultParams = (batchId: number, rows: readonly BatchRecordResult[]) =>
  [batchId, rows.map((r) => r.record), rows.map((r) => r.line), rows.map((r) => r.runId), rows.map((r) => r.status), rows.map((r) => r.key), rows.map((r) => r.error)];

export function createPgWorkQueue(db: PgDb): WorkQueue {
  return {
    async registerBatch({ workflowId, workflow, inputPath, inputHash, inputFormat, settings, startedAt }, items) {
      return db.transaction(async (client) => {
        const { rows: [batch] } = await client.query<{ id: number }>(
          "INSERT INTO batches (workflow_id, workflow_name, input_path, input_hash, input_format, status, started_at, settings) VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) RETURNING id",
          [workflowId, workflow, inputPath, inputHash, inputFormat, sqlTimestamp(startedAt), JSON.stringify(settings)]);
        const batchId = batch!.id;
        let queued: QueuedRecord[] = [];
        let invalid: BatchRecordResult[] = [];
        let queuedCount = 0;
        let invalidCount = 0;
        const flush = async () => {
          if (queued.length > 0) {
            await client.query('INSERT INTO batch_queue (batch_id, record, line, inputs) SELECT $1, * FROM unnest($2::integer[], $3::integer[], $4::text[])',
              [batchId, queued.map((q) => q.record), queued.map((q) => q.line), queued.map((q) => JSON.stringify(q.inputs))]);
            queuedCount += queued.length;
            queued = [];
          }
          if (invalid.length > 0) {
            await client.query(UPSERT_RESULTS, resultParams(batchId, invalid));
            invalidCount += invalid.length;
            invalid = [];
          }
        };
        for await (const item of items) {
          if ('queued' in item) queued.push(item.queued);
          else invalid.push(item.invalid);
          if (queued.length + invalid.length >= GROUP) await flush();
        }
        await flush();
        const total = queuedCount + invalidCount;
        // Nothing to run (every record invalid, or none): the batch is over now.
        await client.query(`UPDATE batches SET record_count = $1, invalid = $2${queuedCount === 0 ? `, status = 'completed', completed_at = $4` : ''} WHERE id = $3`,
          queuedCount === 0 ? [total, invalidCount, batchId, sqlTimestamp(startedAt)] : [total, invalidCount, batchId]);
        return { batchId, queued: queuedCount, invalid: invalidCount };
      });
    },

    async claim(worker, limit, leaseMs, skip = []) {
      if (limit < 1) return [];
      // One statement (atomic on its own): no transaction round trips, planned once per connection.
      const rows = await db.query<{ batch_id: number; record: number; line: number; inputs: string; attempts: number }>(CLAIM, [worker, limit, skip, leaseMs], 'quire_claim');
      const leased: LeasedRecord[] = rows
        .map((row) => ({ batchId: row.batch_id, record: row.record, line: row.line, inputs: JSON.parse(row.inputs) as Record<string, unknown>, attempts: row.attempts }))
        .sort((a, b) => a.batchId - b.batchId || a.record - b.record);
      // Records taken back from a worker that stopped: its runs of them are over.
      const retaken = leased.filter((r) => r.attempts > 1);
      for (const batchId of new Set(retaken.map((r) => r.batchId))) {
        const records = retaken.filter((r) => r.batchId === batchId).map((r) => r.record);
        await db.query(SETTLE_RETAKEN, [batchId, records, INTERRUPTED]);
      }
      return leased;
    },

    async renew(worker, leaseMs) {
      const rows = await db.query(`UPDATE batch_queue SET lease_until = ${LEASE_END.replace('$LEASE', '$2')} WHERE worker = $1 AND status = 'leased' RETURNING record`, [worker, leaseMs]);
      return rows.length;
    },

    async complete(worker, batchId, results, at) {
      if (results.length === 0) return [];
      return db.transaction(async (client) => {
        const { rows } = await client.query<{ record: number }>({
          name: 'quire_complete',
          text: "UPDATE batch_queue SET status = 'done', worker = NULL, lease_until = NULL WHERE batch_id = $1 AND record = ANY($2::integer[]) AND worker = $3 AND status = 'leased' RETURNING record",
          values: [batchId, results.map((r) => r.record), worker],
        });
        const held = new Set(rows.map((row) => row.record));
        const saved = results.filter((r) => held.has(r.record));
        if (saved.length > 0) {
          await client.query({ name: 'quire_upsert_results', text: UPSERT_RESULTS, values: resultParams(batchId, saved) });
          const count = (status: BatchRecordResult['status']) => saved.filter((r) => r.status === status).length;
          await client.query({ name: 'quire_add_counts', text: 'UPDATE batches SET completed = completed + $2, failed = failed + $3, cancelled = cancelled + $4 WHERE id = $1', values: [batchId, count('completed'), count('failed'), count('cancelled')] });
          const { rows: [open] } = await client.query<{ open: boolean }>({ name: 'quire_batch_open', text: "SELECT EXISTS (SELECT 1 FROM batch_queue WHERE batch_id = $1 AND status <> 'done') AS open", values: [batchId] });
          if (!open!.open) await client.query("UPDATE batches SET status = 'completed', completed_at = $2 WHERE id = $1 AND status = 'running'", [batchId, sqlTimestamp(at)]);
        }
        return saved.map((r) => r.record);
      });
    },

    async release(worker, records) {
      if (records === undefined) {
        await db.query("UPDATE batch_queue SET status = 'queued', worker = NULL, lease_until = NULL WHERE worker = $1 AND status = 'leased'", [worker]);
        return;
      }
      if (records.length === 0) return;
      await db.query(
        `UPDATE batch_queue q SET status = 'queued', worker = NULL, lease_until = NULL
         FROM unnest($2::bigint[], $3::integer[]) AS r(batch_id, record)
         WHERE q.batch_id = r.batch_id AND q.record = r.record AND q.worker = $1 AND q.status = 'leased'`,
        [worker, records.map((r) => r.batchId), records.map((r) => r.record)]);
    },

    async progress(batchId) {
      const open = await db.query<{ status: string; n: number; workers: number }>(
        "SELECT status, count(*) AS n, count(DISTINCT worker) AS workers FROM batch_queue WHERE batch_id = $1 AND status <> 'done' GROUP BY status", [batchId]);
      const [total] = await db.query<{ n: number }>("SELECT (record_count - invalid) AS n FROM batches WHERE id = $1", [batchId]);
      const queued = open.find((row) => row.status === 'queued')?.n ?? 0;
      const leasedRow = open.find((row) => row.status === 'leased');
      const leased = leasedRow?.n ?? 0;
      return { queued, leased, done: Math.max(0, (total?.n ?? 0) - queued - leased), workers: leasedRow?.workers ?? 0 };
    },

    async hasWork() {
      const [row] = await db.query<{ open: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM batch_queue q JOIN batches b ON b.id = q.batch_id WHERE q.status <> 'done' AND b.status = 'running') AS open");
      return row!.open;
    },
  };
}
