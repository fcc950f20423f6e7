/**
 * The text of the batch display as pure functions of the runner's events: numbers, rates,
 * durations, the live rows, the plain progress line and the summary. No terminal, clock or
 * colour here (cli/output/batch.ts decides where, when and how bright), so every line is
 * testable as a string.
 */
import { progressRates, type BatchCounts, type BatchEvent, type BatchProgress, type EndpointProgress } from '../../core/batch.js';
import { formatProblem, type Problem } from '../../core/errors.js';
import { oneLine } from '../report.js';

type BatchStart = Extract<BatchEvent, { type: 'batch-start' }>;
type BatchEnd = Extract<BatchEvent, { type: 'batch-end' }>;
type RecordEnd = Extract<BatchEvent, { type: 'record-end' }>;

/** Rates and ETAs over less than this are noise (5 requests in 2 ms is not 2,500 req/s): shown unknown. */
export const MIN_RATE_WINDOW_MS = 1000;

/** 1234567 -> "1,234,567". Not the locale's separators: the output is the same on every machine. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A per-second rate in at most ~6 characters: "0", "4.2", "1,234", "56.7k", "3.4M"; "?" when unknown. */
export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond) || perSecond < 0) return '?';
  if (perSecond === 0) return '0';
  if (perSecond < 10) return perSecond.toFixed(1);
  if (perSecond < 10_000) return formatCount(perSecond);
  if (perSecond < 1_000_000) return `${(perSecond / 1000).toFixed(perSecond < 100_000 ? 1 : 0)}k`;
  return `${(perSecond / 1_000_000).toFixed(1)}M`;
}

/** "0.4s", "42s", "3m 05s", "2h 07m", "12d 04h": two units at most, a batch runs for hours. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${formatCount(Math.floor(s / 86_400))}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

/** The time left, or "?" while it cannot be estimated (stdin, nothing finished yet). */
export function formatEta(etaMs: number | undefined): string {
  return etaMs === undefined ? '?' : formatDuration(etaMs);
}

/** Records that reached an end: the numerator of the overall bar. */
export function finishedCount(counts: BatchCounts): number {
  return counts.completed + counts.failed + counts.cancelled + counts.invalid + counts.skipped;
}

/**
 * How many records the input holds, extrapolated from the records read per byte so far;
 * undefined without a size (stdin). Exact once the whole input is read; until then an
 * estimate (a reader may have pulled more bytes than the records it has handed over).
 */
export function estimatedTotal(progress: BatchProgress): number | undefined {
  if (progress.readDone) return progress.read;
  if (!progress.totalBytes || progress.bytesRead <= 0 || progress.read <= 0) return undefined;
  const byShare = Math.round((progress.read * progress.totalBytes) / Math.min(progress.bytesRead, progress.totalBytes));
  return Math.max(byShare, progress.read, finishedCount(progress.counts));
}

/** Requests/s, tokens/s and ETA, unknown over a window too short to mean anything. */
export function displayRates(progress: BatchProgress): { requestsPerSecond?: number; tokensPerSecond?: number; etaMs?: number } {
  if (progress.elapsedMs < MIN_RATE_WINDOW_MS) return {};
  return progressRates(progress);
}

