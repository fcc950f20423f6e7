import type { SyncReport } from '../../core/sync-report.js';
import type { CommandContext } from '../context.js';
import { printJson } from '../report.js';
import { displayLocation } from '../../core/store-location.js';

const COLUMNS = ['added', 'updated', 'adopted', 'archived', 'removed', 'unchanged'] as const;

export function reportSync(context: CommandContext, report: SyncReport): void {
  if (context.json) {
    printJson({ ok: true, db: displayLocation(context.dbPath), ...report });
    return;
  }
  if (context.quiet) return;
  const rows = (['blocks', 'payloads', 'workflows'] as const).map((kind) => [kind, ...COLUMNS.map((c) => String(report[kind][c]))]);
  const header = ['', ...COLUMNS];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  process.stdout.write(`synced ${displayLocation(context.dbPath)}\n${line(header)}\n${rows.map(line).join('\n')}\n`);
}
