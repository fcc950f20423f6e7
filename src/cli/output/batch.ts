/**
 * `quire run <workflow> --batch <file>` in the terminal: the runner's BatchEvents as
 *  - `--json`: every event as one JSON line on `out`, nothing else;
 *  - a TTY: a live display redrawn in place (cli-progress MultiBar: the overall bar, the
 *    counts, what is in flight and how fast, one row per endpoint), problems and failed
 *    records logged above it;
 *  - anything else: plain lines (start, problems, failures, progress every `intervalMs`);
 *  - `--quiet`: only problems, failed records and the summary.
 * Human output goes to `err` (like `quire run`'s progress); a batch's results are read with
 * `quire results`. The text itself comes from batch-format.ts.
 */
import { clearScreenDown } from 'node:readline';
import cliProgress from 'cli-progress';
import type { BatchEvent, BatchProgress } from '../../core/batch.js';
import { activityRow, countsRow, endpointRow, failureLine, overallRow, problemLine, progressLine, startLine, summaryLines } from './batch-format.js';

export interface BatchPrinterOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  /** `err` is a terminal: draw the live display there. */
  tty: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Plain output: at most one progress line per this many ms (default 10 s). */
  intervalMs?: number;
  now?: () => number;
}

export interface BatchPrinter {
  onEvent(event: BatchEvent): void;
  /** A line of the command's own (e.g. "cancelling…"), printed above the live display without breaking it. */
  log(line: string): void;
  /** Stops the live display (its last frame stays). Idempotent; call it in a `finally`. */
  close(): void;
}

type BatchStart = Extract<BatchEvent, { type: 'batch-start' }>;

export function createBatchPrinter(options: BatchPrinterOptions): BatchPrinter {
  if (options.json) return jsonPrinter(options.out);
  return options.tty && !options.quiet ? livePrinter(options) : linePrinter(options);
}

/**
 * Every event verbatim: the event types are the stable machine format. The lines of one
 * turn of the event loop go out in one write (a busy batch ends several records at once:
 * one write each cost ~0.5 ms per record in the batch benchmark).
 */
function jsonPrinter(out: NodeJS.WritableStream): BatchPrinter {
  let lines: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    out.write(text);
  };
  return {
    onEvent: (event) => {
      lines.push(`${JSON.stringify(event)}\n`);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    log: () => {},
    close: flush,
  };
}

const paint = (on: boolean, code: string) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Plain lines for logs and pipes; with `quiet`, only what needs attention and the summary. */
function linePrinter(options: BatchPrinterOptions): BatchPrinter {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 10_000;
  const [dim, red, bold] = [paint(options.color, '2'), paint(options.color, '31'), paint(options.color, '1')];
  const line = (text: string) => void options.err.write(`${text}\n`);
  let start: BatchStart | undefined;
  let lastProgressAt = -Infinity;
  return {
    onEvent(event) {
      switch (event.type) {
        case 'batch-start':
          start = event;
          // The clock starts with the batch: the first progress line comes one interval in, not at once.
          lastProgressAt = now();
          if (!options.quiet) line(dim(startLine(event)));
          break;
        case 'record-problem':
          line(problemLine(event.problem));
          break;
        case 'record-end':
          // Cancelled records are the interrupt's doing, counted in the summary, not news one by one.
          if (event.status === 'failed') line(red(failureLine(event)));
          break;
        case 'progress': {
          const at = now();
          if (options.quiet || at - lastProgressAt < intervalMs) break;
          lastProgressAt = at;
          line(progressLine(event.progress));
          break;
        }
        case 'batch-end': {
          const [head = '', ...hints] = summaryLines(event, start);
          line(bold(head));
          hints.forEach((hint) => line(dim(hint)));
          break;
        }
      }
    },
    log: line,
    close: () => {},
  };
}

