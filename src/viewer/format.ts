/**
 * Values as the pages show them: times, durations, counts, statuses, short hashes and
 * clipped text. Everything returned is markup built by `html`, or plain text that the
 * templates escape.
 */
import { html, type Html } from './html.js';

/** `1,234` */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-US');
}

/** `850 ms`, `12.4 s`, `3 min 5 s` */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A recorded timestamp without its milliseconds (they stay in the title). */
export function timestamp(text: string | null | undefined): Html {
  if (!text) return html`<span class="muted">–</span>`;
  return html`<time title="${text} UTC">${text.replace(/\.\d+$/, '')}</time>`;
}

export function statusBadge(status: string, processGone = false): Html {
  const known = ['completed', 'failed', 'cancelled', 'running', 'invalid'].includes(status) ? status : 'other';
  return html`<span class="badge status-${known}">${status}</span>${processGone ? html` <span class="gone" title="the process recording it is gone; the next quire command that writes marks it failed">process gone</span>` : ''}`;
}

/** Checks as `✓ 2 ✗ 1`; nothing when the run had no checks. */
export function checkCounts(checks: { passed: number; failed: number } | null | undefined): Html {
  if (!checks) return html``;
  return html`<span class="pass" title="steps whose checks passed">✓ ${checks.passed}</span> <span class="${checks.failed ? 'fail' : 'muted'}" title="steps whose checks failed">✗ ${checks.failed}</span>`;
}

/** runs.metadata.checks when it has the recorded shape; odd metadata has none. */
export function runChecks(metadata: { checks?: unknown }): { passed: number; failed: number } | null {
  const c = metadata.checks as { passed?: unknown; failed?: unknown } | undefined;
  return c && typeof c === 'object' && typeof c.passed === 'number' && typeof c.failed === 'number' ? { passed: c.passed, failed: c.failed } : null;
}

/** At most `max` characters (by code point), with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

/** A value as text for a cell: strings as they are, everything else as JSON. */
export function valueText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

export function shortHash(hash: string | null | undefined): Html {
  if (!hash) return html`<span class="muted">–</span>`;
  return html`<code title="${hash}">${hash.slice(0, 12)}</code>`;
}

/** Tokens as `prompt → completion`. */
export function tokens(prompt: number | null | undefined, completion: number | null | undefined): string {
  if ((prompt === null || prompt === undefined) && (completion === null || completion === undefined)) return '–';
  return `${count(prompt ?? null)} → ${count(completion ?? null)}`;
}
