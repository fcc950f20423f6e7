/**
 * `quire run`: sync, then run a workflow's steps in order against the LLM servers,
 * recording the run and each response as soon as it completes.
 */
import { AppError } from '../core/errors.js';
import type { FinishedStatus, NewResponse, ResponseMetadata, RunMetadata } from '../core/history.js';
import type { ApiKind, CompletionResult, ContextInfo, LlmClient } from '../core/llm.js';
import type { BuiltPrompt } from '../core/prompt.js';
import { cachedResult, stepCacheKey } from '../core/step-cache.js';
import type { Workflow, Workspace } from '../core/types.js';
import { runChecks } from '../core/checks/evaluate.js';
import type { CheckSpec, StepCheckResult } from '../core/checks/types.js';
import { checkServices } from './check-services.js';
import { resolveInputs } from '../core/inputs.js';
import type { AppContext } from './context.js';
import { parseEndpointOverrides, resolveEndpoint, type ResolvedEndpoint } from './endpoints.js';
import { createPlanner, filesUsed, findWorkflow, type PlannedStep } from './plan.js';
import { isRunAlive, ownerMetadata } from './interrupted.js';
import { loadRunModel } from './run-model.js';
import type { WorkspaceModel } from './sync.js';

export type { ClientFactory } from './context.js';

export type RunEvent =
  | { type: 'run-start'; runId: number; workflow: string; steps: number }
  | { type: 'step-start'; index: number; total: number; name: string; payload: string; url: string; api: ApiKind; format: string }
  | { type: 'token'; index: number; text: string }
  | { type: 'step-end'; index: number; name: string; content: string; result: CompletionResult }
  | { type: 'step-checks'; index: number; name: string; result: StepCheckResult }
  | { type: 'run-end'; runId: number; status: FinishedStatus; error?: string; hint?: string };

export interface RunOptions {
  workflow: string;
  inputs: Record<string, unknown>;
  endpointOverrides?: readonly string[];
  trigger: 'cli' | 'watch' | 'batch' | 'test';
  stream: boolean;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /**
   * The validated model to run on (a long-lived process syncs once and runs many runs on
   * it); default: the workflow's slice of the workspace, synced first when files changed.
   */
  model?: WorkspaceModel;
  /** The files whose save started this run (watch), recorded in runs.metadata.changed_files. */
  changedFiles?: readonly string[];
  /** What runs of this workflow share, prepared once (batch); `model` and `endpointOverrides` are then unused. */
  prepared?: PreparedWorkflow;
  /** Checks added to a step's own `expect` (a test case's), by step name. */
  extraChecks?: (step: string) => readonly CheckSpec[];
  /** A step's approved ("golden") output, for `approved` checks. */
  approved?: (step: string) => string | undefined;
  /** Reuse the answer of an identical earlier request (see core/step-cache.ts) instead of asking the server. */
  cache?: boolean;
  /** The batch, record number and its line this run is for (runs.metadata.batch_id, batch_record, batch_line). */
  batch?: { id: number; record: number; line: number };
}

export interface RunOutcome {
  runId: number;
  status: FinishedStatus;
  error?: AppError | Error;
  outputs: { name: string; content: string }[];
  /** Steps answered from the step cache. */
  cacheHits: number;
  /** The check results of the steps that have checks, in step order. */
  checks: StepCheckResult[];
}

/**
 * What every run of one workflow shares, built once: the workflow's model, its planned
 * steps (templates compiled once), its endpoints and its rows' ids. A batch prepares once
 * and runs thousands of records on it.
 */
export interface PreparedWorkflow {
  workspace: Workspace;
  workflow: Workflow;
  planner: ReturnType<typeof createPlanner>;
  steps: PlannedStep[];
  endpoints: Map<number, ResolvedEndpoint>;
  links: { workflowId: number | null; payloadIds: ReadonlyMap<string, number> };
  /** Content hash of every file the workflow uses, by path (runs.metadata.files). */
  files: Record<string, string>;
}