/** A bar of `width` cells for a ratio in [0, 1] (clamped; NaN is empty). */
export function formatBar(ratio: number, width: number): string {
  const full = Number.isFinite(ratio) ? Math.round(Math.min(Math.max(ratio, 0), 1) * width) : 0;
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** "1,234/~5,000 (24%)" with an input size, "1,234 finished · 5,000 read" without. */
function finishedText(progress: BatchProgress): string {
  const finished = finishedCount(progress.counts);
  const total = estimatedTotal(progress);
  if (total === undefined) return `${formatCount(finished)} finished · ${formatCount(progress.read)} read`;
  return `${formatCount(finished)}/${progress.readDone ? '' : '~'}${formatCount(total)} (${Math.floor((finished / total) * 100)}%)`;
}

/** done · failed · invalid, then skipped and cancelled once any (a resume skips, an interrupt cancels). */
export function countsText(counts: BatchCounts): string {
  return [
    `${formatCount(counts.completed)} done`,
    `${formatCount(counts.failed)} failed`,
    `${formatCount(counts.invalid)} invalid`,
    ...(counts.skipped > 0 ? [`${formatCount(counts.skipped)} skipped`] : []),
    ...(counts.cancelled > 0 ? [`${formatCount(counts.cancelled)} cancelled`] : []),
  ].join(' · ');
}

/** What is under way: records in flight, requests and completion tokens per second over the batch. */
export function activityText(progress: BatchProgress): string {
  const rates = displayRates(progress);
  return `${formatCount(progress.inFlight)} in flight · ${formatRate(rates.requestsPerSecond)} req/s · ${formatRate(rates.tokensPerSecond)} tok/s`;
}

/** Live row 1: the overall bar (only when a total can be estimated), finished records, ETA. */
export function overallRow(progress: BatchProgress, barWidth = 20): string {
  const total = estimatedTotal(progress);
  const bar = total === undefined ? '' : `${formatBar(finishedCount(progress.counts) / total, barWidth)} `;
  return `batch #${progress.batchId} ${bar}${finishedText(progress)} · ETA ${formatEta(displayRates(progress).etaMs)}`;
}

/** Live rows 2 and 3: the counts, then the activity and time (rows of their own so each fits 80 columns). */
export function countsRow(progress: BatchProgress): string {
  return `  ${countsText(progress.counts)}`;
}

export function activityRow(progress: BatchProgress): string {
  return `  ${activityText(progress)} · ${formatDuration(progress.elapsedMs)} elapsed`;
}

/** One live row per endpoint: its in-flight gauge against its limit, requests, tokens/s, URL. */
export function endpointRow(endpoint: EndpointProgress, elapsedMs: number, barWidth = 8): string {
  const tokensPerSecond = elapsedMs < MIN_RATE_WINDOW_MS ? undefined : endpoint.completionTokens / (elapsedMs / 1000);
  const gauge = formatBar(endpoint.limit > 0 ? endpoint.inFlight / endpoint.limit : 0, barWidth);
  return `  :${endpoint.port} ${gauge} ${endpoint.inFlight}/${endpoint.limit} in flight · ${formatCount(endpoint.requests)} req · ${formatRate(tokensPerSecond)} tok/s · ${oneLine(endpoint.url)}`;
}

/** The periodic line of the plain (non-TTY) output. */
export function progressLine(progress: BatchProgress): string {
  return `progress: ${finishedText(progress)} · ${countsText(progress.counts)} · ${activityText(progress)} · ETA ${formatEta(displayRates(progress).etaMs)}`;
}

/** "batch #12 · summarize · records from in.jsonl (resumed) · :8080 ×4, :8081 ×2". */
export function startLine(event: BatchStart): string {
  const ports = event.concurrency.map((c) => `:${c.port} ×${c.limit}`).join(', ');
  return `batch #${event.batchId} · ${oneLine(event.workflow)} · records from ${oneLine(event.input)}${event.resumed ? ' (resumed)' : ''}${ports ? ` · ${ports}` : ''}`;
}

/** A record that could not be read or does not fit the inputs, as problems print everywhere. */
export function problemLine(problem: Problem): string {
  return formatProblem({ ...problem, file: oneLine(problem.file), message: oneLine(problem.message) });
}

/** A failed record, with the run that holds its details (as `quire run` ends a failed run). */
export function failureLine(event: RecordEnd): string {
  return `record ${event.index} (line ${event.line}) ${event.status}${event.error ? `: ${oneLine(event.error)}` : ''} · quire show ${event.runId}`;
}

/** A word for the shell: as is when safe, else single-quoted, so the hints can be pasted. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The lines a batch ends with: status, time and counts; how to read the results; and, when
 * records are left to do (failed, cancelled, or the batch stopped), how to resume it.
 * `start` gives the workflow and input for the resume command (no start seen, or stdin,
 * which cannot be read again: no resume hint).
 */
export function summaryLines(end: Omit<BatchEnd, 'type'>, start?: Pick<BatchStart, 'workflow' | 'input'>): string[] {
  const c = end.counts;
  const counts = [
    `${formatCount(c.completed)} completed`,
    `${formatCount(c.failed)} failed`,
    `${formatCount(c.invalid)} invalid`,
    ...(c.skipped > 0 ? [`${formatCount(c.skipped)} skipped`] : []),
    ...(c.cancelled > 0 ? [`${formatCount(c.cancelled)} cancelled`] : []),
    ...(c.cacheHits > 0 ? [`${formatCount(c.cacheHits)} steps from cache`] : []),
  ].join(' · ');
  const when = end.status === 'completed' ? `in ${formatDuration(end.elapsedMs)}` : `after ${formatDuration(end.elapsedMs)}`;
  const lines = [`batch #${end.batchId} ${end.status} ${when}${end.reason ? ` (${oneLine(end.reason)})` : ''}: ${counts}`];
  lines.push(`  results: quire results ${end.batchId}`);
  const leftToDo = end.status !== 'completed' || c.failed > 0 || c.cancelled > 0;
  if (leftToDo && start && start.input !== '-') {
    lines.push(`  resume:  quire run ${oneLine(shellWord(start.workflow))} --batch ${oneLine(shellWord(start.input))} --resume ${end.batchId}`);
  }
  return lines;
}
