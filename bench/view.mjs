/**
 * The viewer benchmark (`--only view`): `quire view` on a database of 100,000 runs.
 *
 *   database    generated once per invocation with the build's own migrations: one batch of
 *               100,000 records (each an ordinary run, trigger batch, two responses with
 *               prompts, outputs, sampler settings and checks, as runs record them) plus a
 *               cli/watch/test run after every 49 batch runs (~2,000), one workflow, one
 *               ~400-byte metadata per run: ~102,000 runs, ~204,000 responses. Written in
 *               one transaction straight into SQLite (the stores would take minutes), then
 *               checkpointed; no ANALYZE (quire never runs one).
 *   server      the viewer started in this process on the build (startViewer, read-only),
 *               pages fetched over loopback one at a time: request to last byte, median of
 *               max(runs x 4, 20) after one warm-up request. Targets: the runs list and a
 *               batch's results page <= 50 ms. Filtered, sorted and deep pages as info (a
 *               text search reads every record's outputs: no index can serve it).
 *   browser     Debian's chromium (/usr/bin/chromium, playwright-core): first contentful
 *               paint after navigation start (server time included), median of `runs`, the
 *               page loaded again in one open tab (target <= 300 ms) and in a new tab per load
 *               (info: a new renderer process first); a one-line page from a bare node:http
 *               server as the machine's floor. Skipped, with a note, without chromium.
 *
 * Only the current build is measured: with a baseline its rows have no "before" (a build
 * from before `quire view` has none to measure).
 */
import Database from 'better-sqlite3';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { fmt, formatTable, round, stats } from './lib.mjs';
import { createBenchContext } from './context.mjs';

export const VIEW_TARGETS = { serverMs: 50, paintMs: 300 };

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RECORDS = 100_000;
/** A run of another trigger after every this many batch runs. */
const OTHER_EVERY = 49;