/**
 * Prepares a workflow's runs; runs left `running` by a dead process are settled first.
 * @throws AppError for an unknown workflow or an endpoint that cannot be resolved
 */
export async function prepareWorkflow(ctx: AppContext, options: { workflow: string; model?: WorkspaceModel; endpointOverrides?: readonly string[] }): Promise<PreparedWorkflow> {
  const { workspace, hashes } = options.model ?? (await loadRunModel(ctx, options.workflow));
  const { history, mirror } = await ctx.stores.forWriting();
  await history.markInterrupted((metadata) => isRunAlive(ctx.processes, metadata), ctx.clock.now());
  const workflow = findWorkflow(workspace, options.workflow);
  const overrides = parseEndpointOverrides(options.endpointOverrides ?? []);
  const planner = createPlanner(workspace);
  const steps = planner.steps(workflow);
  // Resolve every endpoint before starting, so a missing API key fails before any call.
  const endpoints = new Map(steps.map((s) => [s.payload.llmPort, resolveEndpoint(workspace.config, s.payload.llmPort, overrides)]));
  const links = await mirror.runLinks(workflow.name);
  return { workspace, workflow, planner, steps, endpoints, links, files: filesUsed(workspace, workflow, hashes) };
}

/**
 * Runs a workflow end to end. Input and workspace problems throw before any run is
 * recorded; once the run exists, every failure is recorded on it and returned.
 */
