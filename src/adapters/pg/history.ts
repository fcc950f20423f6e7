/**
 * Run history (HistoryStore) in PostgreSQL, behaving as the SQLite one
 * (adapters/db/history.ts): one `runs` row per run, one `responses` row per completed step,
 * each committed as soon as it exists. Timestamps are written and read as the original
 * schema's text (`YYYY-MM-DD HH:MM:SS.mmm`, UTC; see open.ts).
 *
 * Several processes share the store: a run is marked interrupted only while it is still
 * `running`, so two processes settling the same dead run report it once.
 */
import type { HistoryStore } from '../../core/ports.js';
import type { ResponseRecord, RunMetadata, RunRecord } from '../../core/history.js';
import { parseMetadata, sqlTimestamp, toResponse, toRun, type ResponseRow, type RunRow } from '../../core/store-rows.js';
import type { PgDb } from './open.js';

// The statements every run repeats are named (prepared once per connection): see PgDb.query.

/** A run's columns, from `runs r LEFT JOIN workflows w`. */
export const RUN_COLUMNS = 'r.id, r.workflow_id, w.name AS workflow, r.status, r.started_at, r.completed_at, r.metadata';
const RUNS = 'runs r LEFT JOIN workflows w ON w.id = r.workflow_id';
const RESPONSE_COLUMNS = 's.id, s.run_id, s.payload_id, p.name AS payload, s.content, s.prompt, s.metadata, s.created_at';
const RESPONSES = 'responses s LEFT JOIN payloads p ON p.id = s.payload_id';

const INSERT_RESPONSE = 'INSERT INTO responses (run_id, payload_id, content, metadata, prompt, created_at) VALUES ($1, $2, $3, $4, $5, $6)';

const FINISH_RUN = 'UPDATE runs SET status = $1, completed_at = $2, metadata = $3 WHERE id = $4';
/** A CTE remembering the response of `r` as the answer to a step cache key (the parameter; none when NULL). */
const REMEMBER = (key: string) => `c AS (INSERT INTO quire_step_cache (key, response_id) SELECT ${key}, id FROM r WHERE ${key} IS NOT NULL ON CONFLICT (key) DO UPDATE SET response_id = EXCLUDED.response_id)`;

const INTERRUPTED = 'interrupted: the quire process running it stopped before it finished';

