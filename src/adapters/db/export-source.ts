/**
 * What `quire export` needs from the mirror: the rows that exist only in the database,
 * their links, and the keys and names files already use.
 */
import type { ExportBlockRow, ExportInput, ExportPayloadRow, ExportWorkflowRow } from '../../core/export.js';
import type { Db } from './open.js';

export function planExportSource(db: Db): ExportInput {
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
  return {
    blocks,
    payloads,
    workflows,
    fileBlockKeys: new Map(fileBlocks.map((r) => [r.id, r.key])),
    filePayloadNames: new Map(filePayloads.map((r) => [r.id, r.name])),
    takenBlockKeys: new Set(fileBlocks.map((r) => r.key)),
    takenPayloadNames: new Set(filePayloads.map((r) => r.name)),
    takenWorkflowNames: new Set(fileWorkflows.map((r) => r.name)),
  };
}