export async function benchView({ runs = 5, keep = false, log = () => {}, context } = {}) {
  const ctx = context ?? createBenchContext({ keep, log });
  const baselineNote = ctx.builds().some((b) => b.key === 'baseline')
    ? 'only the current build is measured (this benchmark does not run the baseline build; its rows show no "before")' : undefined;
  const { dist } = ctx.build();
  const root = mkdtempSync(join(ctx.dir, 'view-'));
  const dbPath = join(root, 'data', 'quire.db');
  const load = (path) => import(pathToFileURL(join(dist, path)).href);
  const [{ openDatabase }, { createAppContext }, { startViewer }] = await Promise.all([load('adapters/db/open.js'), load('cli/context.js'), load('viewer/server.js')]);

  log(`generating ${RECORDS.toLocaleString('en-US')} batch runs (+ one other run per ${OTHER_EVERY}) in ${dbPath}`);
  const started = performance.now();
  const workload = generate(dbPath, openDatabase);
  workload.generateMs = round(performance.now() - started, 0);
  workload.dbMb = round(statSync(dbPath).size / 2 ** 20, 0);
  log(`  ${workload.runs.toLocaleString('en-US')} runs, ${workload.responses.toLocaleString('en-US')} responses, ${workload.dbMb} MB in ${round(workload.generateMs / 1000, 1)} s`);

  const app = createAppContext({ root, dbPath });
  let viewer;
  const rows = [];
  const odd = [];
  try {
    const opening = performance.now();
    viewer = await startViewer(app, { port: 0 });
    const openMs = performance.now() - opening;
    const base = `http://127.0.0.1:${viewer.port}`;
    const b = workload.batchId;
    const pages = [
      { id: 'runs', label: 'runs list, first page (server)', path: '/runs', target: VIEW_TARGETS.serverMs },
      { id: 'batch', label: 'batch results, first page of 100k records (server)', path: `/batches/${b}`, target: VIEW_TARGETS.serverMs },
      { id: 'runs-trigger', label: 'runs filtered by trigger (server)', path: '/runs?trigger=watch' },
      { id: 'runs-status-workflow', label: 'runs filtered by status and workflow (server)', path: '/runs?status=failed&workflow=pair' },
      { id: 'runs-date', label: 'runs of one day (server)', path: `/runs?from=${workload.day}&to=${workload.day}` },
      { id: 'runs-deep', label: 'runs list, page 1,000 (server)', path: '/runs?page=1000' },
      { id: 'batch-deep', label: 'batch results, page 1,000 (server)', path: `/batches/${b}?page=1000` },
      { id: 'batch-status', label: 'batch results, failed only (server)', path: `/batches/${b}?status=failed` },
      { id: 'batch-sort', label: 'batch results sorted by time, descending (server)', path: `/batches/${b}?sort=duration&dir=desc` },
      { id: 'batch-text', label: 'batch results, text search in inputs and outputs (server)', path: `/batches/${b}?q=needle` },
      { id: 'run', label: 'one run (server)', path: `/runs/${workload.sampleRun}` },
      { id: 'compare', label: 'two runs compared (server)', path: `/compare?b=${workload.sampleRun}` },
      { id: 'workflows', label: 'workflows (server)', path: '/workflows' },
    ];
    const samples = Math.max(runs * 4, 20);
    const cold = {};
    for (const page of pages) {
      const first = await timedGet(`${base}${page.path}`);
      cold[page.id] = round(first.ms, 1);
      if (first.status !== 200) odd.push(`${page.path}: status ${first.status}`);
      const times = [];
      for (let i = 0; i < samples; i++) times.push((await timedGet(`${base}${page.path}`)).ms);
      rows.push(row(page.id, page.label, 'ms', times, page.target));
      log(`  ${page.label}: ${fmt(rows.at(-1).median, 'ms')}`);
    }

    let paint = null;
    let playwright;
    try {
      playwright = existsSync(CHROMIUM) ? await import('playwright-core') : undefined;
    } catch {
      playwright = undefined;
    }
    if (!playwright) {
      odd.push(`browser rows skipped: ${existsSync(CHROMIUM) ? 'playwright-core is not installed' : `${CHROMIUM} is not installed`}`);
    } else {
      const profile = mkdtempSync(join(ctx.dir, 'chromium-'));
      const browser = await playwright.chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1360, height: 900 } });
      try {
        paint = {};
        // The floor on this machine: a one-paragraph page from a bare node:http server, in an open tab.
        const floor = await trivialPageFcp(browser, runs);
        rows.push(row('paint-floor', 'a one-line page from bare node:http: first contentful paint (browser, floor)', 'ms', floor));
        for (const page of [{ id: 'runs', label: 'runs list', path: '/runs' }, { id: 'batch', label: 'batch results', path: `/batches/${b}` }]) {
          // In an open tab (a link followed, an address typed): the target. In a fresh tab: info (a new renderer process first).
          const tab = await browser.newPage();
          const inTab = [];
          const served = [];
          for (let i = 0; i <= runs; i++) {
            await tab.goto(`${base}${page.path}${i % 2 ? '?' : ''}`, { waitUntil: 'load' });
            const timing = await paintTiming(tab);
            if (i > 0) { // the first load warms the browser's caches
              inTab.push(timing.fcp);
              served.push(timing.responseEnd);
            }
          }
          await tab.close();
          const fresh = [];
          for (let i = 0; i < runs; i++) {
            const another = await browser.newPage();
            await another.goto(`${base}${page.path}`, { waitUntil: 'load' });
            fresh.push((await paintTiming(another)).fcp);
            await another.close();
          }
          rows.push(row(`paint-${page.id}`, `${page.label}: first contentful paint (browser)`, 'ms', inTab, VIEW_TARGETS.paintMs));
          rows.push(row(`paint-${page.id}-fresh-tab`, `${page.label}: first contentful paint in a new tab (browser)`, 'ms', fresh));
          paint[page.id] = { inTab: inTab.map((t) => round(t, 1)), responseEnd: served.map((t) => round(t, 1)), freshTab: fresh.map((t) => round(t, 1)) };
          log(`  ${page.label}: first paint ${fmt(rows.at(-2).median, 'ms')} (last byte of the page at ${fmt(stats(served).median, 'ms')}), in a new tab ${fmt(rows.at(-1).median, 'ms')}`);
        }
      } finally {
        await browser.close();
      }
    }
    return { name: 'view', rows, workload, openMs: round(openMs, 1), cold, samples, paint, odd, ...(baselineNote ? { baselineNote } : {}) };
  } finally {
    await viewer?.close();
    await app.close();
    if (!context) ctx.cleanup();
  }
}

