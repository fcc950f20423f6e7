/**
 * The step cache (`--cache`): a step whose request is exactly one answered before reuses
 * that answer. The key is everything that decides the answer: the exact text sent (after
 * the model format), the format, every sampler setting, and the endpoint (API, URL and the
 * configured model). A request that samples (temperature above 0) is cacheable only with a
 * fixed seed: otherwise a second answer is a different draw, and the user asked for one.
 */
import { createHash } from 'node:crypto';
import type { FinishReason } from './llm.js';
import type { ResponseMetadata, ResponseRecord } from './history.js';
import type { CompletionResult } from './llm.js';

export interface StepRequest {
  sentPrompt: string;
  format: string;
  temperature: number;
  maxTokens: number;
  stop: readonly string[];
  params: Record<string, unknown>;
  api: string;
  url: string;
  model: string | undefined;
}

/** Seed params of the APIs quire speaks (KoboldCpp `sampler_seed`, the others `seed`). */
const SEEDS = ['seed', 'sampler_seed'];

/** The request's cache key, or undefined when its answer is a random draw (temperature > 0, no seed). */
export function stepCacheKey(request: StepRequest): string | undefined {
  const seeded = SEEDS.some((name) => typeof request.params[name] === 'number' && (request.params[name] as number) >= 0);
  if (request.temperature > 0 && !seeded) return undefined;
  const params = Object.keys(request.params).sort().map((key) => [key, request.params[key]]);
  return createHash('sha256')
    .update(JSON.stringify([request.api, request.url, request.model ?? null, request.format, request.temperature, request.maxTokens, request.stop, params, request.sentPrompt]))
    .digest('hex');
}

/** A cached response as the step's result (no time spent, no request made). */
export function cachedResult(response: ResponseRecord): CompletionResult {
  const m: ResponseMetadata = response.metadata;
  return {
    text: response.content ?? '',
    finishReason: (m.finish_reason ?? 'stop') as FinishReason,
    ...(typeof m.prompt_tokens === 'number' ? { promptTokens: m.prompt_tokens } : {}),
    ...(typeof m.completion_tokens === 'number' ? { completionTokens: m.completion_tokens } : {}),
    ...(typeof m.model === 'string' ? { model: m.model } : {}),
    ...(typeof m.endpoint === 'string' ? { endpoint: m.endpoint } : {}),
    totalMs: 0,
    attempts: 0,
  };
}
