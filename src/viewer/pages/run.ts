/**
 * One run: its inputs, provenance (quire version, git commit and dirty flag, the hash of
 * every file used), and each step's exact sent prompt beside its response with the
 * settings, endpoint, model, tokens, timings, finish reason and checks; copy buttons.
 */
import { elapsedMs, isStepChecks, type RunView } from '../../app/view.js';
import type { ResponseRecord } from '../../core/history.js';
import { promptText } from '../../core/run-diff.js';
import { checkCounts, count, duration, runChecks, shortHash, statusBadge, timestamp, valueText } from '../format.js';
import { html, type Html } from '../html.js';
import type { Page } from './layout.js';

export function runPage(view: RunView): Page {
  const { run } = view;
  return {
    title: `Run #${run.id}`,
    section: 'runs',
    head: html`<h1>Run #${run.id} ${run.workflow !== null ? html`· <a href="/runs?workflow=${encodeURIComponent(run.workflow)}">${run.workflow}</a>` : html`<span class="muted">· workflow row gone</span>`}</h1>
<div class="actions">
${view.previousId !== null ? html`<a class="button" href="/compare?a=${view.previousId}&amp;b=${run.id}">Compare with the previous run (#${view.previousId})</a>` : ''}
<form action="/compare" method="get"><input type="hidden" name="b" value="${run.id}"><label>compare with run <input type="number" name="a" min="1" required></label><button type="submit">Compare</button></form>
</div>`,
    live: html`${summary(view)}
${inputs(run.metadata.inputs)}
<h2>Steps</h2>
${view.responses.length === 0 ? html`<div class="empty">No step recorded${run.status === 'running' ? ' yet' : ''}.</div>` : view.responses.map((response, i) => step(response, i))}
${provenance(run.metadata)}
<details id="run-metadata"><summary>all run metadata (as recorded)</summary><pre class="text">${valueText(run.metadata)}</pre></details>`,
  };
}

function summary(view: RunView): Html {
  const { run } = view;
  const m = run.metadata;
  const batch = typeof m.batch_id === 'number' ? m.batch_id : undefined;
  return html`<div class="summary">
<span>${statusBadge(run.status, view.processGone)}</span>
<span>started <b>${timestamp(run.startedAt)}</b> UTC</span>
<span>finished <b>${timestamp(run.completedAt)}</b></span>
<span>took <b>${duration(elapsedMs(run.startedAt, run.completedAt))}</b></span>
${typeof m.trigger === 'string' ? html`<span>trigger <b>${m.trigger}</b></span>` : ''}
${batch !== undefined ? html`<span><a href="/batches/${batch}">batch #${batch}</a>${typeof m.batch_record === 'number' ? html`, record ${m.batch_record}` : ''}</span>` : ''}
${runChecks(m) ? html`<span>checks ${checkCounts(runChecks(m))}</span>` : ''}
</div>
${typeof m.error === 'string' ? html`<div class="error-box">${failedStep(m.failed_step)}${m.error}</div>` : ''}
${typeof m.raw === 'string' ? html`<div class="error-box">metadata is not JSON; as recorded: ${m.raw}</div>` : ''}`;
}

function inputs(values: Record<string, unknown> | undefined): Html {
  const entries = values && typeof values === 'object' ? Object.entries(values) : [];
  return html`<h2>Inputs</h2>
${entries.length === 0 ? html`<p class="muted">none</p>` : html`<table class="kv inputs"><tbody>${entries.map(([key, value]) => html`<tr><th>${key}</th><td><pre class="text">${valueText(value)}</pre></td></tr>`)}</tbody></table>`}`;
}

function provenance(m: RunView['run']['metadata']): Html {
  const files = m.files && typeof m.files === 'object' ? Object.entries(m.files) : [];
  return html`<h2>Provenance</h2>
<table class="kv provenance"><tbody>
<tr><th>quire</th><td>${typeof m.quire_version === 'string' ? m.quire_version : '–'}</td></tr>
${typeof m.user === 'string' || typeof m.host === 'string' ? html`<tr><th>ran by</th><td>${typeof m.user === 'string' ? m.user : '?'} on ${typeof m.host === 'string' ? m.host : '?'}</td></tr>` : ''}
<tr><th>git commit</th><td>${typeof m.git_commit === 'string' ? html`<code>${m.git_commit}</code>` : '–'}</td></tr>
<tr><th>uncommitted changes</th><td>${m.git_dirty === true ? 'yes (dirty)' : m.git_dirty === false ? 'no (clean)' : '–'}</td></tr>
${Array.isArray(m.changed_files) ? html`<tr><th>saved files that started it</th><td>${m.changed_files.map((f) => html`<code>${String(f)}</code> `)}</td></tr>` : ''}
</tbody></table>
<h3>Files used (${files.length})</h3>
${files.length === 0 ? html`<p class="muted">not recorded</p>` : html`<table class="files" data-sort="client"><thead><tr><th>path</th><th>content hash</th></tr></thead><tbody>${files.map(([path, hash]) => html`<tr><td><code>${path}</code></td><td>${shortHash(typeof hash === 'string' ? hash : null)}</td></tr>`)}</tbody></table>`}`;
}

function step(response: ResponseRecord, position: number): Html {
  const m = response.metadata;
  const name = typeof m.step === 'string' ? m.step : (response.payload ?? `response ${response.id}`);
  const index = typeof m.step_index === 'number' ? m.step_index : position;
  const id = `r${response.id}`;
  const prompt = response.prompt;
  const shown = prompt === null ? null : promptText(prompt);
  return html`<section class="step" id="step-${response.id}">
<header><h3>Step ${index + 1}: ${name}</h3>
${response.payload !== null && response.payload !== name ? html`<span class="muted">payload ${response.payload}</span>` : ''}
${typeof m.model_format === 'string' ? html`<span class="muted">format ${m.model_format}</span>` : ''}
${typeof m.finish_reason === 'string' ? html`<span class="muted">finish ${m.finish_reason}</span>` : ''}
${m.cache_hit === true ? html`<span class="badge">from the step cache${typeof m.cached_from === 'number' ? ` (response #${m.cached_from})` : ''}</span>` : ''}
${isStepChecks(m.checks) ? html`<span class="${m.checks.pass ? 'pass' : 'fail'}">checks ${m.checks.pass ? 'passed' : 'failed'}</span>` : ''}
</header>
<div class="pair">
<div><div class="pane-head"><span>prompt sent${shown !== prompt ? ' (chat messages)' : ''}</span>${shown !== null ? html`<button type="button" data-copy="${id}-prompt">copy</button>` : ''}</div>
${shown === null ? html`<p class="unchanged-step">not recorded (a row from before quire kept prompts)</p>` : html`<pre class="text prompt" id="${id}-prompt">${shown}</pre>`}
${prompt !== null && shown !== prompt ? html`<details id="${id}-raw"><summary>exactly as sent (JSON)</summary><pre class="text">${prompt}</pre></details>` : ''}</div>
<div><div class="pane-head"><span>response</span>${response.content !== null ? html`<button type="button" data-copy="${id}-response">copy</button>` : ''}</div>
${response.content === null ? html`<p class="unchanged-step">no content recorded</p>` : html`<pre class="text response" id="${id}-response">${response.content}</pre>`}</div>
</div>
<div class="details">
${settings(response)}
${isStepChecks(m.checks) ? checks(m.checks) : ''}
</div>
</section>`;
}

function settings(response: ResponseRecord): Html {
  const m = response.metadata;
  const rows: [string, unknown][] = [
    ['endpoint', m.endpoint], ['api', m.api], ['model', m.model], ['model format', m.model_format], ['date in prompt', m.date_string],
    ['prompt tokens', m.prompt_tokens], ['completion tokens', m.completion_tokens],
    ['time to first token', typeof m.time_to_first_token_ms === 'number' ? duration(m.time_to_first_token_ms) : undefined],
    ['total time', typeof m.total_ms === 'number' ? duration(m.total_ms) : undefined],
    ['finish reason', m.raw_finish_reason && m.raw_finish_reason !== m.finish_reason ? `${String(m.finish_reason)} (server: ${String(m.raw_finish_reason)})` : m.finish_reason],
    ['attempts', m.attempts], ['context length', m.context_length], ['recorded', response.createdAt],
  ];
  const sampler = m.sampler !== null && typeof m.sampler === 'object' && !Array.isArray(m.sampler) ? Object.entries(m.sampler) : [];
  const cell = (value: unknown) => (typeof value === 'number' ? count(value) : typeof value === 'string' ? value : JSON.stringify(value));
  return html`<dl class="facts settings">
${rows.filter(([, v]) => v !== undefined && v !== null).map(([key, value]) => html`<div><dt>${key}</dt><dd>${cell(value)}</dd></div>`)}
${sampler.map(([key, value]) => html`<div><dt>sampler.${key}</dt><dd><code>${JSON.stringify(value)}</code></dd></div>`)}
</dl>`;
}

function checks(result: NonNullable<ResponseRecord['metadata']['checks']>): Html {
  return html`<div class="checks"><b class="${result.pass ? 'pass' : 'fail'}">checks ${result.pass ? 'passed' : 'failed'}</b>
<span class="muted">score ${typeof result.score === 'number' ? result.score.toFixed(2) : '?'}${typeof result.threshold === 'number' ? ` (threshold ${result.threshold})` : ''}</span>
<ul>${result.checks.filter((c) => c !== null && typeof c === 'object').map((c) => html`<li><span class="${c.pass ? 'pass' : 'fail'}">${c.pass ? '✓' : '✗'} ${c.check}</span> <span class="muted">score ${typeof c.score === 'number' ? c.score.toFixed(2) : '?'}${c.weight !== 1 ? `, weight ${c.weight}` : ''}</span>${c.reason ? html`: ${c.reason}` : ''}</li>`)}</ul>
</div>`;
}

/** `step 2 (critique): ` before a run's error, when the failed step was recorded in its shape. */
function failedStep(value: unknown): string {
  const step = value as { index?: unknown; name?: unknown } | null | undefined;
  return step && typeof step === 'object' && typeof step.index === 'number' ? `step ${step.index + 1}${typeof step.name === 'string' ? ` (${step.name})` : ''}: ` : '';
}