/**
 * The live display. cli-progress redraws the rows in place (10 times a second) and writes
 * logged lines above them; the rows are plain text (no colour: the library cuts rows to the
 * terminal's width by characters, escape codes included) from
 * batch-format.ts handed over as each row's payload, so a row's look never depends on the
 * library's placeholders. Rows are created at the first progress event (before it there is
 * nothing to draw, and the start line prints as a plain header).
 */
function livePrinter(options: BatchPrinterOptions): BatchPrinter {
  const [dim, red, bold] = [paint(options.color, '2'), paint(options.color, '31'), paint(options.color, '1')];
  let display: cliProgress.MultiBar | undefined;
  const rows = new Map<string, cliProgress.SingleBar>();
  let start: BatchStart | undefined;
  let last: BatchProgress | undefined;
  // After batch-end nothing more is drawn; after close() lines still print, plainly.
  let ended = false;
  let closed = false;
  let logsPending = false;

  const log = (text: string) => {
    if (!display) {
      options.err.write(`${text}\n`);
      return;
    }
    logsPending = true;
    display.log(`${text}\n`);
  };

  const open = (): cliProgress.MultiBar => {
    const multi = new cliProgress.MultiBar({
      stream: options.err,
      format: (_options, _params, payload: { line?: string }) => payload.line ?? '',
      // Rows are cut to the terminal's width (so a row never wraps and the redraw stays in
      // place) while logged lines wrap as usual; the default (autowrap off) would cut them.
      linewrap: true,
      // Every frame draws every row: a row is only rewritten when its text changed otherwise,
      // and a logged line written over it would leave it half erased.
      forceRedraw: true,
      // The command handles Ctrl-C (it cancels the batch and then closes this printer).
      gracefulExit: false,
    });
    // MultiBar writes logged lines from the top row down without clearing the rows below:
    // a short line would keep the tail of an older row. Clear the area first (node:readline,
    // after MultiBar moved the cursor to the top row).
    multi.on('redraw-pre', () => {
      if (!logsPending) return;
      logsPending = false;
      clearScreenDown(options.err);
    });
    return multi;
  };

  const row = (multi: cliProgress.MultiBar, key: string, line: string) => {
    const existing = rows.get(key);
    if (existing) existing.update({ line });
    else rows.set(key, multi.create(1, 0, { line }));
  };

  const draw = (progress: BatchProgress) => {
    if (closed) return;
    display ??= open();
    row(display, 'overall', overallRow(progress));
    row(display, 'counts', countsRow(progress));
    row(display, 'activity', activityRow(progress));
    // Keyed by port and URL: one port may spread over several servers.
    for (const endpoint of progress.endpoints) row(display, `${endpoint.port} ${endpoint.url}`, endpointRow(endpoint, progress.elapsedMs));
  };

  const stop = () => {
    if (!display) return;
    display.update(); // MultiBar.stop() draws the rows but not the lines still waiting in its log buffer
    display.stop();
    display = undefined;
  };

  return {
    onEvent(event) {
      if (ended) return;
      switch (event.type) {
        case 'batch-start':
          start = event;
          log(dim(startLine(event)));
          break;
        case 'record-problem':
          log(problemLine(event.problem));
          break;
        case 'record-end':
          if (event.status === 'failed') log(red(failureLine(event)));
          break;
        case 'progress':
          last = event.progress;
          draw(event.progress);
          break;
        case 'batch-end': {
          // The last frame with the final counts and nothing in flight, then the summary below it.
          if (last && display) {
            draw({ ...last, counts: event.counts, inFlight: 0, elapsedMs: event.elapsedMs, endpoints: last.endpoints.map((e) => ({ ...e, inFlight: 0 })) });
          }
          stop();
          ended = true;
          const [head = '', ...hints] = summaryLines(event, start);
          options.err.write(`${bold(head)}\n`);
          for (const hint of hints) options.err.write(`${dim(hint)}\n`);
          break;
        }
      }
    },
    log,
    close() {
      stop();
      closed = true;
    },
  };
}
