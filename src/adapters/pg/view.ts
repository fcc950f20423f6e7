/**
 * The viewer's reads (ViewQueries) in PostgreSQL, behaving as the SQLite ones
 * (adapters/db/view.ts): pages of runs and of a batch's records, filtered, sorted and
 * counted in SQL, and the workflows with their payload and block links. Read-only.
 *
 * JSON in metadata columns is read through quire_json() (migration m007): the text as
 * jsonb, NULL when it is not JSON, so rows typed into the original system never make a
 * query fail. Where SQLite's answer depends on its own semantics, this mirrors them:
 * - text compares and sorts byte by byte (SQLite's BINARY collation): COLLATE "C";
 * - LIKE folds ASCII letters only: ILIKE under COLLATE "C" (a database's own collation
 *   may fold É and é too), with the same `\` escaping of `\`, `%` and `_`;
 * - a JSON value sorts as json_extract gives it: JSON null and missing values are NULL
 *   (last), numbers and booleans (1/0) numerically before text (strings, object and
 *   array text), descending the reverse;
 * - an input value is searched as CAST(json_each.value AS TEXT) gives it (true is `1`);
 * - a duration is julianday(completed_at) - julianday(started_at), the same double;
 * - NULL order_index first, as SQLite sorts NULL lowest; ctid stands in for rowid.
 */
import type { ViewQueries } from '../../core/ports.js';
import { parseMetadata, toRun, type ResultRow, type RunRow } from '../../core/store-rows.js';
import type { BatchResultSort, BlockLink, PayloadLink, RunFilter, RunListItem, WorkflowSummary } from '../../core/view.js';
import { RUN_COLUMNS } from './history.js';
import type { PgDb } from './open.js';

/** runs.metadata's trigger, exactly as the index runs_by_trigger is built (the planner matches index expressions). */
const TRIGGER = "(quire_json(r.metadata) ->> 'trigger')";

type WorkflowRow = { id: number; name: string; archived: number; source_path: string | null; description: string | null; definition: string | null; run_count: number; last_run_id: number | null; last_status: string | null; last_started: string | null };

/** A jsonb value `v` as SQLite's json_extract sorts it: its kind (NULL: none; 0 numeric; 1 text), the number, the text. */
const SORT_PARTS = `CASE jsonb_typeof(v) WHEN 'number' THEN 0 WHEN 'boolean' THEN 0 WHEN 'string' THEN 1 WHEN 'object' THEN 1 WHEN 'array' THEN 1 END AS kind,
  CASE jsonb_typeof(v) WHEN 'number' THEN v::numeric WHEN 'boolean' THEN CASE WHEN v = 'true'::jsonb THEN 1 ELSE 0 END END AS num,
  CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' WHEN 'object' THEN v::text WHEN 'array' THEN v::text END AS txt`;

/** A jsonb value `i.value` as SQLite's CAST(json_each.value AS TEXT) gives it (JSON null: NULL). */
const AS_TEXT = `(CASE jsonb_typeof(i.value) WHEN 'string' THEN i.value #>> '{}' WHEN 'boolean' THEN CASE WHEN i.value = 'true'::jsonb THEN '1' ELSE '0' END
  WHEN 'null' THEN NULL ELSE i.value::text END)`;

/** julianday() of a timestamp, the same double SQLite computes: whole milliseconds since the julian epoch / 86400000. */
const julianday = (column: string) => `((extract(epoch FROM ${column}) * 1000 + 210866760000000)::float8 / 86400000)`;

const WORKFLOW_COLUMNS = `w.id, w.name, w.archived, w.source_path, w.description, w.definition,
  (SELECT count(*) FROM runs r WHERE r.workflow_id = w.id) AS run_count,
  l.id AS last_run_id, l.status AS last_status, l.started_at AS last_started
  FROM workflows w LEFT JOIN runs l ON l.id = (SELECT max(id) FROM runs r WHERE r.workflow_id = w.id)`;

