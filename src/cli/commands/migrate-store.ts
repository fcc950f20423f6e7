import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';

/** At most one progress line per table this often while a table is being copied. */
const PROGRESS_EVERY_MS = 2000;

export function registerMigrateStore(cli: CAC): void {
  cli
    .command('migrate-store', 'Copy the whole history (every id and link kept) from one store to another: a SQLite file or a postgres:// URL')
    .option('--from <store>', 'Store to copy from: a SQLite file or postgres://user@host/db (only read; must be at this quire\'s schema)')
    .option('--to <store>', 'Store to copy into: created and migrated as needed; must hold no history')
    .example('quire migrate-store --from data/quire.db --to postgres://me@db.example/quire')
    .action(async (flags: GlobalOptions & { from?: unknown; to?: unknown }) => {
      const spec = (name: 'from' | 'to') => {
        const value = flags[name];
        if (value === undefined || value === true || value === '') throw new UsageError(`migrate-store needs --${name} <store>`, { hint: 'quire migrate-store --from <file | postgres://...> --to <file | postgres://...>' });
        if (Array.isArray(value)) throw new UsageError(`--${name} given more than once`);
        return String(value);
      };
      const from = spec('from');
      const to = spec('to');
      const { storeEndpoint } = await import('../store-copy-targets.js');
      const { migrateStore } = await import('../../app/migrate-store.js');
      const { printJson, oneLine } = await import('../report.js');
      const json = Boolean(flags.json);
      const quiet = Boolean(flags.quiet);
      let lastLine = Date.now();
      const result = await migrateStore({
        from: await storeEndpoint(from),
        to: await storeEndpoint(to),
        onProgress: (event) => {
          if (quiet) return;
          const now = Date.now();
          if (event.type === 'table') process.stderr.write(`  ${event.table}: ${event.rows} rows\n`);
          else if (now - lastLine < PROGRESS_EVERY_MS) return;
          else process.stderr.write(`  ${event.table}: ${event.rows} rows so far…\n`);
          lastLine = now;
        },
      });
      if (json) {
        printJson({ ok: true, from: result.from, to: result.to, tables: Object.fromEntries(result.tables.map((t) => [t.table, t.rows])), total: result.total,
          notCopied: Object.fromEntries(result.notCopied.map((t) => [t.table, t.rows])) });
        return;
      }
      for (const t of result.notCopied) process.stderr.write(`warning: not copied: table ${oneLine(t.table)} (${t.rows} rows), which is not quire's history\n`);
      if (quiet) return;
      process.stdout.write(`copied ${result.total} rows from ${oneLine(result.from)} to ${oneLine(result.to)}, ids and links as they were\n`);
      const width = Math.max(...result.tables.map((t) => t.table.length));
      for (const t of result.tables) process.stdout.write(`  ${t.table.padEnd(width)}  ${String(t.rows).padStart(8)}\n`);
    });
}
