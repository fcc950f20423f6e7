/**
 * Batches: the list with progress and counts, and one batch's results table (one row per
 * record: inputs, each step's output, checks), filtered, sorted and paged on the server
 * (a batch may hold 100,000 records), with the JSONL and CSV exports of `quire results`.
 */
import type { BatchDetailView, BatchView, ResultView } from '../../app/view.js';
import { elapsedMs } from '../../app/view.js';
import type { BatchResultSort } from '../../core/view.js';
import { checkCounts, clip, count, duration, statusBadge, timestamp, valueText } from '../format.js';
import { html, queryString, type Html } from '../html.js';
import type { Page } from './layout.js';
import { pager, type Paging } from './pager.js';

export const RECORD_STATUSES = ['completed', 'failed', 'cancelled', 'invalid'] as const;

export function batchesPage(batches: BatchView[]): Page {
  return {
    title: 'Batches',
    section: 'batches',
    head: html`<h1>Batches</h1>`,
    live: batches.length === 0
      ? html`<div class="empty">No batches yet: <code>quire run &lt;workflow&gt; --batch records.jsonl</code> records one.</div>`
      : html`<table class="batches" data-sort="client"><thead><tr><th class="num">batch</th><th>workflow</th><th>status</th><th>input</th><th>progress</th><th class="num">records</th><th class="num">completed</th><th class="num">failed</th><th class="num">cancelled</th><th class="num">invalid</th><th>started (UTC)</th><th class="num">time</th></tr></thead><tbody>
${batches.map((b) => html`<tr>
<td class="num" data-value="${b.id}"><a href="/batches/${b.id}">#${b.id}</a></td>
<td>${b.workflow}</td>
<td>${statusBadge(b.status, b.processGone)}</td>
<td><code>${clip(b.inputPath, 60)}</code></td>
<td data-value="${settled(b)}">${progress(b)}</td>
<td class="num">${count(b.recordCount)}</td><td class="num">${count(b.counts.completed)}</td><td class="num">${count(b.counts.failed)}</td><td class="num">${count(b.counts.cancelled)}</td><td class="num">${count(b.counts.invalid)}</td>
<td>${timestamp(b.startedAt)}</td>
<td class="num">${duration(elapsedMs(b.startedAt, b.completedAt))}</td>
</tr>`)}
</tbody></table>`,
  };
}

/** Records settled (any outcome) so far. */
const settled = (b: BatchView) => b.counts.completed + b.counts.failed + b.counts.cancelled + b.counts.invalid;

function progress(b: BatchView): Html {
  const done = settled(b);
  // Records read so far is all the batch knows of its input while it runs.
  const of = Math.max(b.recordCount, done, 1);
  return html`<progress max="${of}" value="${done}" title="${done} of ${b.recordCount} records read">${done}/${of}</progress> <span class="muted">${Math.floor((done / of) * 100)}%</span>`;
}

export interface BatchPageState {
  status?: string;
  text?: string;
  sort: BatchResultSort;
  descending: boolean;
  paging: Paging;
}

