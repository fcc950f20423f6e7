/**
 * The batch progress display (cli/output/batch.ts) driven by a scripted run of BatchEvents
 * into real streams: JSON lines, plain lines with a throttled progress line (an injected
 * clock), the live cli-progress display on a stream that says it is a TTY, quiet; and the
 * pure formatters it prints with (batch-format.ts).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { emptyCounts, type BatchCounts, type BatchEvent, type BatchProgress } from '../src/core/batch.js';
import { createBatchPrinter, type BatchPrinterOptions } from '../src/cli/output/batch.js';
import {
  endpointRow,
  estimatedTotal,
  failureLine,
  formatBar,
  formatCount,
  formatDuration,
  formatEta,
  formatRate,
  overallRow,
  progressLine,
  shellWord,
  activityRow,
  countsRow,
  summaryLines,
} from '../src/cli/output/batch-format.js';

/** A writable that keeps what it was given (optionally claiming to be a terminal, as cli-progress checks). */
function sink(tty = false): PassThrough & { text(): string } {
  const stream = new PassThrough() as PassThrough & { text(): string; isTTY?: boolean; columns?: number };
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  if (tty) {
    stream.isTTY = true;
    stream.columns = 100;
  }
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  return stream;
}

/**
 * What a terminal shows after `output`: text, newlines, and the cursor and erase sequences
 * node:readline writes for cli-progress (up/down/left/right, column, erase line, erase below).
 */
