/**
 * The baseline a sync is compared with, in a fresh process: read every workspace file
 * (readFileSync over the same list), then insert the same rows a cold sync writes
 * (blocks, payloads, payload_blocks, workflows, workflow_payloads) with one prepared
 * statement per table in one transaction, into a new better-sqlite3 database in WAL mode.
 * No parsing, hashing, validation or migrations. Usage: node baseline-worker.mjs <manifest.json> <db>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { REPO_DIR } from '../lib.mjs';

const [manifestPath, dbPath] = process.argv.slice(2);
const startupMs = performance.now();
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')); // preparation, not timed
const require = createRequire(join(REPO_DIR, 'package.json'));

const importStart = performance.now();
const Database = require('better-sqlite3');
const importMs = performance.now() - importStart;

const t0 = performance.now();
const texts = new Map();
for (const rel of manifest.files) texts.set(rel, readFileSync(join(manifest.root, rel), 'utf8'));
const readMs = performance.now() - t0;

const t1 = performance.now();
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE blocks (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, content TEXT, tags TEXT, folder_path TEXT, key TEXT, source_path TEXT);
  CREATE TABLE payloads (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, source_path TEXT);
  CREATE TABLE payload_blocks (payload_id INTEGER, block_id INTEGER, order_index INTEGER);
  CREATE TABLE workflows (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, source_path TEXT);
  CREATE TABLE workflow_payloads (workflow_id INTEGER, payload_id INTEGER, order_index INTEGER);
`);
const insertBlock = db.prepare('INSERT INTO blocks (title, content, tags, folder_path, key, source_path) VALUES (?, ?, ?, ?, ?, ?)');
const insertPayload = db.prepare('INSERT INTO payloads (name, source_path) VALUES (?, ?)');
const insertLink = db.prepare('INSERT INTO payload_blocks (payload_id, block_id, order_index) VALUES (?, ?, ?)');
const insertWorkflow = db.prepare('INSERT INTO workflows (name, source_path) VALUES (?, ?)');
const insertStep = db.prepare('INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (?, ?, ?)');
const rows = { blocks: 0, payloads: 0, payloadBlocks: 0, workflows: 0, workflowPayloads: 0 };
db.transaction(() => {
  const blockIds = manifest.blocks.map((b) => {
    rows.blocks++;
    return Number(insertBlock.run(b.title, texts.get(b.path), b.tags.join(','), b.folder, b.key, b.path).lastInsertRowid);
  });
  const payloadIds = manifest.payloads.map((p) => {
    const id = Number(insertPayload.run(p.name, p.path).lastInsertRowid);
    rows.payloads++;
    p.links.forEach((index, order) => {
      insertLink.run(id, blockIds[index], order);
      rows.payloadBlocks++;
    });
    return id;
  });
  for (const w of manifest.workflows) {
    const id = Number(insertWorkflow.run(w.name, w.path).lastInsertRowid);
    rows.workflows++;
    w.stepIndexes.forEach((index, order) => {
      insertStep.run(id, payloadIds[index], order);
      rows.workflowPayloads++;
    });
  }
})();
db.close();
const writeMs = performance.now() - t1;

process.stdout.write(`${JSON.stringify({ startupMs, importMs, readMs, writeMs, workMs: readMs + writeMs, rows, totalMs: performance.now(), maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
