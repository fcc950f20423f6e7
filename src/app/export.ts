/**
 * `quire export`: write rows that exist only in the database as workspace files.
 * Never overwrites a file that differs: the export is refused as a whole instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../core/errors.js';
import { planExport, type ExportedFile } from '../core/export.js';
import { BUILTIN_FORMATS } from '../core/formats/index.js';
import type { AppContext } from './context.js';

export interface ExportResult {
  outDir: string;
  written: ExportedFile[];
  unchanged: ExportedFile[];
  warnings: string[];
}

export async function exportDatabaseRows(ctx: AppContext, outDir: string): Promise<ExportResult> {
  const { mirror } = await ctx.stores.forReading();
  const plan = planExport(await mirror.exportSource(), new Set(Object.keys(BUILTIN_FORMATS)));

  const written: ExportedFile[] = [];
  const unchanged: ExportedFile[] = [];
  const conflicts: string[] = [];
  for (const file of plan.files) {
    const target = join(outDir, file.path);
    if (!existsSync(target)) continue;
    if (readFileSync(target, 'utf8') === file.text) unchanged.push(file);
    else conflicts.push(file.path);
  }
  if (conflicts.length > 0) {
    throw new AppError('IO', `export would overwrite ${conflicts.length} file(s) that differ: ${conflicts.slice(0, 5).join(', ')}${conflicts.length > 5 ? ', …' : ''}`, {
      hint: 'nothing was written; move those files away or pass --out <empty dir>',
    });
  }
  for (const file of plan.files) {
    if (unchanged.includes(file)) continue;
    const target = join(outDir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.text, { flag: 'wx' });
    written.push(file);
  }
  return { outDir, written, unchanged, warnings: plan.warnings };
}