export function describeView(result) {
  const w = result.workload;
  const lines = [
    `database: ${w.runs.toLocaleString('en-US')} runs (${w.batchRuns.toLocaleString('en-US')} of one batch, the rest cli/watch/test), ${w.responses.toLocaleString('en-US')} responses, ${w.dbMb} MB, generated in ${fmt(w.generateMs / 1000, 's')}.`,
    `viewer started (database checked, opened read-only, listening) in ${fmt(result.openMs, 'ms')}; server rows: ${result.samples} requests each over loopback after one cold request ` +
      `(cold: ${Object.entries(result.cold).map(([id, ms]) => `${id} ${fmt(ms, 'ms', 0)}`).join(', ')}).`,
  ];
  if (result.paint) {
    lines.push('browser rows: first contentful paint after navigation start (server time included), loading the page again in one open tab (the first load a warm-up), and in a new tab per load (a new renderer process first).');
    lines.push(`  the page's last byte arrived at (median): ${Object.entries(result.paint).map(([id, p]) => `${id} ${fmt(stats(p.responseEnd).median, 'ms')}`).join(', ')}`);
  }
  if (result.baselineNote) lines.push(`note: ${result.baselineNote}`);
  if (result.odd.length) lines.push('odd:', ...result.odd.map((o) => `  ${o}`));
  return lines.join('\n');
}

async function trivialPageFcp(browser, runs) {
  const server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end('<!doctype html><title>floor</title><p>hello</p>');
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const tab = await browser.newPage();
  const times = [];
  try {
    for (let i = 0; i <= runs; i++) {
      await tab.goto(`http://127.0.0.1:${server.address().port}/${i % 2 ? '?' : ''}`, { waitUntil: 'load' });
      const { fcp } = await paintTiming(tab);
      if (i > 0) times.push(fcp);
    }
  } finally {
    await tab.close();
    server.close();
  }
  return times;
}

/** First contentful paint and the page's last byte, after navigation start. */
async function paintTiming(tab) {
  return tab.waitForFunction(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    return fcp && nav ? { fcp: fcp.startTime, responseEnd: nav.responseEnd } : undefined;
  }, undefined, { timeout: 5000 }).then((handle) => handle.jsonValue());
}

async function timedGet(url) {
  const start = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  return { ms: performance.now() - start, status: response.status };
}

function row(id, label, unit, values, target) {
  const s = stats(values.filter((v) => Number.isFinite(v)));
  return { id, label, unit, ...s, median: round(s.median, 1), min: round(s.min, 1), max: round(s.max, 1), target: target ?? null, pass: target === undefined ? null : s.median <= target };
}

const hex = (n, length) => n.toString(16).padStart(length, '0').slice(-length);

/**
 * The database: the build's migrations (openDatabase), then every row in one transaction
 * with the shapes quire records. Returns what was written.
 */
