/**
 * `quire watch`: run the selected workflows once, then again on every save that can
 * change their prompts, on one app context and one live model.
 *
 * - One run at a time, in order; a save that reaches the workflow running now cancels it
 *   (on the server too) and queues one fresh run. A workflow is never queued twice.
 * - A broken save is reported and changes nothing; the last good model keeps serving.
 * - After each step, its response is compared with the same step of the workflow's
 *   previous completed run.
 */
import { AppError, ProblemsError, type Problem } from '../core/errors.js';
import { workflowSlice } from '../core/graph.js';
import { resolveInputs } from '../core/inputs.js';
import { compactWordDiff, type ResponseDiff } from '../core/response-diff.js';
import type { AppContext } from './context.js';
import { applySave, markModelSynced, openLiveModel, type LiveModel } from './live-model.js';
import { findWorkflow } from './plan.js';
import { runWorkflow, type RunEvent, type RunOutcome } from './run.js';

/** The workspace config, whose endpoints the LLM clients are made from. */
const CONFIG_PATH = 'quire.yaml';

export type WatchEvent =
  | { type: 'ready'; workflows: string[]; skipped: { workflow: string; reason: string }[] }
  | { type: 'change'; changed: string[]; removed: string[] }
  | { type: 'problems'; problems: Problem[] }
  | { type: 'rerun'; workflow: string; because: string | null; cancelledRunning: boolean }
  | { type: 'run'; workflow: string; event: RunEvent }
  | { type: 'step-diff'; workflow: string; step: string; previousRunId: number | null; diff: ResponseDiff }
  | { type: 'error'; message: string };

/** Starts watching; `onBatch` is called with each save's paths until the returned close. */
export type StartWatcher = (onBatch: (batch: { changed: string[]; removed: string[] }) => void) => Promise<{ close(): Promise<void> }>;

export interface WatchOptions {
  /** Workflow names; empty: every workflow whose inputs can be satisfied. */
  workflows: readonly string[];
  inputs: Record<string, unknown>;
  endpointOverrides?: readonly string[];
  stream: boolean;
  /** Reuse answers of identical earlier requests: a save that changes step 3 reruns from step 3. */
  cache?: boolean;
  onEvent: (event: WatchEvent) => void;
  startWatcher: StartWatcher;
}

export interface WatchSession {
  /** Resolves when nothing is running or queued and no save is being applied. */
  idle(): Promise<void>;
  /** Cancels what runs (recorded `cancelled`), stops watching. */
  stop(): Promise<void>;
}

