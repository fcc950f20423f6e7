/**
 * Run history: one `runs` row per run, one `responses` row per completed step, each
 * committed as soon as it exists so a crash loses at most the step in flight.
 */
import type { Db } from './open.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface RunRow {
  id: number;
  workflow_id: number | null;
  workflow: string | null;
  status: RunStatus;
  started_at: string;
  completed_at: string | null;
  metadata: Record<string, unknown>;
}

export interface ResponseRow {
  id: number;
  run_id: number;
  payload_id: number | null;
  payload: string | null;
  content: string | null;
  prompt: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
}

const parse = (text: string | null): Record<string, unknown> => {
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { raw: text }; // rows typed into the original system may hold any text
  }
};

export function createRunStore(db: Db) {
  const insertRun = db.prepare("INSERT INTO runs (workflow_id, status, started_at, metadata) VALUES (?, 'running', ?, ?)");
  const insertResponse = db.prepare('INSERT INTO responses (run_id, payload_id, content, metadata, prompt, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const finish = db.prepare('UPDATE runs SET status = ?, completed_at = ?, metadata = ? WHERE id = ?');
  const selectRunning = db.prepare("SELECT id, metadata FROM runs WHERE status = 'running'");
  const selectRun = db.prepare('SELECT r.*, w.name AS workflow FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id WHERE r.id = ?');
  const selectResponses = db.prepare('SELECT s.*, p.name AS payload FROM responses s LEFT JOIN payloads p ON p.id = s.payload_id WHERE s.run_id = ? ORDER BY s.id');

  const toRun = (row: Record<string, unknown>): RunRow => ({ ...(row as unknown as RunRow), metadata: parse(row['metadata'] as string | null) });

  return {
    /** Inserts a `running` run and returns its id. */
    start(workflowId: number | null, metadata: Record<string, unknown>): number {
      return Number(insertRun.run(workflowId, sqlNow(), JSON.stringify(metadata)).lastInsertRowid);
    },
    /** Records one completed step. */
    addResponse(runId: number, payloadId: number | null, content: string, prompt: string, metadata: Record<string, unknown>): number {
      return Number(insertResponse.run(runId, payloadId, content, JSON.stringify(metadata), prompt, sqlNow()).lastInsertRowid);
    },
    finish(runId: number, status: Exclude<RunStatus, 'running'>, metadata: Record<string, unknown>): void {
      finish.run(status, sqlNow(), JSON.stringify(metadata), runId);
    },
    /**
     * Runs left `running` by a process that no longer exists become `failed` (interrupted).
     * Runs of live processes (a `quire watch` elsewhere) are left alone.
     */
    markInterrupted(isAlive: (pid: number) => boolean): number[] {
      const marked: number[] = [];
      for (const row of selectRunning.all() as { id: number; metadata: string | null }[]) {
        const metadata = parse(row.metadata);
        const pid = typeof metadata['pid'] === 'number' ? metadata['pid'] : undefined;
        if (pid !== undefined && isAlive(pid)) continue;
        metadata['error'] = 'interrupted: the quire process running it stopped before it finished';
        finish.run('failed', sqlNow(), JSON.stringify(metadata), row.id);
        marked.push(row.id);
      }
      return marked;
    },
    get(runId: number): RunRow | undefined {
      const row = selectRun.get(runId) as Record<string, unknown> | undefined;
      return row ? toRun(row) : undefined;
    },
    responses(runId: number): ResponseRow[] {
      return (selectResponses.all(runId) as Record<string, unknown>[]).map((row) => ({ ...(row as unknown as ResponseRow), metadata: parse(row['metadata'] as string | null) }));
    },
    list(options: { workflow?: string; limit: number }): (RunRow & { steps: number })[] {
      const where = options.workflow ? 'WHERE w.name = ?' : '';
      const sql = `SELECT r.*, w.name AS workflow, (SELECT count(*) FROM responses s WHERE s.run_id = r.id) AS steps
        FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id ${where} ORDER BY r.id DESC LIMIT ?`;
      const params = options.workflow ? [options.workflow, options.limit] : [options.limit];
      return (db.prepare(sql).all(...params) as Record<string, unknown>[]).map((row) => ({ ...toRun(row), steps: row['steps'] as number }));
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;

/** The original schema stores timestamps as SQLite's CURRENT_TIMESTAMP text (UTC); keep that shape, with milliseconds. */
function sqlNow(): string {
  return new Date().toISOString().replace('T', ' ').replace('Z', '');
}