function terminal(output: string): string[] {
  const screen: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = () => (screen[row] ??= []);
  // eslint-disable-next-line no-control-regex
  for (const m of output.matchAll(/\u001b\[(\??)(\d*)([A-Za-z])|\n|\r|[^\u001b\n\r]/gu)) {
    if (m[0] === '\n') [row, col] = [row + 1, 0];
    else if (m[0] === '\r') col = 0;
    else if (m[3] === undefined) line()[col++] = m[0];
    else if (m[1] === '') {
      const n = m[2] === '' ? undefined : Number(m[2]);
      if (m[3] === 'A') row = Math.max(0, row - (n ?? 1));
      else if (m[3] === 'B') row += n ?? 1;
      else if (m[3] === 'C') col += n ?? 1;
      else if (m[3] === 'D') col = Math.max(0, col - (n ?? 1));
      else if (m[3] === 'G') col = (n ?? 1) - 1;
      else if (m[3] === 'K' && (n ?? 0) === 0) line().length = col;
      else if (m[3] === 'K' && n === 1) line().fill(' ', 0, col);
      else if (m[3] === 'K' && n === 2) screen[row] = [];
      else if (m[3] === 'J' && (n ?? 0) === 0) {
        line().length = col;
        screen.length = row + 1;
      } else throw new Error(`unexpected escape ${JSON.stringify(m[0])}`);
    }
    line();
  }
  return Array.from(screen, (cells) => Array.from(cells ?? [], (c) => c ?? ' ').join('').trimEnd());
}

const counts = (partial: Partial<BatchCounts>): BatchCounts => ({ ...emptyCounts(), ...partial });

function progress(partial: Partial<BatchProgress> = {}): BatchProgress {
  return {
    batchId: 7,
    workflow: 'summarize',
    counts: counts({ completed: 40, failed: 1, invalid: 1 }),
    inFlight: 6,
    read: 50,
    readDone: false,
    bytesRead: 5_000,
    totalBytes: 20_000,
    elapsedMs: 20_000,
    endpoints: [
      { port: 5001, url: 'http://127.0.0.1:8080', limit: 4, inFlight: 4, requests: 41, completionTokens: 4_100 },
      { port: 5002, url: 'http://127.0.0.1:8081', limit: 2, inFlight: 2, requests: 3, completionTokens: 300 },
    ],
    ...partial,
  };
}

/** A small batch: start, a bad record, progress every 250 ms for 25 s, a failure, the end. */
function script(): { at: number; event: BatchEvent }[] {
  const events: { at: number; event: BatchEvent }[] = [
    { at: 0, event: { type: 'batch-start', batchId: 7, workflow: 'summarize', input: 'data/in put.jsonl', resumed: false, concurrency: [{ port: 5001, limit: 4 }, { port: 5002, limit: 2 }] } },
    { at: 10, event: { type: 'record-problem', index: 3, problem: { file: 'data/in put.jsonl', line: 3, col: 1, code: 'RECORD', message: 'record 3: missing input "text"\u001b[2J' } } },
  ];
  for (let at = 250; at <= 25_000; at += 250) {
    if (at === 12_000) events.push({ at, event: { type: 'record-end', index: 9, line: 10, runId: 109, status: 'failed', error: 'LLM timeout after 60 s', cacheHits: 0 } });
    events.push({ at, event: { type: 'progress', progress: progress({ elapsedMs: at, counts: counts({ completed: Math.floor(at / 500), invalid: 1 }) }) } });
  }
  events.push({ at: 25_100, event: { type: 'batch-end', batchId: 7, status: 'completed', counts: counts({ completed: 48, failed: 1, invalid: 1, cacheHits: 2 }), elapsedMs: 25_100 } });
  return events;
}

function drive(options: Partial<BatchPrinterOptions>, events = script()) {
  const out = sink(options.tty);
  const err = sink(options.tty);
  let clock = 0;
  // Unbound, as the command hands them to the runner (`onEvent: printer.onEvent`).
  const { onEvent, close } = createBatchPrinter({ json: false, quiet: false, color: false, tty: false, out, err, now: () => clock, ...options });
  for (const { at, event } of events) {
    clock = at;
    onEvent(event);
  }
  close();
  return { out: out.text(), err: err.text() };
}

describe('batch printer: --json', () => {
  it('writes exactly one parseable line per event on out (progress included) and nothing on err', () => {
    const events = script();
    const { out, err } = drive({ json: true, tty: true });
    const lines = out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(events.length);
    expect(lines.map((line) => JSON.parse(line))).toEqual(events.map((e) => e.event));
    expect(err).toBe('');
  });
});

describe('batch printer: plain lines', () => {
  const { out, err } = drive({});
  const lines = err.trimEnd().split('\n');

  it('prints the start, the problem as path:line:col with control characters escaped, and the failure', () => {
    expect(out).toBe('');
    expect(lines[0]).toBe('batch #7 · summarize · records from data/in put.jsonl · :5001 ×4, :5002 ×2');
    expect(lines).toContain('data/in put.jsonl:3:1: record 3: missing input "text"\\u001b[2J');
    expect(lines).toContain('record 9 (line 10) failed: LLM timeout after 60 s · quire show 109');
    expect(err).not.toContain('\u001b');
  });

  it('prints a progress line at most every intervalMs (by the injected clock)', () => {
    const progressLines = lines.filter((line) => line.startsWith('progress: '));
    // 25 s of events every 250 ms, one line per 10 s from the start: at 10 s and 20 s.
    expect(progressLines).toHaveLength(2);
    expect(progressLines[0]).toBe('progress: 21/~200 (10%) · 20 done · 0 failed · 1 invalid · 6 in flight · 4.4 req/s · 440 tok/s · ETA 1m 25s');
    expect(drive({ intervalMs: 1000 }).err.split('\n').filter((line) => line.startsWith('progress: '))).toHaveLength(25);
  });

  it('ends with the summary and the hints to read (and, with failures, resume) the batch', () => {
    expect(lines.slice(-3)).toEqual([
      'batch #7 completed in 25s: 48 completed · 1 failed · 1 invalid · 2 steps from cache',
      '  results: quire results 7',
      "  resume:  quire run summarize --batch 'data/in put.jsonl' --resume 7",
    ]);
  });

  it('colours when asked', () => {
    expect(drive({ color: true }).err).toContain('\u001b[31mrecord 9 (line 10) failed');
  });
});

describe('batch printer: --quiet', () => {
  it('prints only the problem, the failure and the summary', () => {
    for (const tty of [false, true]) {
      const { out, err } = drive({ quiet: true, tty });
      expect(out).toBe('');
      expect(err.trimEnd().split('\n')).toEqual([
        'data/in put.jsonl:3:1: record 3: missing input "text"\\u001b[2J',
        'record 9 (line 10) failed: LLM timeout after 60 s · quire show 109',
        'batch #7 completed in 25s: 48 completed · 1 failed · 1 invalid · 2 steps from cache',
        '  results: quire results 7',
        "  resume:  quire run summarize --batch 'data/in put.jsonl' --resume 7",
      ]);
    }
  });
});

describe('batch printer: live display on a TTY', () => {
  /** The screen text without cursor movement and line clearing (what cli-progress and readline write). */
  // eslint-disable-next-line no-control-regex
  const plain = (text: string) => text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');

  it('draws the overall bar, the counts and one row per endpoint, and ends with the summary', () => {
    const { out, err } = drive({ tty: true });
    expect(out).toBe('');
    const screen = plain(err);
    expect(err).toMatch(/\u001b\[\d*[AG]/); // redrawn in place, by cli-progress
    expect(screen).toContain('batch #7 · summarize · records from data/in put.jsonl');
    // The last frame holds the final counts and nothing in flight.
    expect(screen).toMatch(/batch #7 █{5}░{15} 50\/~200 \(25%\) · ETA/);
    expect(screen).toContain('  48 done · 1 failed · 1 invalid\n  0 in flight · 1.8 req/s · 175 tok/s · 25s elapsed\n');
    expect(screen).toContain(':5001 ░░░░░░░░ 0/4 in flight · 41 req · 163 tok/s · http://127.0.0.1:8080');
    expect(screen).toContain(':5002 ░░░░░░░░ 0/2 in flight · 3 req · 12 tok/s · http://127.0.0.1:8081');
    expect(screen.trimEnd().split('\n').slice(-3)).toEqual([
      'batch #7 completed in 25s: 48 completed · 1 failed · 1 invalid · 2 steps from cache',
      '  results: quire results 7',
      "  resume:  quire run summarize --batch 'data/in put.jsonl' --resume 7",
    ]);
  });

  it('prints problems and failures logged during the display above it, before the last frame', () => {
    const { err } = drive({ tty: true });
    const screen = plain(err);
    const problem = screen.indexOf('data/in put.jsonl:3:1: record 3: missing input "text"\\u001b[2J');
    const failure = screen.indexOf('record 9 (line 10) failed: LLM timeout after 60 s · quire show 109');
    expect(problem).toBeGreaterThan(-1);
    expect(failure).toBeGreaterThan(problem);
    expect(screen.lastIndexOf('0/4 in flight')).toBeGreaterThan(failure);
  });

  it('flushes a line logged just before close(); after close() lines print plainly', () => {
    const err = sink(true);
    const printer = createBatchPrinter({ json: false, quiet: false, color: false, tty: true, out: sink(), err });
    printer.onEvent({ type: 'progress', progress: progress() });
    printer.log('cancelling');
    printer.onEvent({ type: 'record-problem', index: 3, problem: { file: 'in.csv', line: 4, col: 1, code: 'RECORD', message: 'bad' } });
    printer.close();
    printer.close();
    expect(plain(err.text())).toContain('cancelling');
    expect(plain(err.text())).toContain('in.csv:4:1: bad');
    // After close(), lines still print (plainly) and nothing is drawn again.
    const before = err.text().length;
    printer.onEvent({ type: 'progress', progress: progress() });
    printer.onEvent({ type: 'record-problem', index: 5, problem: { file: 'in.csv', line: 6, col: 1, code: 'RECORD', message: 'late' } });
    expect(err.text().slice(before)).toBe('in.csv:6:1: late\n');
  });

  it('keeps the screen whole: lines logged between frames land above the rows, no remnants of older rows', async () => {
    const err = sink(true);
    const printer = createBatchPrinter({ json: false, quiet: false, color: false, tty: true, out: sink(), err });
    const events = script();
    const frame = () => new Promise((resolve) => setTimeout(resolve, 300)); // cli-progress redraws every 100 ms
    printer.onEvent(events[0]!.event);
    printer.onEvent({ type: 'progress', progress: progress() });
    await frame();
    // Two lines in one frame, both shorter than the rows they are written over.
    printer.onEvent({ type: 'record-problem', index: 3, problem: { file: 'in.csv', line: 4, col: 1, code: 'RECORD', message: 'bad' } });
    printer.onEvent({ type: 'record-end', index: 9, line: 10, runId: 109, status: 'failed', error: 'timeout', cacheHits: 0 });
    printer.onEvent({ type: 'progress', progress: progress({ elapsedMs: 21_000, counts: counts({ completed: 44, failed: 2, invalid: 1 }) }) });
    await frame();
    printer.log('cancelling');
    await frame();
    // Mid-batch, the rows are whole under the logged lines (redrawn although unchanged).
    expect(terminal(err.text()).slice(3)).toEqual([
      'cancelling',
      'batch #7 █████░░░░░░░░░░░░░░░ 47/~200 (23%) · ETA 1m 08s',
      '  44 done · 2 failed · 1 invalid',
      '  6 in flight · 2.1 req/s · 210 tok/s · 21s elapsed',
      '  :5001 ████████ 4/4 in flight · 41 req · 195 tok/s · http://127.0.0.1:8080',
      '  :5002 ████████ 2/2 in flight · 3 req · 14 tok/s · http://127.0.0.1:8081',
    ]);
    printer.onEvent(events.at(-1)!.event);
    printer.close();
    expect(terminal(err.text())).toEqual([
      'batch #7 · summarize · records from data/in put.jsonl · :5001 ×4, :5002 ×2',
      'in.csv:4:1: bad',
      'record 9 (line 10) failed: timeout · quire show 109',
      'cancelling',
      'batch #7 █████░░░░░░░░░░░░░░░ 50/~200 (25%) · ETA 1m 15s',
      '  48 done · 1 failed · 1 invalid',
      '  0 in flight · 1.8 req/s · 175 tok/s · 25s elapsed',
      '  :5001 ░░░░░░░░ 0/4 in flight · 41 req · 163 tok/s · http://127.0.0.1:8080',
      '  :5002 ░░░░░░░░ 0/2 in flight · 3 req · 12 tok/s · http://127.0.0.1:8081',
      'batch #7 completed in 25s: 48 completed · 1 failed · 1 invalid · 2 steps from cache',
      '  results: quire results 7',
      "  resume:  quire run summarize --batch 'data/in put.jsonl' --resume 7",
      '',
    ]);
  });

  it('shows counts without a bar when the input size is unknown (stdin)', () => {
    const { err } = drive({ tty: true }, [{ at: 0, event: { type: 'progress', progress: progress({ totalBytes: undefined }) } }]);
    expect(plain(err)).toContain('batch #7 42 finished · 50 read · ETA ?');
  });
});

describe('batch formatters', () => {
  it('formats counts with fixed separators, huge ones included', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(Number.MAX_SAFE_INTEGER)).toBe('9,007,199,254,740,991');
    expect(formatCount(Number.NaN)).toBe('?');
  });

  it('formats rates short, unknown ones as ?', () => {
    expect([0, 0.25, 9.94, 12.4, 1234, 56_789, 456_789, 3_400_000].map(formatRate)).toEqual(['0', '0.3', '9.9', '12', '1,234', '56.8k', '457k', '3.4M']);
    expect([undefined, Infinity, Number.NaN, -1].map(formatRate)).toEqual(['?', '?', '?', '?']);
  });

  it('formats durations and ETAs in two units at most; an unknown ETA is ?', () => {
    expect([0, 450, 9_999, 42_000, 185_000, 7_620_000, 1_051_200_000].map(formatDuration)).toEqual(['0.0s', '0.4s', '9.9s', '42s', '3m 05s', '2h 07m', '12d 04h']);
    expect(formatDuration(1e15)).toBe('11,574,074d 01h');
    expect(formatEta(undefined)).toBe('?');
    expect(formatEta(185_000)).toBe('3m 05s');
  });

  it('shows no rates and no ETA at zero elapsed (not 2,500 req/s over 2 ms)', () => {
    const start = progress({ elapsedMs: 0 });
    expect(activityRow(start)).toBe('  6 in flight · ? req/s · ? tok/s · 0.0s elapsed');
    expect(progressLine(start)).toContain('6 in flight · ? req/s · ? tok/s');
    expect(progressLine(start)).toMatch(/ETA \?$/);
    expect(endpointRow(start.endpoints[0]!, 0)).toContain('41 req · ? tok/s');
  });

  it('estimates the total from records per byte, never below what was read or finished', () => {
    expect(estimatedTotal(progress())).toBe(200);
    expect(estimatedTotal(progress({ totalBytes: undefined }))).toBeUndefined();
    // Once the whole input is read, the count is exact, also for stdin.
    expect(estimatedTotal(progress({ readDone: true }))).toBe(50);
    expect(estimatedTotal(progress({ readDone: true, totalBytes: undefined }))).toBe(50);
    expect(estimatedTotal(progress({ bytesRead: 0, read: 0 }))).toBeUndefined();
    expect(estimatedTotal(progress({ bytesRead: 20_000 }))).toBe(50);
    expect(estimatedTotal(progress({ read: 10, bytesRead: 20_000, counts: counts({ completed: 12 }) }))).toBe(12);
  });

  it('draws bars within their width whatever the ratio', () => {
    expect(formatBar(0.5, 8)).toBe('████░░░░');
    expect(formatBar(3, 4)).toBe('████');
    expect(formatBar(Number.NaN, 4)).toBe('░░░░');
  });

  it('rows show huge counts whole', () => {
    const huge = progress({ read: 2_000_000_000, bytesRead: 1e12, totalBytes: 4e12, counts: counts({ completed: 1_999_000_000 }), elapsedMs: 86_400_000 * 3 });
    const row = overallRow(huge);
    expect(row).toContain('1,999,000,000/~8,000,000,000 (24%)');
    expect(row).toMatch(/ETA \d+d \d\dh$/);
  });

  it('the live rows fit 80 columns for a resumed batch of millions', () => {
    const big = progress({
      batchId: 12_345,
      read: 2_500_000,
      bytesRead: 1e9,
      totalBytes: 2e9,
      inFlight: 128,
      elapsedMs: 86_400_000,
      counts: counts({ completed: 2_400_000, failed: 45_678, invalid: 12_345, skipped: 1_000_000 }),
      endpoints: [{ port: 5001, url: 'http://x', limit: 128, inFlight: 128, requests: 9_999_999, completionTokens: 4e9 }],
    });
    for (const row of [overallRow(big), countsRow(big), activityRow(big)]) expect(row.length, row).toBeLessThanOrEqual(80);
  });

  it('failed and cancelled records name the run to look at', () => {
    expect(failureLine({ type: 'record-end', index: 4, line: 5, runId: 12, status: 'failed', error: 'bad\nthing', cacheHits: 0 })).toBe('record 4 (line 5) failed: bad\\nthing · quire show 12');
  });

  it('summaries hint a resume only when records are left to do, quoted for the shell', () => {
    const start = { workflow: 'summarize', input: "it's.csv" };
    expect(summaryLines({ batchId: 3, status: 'completed', counts: counts({ completed: 5 }), elapsedMs: 1500 }, start)).toEqual([
      'batch #3 completed in 1.5s: 5 completed · 0 failed · 0 invalid',
      '  results: quire results 3',
    ]);
    expect(summaryLines({ batchId: 3, status: 'cancelled', counts: counts({ completed: 5, cancelled: 2, skipped: 9 }), elapsedMs: 65_000, reason: 'interrupted' }, start)).toEqual([
      'batch #3 cancelled after 1m 05s (interrupted): 5 completed · 0 failed · 0 invalid · 9 skipped · 2 cancelled',
      '  results: quire results 3',
      "  resume:  quire run summarize --batch 'it'\\''s.csv' --resume 3",
    ]);
    expect(summaryLines({ batchId: 4, status: 'failed', counts: counts({ failed: 1 }), elapsedMs: 10 }, { workflow: 'w', input: '-' })).toEqual([
      'batch #4 failed after 0.0s: 0 completed · 1 failed · 0 invalid',
      '  results: quire results 4',
    ]);
    expect(shellWord('data/in.jsonl')).toBe('data/in.jsonl');
    expect(shellWord('-')).toBe('-');
  });
});
