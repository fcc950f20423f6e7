/**
 * `quire export`: write rows that exist only in the database as workspace files. Every
 * write is planned first: when any target is unusable (a file that differs, a folder or
 * special file in the way, a symbolic link leading outside, two rows at one path), the
 * export is refused as a whole, naming each target and its row, and nothing is written.
 */
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
  const byPath = new Map(plan.files.map((file) => [file.path, file]));
  const writes = ctx.writer.plan(outDir, plan.files.map((file) => ({ path: file.path, content: file.text, owner: `${file.kind} #${file.id}` })));
  if (writes.problems.length > 0) {
    const lines = writes.problems.map((p) => `${p.path}: cannot write ${p.owner ?? 'it'}: ${p.message}`);
    throw new AppError('IO', `export refused: ${writes.problems.length} target(s) cannot be written:\n  ${lines.slice(0, 20).join('\n  ')}${lines.length > 20 ? '\n  …' : ''}`, {
      hint: 'nothing was written; move those files away or pass --out <empty dir>',
    });
  }
  ctx.writer.apply(writes);
  return {
    outDir,
    written: writes.toWrite.map((w) => byPath.get(w.path)!),
    unchanged: writes.unchanged.map((w) => byPath.get(w.path)!),
    warnings: plan.warnings,
  };
}
