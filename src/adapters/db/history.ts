/**
 * Run history (HistoryStore) in SQLite: one `runs` row per run, one `responses` row per
 * completed step, each committed as soon as it exists so a crash loses at most the step
 * in flight. Timestamps keep the original schema's CURRENT_TIMESTAMP text shape (UTC),
 * with milliseconds.
 */
import type { HistoryStore } from '../../core/ports.js';
import type { NewResponse, ResponseRecord, RunMetadata, RunRecord } from '../../core/history.js';
import { parseMetadata, sqlTimestamp, toResponse, toRun, type ResponseRow, type RunRow } from '../../core/store-rows.js';
import type { Db } from './open.js';

/** A run's columns, from `runs r LEFT JOIN workflows w`. */
export const RUN_COLUMNS = 'r.id, r.workflow_id, w.name AS workflow, r.status, r.started_at, r.completed_at, r.metadata';

export function createHistoryStore(db: Db, beforeWrite: () => void = () => {}): HistoryStore {
  const runColumns = RUN_COLUMNS;
  let statements: ReturnType<typeof prepare> | undefined;
  // Prepared on first use: a read-only connection cannot prepare the writes until asked.
  const prepare = () => ({
    insertRun: db.prepare("INSERT INTO runs (workflow_id, status, started_at, metadata) VALUES (?, 'running', ?, ?)"),
    insertResponse: db.prepare('INSERT INTO responses (run_id, payload_id, content, metadata, prompt, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    finish: db.prepare('UPDATE runs SET status = ?, completed_at = ?, metadata = ? WHERE id = ?'),
    remember: db.prepare('INSERT OR REPLACE INTO quire_step_cache (key, response_id) VALUES (?, ?)'),
  });
  const writes = () => {
    beforeWrite();
    return (statements ??= prepare());
  };

  /** A response, and the step cache's pointer to it when it has a key, in one transaction. */
  const insertResponse = ({ runId, payloadId, content, prompt, metadata, cacheKey }: NewResponse, createdAt: Date): number => {
    const statements = writes();
    const insert = () => Number(statements.insertResponse.run(runId, payloadId, content, JSON.stringify(metadata), prompt, sqlTimestamp(createdAt)).lastInsertRowid);
    if (cacheKey === undefined) return insert();
    return db.transaction(() => {
      const id = insert();
      statements.remember.run(cacheKey, id);
      return id;
    })();
  };

  return {
    async startRun({ workflowId, metadata, startedAt }) {
      return Number(writes().insertRun.run(workflowId, sqlTimestamp(startedAt), JSON.stringify(metadata)).lastInsertRowid);
    },
    async addResponse(response, createdAt) {
      return insertResponse(response, createdAt);
    },
    async finishRun(runId, status, metadata, completedAt, last) {
      const finish = () => writes().finish.run(status, sqlTimestamp(completedAt), JSON.stringify(metadata), runId);
      if (!last) return void finish();
      db.transaction(() => {
        insertResponse(last.response, last.createdAt);
        finish();
      })();
    },
    async markInterrupted(isAlive, at) {
      const running = db.prepare("SELECT id, metadata FROM runs WHERE status = 'running'").all() as { id: number; metadata: string | null }[];
      const marked: number[] = [];
      for (const row of running) {
        const metadata = parseMetadata<RunMetadata>(row.metadata);
        if (isAlive(metadata)) continue;
        metadata.error = 'interrupted: the quire process running it stopped before it finished';
        writes().finish.run('failed', sqlTimestamp(at), JSON.stringify(metadata), row.id);
        marked.push(row.id);
      }
      return marked;
    },
    async running() {
      const rows = db.prepare(`SELECT ${runColumns} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id WHERE r.status = 'running' ORDER BY r.id`).all() as RunRow[];
      return rows.map(toRun);
    },
    async getRun(runId) {
      const row = db.prepare(`SELECT ${runColumns} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id WHERE r.id = ?`).get(runId) as RunRow | undefined;
      return row ? toRun(row) : undefined;
    },
    async previousCompleted(runId) {
      const row = db.prepare(`SELECT ${runColumns} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id
        WHERE r.status = 'completed' AND r.id < ? AND r.workflow_id = (SELECT workflow_id FROM runs WHERE id = ?)
        ORDER BY r.id DESC LIMIT 1`).get(runId, runId) as RunRow | undefined;
      return row ? toRun(row) : undefined;
    },
    async listRuns({ workflow, limit }) {
      const where = workflow !== undefined ? 'WHERE w.name = ?' : '';
      const sql = `SELECT ${runColumns}, (SELECT count(*) FROM responses s WHERE s.run_id = r.id) AS steps
        FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id ${where} ORDER BY r.id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...(workflow !== undefined ? [workflow, limit] : [limit])) as (RunRow & { steps: number })[];
      return rows.map((row) => ({ ...toRun(row), steps: row.steps }));
    },
    async cachedResponse(key) {
      const row = db.prepare(`SELECT s.id, s.run_id, s.payload_id, p.name AS payload, s.content, s.prompt, s.metadata, s.created_at
        FROM quire_step_cache c JOIN responses s ON s.id = c.response_id LEFT JOIN payloads p ON p.id = s.payload_id WHERE c.key = ?`).get(key) as ResponseRow | undefined;
      return row ? toResponse(row) : undefined;
    },
    async rememberResponse(key, responseId) {
      writes().remember.run(key, responseId);
    },
    async runsWithResponses(runIds) {
      const found = new Map<number, { run: RunRecord; responses: ResponseRecord[] }>();
      // In slices: SQLite caps the number of bound parameters.
      for (let at = 0; at < runIds.length; at += 500) {
        const ids = runIds.slice(at, at + 500);
        const marks = ids.map(() => '?').join(',');
        for (const row of db.prepare(`SELECT ${runColumns} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id WHERE r.id IN (${marks})`).all(...ids) as RunRow[]) found.set(row.id, { run: toRun(row), responses: [] });
        const responses = db.prepare(`SELECT s.id, s.run_id, s.payload_id, p.name AS payload, s.content, s.prompt, s.metadata, s.created_at FROM responses s LEFT JOIN payloads p ON p.id = s.payload_id WHERE s.run_id IN (${marks}) ORDER BY s.id`).all(...ids) as ResponseRow[];
        for (const row of responses) found.get(row.run_id)?.responses.push(toResponse(row));
      }
      return found;
    },
    async responses(runId) {
      const rows = db.prepare('SELECT s.id, s.run_id, s.payload_id, p.name AS payload, s.content, s.prompt, s.metadata, s.created_at FROM responses s LEFT JOIN payloads p ON p.id = s.payload_id WHERE s.run_id = ? ORDER BY s.id').all(runId) as ResponseRow[];
      return rows.map(toResponse);
    },
  };
}

export { parseMetadata, sqlTimestamp, toRun, type RunRow };