export async function runWorkflow(ctx: AppContext, options: RunOptions): Promise<RunOutcome> {
  const emit = options.onEvent ?? (() => {});
  // Asked now, answered while the model loads (git runs in other processes).
  const gitState = ctx.gitState();
  const prepared = options.prepared ?? (await prepareWorkflow(ctx, options));
  const { history } = await ctx.stores.forWriting();
  const { workflow, planner, steps, endpoints, links } = prepared;
  const input = resolveInputs(workflow, options.inputs);

  const git = await gitState;
  const runMetadata: RunMetadata = {
    inputs: input,
    trigger: options.trigger,
    quire_version: ctx.version,
    git_commit: git.commit,
    git_dirty: git.dirty,
    files: prepared.files,
    ...(options.changedFiles ? { changed_files: [...options.changedFiles] } : {}),
    ...(options.batch ? { batch_id: options.batch.id, batch_record: options.batch.record, batch_line: options.batch.line } : {}),
    ...ownerMetadata(ctx.processes),
  };
  const runId = await history.startRun({ workflowId: links.workflowId, metadata: runMetadata, startedAt: ctx.clock.now() });
  emit({ type: 'run-start', runId, workflow: workflow.name, steps: steps.length });

  const outputs: { name: string; output: string }[] = [];
  let cacheHits = 0;
  const checkResults: StepCheckResult[] = [];
  const stepOutputs: Record<string, { output: string }> = {};
  // The last step's response, written with the run's end (one round trip fewer per run on a network store).
  let lastResponse: { response: NewResponse; createdAt: Date; step: { index: number; name: string } } | undefined;
  const finish = async (status: FinishedStatus, error?: AppError | Error, step?: { index: number; name: string }): Promise<RunOutcome> => {
    const { pid: _pid, process_start: _start, ...kept } = runMetadata;
    const checksSummary = checkResults.length > 0 ? { checks: { passed: checkResults.filter((c) => c.pass).length, failed: checkResults.filter((c) => !c.pass).length } } : {};
    const metadata: RunMetadata = { ...kept, steps_completed: outputs.length, ...checksSummary, ...(error ? { error: error.message, ...(step ? { failed_step: step } : {}) } : {}) };
    const last = lastResponse;
    lastResponse = undefined;
    try {
      await history.finishRun(runId, status, metadata, ctx.clock.now(), last && { response: last.response, createdAt: last.createdAt });
    } catch (writeError) {
      if (!last || !(writeError instanceof AppError)) throw writeError;
      // The last response could not be written (with the end): the run ends failed without it, as after any response's failed write.
      outputs.pop();
      return finish('failed', writeError, last.step);
    }
    const hint = error ? hintFor(error, step ? steps[step.index] : undefined) : undefined;
    emit({ type: 'run-end', runId, status, ...(error ? { error: error.message } : {}), ...(hint ? { hint } : {}) });
    return { runId, status, ...(error ? { error } : {}), outputs: outputs.map((o) => ({ name: o.name, content: o.output })), cacheHits, checks: checkResults };
  };

  for (const planned of steps) {
    const current = { index: planned.index, name: planned.step.name };
    try {
      options.signal?.throwIfAborted();
      const prompt = planner.prompt(planned, input, stepOutputs, outputs.at(-1)?.output, { date: ctx.clock.now() });
      const endpoint = endpoints.get(planned.payload.llmPort)!;
      const client = await ctx.clients(endpoint, options.signal);
      const chat = client.api === 'openai-chat';
      emit({ type: 'step-start', index: planned.index, total: steps.length, name: planned.step.name, payload: planned.payload.name, url: client.url, api: client.api, format: planned.payload.modelFormat });

      const sentPrompt = chat ? JSON.stringify(prompt.messages) : prompt.text;
      const params = paramsWithoutStop(planned.payload.params);
      const cacheKey = stepCacheKey({
        sentPrompt, format: planned.payload.modelFormat, temperature: planned.payload.temperature, maxTokens: planned.payload.responseLength,
        stop: prompt.stop, params, api: client.api, url: client.url, model: endpoint.model,
      });
      const hit = options.cache && cacheKey ? await history.cachedResponse(cacheKey) : undefined;
      let result: CompletionResult;
      let context: ContextInfo = {};
      if (hit) {
        result = cachedResult(hit);
        cacheHits++;
        if (options.stream) emit({ type: 'token', index: planned.index, text: result.text });
      } else {
        // The server's context size is asked once per endpoint; the prompt is counted only when it might not fit.
        context = await client.inspectContext(sentPrompt, { ...(options.signal ? { signal: options.signal } : {}), reserveTokens: planned.payload.responseLength });
        assertFits(planned, context);
        result = await client.complete(
          {
            prompt: prompt.text,
            messages: prompt.messages,
            maxTokens: planned.payload.responseLength,
            temperature: planned.payload.temperature,
            stop: prompt.stop,
            params,
            ...(endpoint.model ? { model: endpoint.model } : {}),
          },
          {
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.stream ? { onToken: (text: string) => emit({ type: 'token', index: planned.index, text }) } : {}),
          },
        );
      }
      const metadata = responseMetadata(planned, client, endpoint, prompt, params, context, result);
      if (hit) Object.assign(metadata, { cache_hit: true, cached_from: hit.id });
      // The step's checks run before its response is written, so the response holds their results;
      // a judge's own call is written right after it.
      const judged: Omit<NewResponse, 'runId'>[] = [];
      const checks = [...planned.step.expect, ...(options.extraChecks?.(planned.step.name) ?? [])];
      let checked: StepCheckResult | undefined;
      if (checks.length > 0) {
        const services = checkServices({
          ctx, workspace: prepared.workspace, planner, endpointOverrides: options.endpointOverrides ?? [], runId, input, steps: stepOutputs,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.approved ? { approved: options.approved } : {}),
          record: async (response) => {
            judged.push(response);
          },
        }, planned);
        checked = await runChecks(checks, { text: result.text, completionTokens: result.completionTokens ?? null, totalMs: result.totalMs }, services, { step: planned.step.name, ...(planned.step.threshold !== undefined ? { threshold: planned.step.threshold } : {}) });
        metadata.checks = checked;
        checkResults.push(checked);
      }
      // Answers are remembered whether or not this run reads the cache, so a later `--cache` run can reuse them.
      const response: NewResponse = { runId, payloadId: links.payloadIds.get(planned.payload.name) ?? null, content: result.text, prompt: sentPrompt, metadata, ...(cacheKey && !hit ? { cacheKey } : {}) };
      // The last step's response goes with the run's end, written next with nothing awaited between (a judge's responses keep their order after it).
      if (planned === steps[steps.length - 1] && judged.length === 0) lastResponse = { response, createdAt: ctx.clock.now(), step: current };
      else await history.addResponse(response, ctx.clock.now());
      for (const response of judged) await history.addResponse({ runId, ...response, payloadId: links.payloadIds.get(String(response.metadata.payload)) ?? null }, ctx.clock.now());
      outputs.push({ name: planned.step.name, output: result.text });
      stepOutputs[planned.step.name] = { output: result.text };
      emit({ type: 'step-end', index: planned.index, name: planned.step.name, content: result.text, result });
      if (checked) emit({ type: 'step-checks', index: planned.index, name: planned.step.name, result: checked });
    } catch (error) {
      const cancelled = options.signal?.aborted || (error instanceof AppError && error.code === 'CANCELLED');
      if (cancelled) return finish('cancelled', new AppError('CANCELLED', 'cancelled by the user'), current);
      if (error instanceof AppError) return finish('failed', error, current);
      // A bug: still close the run so it is not left `running`, then let the funnel print the stack.
      await finish('failed', error instanceof Error ? error : new Error(String(error)), current);
      throw error;
    }
  }
  return finish('completed');
}

