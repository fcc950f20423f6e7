/**
 * Two runs compared (core/run-diff, as `quire diff` compares them): the files whose
 * content changed, the inputs, and per step the settings, the prompt diff and the
 * response diff side by side, changed words highlighted.
 */
import type { DiffPart, RunDiff, StepDiff } from '../../core/run-diff.js';
import { shortHash, statusBadge, timestamp, valueText } from '../format.js';
import { html, type Html } from '../html.js';
import { splitPatch, type SideLine } from '../split-diff.js';
import type { Page } from './layout.js';

/** The picker alone: no runs named yet. */
export function comparePicker(message?: string): Page {
  return {
    title: 'Compare runs',
    section: 'compare',
    head: html`<h1>Compare runs</h1>${message ? html`<div class="error-box">${message}</div>` : ''}${picker()}`,
    live: html`<p class="muted">Name two runs, or tick two in <a href="/runs">the runs list</a>. Only run b: it is compared with the previous completed run of its workflow.</p>`,
  };
}

export function comparePage(diff: RunDiff): Page {
  const { a, b } = diff;
  const changed = diff.steps.filter((s) => s.status !== 'unchanged').length;
  return {
    title: `Run #${a.id} → #${b.id}`,
    section: 'compare',
    head: html`<h1>Run <a href="/runs/${a.id}">#${a.id}</a> → <a href="/runs/${b.id}">#${b.id}</a></h1>${picker(a.id, b.id)}`,
    live: html`<table class="kv runs-compared"><thead><tr><th></th><th>a</th><th>b</th></tr></thead><tbody>
<tr><th>run</th><td><a href="/runs/${a.id}">#${a.id}</a> ${a.workflow ?? ''}</td><td><a href="/runs/${b.id}">#${b.id}</a> ${b.workflow ?? ''}</td></tr>
<tr><th>status</th><td>${statusBadge(a.status)}</td><td>${statusBadge(b.status)}</td></tr>
<tr><th>started (UTC)</th><td>${timestamp(a.startedAt)}</td><td>${timestamp(b.startedAt)}</td></tr>
</tbody></table>
<p class="summary"><span><b>${diff.files.length}</b> file${diff.files.length === 1 ? '' : 's'} changed</span><span><b>${diff.inputs.length}</b> input${diff.inputs.length === 1 ? '' : 's'} changed</span><span><b>${changed}</b> of ${diff.steps.length} step${diff.steps.length === 1 ? '' : 's'} changed</span></p>
${files(diff)}
${diff.inputs.length > 0 ? html`<h2>Inputs</h2>${values(diff.inputs)}` : ''}
<h2>Steps</h2>
${diff.steps.map(step)}`,
  };
}

function picker(a?: number, b?: number): Html {
  return html`<form class="filters" action="/compare" method="get">
<label>run a (earlier)<input type="number" name="a" min="1" value="${a ?? ''}" placeholder="previous run"></label>
<label>run b<input type="number" name="b" min="1" value="${b ?? ''}" required></label>
<button type="submit">Compare</button>
</form>`;
}

function files(diff: RunDiff): Html {
  if (diff.files.length === 0) return html`<h2>Files</h2><p class="muted">Both runs used the same files (by content hash).</p>`;
  return html`<h2>Files that changed</h2>
<table class="files-changed"><thead><tr><th>path</th><th>change</th><th>hash in a</th><th>hash in b</th></tr></thead><tbody>
${diff.files.map((f) => html`<tr><td><code>${f.path}</code></td><td>${f.change}</td><td>${shortHash(f.a)}</td><td>${shortHash(f.b)}</td></tr>`)}
</tbody></table>`;
}

function values(changes: RunDiff['inputs']): Html {
  return html`<table class="values"><thead><tr><th>key</th><th>a</th><th>b</th></tr></thead><tbody>
${changes.map((c) => html`<tr><td><code>${c.key}</code></td><td class="cell">${c.a === null ? html`<span class="muted">–</span>` : valueText(c.a)}</td><td class="cell">${c.b === null ? html`<span class="muted">–</span>` : valueText(c.b)}</td></tr>`)}
</tbody></table>`;
}

function step(s: StepDiff): Html {
  const label = s.aName !== null && s.aName !== s.name ? `${s.aName} → ${s.name}` : s.name;
  const position = (i: number | null) => (i === null ? '–' : String(i + 1));
  return html`<section class="step step-${s.status}">
<header><h3>${label}</h3><span class="badge">${s.status}</span><span class="muted">step ${position(s.aIndex)} in a, ${position(s.bIndex)} in b</span></header>
${s.status === 'unchanged' ? html`<p class="unchanged-step">same prompt, same response, same settings</p>` : html`
${s.settings.length > 0 ? html`<div class="details"><div><b>settings</b>${values(s.settings)}</div></div>` : ''}
${promptDiff(s)}
${responseDiff(s)}`}
</section>`;
}

function promptDiff(s: StepDiff): Html {
  if (!s.prompt.changed) return html`<div class="pane-head"><span>prompt: unchanged</span></div>`;
  if (s.prompt.patch === null) return html`<div class="pane-head"><span>prompt: changed, but a run did not record its prompt</span></div>`;
  const side = (line: SideLine | null, which: 'left' | 'right') => {
    if (!line) return html`<td class="ln"></td><td class="empty"></td>`;
    const cls = line.kind === 'same' ? '' : line.kind === 'removed' ? 'del' : 'add';
    return html`<td class="ln">${line.line}</td><td class="${cls}">${parts(line.parts, which)}</td>`;
  };
  return html`<div class="pane-head"><span>prompt (a | b)</span></div>
<table class="split prompt-diff"><colgroup><col class="ln"><col><col class="ln"><col></colgroup><tbody>
${splitPatch(s.prompt.patch).map((row) => (row.kind === 'hunk'
    ? html`<tr class="hunk"><td colspan="4">${row.header}</td></tr>`
    : html`<tr>${side(row.left, 'left')}${side(row.right, 'right')}</tr>`))}
</tbody></table>`;
}

function responseDiff(s: StepDiff): Html {
  if (!s.response.changed) return html`<div class="pane-head"><span>response: unchanged</span></div><pre class="text">${s.response.parts.map((p) => p.text)}</pre>`;
  return html`<div class="pair response-diff">
<div><div class="pane-head"><span>response in a</span></div><pre class="text">${parts(s.response.parts, 'left')}</pre></div>
<div><div class="pane-head"><span>response in b</span></div><pre class="text">${parts(s.response.parts, 'right')}</pre></div>
</div>`;
}

/** One side of word parts: run a's text (same + removed) or run b's (same + added), changes highlighted. */
function parts(list: readonly DiffPart[], which: 'left' | 'right'): Html {
  return html`${list.map((p) => {
    if (p.kind === 'same') return p.text;
    if (p.kind === 'removed') return which === 'left' ? html`<del>${p.text}</del>` : '';
    return which === 'right' ? html`<ins>${p.text}</ins>` : '';
  })}`;
}
