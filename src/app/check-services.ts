/**
 * What checks need from outside the pure check engine (core/checks), for one run:
 * embeddings from an endpoint, a judge payload rendered and sent (its call recorded in the
 * run like a step's), a JSON Schema file read from the workspace, and the step's approved
 * output. Made once per run; embedding clients once per endpoint and process.
 */
import { createEmbeddingClient } from '../adapters/llm/index.js';
import type { CheckServices } from '../core/checks/evaluate.js';
import type { CheckSpec, StepOutput } from '../core/checks/types.js';
import { AppError } from '../core/errors.js';
import type { NewResponse } from '../core/history.js';
import type { Workspace } from '../core/types.js';
import type { AppContext } from './context.js';
import { parseEndpointOverrides, resolveEndpoint } from './endpoints.js';
import type { createPlanner, PlannedStep } from './plan.js';

export interface RunCheckContext {
  ctx: AppContext;
  workspace: Workspace;
  planner: ReturnType<typeof createPlanner>;
  endpointOverrides: readonly string[];
  runId: number;
  input: Record<string, unknown>;
  steps: Record<string, { output: string }>;
  signal?: AbortSignal;
  /** Records the judge's call as a response of the run. */
  record: (response: Omit<NewResponse, 'runId'>) => Promise<void>;
  /** The step's approved ("golden") output, when there is one. */
  approved?: (step: string) => string | undefined;
}

type EmbeddingClient = ReturnType<typeof createEmbeddingClient>;
const embedders = new WeakMap<AppContext, Map<string, EmbeddingClient>>();

/** The services for one step's checks. */
export function checkServices(run: RunCheckContext, planned: PlannedStep): CheckServices {
  const { ctx, workspace } = run;
  const overrides = parseEndpointOverrides(run.endpointOverrides);
  const approved = run.approved?.(planned.step.name);
  return {
    async embed(texts: string[], check: CheckSpec) {
      const args = (check.args ?? {}) as { port?: number; model?: string };
      const endpoint = resolveEndpoint(workspace.config, args.port ?? planned.payload.llmPort, overrides);
      // The completion client knows the API the server speaks (detected once for `auto`).
      const client = await ctx.clients(endpoint, run.signal);
      const api = client.api;
      // The check's model only: the endpoint's `model:` names its chat model; without one, the
      // client picks the server's embedding model (one named *embed*, else the first listed).
      const model = args.model;
      const key = JSON.stringify([api, endpoint.urls[0], model]);
      let perContext = embedders.get(ctx);
      if (!perContext) embedders.set(ctx, (perContext = new Map()));
      let embedder = perContext.get(key);
      if (!embedder) {
        embedder = createEmbeddingClient({ api, url: endpoint.urls[0]!, ...(model ? { model } : {}), ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}), timeoutMs: endpoint.timeoutMs, retries: endpoint.retries });
        perContext.set(key, embedder);
      }
      return embedder.embed(texts, run.signal);
    },

    async judge(check: CheckSpec, output: StepOutput) {
      const args = check.args as { payload: string; expected?: string };
      const payload = workspace.payloads.get(args.payload);
      if (!payload) throw new AppError('NOT_FOUND', `judge payload "${args.payload}" is not in the workspace`);
      const judgeStep: PlannedStep = { index: planned.index, step: { name: `${planned.step.name}:judge`, payload: payload.name, vars: { output: output.text, expected: args.expected ?? '' }, expect: [], at: check.at }, payload };
      const prompt = run.planner.prompt(judgeStep, run.input, run.steps, output.text, { date: ctx.clock.now(), output: output.text, expected: args.expected ?? '' });
      const endpoint = resolveEndpoint(workspace.config, payload.llmPort, overrides);
      const client = await ctx.clients(endpoint, run.signal);
      const chat = client.api === 'openai-chat';
      const result = await client.complete(
        { prompt: prompt.text, messages: prompt.messages, maxTokens: payload.responseLength, temperature: payload.temperature, stop: prompt.stop, params: payload.params, ...(endpoint.model ? { model: endpoint.model } : {}) },
        run.signal ? { signal: run.signal } : {},
      );
      await run.record({
        payloadId: null,
        content: result.text,
        prompt: chat ? JSON.stringify(prompt.messages) : prompt.text,
        metadata: {
          step: judgeStep.step.name, step_index: planned.index, payload: payload.name, judge_for: planned.step.name,
          endpoint: result.endpoint ?? client.url, api: client.api, model: result.model ?? endpoint.model ?? null, model_format: payload.modelFormat,
          completion_tokens: result.completionTokens ?? null, prompt_tokens: result.promptTokens ?? null, total_ms: Math.round(result.totalMs), finish_reason: result.finishReason,
        },
      });
      return result.text;
    },

    schemaFile(path: string) {
      const read = ctx.files.readAuxiliary(path);
      if (read.text === undefined) throw new AppError('NOT_FOUND', read.problem ?? `cannot read ${path}`);
      try {
        return JSON.parse(read.text) as unknown;
      } catch (error) {
        throw new AppError('SCHEMA', `${path} is not JSON: ${(error as Error).message}`);
      }
    },

    ...(approved !== undefined ? { approved } : {}),
  };
}
