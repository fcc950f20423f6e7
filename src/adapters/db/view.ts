/**
 * The viewer's reads (ViewQueries) in SQLite: pages of runs and of a batch's records,
 * filtered, sorted and counted in SQL so a page of 100,000 costs what one page costs
 * (the indexes are migration m007's), and the workflows with their payload and block
 * links. Read-only: it prepares no write, so it runs on a read-only connection.
 *
 * JSON in metadata columns is read through `json_valid` first: rows typed into the
 * original system may hold any text, and json_extract throws on malformed JSON.
 */
import type { BatchRecordResult } from '../../core/batch.js';
import type { ViewQueries } from '../../core/ports.js';
import type { BatchResultSort, BlockLink, PayloadLink, RunFilter, RunListItem, WorkflowSummary } from '../../core/view.js';
import { parseMetadata, RUN_COLUMNS, toRun, type RunRow } from './history.js';
import type { Db } from './open.js';

/** runs.metadata's trigger, exactly as the index runs_by_trigger is built (SQLite matches index expressions textually). */
const TRIGGER = "(CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, '$.trigger') END)";

type WorkflowRow = { id: number; name: string; archived: number; source_path: string | null; description: string | null; definition: string | null; run_count: number; last_run_id: number | null; last_status: string | null; last_started: string | null };
type ResultRow = { record: number; line: number; run_id: number | null; status: BatchRecordResult['status']; key: string | null; error: string | null };

export function createViewQueries(db: Db): ViewQueries {
  return {
    async runsPage(filter, { limit, offset }) {
      const { where, params } = runWhere(filter);
      const total = db.prepare(`SELECT count(*) FROM runs r ${where}`).pluck().get(...params) as number;
      const rows = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id ${where} ORDER BY r.id DESC LIMIT ? OFFSET ?`)
        .all(...params, limit, offset) as RunRow[];
      return { total, runs: withResponseTotals(db, rows) };
    },

    async workflowNames() {
      return db.prepare('SELECT DISTINCT name FROM workflows ORDER BY name').pluck().all() as string[];
    },

    async batchResultsPage(batchId, { status, text, sort, descending, page }) {
      const conditions = ['b.batch_id = ?'];
      const params: unknown[] = [batchId];
      if (status !== undefined) {
        conditions.push('b.status = ?');
        params.push(status);
      }
      if (text !== undefined && text !== '') {
        const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        conditions.push(`(b.error LIKE ? ESCAPE '\\'
          OR EXISTS (SELECT 1 FROM responses s WHERE s.run_id = b.run_id AND s.content LIKE ? ESCAPE '\\')
          OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(r.metadata) THEN r.metadata ELSE '{}' END, '$.inputs') i WHERE CAST(i.value AS TEXT) LIKE ? ESCAPE '\\'))`);
        params.push(pattern, pattern, pattern);
      }
      const needsRun = (text !== undefined && text !== '') || sort.by === 'duration' || sort.by === 'checks' || sort.by === 'input';
      const from = `batch_records b${needsRun ? ' LEFT JOIN runs r ON r.id = b.run_id' : ''}`;
      const where = `WHERE ${conditions.join(' AND ')}`;
      const total = db.prepare(`SELECT count(*) FROM ${from} ${where}`).pluck().get(...params) as number;
      const { expression, params: sortParams } = sortExpression(sort);
      const direction = descending ? 'DESC' : 'ASC';
      // Records without the sorted value (no run, no such input) come last either way.
      const order = expression === 'b.record' ? `b.record ${direction}` : `(${expression}) IS NULL, ${expression} ${direction}, b.record ${direction}`;
      const rows = db.prepare(`SELECT b.record, b.line, b.run_id, b.status, b.key, b.error FROM ${from} ${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .all(...params, ...sortParams, ...sortParams, page.limit, page.offset) as ResultRow[];
      return { total, results: rows.map((row) => ({ record: row.record, line: row.line, runId: row.run_id, status: row.status, key: row.key, error: row.error })) };
    },

    async workflows() {
      const rows = db.prepare(`SELECT w.id, w.name, w.archived, w.source_path, w.description, w.definition,
          (SELECT count(*) FROM runs r WHERE r.workflow_id = w.id) AS run_count,
          l.id AS last_run_id, l.status AS last_status, l.started_at AS last_started
        FROM workflows w LEFT JOIN runs l ON l.id = (SELECT max(id) FROM runs r WHERE r.workflow_id = w.id)
        ORDER BY w.archived, w.name, w.id`).all() as WorkflowRow[];
      const payloads = new Map<number, string[]>();
      const links = db.prepare(`SELECT wp.workflow_id AS workflow, p.name FROM workflow_payloads wp JOIN payloads p ON p.id = wp.payload_id
        ORDER BY wp.workflow_id, wp.order_index`).all() as { workflow: number; name: string }[];
      for (const link of links) payloads.set(link.workflow, [...(payloads.get(link.workflow) ?? []), link.name]);
      return rows.map((row) => toWorkflow(row, payloads.get(row.id) ?? []));
    },

    async workflow(id) {
      const row = db.prepare(`SELECT w.id, w.name, w.archived, w.source_path, w.description, w.definition,
          (SELECT count(*) FROM runs r WHERE r.workflow_id = w.id) AS run_count,
          l.id AS last_run_id, l.status AS last_status, l.started_at AS last_started
        FROM workflows w LEFT JOIN runs l ON l.id = (SELECT max(id) FROM runs r WHERE r.workflow_id = w.id)
        WHERE w.id = ?`).get(id) as WorkflowRow | undefined;
      if (!row) return undefined;
      const stepRows = db.prepare(`SELECT wp.order_index, p.id, p.name, p.archived, p.source_path, p.model_format, p.llm_port, p.temperature, p.response_length
        FROM workflow_payloads wp LEFT JOIN payloads p ON p.id = wp.payload_id WHERE wp.workflow_id = ? ORDER BY wp.order_index, wp.rowid`).all(id) as
        { order_index: number | null; id: number | null; name: string | null; archived: number | null; source_path: string | null; model_format: string | null; llm_port: number | null; temperature: number | null; response_length: number | null }[];
      const payloadIds = [...new Set(stepRows.flatMap((s) => (s.id !== null ? [s.id] : [])))];
      const blocks = blocksOf(db, payloadIds);
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

    async dataVersion() {
      return db.pragma('data_version', { simple: true }) as number;
    },
  };
}

