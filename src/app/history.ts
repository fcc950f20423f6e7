/**
 * Reading run history (`quire runs`, `quire show`). Opens the database without syncing.
 */
import { existsSync } from 'node:fs';
import { openDatabase } from '../adapters/db/open.js';
import { createRunStore, type ResponseRow, type RunRow } from '../adapters/db/runs.js';
import { AppError } from '../core/errors.js';

function withRuns<T>(dbPath: string, use: (runs: ReturnType<typeof createRunStore>) => T): T {
  if (!existsSync(dbPath)) throw new AppError('NOT_FOUND', `no database at ${dbPath} yet`, { hint: 'run `quire sync` or `quire run <workflow>` first' });
  const db = openDatabase(dbPath);
  try {
    return use(createRunStore(db));
  } finally {
    db.close();
  }
}

export function listRuns(dbPath: string, options: { workflow?: string; limit: number }): (RunRow & { steps: number })[] {
  return withRuns(dbPath, (runs) => runs.list(options));
}

export function showRun(dbPath: string, runId: number): { run: RunRow; responses: ResponseRow[] } {
  return withRuns(dbPath, (runs) => {
    const run = runs.get(runId);
    if (!run) throw new AppError('NOT_FOUND', `no run #${runId}`, { hint: 'see `quire runs` for the run ids' });
    return { run, responses: runs.responses(runId) };
  });
}