export function createPgViewQueries(db: PgDb): ViewQueries {
  return {
    async runsPage(filter, { limit, offset }) {
      const { where, params } = runWhere(filter);
      const [count] = await db.query<{ total: number }>(`SELECT count(*) AS total FROM runs r ${where}`, params);
      const n = params.length;
      const rows = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id ${where}
        ORDER BY r.id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...params, limit, offset]);
      return { total: count!.total, runs: await withResponseTotals(db, rows) };
    },

    async workflowNames() {
      return (await db.query<{ name: string }>('SELECT DISTINCT name COLLATE "C" AS name FROM workflows ORDER BY 1')).map((row) => row.name);
    },

    async batchResultsPage(batchId, { status, text, sort, descending, page }) {
      const params: unknown[] = [batchId];
      const bind = (value: unknown) => `$${params.push(value)}`;
      const conditions = ['b.batch_id = $1'];
      if (status !== undefined) conditions.push(`b.status = ${bind(status)}`);
      const searching = text !== undefined && text !== '';
      if (searching) {
        const pattern = bind(`%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        const like = (expression: string) => `${expression} COLLATE "C" ILIKE ${pattern} ESCAPE '\\'`;
        // The inputs as json_each(metadata, '$.inputs') walks them: an object's values, an array's items, else the value itself
        // (OFFSET 0 keeps the subquery whole, so quire_json runs once per row, here and in the sorts' LATERAL joins).
        conditions.push(`(${like('b.error')}
          OR EXISTS (SELECT 1 FROM responses s WHERE s.run_id = b.run_id AND ${like('s.content')})
          OR EXISTS (SELECT 1 FROM (SELECT quire_json(r.metadata) -> 'inputs' AS v OFFSET 0) j,
            LATERAL (SELECT e.value FROM jsonb_each(CASE WHEN jsonb_typeof(j.v) = 'object' THEN j.v END) e
              UNION ALL SELECT e.value FROM jsonb_array_elements(CASE WHEN jsonb_typeof(j.v) = 'array' THEN j.v END) e
              UNION ALL SELECT j.v WHERE jsonb_typeof(j.v) NOT IN ('object', 'array')) i
            WHERE ${like(AS_TEXT)}))`);
      }
      const filterParams = [...params];
      const order = sortOrder(sort, descending ? 'DESC' : 'ASC', bind);
      const needsRun = searching || order.needsRun;
      const from = `batch_records b${needsRun ? ' LEFT JOIN runs r ON r.id = b.run_id' : ''}`;
      const where = `WHERE ${conditions.join(' AND ')}`;
      const [count] = await db.query<{ total: number }>(`SELECT count(*) AS total FROM ${from} ${where}`, filterParams);
      const rows = await db.query<ResultRow>(`SELECT b.record, b.line, b.run_id, b.status, b.key, b.error FROM ${from}${order.join} ${where}
        ORDER BY ${order.by} LIMIT ${bind(page.limit)} OFFSET ${bind(page.offset)}`, params);
      return { total: count!.total, results: rows.map((row) => ({ record: row.record, line: row.line, runId: row.run_id, status: row.status, key: row.key, error: row.error })) };
    },

    async workflows() {
      const rows = await db.query<WorkflowRow>(`SELECT ${WORKFLOW_COLUMNS} ORDER BY w.archived, w.name COLLATE "C", w.id`);
      const payloads = new Map<number, string[]>();
      const links = await db.query<{ workflow: number; name: string }>(`SELECT wp.workflow_id AS workflow, p.name FROM workflow_payloads wp JOIN payloads p ON p.id = wp.payload_id
        ORDER BY wp.workflow_id, wp.order_index NULLS FIRST, wp.ctid`);
      for (const link of links) payloads.set(link.workflow, [...(payloads.get(link.workflow) ?? []), link.name]);
      return rows.map((row) => toWorkflow(row, payloads.get(row.id) ?? []));
    },

    async workflow(id) {
      if (!Number.isSafeInteger(id)) return undefined; // no such row, as SQLite answers (Postgres would refuse the parameter)
      const [row] = await db.query<WorkflowRow>(`SELECT ${WORKFLOW_COLUMNS} WHERE w.id = $1`, [id]);
      if (!row) return undefined;
      const stepRows = await db.query<{ id: number | null; name: string | null; archived: number | null; source_path: string | null; model_format: string | null; llm_port: number | null; temperature: number | null; response_length: number | null }>(
        `SELECT p.id, p.name, p.archived, p.source_path, p.model_format, p.llm_port, p.temperature, p.response_length
        FROM workflow_payloads wp LEFT JOIN payloads p ON p.id = wp.payload_id WHERE wp.workflow_id = $1 ORDER BY wp.order_index NULLS FIRST, wp.ctid`, [id]);
      const payloadIds = [...new Set(stepRows.flatMap((s) => (s.id !== null ? [s.id] : [])))];
      const blocks = await blocksOf(db, payloadIds);
      const definition = parseMetadata<{ steps?: unknown; inputs?: unknown }>(row.definition);
      const names = Array.isArray(definition.steps) ? definition.steps.map((s: unknown) => (s !== null && typeof s === 'object' && typeof (s as { name?: unknown }).name === 'string' ? (s as { name: string }).name : null)) : [];
      const steps = stepRows.map((s, index) => ({
        index,
        name: names[index] ?? null,
        payload: s.id === null ? null : ({
          id: s.id, name: s.name ?? `payload ${s.id}`, archived: s.archived === 1, sourcePath: s.source_path, modelFormat: s.model_format,
          llmPort: s.llm_port, temperature: s.temperature, responseLength: s.response_length, blocks: blocks.get(s.id) ?? [],
        } satisfies PayloadLink),
      }));
      const inputs = definition.inputs !== null && typeof definition.inputs === 'object' && !Array.isArray(definition.inputs) ? (definition.inputs as Record<string, unknown>) : {};
      return { ...toWorkflow(row, stepRows.map((s) => s.name ?? '?')), steps, inputs };
    },

    /**
     * Postgres has no data_version; transaction ids stand in. Every transaction that writes
     * gets an id (a read never does: polling this moves nothing), and the snapshot says
     * which ids below its xmax are still running. xmax alone advances only when the newest
     * id ends, so a writer that commits after a younger one (ids 100 then 101, 101 commits
     * first) would go unseen; xmax minus the running ids below it is the number of ended
     * ids, which grows with every commit (and rollback), in whatever order. Cheap: no table
     * is read. The ids are the cluster's, so writes to its other databases (and autovacuum's
     * ANALYZE) change it too: a page refreshes for nothing, never misses a change.
     */
    async dataVersion() {
      const [row] = await db.query<{ version: number }>(`SELECT pg_snapshot_xmax(s)::text::bigint - (SELECT count(*) FROM pg_snapshot_xip(s)) AS version
        FROM pg_current_snapshot() AS s`);
      return row!.version;
    },
  };
}

function runWhere(filter: RunFilter): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown) => `$${params.push(value)}`;
  if (filter.workflowId !== undefined) {
    // An id no row can have (not an integer, beyond BIGINT) matches nothing, as in SQLite, instead of failing.
    conditions.push(Number.isSafeInteger(filter.workflowId) ? `r.workflow_id = ${bind(filter.workflowId)}` : 'false');
  }
  if (filter.workflow !== undefined) conditions.push(`r.workflow_id IN (SELECT id FROM workflows WHERE name = ${bind(filter.workflow)})`);
  if (filter.status !== undefined) conditions.push(`r.status = ${bind(filter.status)}`);
  if (filter.trigger !== undefined) conditions.push(`${TRIGGER} = ${bind(filter.trigger)}`);
  // SQLite compares the timestamp text with the day's text; for a real day that is a
  // timestamp range (runs_by_started serves it). Any other text is compared as text.
  if (filter.from !== undefined) conditions.push(dayBound('>=', filter.from, bind));
  if (filter.to !== undefined) conditions.push(dayBound('<', nextDay(filter.to), bind));
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

function dayBound(op: '>=' | '<', day: string, bind: (value: unknown) => string): string {
  return isDay(day) ? `r.started_at ${op} ${bind(day)}::timestamp` : `to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS.MS') COLLATE "C" ${op} ${bind(day)}`;
}

/** A `YYYY-MM-DD` that is a real day Postgres takes as a timestamp (years 1 to 9999). */
function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || text.startsWith('0000')) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** `YYYY-MM-DD` -> the day after, as the same text (the SQLite store's rule, text that is not a date unchanged). */
function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** The page's runs with their step count and token sums, from one read of their responses' metadata (as the SQLite store sums them). */
async function withResponseTotals(db: PgDb, rows: RunRow[]): Promise<RunListItem[]> {
  const totals = new Map<number, { steps: number; prompt: number | null; completion: number | null }>();
  for (const row of rows) totals.set(row.id, { steps: 0, prompt: null, completion: null });
  if (rows.length > 0) {
    const responses = await db.query<{ run_id: number; metadata: string | null }>('SELECT run_id, metadata FROM responses WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, id',
      [rows.map((r) => r.id)]);
    for (const { run_id: runId, metadata } of responses) {
      const total = totals.get(runId)!;
      total.steps++;
      const m = parseMetadata<{ prompt_tokens?: unknown; completion_tokens?: unknown }>(metadata);
      if (typeof m.prompt_tokens === 'number') total.prompt = (total.prompt ?? 0) + m.prompt_tokens;
      if (typeof m.completion_tokens === 'number') total.completion = (total.completion ?? 0) + m.completion_tokens;
    }
  }
  return rows.map((row) => {
    const total = totals.get(row.id)!;
    return { ...toRun(row), steps: total.steps, promptTokens: total.prompt, completionTokens: total.completion };
  });
}

/**
 * A sort's ORDER BY (records without the value last either way, then by record), the
 * LATERAL join that computes a JSON value once per row, and whether it reads the run.
 */
function sortOrder(sort: BatchResultSort, direction: 'ASC' | 'DESC', bind: (value: unknown) => string): { by: string; join: string; needsRun: boolean } {
  const plain = (expression: string) => ({ by: `${expression} ${direction}, b.record ${direction}`, join: '', needsRun: false });
  const json = (path: string) => ({
    by: `k.kind IS NULL, k.kind ${direction}, k.num ${direction}, k.txt COLLATE "C" ${direction}, b.record ${direction}`,
    join: ` LEFT JOIN LATERAL (SELECT ${SORT_PARTS} FROM (SELECT quire_json(r.metadata) ${path} AS v OFFSET 0) j) k ON true`,
    needsRun: true,
  });
  switch (sort.by) {
    case 'record': return { by: `b.record ${direction}`, join: '', needsRun: false };
    case 'line': return plain('b.line');
    case 'status': return plain('b.status COLLATE "C"');
    case 'duration': {
      const duration = `(${julianday('r.completed_at')} - ${julianday('r.started_at')})`;
      return { by: `${duration} IS NULL, ${duration} ${direction}, b.record ${direction}`, join: '', needsRun: true };
    }
    case 'checks': return json("-> 'checks' -> 'failed'");
    case 'input': {
      // As in SQLite: only a plain identifier is a sortable name; any other sorts by record.
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(sort.name)) return { by: `b.record ${direction}`, join: '', needsRun: false };
      return json(`-> 'inputs' -> ${bind(sort.name)}::text`);
    }
  }
}

/** Blocks per payload, in link order. */
async function blocksOf(db: PgDb, payloadIds: number[]): Promise<Map<number, BlockLink[]>> {
  const byPayload = new Map<number, BlockLink[]>();
  if (payloadIds.length === 0) return byPayload;
  const rows = await db.query<{ payload_id: number; id: number; key: string | null; title: string; folder_path: string | null; source_path: string | null }>(
    `SELECT pb.payload_id, b.id, b.key, b.title, b.folder_path, b.source_path FROM payload_blocks pb JOIN blocks b ON b.id = pb.block_id
    WHERE pb.payload_id = ANY($1::bigint[]) ORDER BY pb.payload_id, pb.order_index NULLS FIRST, pb.ctid`, [payloadIds]);
  for (const row of rows) {
    const list = byPayload.get(row.payload_id) ?? [];
    list.push({ id: row.id, key: row.key, title: row.title, folderPath: row.folder_path, sourcePath: row.source_path });
    byPayload.set(row.payload_id, list);
  }
  return byPayload;
}

function toWorkflow(row: WorkflowRow, payloads: string[]): WorkflowSummary {
  return {
    id: row.id,
    name: row.name,
    archived: row.archived === 1,
    sourcePath: row.source_path,
    description: row.description,
    payloads,
    runCount: row.run_count,
    lastRun: row.last_run_id !== null ? { id: row.last_run_id, status: row.last_status ?? '', startedAt: row.last_started ?? '' } : null,
  };
}