export function createPgHistoryStore(db: PgDb): HistoryStore {
  const one = async <T extends object>(sql: string, params: readonly unknown[], name?: string) => (await db.query<T>(sql, params, name))[0];
  const idOf = async (sql: string, params: readonly unknown[], name?: string) => (await one<{ id: number }>(sql, params, name))!.id;

  return {
    async startRun({ workflowId, metadata, startedAt }) {
      return idOf("INSERT INTO runs (workflow_id, status, started_at, metadata) VALUES ($1, 'running', $2, $3) RETURNING id", [workflowId, sqlTimestamp(startedAt), JSON.stringify(metadata)], 'quire_start_run');
    },
    async addResponse({ runId, payloadId, content, prompt, metadata, cacheKey }, createdAt) {
      const values = [runId, payloadId, content, JSON.stringify(metadata), prompt, sqlTimestamp(createdAt)];
      if (cacheKey === undefined) return idOf(`${INSERT_RESPONSE} RETURNING id`, values, 'quire_add_response');
      // One statement (atomic): the response and the step cache's pointer to it.
      return idOf(`WITH r AS (${INSERT_RESPONSE} RETURNING id), ${REMEMBER('$7::text')} SELECT id FROM r`, [...values, cacheKey], 'quire_add_cached_response');
    },
    async finishRun(runId, status, metadata, completedAt, last) {
      const end = [status, sqlTimestamp(completedAt), JSON.stringify(metadata), runId];
      if (!last) return void (await db.query(FINISH_RUN, end, 'quire_finish_run'));
      // One statement (atomic): the last step's response (and its cache key) and the run's end.
      const { response, createdAt } = last;
      await db.query(`WITH r AS (${INSERT_RESPONSE.replace(/\$(\d)/g, (_, n: string) => `$${Number(n) + 4}`)} RETURNING id), ${REMEMBER('$11::text')} ${FINISH_RUN}`,
        [...end, response.runId, response.payloadId, response.content, JSON.stringify(response.metadata), response.prompt, sqlTimestamp(createdAt), response.cacheKey ?? null], 'quire_finish_run_with_response');
    },
    async markInterrupted(isAlive, at) {
      const running = await db.query<{ id: number; metadata: string | null }>("SELECT id, metadata FROM runs WHERE status = 'running' ORDER BY id");
      const marked: number[] = [];
      for (const row of running) {
        const metadata = parseMetadata<RunMetadata>(row.metadata);
        if (isAlive(metadata)) continue;
        metadata.error = INTERRUPTED;
        const updated = await db.query("UPDATE runs SET status = 'failed', completed_at = $1, metadata = $2 WHERE id = $3 AND status = 'running' RETURNING id",
          [sqlTimestamp(at), JSON.stringify(metadata), row.id]);
        if (updated.length > 0) marked.push(row.id);
      }
      return marked;
    },
    async running() {
      return (await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${RUNS} WHERE r.status = 'running' ORDER BY r.id`)).map(toRun);
    },
    async getRun(runId) {
      const row = await one<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${RUNS} WHERE r.id = $1`, [runId]);
      return row ? toRun(row) : undefined;
    },
    async previousCompleted(runId) {
      const row = await one<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${RUNS}
        WHERE r.status = 'completed' AND r.id < $1 AND r.workflow_id = (SELECT workflow_id FROM runs WHERE id = $1)
        ORDER BY r.id DESC LIMIT 1`, [runId]);
      return row ? toRun(row) : undefined;
    },
    async listRuns({ workflow, limit }) {
      const where = workflow !== undefined ? 'WHERE w.name = $2' : '';
      const rows = await db.query<RunRow & { steps: number }>(`SELECT ${RUN_COLUMNS}, (SELECT count(*) FROM responses s WHERE s.run_id = r.id) AS steps
        FROM ${RUNS} ${where} ORDER BY r.id DESC LIMIT $1`, workflow !== undefined ? [limit, workflow] : [limit]);
      return rows.map((row) => ({ ...toRun(row), steps: row.steps }));
    },
    async cachedResponse(key) {
      const row = await one<ResponseRow>(`SELECT ${RESPONSE_COLUMNS} FROM quire_step_cache c JOIN ${RESPONSES} ON s.id = c.response_id WHERE c.key = $1`, [key], 'quire_cached_response');
      return row ? toResponse(row) : undefined;
    },
    async rememberResponse(key, responseId) {
      await db.query('INSERT INTO quire_step_cache (key, response_id) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET response_id = EXCLUDED.response_id', [key, responseId], 'quire_remember_response');
    },
    async runsWithResponses(runIds) {
      const found = new Map<number, { run: RunRecord; responses: ResponseRecord[] }>();
      if (runIds.length === 0) return found;
      const ids = [...runIds];
      for (const row of await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${RUNS} WHERE r.id = ANY($1::bigint[])`, [ids])) found.set(row.id, { run: toRun(row), responses: [] });
      for (const row of await db.query<ResponseRow>(`SELECT ${RESPONSE_COLUMNS} FROM ${RESPONSES} WHERE s.run_id = ANY($1::bigint[]) ORDER BY s.id`, [ids])) {
        found.get(row.run_id)?.responses.push(toResponse(row));
      }
      return found;
    },
    async responses(runId) {
      return (await db.query<ResponseRow>(`SELECT ${RESPONSE_COLUMNS} FROM ${RESPONSES} WHERE s.run_id = $1 ORDER BY s.id`, [runId])).map(toResponse);
    },
  };
}

export { parseMetadata, sqlTimestamp, toRun, type RunRow };