function runWhere(filter: RunFilter): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.workflowId !== undefined) {
    conditions.push('r.workflow_id = ?');
    params.push(filter.workflowId);
  }
  if (filter.workflow !== undefined) {
    // By id through the workflows_by_name index: runs_by_workflow then serves the order.
    conditions.push('r.workflow_id IN (SELECT id FROM workflows WHERE name = ?)');
    params.push(filter.workflow);
  }
  if (filter.status !== undefined) {
    conditions.push('r.status = ?');
    params.push(filter.status);
  }
  if (filter.trigger !== undefined) {
    conditions.push(`${TRIGGER} = ?`);
    params.push(filter.trigger);
  }
  // Timestamps are text (`YYYY-MM-DD HH:MM:SS[.mmm]`, UTC): a day is a range of that text.
  if (filter.from !== undefined) {
    conditions.push('r.started_at >= ?');
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    conditions.push('r.started_at < ?');
    params.push(nextDay(filter.to));
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** `YYYY-MM-DD` -> the day after, as the same text. */
function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** The page's runs with their step count and token sums, from one read of their responses' metadata. */
function withResponseTotals(db: Db, rows: RunRow[]): RunListItem[] {
  const totals = new Map<number, { steps: number; prompt: number | null; completion: number | null }>();
  for (const row of rows) totals.set(row.id, { steps: 0, prompt: null, completion: null });
  if (rows.length > 0) {
    const marks = rows.map(() => '?').join(',');
    const responses = db.prepare(`SELECT run_id, metadata FROM responses WHERE run_id IN (${marks})`).raw().all(...rows.map((r) => r.id)) as [number, string | null][];
    for (const [runId, metadata] of responses) {
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

/** The ORDER BY expression of a sort, with its parameters (each used twice: the NULL test and the value). */
function sortExpression(sort: BatchResultSort): { expression: string; params: unknown[] } {
  switch (sort.by) {
    case 'record': return { expression: 'b.record', params: [] };
    case 'line': return { expression: 'b.line', params: [] };
    case 'status': return { expression: 'b.status', params: [] };
    // julianday of text that is not a date is NULL, never an error.
    case 'duration': return { expression: '(julianday(r.completed_at) - julianday(r.started_at))', params: [] };
    case 'checks': return { expression: "(CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, '$.checks.failed') END)", params: [] };
    case 'input':
      // A JSON path from a plain identifier only: any other name could make the path invalid (an error).
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(sort.name)) return { expression: 'b.record', params: [] };
      return { expression: '(CASE WHEN json_valid(r.metadata) THEN json_extract(r.metadata, ?) END)', params: [`$.inputs."${sort.name}"`] };
  }
}

/** Blocks per payload, in link order. */
function blocksOf(db: Db, payloadIds: number[]): Map<number, BlockLink[]> {
  const byPayload = new Map<number, BlockLink[]>();
  for (let at = 0; at < payloadIds.length; at += 500) {
    const ids = payloadIds.slice(at, at + 500);
    const rows = db.prepare(`SELECT pb.payload_id, b.id, b.key, b.title, b.folder_path, b.source_path FROM payload_blocks pb JOIN blocks b ON b.id = pb.block_id
      WHERE pb.payload_id IN (${ids.map(() => '?').join(',')}) ORDER BY pb.payload_id, pb.order_index, pb.rowid`).all(...ids) as
      { payload_id: number; id: number; key: string | null; title: string; folder_path: string | null; source_path: string | null }[];
    for (const row of rows) {
      const list = byPayload.get(row.payload_id) ?? [];
      list.push({ id: row.id, key: row.key, title: row.title, folderPath: row.folder_path, sourcePath: row.source_path });
      byPayload.set(row.payload_id, list);
    }
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
