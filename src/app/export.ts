/**
 * `quire export`: write rows that exist only in the database as workspace files.
 * Never overwrites a file that differs: the export is refused as a whole instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDatabase } from '../adapters/db/open.js';
import { AppError } from '../core/errors.js';
import { planExport, type ExportBlockRow, type ExportPayloadRow, type ExportWorkflowRow, type ExportedFile } from '../core/export.js';
import { BUILTIN_FORMATS } from '../core/formats/index.js';

export interface ExportResult {
  outDir: string;
  written: ExportedFile[];
  unchanged: ExportedFile[];
  warnings: string[];
}

export function exportDatabaseRows(dbPath: string, outDir: string): ExportResult {
  const db = openDatabase(dbPath);
  let plan;
  try {
    const blocks = db.prepare('SELECT id, title, content, tags, folder_path FROM blocks WHERE source_path IS NULL ORDER BY id').all() as ExportBlockRow[];
    const links = (sql: string) => {
      const map = new Map<number, number[]>();
      for (const row of db.prepare(sql).all() as { owner: number; target: number }[]) {
        const list = map.get(row.owner) ?? [];
        list.push(row.target);
        map.set(row.owner, list);
      }
      return map;
    };
    const payloadLinks = links('SELECT payload_id AS owner, block_id AS target FROM payload_blocks ORDER BY payload_id, order_index');
    const workflowLinks = links('SELECT workflow_id AS owner, payload_id AS target FROM workflow_payloads ORDER BY workflow_id, order_index');
    const payloads = (db.prepare('SELECT id, name, temperature, response_length, llm_port, model_format FROM payloads WHERE source_path IS NULL ORDER BY id').all() as Omit<ExportPayloadRow, 'blockIds'>[])
      .map((row) => ({ ...row, blockIds: payloadLinks.get(row.id) ?? [] }));
    const workflows = (db.prepare('SELECT id, name FROM workflows WHERE source_path IS NULL ORDER BY id').all() as Omit<ExportWorkflowRow, 'payloadIds'>[])
      .map((row) => ({ ...row, payloadIds: workflowLinks.get(row.id) ?? [] }));
    const fileBlocks = db.prepare('SELECT id, key FROM blocks WHERE source_path IS NOT NULL').all() as { id: number; key: string }[];
    const filePayloads = db.prepare('SELECT id, name FROM payloads WHERE source_path IS NOT NULL').all() as { id: number; name: string }[];
    const fileWorkflows = db.prepare('SELECT name FROM workflows WHERE source_path IS NOT NULL').all() as { name: string }[];
    plan = planExport(
      {
        blocks, payloads, workflows,
        fileBlockKeys: new Map(fileBlocks.map((r) => [r.id, r.key])),
        filePayloadNames: new Map(filePayloads.map((r) => [r.id, r.name])),
        takenBlockKeys: new Set(fileBlocks.map((r) => r.key)),
        takenPayloadNames: new Set(filePayloads.map((r) => r.name)),
        takenWorkflowNames: new Set(fileWorkflows.map((r) => r.name)),
      },
      new Set(Object.keys(BUILTIN_FORMATS)),
    );
  } finally {
    db.close();
  }

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
