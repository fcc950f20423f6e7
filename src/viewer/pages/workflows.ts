/**
 * Workflows as the mirror holds them: each with its steps (payloads in order) and its
 * latest run; one workflow with the blocks each payload uses (payload_blocks, tags
 * expanded) and its latest runs.
 */
import type { WorkflowView } from '../../app/view.js';
import type { PayloadLink, WorkflowSummary } from '../../core/view.js';
import { count, statusBadge, timestamp, valueText } from '../format.js';
import { html, type Html } from '../html.js';
import type { Page } from './layout.js';
import { runTable } from './runs.js';

export function workflowsPage(workflows: WorkflowSummary[]): Page {
  return {
    title: 'Workflows',
    section: 'workflows',
    head: html`<h1>Workflows</h1>`,
    live: workflows.length === 0
      ? html`<div class="empty">No workflows in the database yet: <code>quire sync</code> mirrors them.</div>`
      : html`<table class="workflows" data-sort="client"><thead><tr><th>workflow</th><th>file</th><th>steps</th><th class="num">runs</th><th>last run</th></tr></thead><tbody>
${workflows.map((w) => html`<tr>
<td><a href="/workflows/${w.id}">${w.name}</a>${w.archived ? html` <span class="badge">archived</span>` : ''}${w.description ? html`<div class="muted">${w.description}</div>` : ''}</td>
<td>${w.sourcePath !== null ? html`<code>${w.sourcePath}</code>` : html`<span class="muted">database only</span>`}</td>
<td>${w.payloads.length === 0 ? html`<span class="muted">none</span>` : w.payloads.map((p, i) => html`${i > 0 ? ' → ' : ''}${p}`)}</td>
<td class="num">${w.runCount > 0 ? html`<a href="/runs?workflow=${encodeURIComponent(w.name)}">${count(w.runCount)}</a>` : '0'}</td>
<td data-value="${w.lastRun?.id ?? 0}">${w.lastRun ? html`<a href="/runs/${w.lastRun.id}">#${w.lastRun.id}</a> ${statusBadge(w.lastRun.status)} ${timestamp(w.lastRun.startedAt)}` : html`<span class="muted">never run</span>`}</td>
</tr>`)}
</tbody></table>`,
  };
}

export function workflowPage(view: WorkflowView): Page {
  const { workflow: w } = view;
  const inputs = Object.entries(w.inputs);
  return {
    title: w.name,
    section: 'workflows',
    head: html`<h1>Workflow ${w.name}${w.archived ? html` <span class="badge">archived</span>` : ''}</h1>
<div class="summary"><span>${w.sourcePath !== null ? html`file <code>${w.sourcePath}</code>` : 'a row typed into the database (no file)'}</span>${w.description ? html`<span>${w.description}</span>` : ''}</div>`,
    live: html`${inputs.length > 0 ? html`<h2>Inputs</h2><table class="kv"><tbody>${inputs.map(([name, spec]) => html`<tr><th>${name}</th><td><code>${valueText(spec)}</code></td></tr>`)}</tbody></table>` : ''}
<h2>Steps</h2>
${w.steps.length === 0 ? html`<p class="muted">no steps linked</p>` : w.steps.map((s) => html`<section class="step">
<header><h3>Step ${s.index + 1}${s.name !== null ? html`: ${s.name}` : ''}</h3>${s.payload ? payloadFacts(s.payload) : html`<span class="muted">payload row gone</span>`}</header>
${s.payload ? blocks(s.payload) : ''}
</section>`)}
<h2>Latest runs</h2>
${view.latestRuns.length === 0 ? html`<p class="muted">never run</p>` : html`${runTable(view.latestRuns, false)}<p><a href="/runs?workflow=${encodeURIComponent(w.name)}">every run of ${w.name} →</a></p>`}`,
  };
}

function payloadFacts(p: PayloadLink): Html {
  return html`<span>payload <b>${p.name}</b>${p.archived ? ' (archived)' : ''}</span>
${p.sourcePath !== null ? html`<code class="muted">${p.sourcePath}</code>` : ''}
<span class="muted">format ${p.modelFormat ?? '–'} · port ${p.llmPort ?? '–'} · temperature ${p.temperature ?? '–'} · response length ${p.responseLength ?? '–'}</span>`;
}

function blocks(p: PayloadLink): Html {
  if (p.blocks.length === 0) return html`<p class="unchanged-step">uses no block rows (text only)</p>`;
  return html`<div class="details"><div><b>${p.blocks.length} block${p.blocks.length === 1 ? '' : 's'}</b>, in order
<ul class="blocks">${p.blocks.map((b) => html`<li><code>${b.key ?? b.title}</code>${b.key !== null && b.title !== b.key ? html` <span class="muted">${b.title}</span>` : ''}${b.sourcePath === null ? html` <span class="muted">(database only${b.folderPath ? `, ${b.folderPath}` : ''})</span>` : ''}</li>`)}</ul></div></div>`;
}
