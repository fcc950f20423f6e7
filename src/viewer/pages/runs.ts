/**
 * Runs, newest first: filters (workflow, status, trigger, dates), one row per run with its
 * steps, tokens, time and checks, pages of 50; two ticked runs open the comparison.
 */
import type { RunsView } from '../../app/view.js';
import { elapsedMs } from '../../app/view.js';
import { RUN_TRIGGERS, type RunFilter } from '../../core/view.js';
import { checkCounts, clip, count, duration, runChecks, statusBadge, timestamp, tokens } from '../format.js';
import { html, queryString, type Html } from '../html.js';
import type { Page } from './layout.js';
import { pager, type Paging } from './pager.js';

export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;

export function runsPage(view: RunsView, filter: RunFilter, paging: Paging): Page {
  const query = { workflow: filter.workflow, status: filter.status, trigger: filter.trigger, from: filter.from, to: filter.to, limit: paging.limit === 50 ? undefined : paging.limit };
  const href = (page: number) => `/runs${queryString({ ...query, page: page === 1 ? undefined : page })}`;
  const filtered = Object.values(filter).some((v) => v !== undefined);
  return {
    title: 'Runs',
    section: 'runs',
    head: html`<h1>Runs</h1>
${filters(view.workflows, filter)}
<form id="pick" action="/compare" method="get"></form>`,
    live: html`${pager(paging, 'runs', href)}
${view.runs.length === 0 ? html`<div class="empty">${filtered ? 'No run matches these filters.' : 'No runs recorded yet: `quire run <workflow>` records one.'}</div>` : runTable(view.runs, true)}
${view.runs.length > 0 ? html`<div class="actions"><button type="submit" form="pick">Compare the two ticked runs</button><span class="muted">tick two runs (the older is a; one alone is compared with the previous run of its workflow)</span></div>` : ''}
${view.runs.length > 0 ? pager(paging, 'runs', href) : ''}`,
  };
}

/** The runs table (the listing, and a workflow's latest runs); `pick` adds the compare boxes. */
export function runTable(runs: RunsView['runs'], pick: boolean): Html {
  return html`<table class="runs">
<thead><tr>${pick ? html`<th><span class="offscreen">compare</span></th>` : ''}<th class="num">run</th><th>workflow</th><th>status</th><th>trigger</th><th>started (UTC)</th><th class="num">time</th><th class="num">steps</th><th class="num">tokens</th><th>checks</th><th>error</th></tr></thead>
<tbody>
${runs.map((run) => {
  const trigger = typeof run.metadata.trigger === 'string' ? run.metadata.trigger : '';
  const batch = typeof run.metadata.batch_id === 'number' ? run.metadata.batch_id : undefined;
  return html`<tr data-run="${run.id}">
${pick ? html`<td><input type="checkbox" name="run" value="${run.id}" form="pick" data-keep aria-label="compare run ${run.id}"></td>` : ''}
<td class="num"><a href="/runs/${run.id}">#${run.id}</a></td>
<td>${run.workflow !== null ? html`<a href="/runs${queryString({ workflow: run.workflow })}">${run.workflow}</a>` : html`<span class="muted">(workflow row gone)</span>`}</td>
<td>${statusBadge(run.status, run.processGone)}</td>
<td>${trigger}${batch !== undefined ? html` <a href="/batches/${batch}" title="batch #${batch}">#${batch}</a>` : ''}</td>
<td>${timestamp(run.startedAt)}</td>
<td class="num">${duration(elapsedMs(run.startedAt, run.completedAt))}</td>
<td class="num">${count(run.steps)}</td>
<td class="num">${tokens(run.promptTokens, run.completionTokens)}</td>
<td>${checkCounts(runChecks(run.metadata))}</td>
<td class="muted">${typeof run.metadata.error === 'string' ? clip(run.metadata.error, 90) : ''}</td>
</tr>`;
})}
</tbody>
</table>`;
}

function filters(workflows: string[], filter: RunFilter): Html {
  const option = (value: string, selected: string | undefined, label = value) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="/runs">
<label>workflow<select name="workflow"><option value="">any</option>${workflows.map((w) => option(w, filter.workflow))}</select></label>
<label>status<select name="status"><option value="">any</option>${RUN_STATUSES.map((s) => option(s, filter.status))}</select></label>
<label>trigger<select name="trigger"><option value="">any</option>${RUN_TRIGGERS.map((t) => option(t, filter.trigger))}</select></label>
<label>from (UTC)<input type="date" name="from" value="${filter.from ?? ''}"></label>
<label>to (UTC)<input type="date" name="to" value="${filter.to ?? ''}"></label>
<button type="submit">Filter</button>
<a href="/runs">clear</a>
</form>`;
}
