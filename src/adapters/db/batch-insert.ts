/**
 * Multi-row INSERTs: one statement call per batch of rows instead of one per row. Most
 * of a bulk insert's cost through better-sqlite3 is the per-call overhead, not SQLite.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

export interface BatchInserter {
  add(values: readonly unknown[]): void;
  /** Inserts what is buffered; call before anything reads the table. */
  flush(): void;
}

/**
 * @param returning columns to return for each inserted row (e.g. `id, key`), given to
 *   `onRows` per flushed batch; rows are matched by those columns, not by order.
 */
export function createBatchInserter(
  db: Db,
  table: string,
  columns: readonly string[],
  options: { batchRows?: number; returning?: string; onRows?: (rows: unknown[][]) => void; orReplace?: boolean } = {},
): BatchInserter {
  // SQLite allows 32,766 bound values per statement; stay far below.
  const batchRows = Math.max(1, Math.min(options.batchRows ?? 200, Math.floor(30_000 / columns.length)));
  const statements = new Map<number, Statement>();
  const statementFor = (rows: number) => {
    let statement = statements.get(rows);
    if (!statement) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      const returning = options.returning ? ` RETURNING ${options.returning}` : '';
      statement = db.prepare(`INSERT${options.orReplace ? ' OR REPLACE' : ''} INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}${returning}`);
      if (options.returning) statement.raw();
      statements.set(rows, statement);
    }
    return statement;
  };
  let buffer: unknown[] = [];
  let rows = 0;
  const flush = () => {
    if (rows === 0) return;
    const statement = statementFor(rows);
    if (options.returning) options.onRows?.(statement.all(...buffer) as unknown[][]);
    else statement.run(...buffer);
    buffer = [];
    rows = 0;
  };
  return {
    add(values) {
      for (const value of values) buffer.push(value);
      rows++;
      if (rows === batchRows) flush();
    },
    flush,
  };
}