function generate(dbPath, openDatabase) {
  mkdirSync(join(dbPath, '..'), { recursive: true });
  openDatabase(dbPath).close();
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const files = Object.fromEntries(['blocks/persona/analyst.md', 'blocks/tasks/summarize.md', 'blocks/style/concise.md', 'workflows/payloads/summarize.payload.yaml', 'workflows/pair.workflow.yaml', 'quire.yaml']
    .map((path, i) => [path, `${hex(i * 7919 + 1, 8)}${'a1b2c3d4e5f6'.repeat(4)}`.slice(0, 64)]));
  const start = Date.UTC(2026, 0, 1);
  const at = (i) => new Date(start + i * 60_000).toISOString().replace('T', ' ').replace('Z', '');
  let runs = 0;
  let responses = 0;
  let batchId;
  let sampleRun;
  db.transaction(() => {
    const workflowId = Number(db.prepare("INSERT INTO workflows (name, source_path, content_hash, description, definition) VALUES ('pair', 'workflows/pair.workflow.yaml', 'h', 'ask, then ask again', ?)")
      .run(JSON.stringify({ inputs: { topic: { type: 'string' } }, steps: [{ name: 'one', payload: 'one' }, { name: 'two', payload: 'two' }] })).lastInsertRowid);
    const payload = db.prepare("INSERT INTO payloads (name, source_path, content_hash, options) VALUES (?, ?, 'h', '{}')");
    const one = Number(payload.run('one', 'workflows/one.payload.yaml').lastInsertRowid);
    const two = Number(payload.run('two', 'workflows/two.payload.yaml').lastInsertRowid);
    db.prepare('INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (?, ?, 0), (?, ?, 1)').run(workflowId, one, workflowId, two);
    batchId = Number(db.prepare("INSERT INTO batches (workflow_id, workflow_name, input_path, input_hash, input_format, status, started_at, settings) VALUES (?, 'pair', 'records.jsonl', 'sha256:records', 'jsonl', 'completed', ?, '{\"concurrency\":8}')")
      .run(workflowId, at(0)).lastInsertRowid);
    const run = db.prepare('INSERT INTO runs (workflow_id, status, started_at, completed_at, metadata) VALUES (?, ?, ?, ?, ?)');
    const response = db.prepare('INSERT INTO responses (run_id, payload_id, content, metadata, prompt, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    const record = db.prepare('INSERT INTO batch_records (batch_id, record, line, run_id, status, key, error) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const counts = { completed: 0, failed: 0 };
    const triggers = ['cli', 'watch', 'test'];
    let n = 0;
    for (let i = 0; n < RECORDS; i++) {
      const inBatch = (i + 1) % (OTHER_EVERY + 1) !== 0;
      if (inBatch) n++;
      const topic = `${n % 100 === 0 ? 'needle' : 'hay'} ${inBatch ? n : `other ${i}`}: ${'a field of words about the topic '.repeat(3)}`;
      const failed = inBatch && n % 40 === 0;
      const pass = n % 3 !== 0;
      const trigger = inBatch ? 'batch' : triggers[i % triggers.length];
      const metadata = {
        inputs: { topic }, trigger, quire_version: '0.1.0', git_commit: hex(i * 2654435761, 40), git_dirty: i % 5 === 0, files, steps_completed: failed ? 1 : 2,
        checks: { passed: pass ? 1 : 0, failed: pass ? 0 : 1 },
        ...(inBatch ? { batch_id: batchId, batch_record: n, batch_line: n } : {}),
        ...(failed ? { error: 'the server answered 503 three times', failed_step: { index: 1, name: 'two' } } : {}),
      };
      const startedAt = at(i);
      const completedAt = new Date(start + i * 60_000 + 800 + (i % 97) * 13).toISOString().replace('T', ' ').replace('Z', '');
      const runId = Number(run.run(workflowId, failed ? 'failed' : 'completed', startedAt, completedAt, JSON.stringify(metadata)).lastInsertRowid);
      runs++;
      if (inBatch && n === 500) sampleRun = runId;
      const prompt = `[{"role":"system","content":"You are a careful analyst. Say only what the text supports."},{"role":"user","content":"Summarize the text below in 30 words.\\n\\nBe concise.\\n\\nText: ${topic}"}]`;
      const output = `echo: Text: ${topic}`;
      const common = { api: 'openai', endpoint: 'http://127.0.0.1:8080', model: 'qwen2.5-7b-instruct', model_format: 'chatml', sampler: { temperature: 0.6, max_tokens: 200, stop: ['<|im_end|>'] }, finish_reason: 'stop', attempts: 1 };
      response.run(runId, one, output, JSON.stringify({ ...common, step: 'one', step_index: 0, prompt_tokens: 84, completion_tokens: 40, time_to_first_token_ms: 120, total_ms: 640,
        checks: { step: 'one', pass, score: pass ? 1 : 0, checks: [{ check: 'max_words', pass, score: pass ? 1 : 0, weight: 1, reason: pass ? 'within 40 words' : 'output has 52 words, more than 40' }] } }), prompt, startedAt);
      responses++;
      if (!failed) {
        response.run(runId, two, `echo: Again: ${output}`, JSON.stringify({ ...common, step: 'two', step_index: 1, prompt_tokens: 60, completion_tokens: 44, time_to_first_token_ms: 110, total_ms: 700 }), `Again: ${output}`, completedAt);
        responses++;
      }
      if (inBatch) {
        record.run(batchId, n, n, runId, failed ? 'failed' : 'completed', `key-${n}`, failed ? 'the server answered 503 three times' : null);
        counts[failed ? 'failed' : 'completed']++;
      }
    }
    db.prepare('UPDATE batches SET record_count = ?, completed = ?, failed = ?, completed_at = ? WHERE id = ?').run(RECORDS, counts.completed, counts.failed, at(runs), batchId);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { runs, batchRuns: RECORDS, responses, batchId, sampleRun, day: at(Math.floor(runs / 2)).slice(0, 10) };
}

// `node bench/view.mjs [--runs N]`: this benchmark alone, without bench/run.mjs (after a build).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--runs');
  const runs = at === -1 ? 5 : Number(process.argv[at + 1]);
  const result = await benchView({ runs, log: (line) => process.stderr.write(`${line}\n`) });
  const target = (r) => (r.target === null ? '' : `<= ${r.target} ${r.unit}`);
  process.stdout.write(`\nview\n${formatTable(['measurement', 'median', 'min', 'max', 'runs', 'target', 'result'],
    result.rows.map((r) => [r.label, fmt(r.median, r.unit), fmt(r.min, ''), fmt(r.max, ''), String(r.runs), target(r), r.pass === null ? '' : r.pass ? 'pass' : 'FAIL']))}\n\n${describeView(result)}\n`);
}