export function batchPage(view: BatchDetailView, state: BatchPageState): Page {
  const { batch } = view;
  const sortKey = state.sort.by === 'input' ? `input.${state.sort.name}` : state.sort.by;
  const base = { status: state.status, q: state.text, sort: sortKey === 'record' ? undefined : sortKey, dir: state.descending ? 'desc' : undefined, limit: state.paging.limit === 50 ? undefined : state.paging.limit };
  const href = (params: Record<string, string | number | undefined>) => `/batches/${batch.id}${queryString({ ...base, ...params })}`;
  const pageHref = (page: number) => href({ page: page === 1 ? undefined : page });
  return {
    title: `Batch #${batch.id}`,
    section: 'batches',
    head: html`<h1>Batch #${batch.id} · ${batch.workflow}</h1>
<div class="actions"><span>export (as <code>quire results ${batch.id}</code>):</span> <a class="button" href="/batches/${batch.id}/results.jsonl" download>JSONL</a> <a class="button" href="/batches/${batch.id}/results.csv" download>CSV</a></div>
<form class="filters" method="get" action="/batches/${batch.id}">
<label>status<select name="status"><option value="">any</option>${RECORD_STATUSES.map((s) => html`<option value="${s}"${s === state.status ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>text in inputs, outputs or error<input type="search" name="q" value="${state.text ?? ''}" placeholder="search"></label>
${base.sort ? html`<input type="hidden" name="sort" value="${base.sort}">` : ''}${base.dir ? html`<input type="hidden" name="dir" value="${base.dir}">` : ''}
<button type="submit">Filter</button> <a href="/batches/${batch.id}">clear</a>
</form>`,
    live: html`${summary(view)}
${pager({ ...state.paging, total: view.total }, 'records', pageHref)}
${view.rows.length === 0 ? html`<div class="empty">${state.status || state.text ? 'No record matches these filters.' : 'No record settled yet.'}</div>` : resultsTable(view, state, sortKey, href)}
${view.rows.length > 0 ? pager({ ...state.paging, total: view.total }, 'records', pageHref) : ''}`,
  };
}

function summary(view: BatchDetailView): Html {
  const { batch } = view;
  const c = batch.counts;
  return html`<div class="summary">
<span>${statusBadge(batch.status, batch.processGone)}</span>
<span>${progress(batch)}</span>
${view.queue ? html`<span>workers: <b>${count(view.queue.workers)}</b> holding <b>${count(view.queue.leased)}</b> records, <b>${count(view.queue.queued)}</b> queued</span>` : ''}
<span><b>${count(batch.recordCount)}</b> records read</span>
<span class="status-completed"><b>${count(c.completed)}</b> completed</span>
<span class="status-failed"><b>${count(c.failed)}</b> failed</span>
<span class="status-cancelled"><b>${count(c.cancelled)}</b> cancelled</span>
<span class="status-invalid"><b>${count(c.invalid)}</b> invalid</span>
${c.skipped ? html`<span><b>${count(c.skipped)}</b> skipped by the last resume</span>` : ''}
${c.cacheHits ? html`<span><b>${count(c.cacheHits)}</b> steps from the cache</span>` : ''}
<span>input <code>${batch.inputPath}</code> (${batch.inputFormat})</span>
<span>started ${timestamp(batch.startedAt)}${batch.completedAt ? html` · finished ${timestamp(batch.completedAt)}` : ''}</span>
</div>`;
}

function resultsTable(view: BatchDetailView, state: BatchPageState, sortKey: string, href: (params: Record<string, string | number | undefined>) => string): Html {
  // A header sorts by its column; again reverses. Step outputs are not sortable (long text).
  const head = (key: string, label: string, cls = '') => {
    const current = key === sortKey;
    const descending = current ? !state.descending : false;
    return html`<th class="${cls}${current ? (state.descending ? ' sorted-desc' : ' sorted-asc') : ''}"><a href="${href({ sort: key === 'record' ? undefined : key, dir: descending ? 'desc' : undefined, page: undefined })}">${label}</a></th>`;
  };
  return html`<table class="results"><thead><tr>
${head('record', 'record', 'num')}${head('status', 'status')}
${view.inputNames.map((name) => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? head(`input.${name}`, `input.${name}`) : html`<th>input.${name}</th>`))}
${view.stepNames.map((name) => html`<th>${name}</th>`)}
${head('checks', 'checks')}${head('duration', 'time', 'num')}<th>error</th>
</tr></thead><tbody>
${view.rows.map((row) => resultRow(row, view))}
</tbody></table>`;
}

function resultRow(row: ResultView, view: BatchDetailView): Html {
  const failed = row.checks.filter((c) => !c.pass);
  return html`<tr data-record="${row.record}">
<td class="num">${row.run_id !== null ? html`<a href="/runs/${row.run_id}" title="run #${row.run_id}, line ${row.line}">${row.record}</a>` : html`<span title="line ${row.line}">${row.record}</span>`}</td>
<td>${statusBadge(row.status)}</td>
${view.inputNames.map((name) => html`<td class="cell">${name in row.inputs ? clip(valueText(row.inputs[name]), 160) : ''}</td>`)}
${view.stepNames.map((name) => html`<td class="cell">${row.steps[name]?.output != null ? clip(row.steps[name]!.output!, 240) : ''}</td>`)}
<td>${checkCounts(row.checkCounts)}${failed.length > 0 ? html`<div class="fail">${failed.map((c) => html`<div>${c.step}: ${clip(c.checks.filter((k) => k && !k.pass).map((k) => `${k.check}: ${k.reason}`).join('; '), 160)}</div>`)}</div>` : ''}</td>
<td class="num">${duration(row.durationMs)}</td>
<td class="cell fail">${row.error !== null ? clip(row.error, 160) : ''}</td>
</tr>`;
}