export async function startWatch(ctx: AppContext, options: WatchOptions): Promise<WatchSession> {
  const emit = options.onEvent;
  let model: LiveModel | undefined;
  let selected: string[] = [];
  const queue: { workflow: string; because: string | null; changed: string[] }[] = [];
  let current: { workflow: string; controller: AbortController; done: Promise<RunOutcome | undefined> } | undefined;
  let stopped = false;
  let saves: Promise<void> = Promise.resolve();
  let pumping: Promise<void> | undefined;
  // The outputs of each workflow's last completed run, by step name (what a new answer is compared with).
  const previous = new Map<string, { runId: number | null; outputs: Map<string, string> }>();

  const select = (live: LiveModel) => {
    const names = options.workflows.length > 0 ? [...options.workflows] : [...live.workspace.workflows.keys()].sort();
    const runnable: string[] = [];
    const skipped: { workflow: string; reason: string }[] = [];
    for (const name of names) {
      // A named workflow that does not exist is a typo: the same error as `quire run` gives.
      const workflow = findWorkflow(live.workspace, name);
      try {
        resolveInputs(workflow, inputsFor(live, name));
        runnable.push(name);
      } catch (error) {
        if (options.workflows.length > 0 || !(error instanceof AppError)) throw error;
        skipped.push({ workflow: name, reason: error.message.split('\n').map((line) => line.trim()).filter((line) => line && !/^\d+ input problems:$/.test(line)).join('; ') });
      }
    }
    // One set of inputs serves every workflow: a name none of them takes is a typo.
    const unknown = Object.keys(options.inputs).filter((key) => !runnable.some((name) => key in live.workspace.workflows.get(name)!.inputs));
    if (unknown.length > 0 && runnable.length > 0) {
      throw new AppError('INPUT', `no watched workflow takes the input${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')}`, { hint: `watched: ${runnable.join(', ')}` });
    }
    return { runnable, skipped };
  };

  /** The given inputs a workflow declares (one `--input` set serves every watched workflow). */
  const inputsFor = (live: LiveModel, name: string): Record<string, unknown> => {
    const declared = live.workspace.workflows.get(name)?.inputs ?? {};
    return Object.fromEntries(Object.entries(options.inputs).filter(([key]) => key in declared));
  };

  const previousOutputs = async (workflow: string) => {
    let known = previous.get(workflow);
    if (!known) {
      const { history } = await ctx.stores.forReading();
      const last = (await history.listRuns({ workflow, limit: 50 })).find((run) => run.status === 'completed');
      const outputs = new Map<string, string>();
      if (last) for (const response of await history.responses(last.id)) if (typeof response.metadata.step === 'string') outputs.set(response.metadata.step, response.content ?? '');
      known = { runId: last?.id ?? null, outputs };
      previous.set(workflow, known);
    }
    return known;
  };

  const runOne = async (item: { workflow: string; changed: string[] }): Promise<RunOutcome | undefined> => {
    const live = model!;
    const controller = new AbortController();
    const before = await previousOutputs(item.workflow);
    const outputs = new Map<string, string>();
    const done = runWorkflow(ctx, {
      workflow: item.workflow,
      inputs: inputsFor(live, item.workflow),
      ...(options.endpointOverrides ? { endpointOverrides: options.endpointOverrides } : {}),
      trigger: 'watch',
      stream: options.stream,
      ...(options.cache ? { cache: true } : {}),
      signal: controller.signal,
      // The run's own slice: the live model's maps change in place on the next save.
      model: workflowSlice(live.workspace, live.hashes, item.workflow),
      ...(item.changed.length > 0 ? { changedFiles: item.changed } : {}),
      onEvent: (event) => {
        emit({ type: 'run', workflow: item.workflow, event });
        if (event.type === 'step-end') {
          outputs.set(event.name, event.content);
          const old = before.outputs.get(event.name);
          if (old !== undefined) emit({ type: 'step-diff', workflow: item.workflow, step: event.name, previousRunId: before.runId, diff: compactWordDiff(old, event.content) });
        }
      },
    }).then(
      (outcome) => {
        if (outcome.status === 'completed') previous.set(item.workflow, { runId: outcome.runId, outputs });
        return outcome;
      },
      (error: unknown) => {
        emit({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        return undefined;
      },
    );
    current = { workflow: item.workflow, controller, done };
    try {
      return await done;
    } finally {
      current = undefined;
    }
  };

  const pump = () => {
    pumping ??= (async () => {
      while (queue.length > 0 && !stopped) await runOne(queue.shift()!);
    })().finally(() => {
      pumping = undefined;
    });
    return pumping;
  };

  const enqueue = (workflow: string, because: string | null, changed: string[]) => {
    const cancelling = current?.workflow === workflow;
    if (cancelling) current!.controller.abort();
    emit({ type: 'rerun', workflow, because, cancelledRunning: cancelling });
    const waiting = queue.find((item) => item.workflow === workflow);
    if (waiting) {
      waiting.because = because;
      waiting.changed = [...new Set([...waiting.changed, ...changed])];
    } else queue.push({ workflow, because, changed });
  };

  const onSave = (batch: { changed: string[]; removed: string[] }) => {
    saves = saves.then(async () => {
      if (stopped) return;
      emit({ type: 'change', changed: batch.changed, removed: batch.removed });
      try {
        if (!model) {
          // No good model yet (the workspace was invalid at start): try the whole workspace again.
          model = await openLiveModel(ctx);
          const chosen = select(model);
          selected = chosen.runnable;
          emit({ type: 'ready', workflows: selected, skipped: chosen.skipped });
          for (const workflow of selected) enqueue(workflow, null, [...batch.changed, ...batch.removed]);
        } else {
          const update = await applySave(ctx, model, batch);
          model = update.model;
          if (!update.ok) {
            emit({ type: 'problems', problems: update.problems });
            return;
          }
          for (const workflow of selected) {
            const because = update.affected.get(workflow);
            if (because !== undefined) enqueue(workflow, because, [...update.changed, ...update.removed]);
          }
          if ([...update.changed, ...update.removed].includes(CONFIG_PATH)) {
            // The endpoints may have changed (or a server restarted behind the same port, to be
            // detected again): once the cancelled run is over, every client is dropped and the
            // reruns make new ones, so no connection or probe of the old settings stays open.
            await current?.done;
            await ctx.clients.close?.();
          }
        }
      } catch (error) {
        if (error instanceof ProblemsError) emit({ type: 'problems', problems: error.problems });
        else emit({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        return;
      }
      void pump();
    });
  };

  try {
    model = await openLiveModel(ctx);
  } catch (error) {
    if (!(error instanceof ProblemsError)) throw error;
    emit({ type: 'problems', problems: error.problems });
  }
  if (model) {
    const chosen = select(model);
    selected = chosen.runnable;
    emit({ type: 'ready', workflows: selected, skipped: chosen.skipped });
    for (const workflow of selected) queue.push({ workflow, because: null, changed: [] });
  }
  const watcher = await options.startWatcher(onSave);
  void pump();

  return {
    async idle() {
      for (;;) {
        const pending = saves;
        await pending;
        await pumping;
        if (pending === saves && !pumping && queue.length === 0) return;
      }
    },
    async stop() {
      stopped = true;
      queue.length = 0;
      current?.controller.abort();
      await watcher.close();
      await saves;
      await current?.done;
      await pumping;
      if (model) await markModelSynced(ctx, model).catch(() => undefined); // only a shortcut: the next sync checks fully without it
    },
  };
}
