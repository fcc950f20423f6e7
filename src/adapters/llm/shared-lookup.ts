/**
 * A lookup shared by concurrent callers: API detection, the context size, the model name,
 * an endpoint's client. Each caller waits with its own signal; none can cancel the lookup
 * for the others.
 *
 *  - Concurrent callers share one pending run; its answer is kept and every later call
 *    gets it without running again. A failure is not kept: the next call runs again.
 *  - A caller whose signal fires stops waiting at once (rejects with `cancelled()`); the
 *    run goes on for the callers still waiting. The run gets a signal of its own, which
 *    fires only when every caller has stopped waiting (nobody wants the answer any more).
 *  - `reset()` forgets the answer and stops a pending run: its callers get `cancelled()`,
 *    and whatever it still comes up with goes to `discard`.
 */

export interface SharedLookup<T> {
  /** The answer: the kept one, or the pending run's, or a new run's. */
  get(signal?: AbortSignal): Promise<T>;
  /** The kept answer, without running. */
  peek(): { value: T } | undefined;
  /** Forgets the kept answer (handing it to `discard`) and stops a pending run. */
  reset(): Promise<void>;
}

export interface SharedLookupOptions<T> {
  /** The error a caller gets when its own signal fires, or a reset stops the run it waits for. */
  cancelled(): Error;
  /**
   * Gets answers that will not be handed out: the kept one on reset, one that came after
   * a reset, and a second one that came while another was already kept (e.g. to close a client).
   */
  discard?(value: T): void | Promise<void>;
}

interface Run<T> {
  readonly controller: AbortController;
  /** Callers waiting for it. */
  waiters: number;
  /** Settled, or left by every caller, or stopped by a reset: nobody else may join. */
  over: boolean;
  readonly answer: Promise<T>;
  settle(outcome: { value: T } | { error: unknown }): void;
}

export function sharedLookup<T>(run: (signal: AbortSignal) => Promise<T>, options: SharedLookupOptions<T>): SharedLookup<T> {
  let kept: { value: T } | undefined;
  let current: Run<T> | undefined;
  /** Bumped by reset: runs started before it no longer count. */
  let generation = 0;

  const discard = (value: T): void => {
    void Promise.resolve()
      .then(() => options.discard?.(value))
      .catch(() => undefined);
  };

  const start = (): Run<T> => {
    let settle!: Run<T>['settle'];
    const answer = new Promise<T>((resolve, reject) => {
      settle = (outcome) => ('value' in outcome ? resolve(outcome.value) : reject(outcome.error));
    });
    answer.catch(() => undefined); // nobody may be waiting any more
    const started: Run<T> = { controller: new AbortController(), waiters: 0, over: false, answer, settle };
    const startedIn = generation;
    const finish = (outcome: { value: T } | { error: unknown }): void => {
      if (current === started) current = undefined;
      if (started.over) return;
      started.over = true;
      started.settle(outcome);
    };
    let running: Promise<T>;
    try {
      running = run(started.controller.signal); // at once: a request goes out before the caller returns
    } catch (error) {
      running = Promise.reject(error);
    }
    running
      .then(
        (value) => {
          if (startedIn !== generation) {
            discard(value);
            return finish({ error: options.cancelled() });
          }
          if (kept) {
            // Another run answered first (one every caller had left, which is still an answer).
            if (kept.value !== value) discard(value);
          } else {
            kept = { value };
          }
          finish(kept);
        },
        (error: unknown) => finish({ error }),
      );
    return started;
  };

  const wait = (pending: Run<T>, signal: AbortSignal | undefined): Promise<T> => {
    if (!signal) return pending.answer;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(options.cancelled());
      signal.addEventListener('abort', onAbort, { once: true });
      pending.answer.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };

  return {
    async get(signal) {
      if (kept) return kept.value;
      if (signal?.aborted) throw options.cancelled();
      const pending = (current ??= start());
      pending.waiters++;
      try {
        return await wait(pending, signal);
      } finally {
        pending.waiters--;
        if (pending.waiters === 0 && !pending.over) {
          // Every caller stopped waiting: stop the run; the next call starts afresh.
          pending.over = true;
          if (current === pending) current = undefined;
          pending.controller.abort();
        }
      }
    },
    peek: () => kept,
    async reset() {
      generation++;
      const pending = current;
      current = undefined;
      if (pending && !pending.over) {
        pending.over = true;
        pending.settle({ error: options.cancelled() });
        pending.controller.abort();
      }
      const old = kept;
      kept = undefined;
      if (old) await options.discard?.(old.value);
    },
  };
}