/** The payload's params to pass through; its stop strings are already in the prompt's stop list, merged with the format's. */
function paramsWithoutStop(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => key !== 'stop'));
}

/** Fails the step when the server said its context cannot hold the prompt and the response. */
function assertFits(planned: PlannedStep, context: ContextInfo): void {
  const reserve = planned.payload.responseLength;
  if (context.contextLength === undefined || context.promptTokens === undefined || context.promptTokens + reserve <= context.contextLength) return;
  throw new AppError('LLM_CONTEXT', `step "${planned.step.name}": the prompt is ${context.promptTokens} tokens and response_length is ${reserve}, ` +
    `but the server's context is ${context.contextLength} tokens; the server would silently cut the prompt`, {
    hint: 'shorten the prompt, lower response_length, or start the server with a larger context',
  });
}

/** `responses.metadata` (spec section 7): where the answer came from, with what settings, and how it went. */
function responseMetadata(
  planned: PlannedStep,
  client: LlmClient,
  endpoint: ResolvedEndpoint,
  prompt: BuiltPrompt,
  params: Record<string, unknown>,
  context: ContextInfo,
  result: CompletionResult,
): ResponseMetadata {
  return {
    step: planned.step.name,
    step_index: planned.index,
    payload: planned.payload.name,
    endpoint: result.endpoint ?? client.url,
    api: client.api,
    model: result.model ?? endpoint.model ?? null,
    model_format: planned.payload.modelFormat,
    sampler: { temperature: planned.payload.temperature, max_tokens: planned.payload.responseLength, stop: prompt.stop, ...params },
    // The date a format printed into the prompt (llama3.1's system header), so runs stay comparable.
    ...(prompt.dateString !== undefined ? { date_string: prompt.dateString } : {}),
    prompt_tokens: result.promptTokens ?? context.promptTokens ?? null,
    completion_tokens: result.completionTokens ?? null,
    time_to_first_token_ms: result.timeToFirstTokenMs ?? null,
    total_ms: Math.round(result.totalMs),
    finish_reason: result.finishReason,
    raw_finish_reason: result.rawFinishReason ?? null,
    attempts: result.attempts,
    ...(context.contextLength !== undefined ? { context_length: context.contextLength } : {}),
  };
}

/** What to do about a failed step, when the error itself does not say. */
function hintFor(error: AppError | Error, planned: { payload: { llmPort: number } } | undefined): string | undefined {
  if (error instanceof AppError && error.code === 'LLM_CONNECT' && planned) {
    const port = planned.payload.llmPort;
    return `${error.hint ? `${error.hint} ` : ''}Start it, send port ${port} elsewhere with --endpoint ${port}=http://host:port, or try the workflow against \`quire mock-llm\`.`;
  }
  return error instanceof AppError ? error.hint : undefined;
}
