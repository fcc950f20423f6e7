/**
 * Client-side stop strings. Servers differ on whether the stop string stays in the
 * output (KoboldCpp `trim_stop`, vLLM `include_stop_str_in_output`) and on whether a
 * string `stop` is honoured at all (llama.cpp ignores it), so the text is cut here too:
 * at the first occurrence of any stop string, which is where generation should have ended.
 */

export function cutAtStop(text: string, stops: readonly string[]): { text: string; stopped: boolean } {
  let cut = -1;
  for (const stop of stops) {
    if (stop === '') continue;
    const index = text.indexOf(stop);
    if (index >= 0 && (cut < 0 || index < cut)) cut = index;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

export interface StopFilter {
  /** Takes a streamed piece; returns the text that is now safe to show. */
  push(piece: string): string;
  /** At the end of the stream: the held-back text, if no stop string completed. */
  flush(): string;
  /** A stop string was found: everything from it on was dropped; stop reading. */
  readonly stopped: boolean;
}

/**
 * For streaming: holds back any tail that could be the start of a stop string, so a
 * stop string split across pieces never reaches the screen. The shown pieces then
 * always concatenate to the final text.
 */
export function createStopFilter(stops: readonly string[]): StopFilter {
  const active = stops.filter((s) => s !== '');
  let pending = '';
  let stopped = false;
  return {
    push(piece) {
      if (stopped) return '';
      pending += piece;
      const cut = cutAtStop(pending, active);
      if (cut.stopped) {
        stopped = true;
        pending = '';
        return cut.text;
      }
      const hold = heldBack(pending, active);
      const out = pending.slice(0, pending.length - hold);
      pending = pending.slice(pending.length - hold);
      return out;
    },
    flush() {
      const out = stopped ? '' : pending;
      pending = '';
      return out;
    },
    get stopped() {
      return stopped;
    },
  };
}

/** Length of the longest tail of `text` that is a proper prefix of some stop string. */
function heldBack(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const stop of stops) {
    for (let k = Math.min(stop.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(stop.slice(0, k))) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}
