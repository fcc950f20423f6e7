/**
 * `quire migrate-store --from <store> --to <store>`: the whole history copied from one store
 * to another (a SQLite file, a Postgres database, either way), every row with its id, so
 * every link stays what it was. On the ports of core/store-copy.ts only.
 *
 * - Two different stores: the same one under two names is refused before either opens.
 * - The source is only read, and must be at this quire's schema (a copy never migrates it;
 *   a newer one is refused as every command refuses it).
 * - The target is created and migrated as needed, and must hold no history at all: a copy
 *   never merges and never overwrites. It is checked before anything is written to it, and
 *   again inside the copy's one transaction (nobody filled it meanwhile).
 * - The copy is one transaction on the target: it holds everything or, on any failure (a
 *   value the target cannot hold exactly, a lost connection), nothing.
 * - Tables in foreign-key order, a page at a time (flat memory); each id sequence then
 *   continues past every id copied and every id the source had handed out.
 * - Not copied: the parse cache, which belongs to each checkout (the target's is emptied;
 *   its next sync reads every file once). Any other table the source holds rows in that
 *   this copy does not know (the original system's own) is named in the result.
 */
import { MigrationError, AppError, UsageError } from '../core/errors.js';
import { COPY_TABLES, hasIdSequence, type StoreEndpoint } from '../core/store-copy.js';

export type MigrateStoreEvent =
  /** Rows of `table` copied so far (after each page). */
  | { type: 'rows'; table: string; rows: number }
  /** `table` is copied: `rows` rows. */
  | { type: 'table'; table: string; rows: number };

export interface MigrateStoreOptions {
  from: StoreEndpoint;
  to: StoreEndpoint;
  onProgress?: (event: MigrateStoreEvent) => void;
}

export interface MigrateStoreResult {
  /** Where from and where to, as they may be shown (no password). */
  from: string;
  to: string;
  /** Rows per table, in the order copied. */
  tables: { table: string; rows: number }[];
  total: number;
  /** Tables of the source this copy does not know that hold rows (left behind; the original system's own, or a newer quire's). */
  notCopied: { table: string; rows: number }[];
}

export async function migrateStore(options: MigrateStoreOptions): Promise<MigrateStoreResult> {
  const { from, to, onProgress } = options;
  if (from.identity === to.identity) {
    throw new UsageError(`--from and --to are the same store (${to.location}); a copy needs another one`, {
      hint: 'give --to a new file or an empty database',
    });
  }
  const source = await from.openSource();
  try {
    const pending = await source.pendingMigrations();
    if (pending.length > 0) {
      throw new MigrationError(`the source ${from.location} is not at this quire's schema (it lacks ${pending.join(', ')}), and migrate-store never writes to its source`, {
        hint: `run any quire command against it once (for example \`quire runs --db ${from.location}\`), which brings it up to date; then copy again`,
      });
    }
    const target = await to.openTarget();
    try {
      refuseOccupied(to, await target.occupied(COPY_TABLES));
      const session = await target.begin();
      try {
        refuseOccupied(to, await session.occupied(COPY_TABLES));
        const tables: { table: string; rows: number }[] = [];
        for (const table of COPY_TABLES) {
          let rows = 0;
          for await (const page of source.rows(table)) {
            await session.insert(table, page);
            rows += page.length;
            onProgress?.({ type: 'rows', table: table.name, rows });
          }
          tables.push({ table: table.name, rows });
          onProgress?.({ type: 'table', table: table.name, rows });
        }
        const lastIds = new Map<string, number>();
        for (const table of COPY_TABLES.filter(hasIdSequence)) lastIds.set(table.name, await source.lastId(table));
        const notCopied = await source.otherTables();
        await session.commit(lastIds);
        return { from: from.location, to: to.location, tables, total: tables.reduce((sum, t) => sum + t.rows, 0), notCopied };
      } catch (error) {
        await session.rollback().catch(() => {});
        throw error;
      }
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

function refuseOccupied(to: StoreEndpoint, occupied: readonly string[]): void {
  if (occupied.length === 0) return;
  throw new AppError('DATABASE', `the target ${to.location} already holds history (rows in ${occupied.join(', ')}); migrate-store copies only into an empty store, and never merges or overwrites`, {
    hint: to.kind === 'sqlite' ? 'give --to a path where no database is yet' : 'give --to a new, empty database (createdb)',
  });
}
