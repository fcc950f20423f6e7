/**
 * The LLM server adapters: one LlmClient per API, picked by `api`, or detected for `auto`.
 */
import { AppError } from '../../core/errors.js';
import type { ApiKind, ApiSetting, LlmClient } from '../../core/llm.js';
import type { AdapterOptions } from './completion.js';
import { detectApi, detectedApi, type DetectOptions } from './detect.js';
import { llmError } from './failure.js';
import { createKoboldClient } from './kobold.js';
import { createLlamaCppClient } from './llamacpp.js';
import { createOllamaClient } from './ollama.js';
import { createOpenAiChatClient } from './openai-chat.js';
import { createOpenAiClient } from './openai.js';
import { normalizeBaseUrl } from './url.js';

export interface LlmClientOptions extends AdapterOptions {
  api: ApiSetting;
}

const FACTORIES: Record<ApiKind, (options: AdapterOptions) => LlmClient> = {
  kobold: createKoboldClient,
  openai: createOpenAiClient,
  'openai-chat': createOpenAiChatClient,
  ollama: createOllamaClient,
  llamacpp: createLlamaCppClient,
};

/**
 * A client for one server. With `api: 'auto'` the server is probed on the first
 * `complete`/`inspectContext` call (cached per URL for the process); until then
 * reading `client.api` throws unless that URL was detected before. Use
 * `resolveLlmClient` to detect up front.
 */
export function createLlmClient(options: LlmClientOptions): LlmClient {
  if (options.api !== 'auto') return FACTORIES[options.api](options);
  const url = normalizeBaseUrl(options.url);
  let client: LlmClient | undefined;
  const resolve = async (signal: AbortSignal | undefined): Promise<LlmClient> => {
    client ??= FACTORIES[await untilAborted(detectApi(url, detectOptions(options)), signal, url)](options);
    return client;
  };
  return {
    get api(): ApiKind {
      const api = client?.api ?? detectedApi(url);
      if (api === undefined) {
        throw new AppError('LLM_PROTOCOL', `[llm:auto] the API at ${url} is not detected yet`, { hint: 'use resolveLlmClient() to detect it first' });
      }
      return api;
    },
    url,
    complete: async (request, completion) => (await resolve(completion?.signal)).complete(request, completion),
    inspectContext: async (prompt, inspect) => (await resolve(inspect?.signal)).inspectContext(prompt, inspect),
  };
}

/** Like createLlmClient, but resolves `auto` first, so `client.api` is always the real API. */
export async function resolveLlmClient(options: LlmClientOptions, signal?: AbortSignal): Promise<LlmClient> {
  if (options.api !== 'auto') return FACTORIES[options.api](options);
  return FACTORIES[await untilAborted(detectApi(options.url, detectOptions(options)), signal, options.url)](options);
}

/** Probes are quick questions: cap their timeout, keep the endpoint's retries for a server still starting. */
function detectOptions(options: AdapterOptions): DetectOptions {
  return { apiKey: options.apiKey, timeoutMs: Math.min(options.timeoutMs, 10_000), retries: options.retries, retryBaseMs: options.retryBaseMs };
}

/** The shared detection keeps running for other callers; only this caller stops waiting. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, url: string): Promise<T> {
  if (!signal) return promise;
  const cancelled = () => llmError({ label: 'auto', method: 'GET', path: url }, 'CANCELLED', 'cancelled');
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export { detectApi, detectedApi, clearDetectedApis, type DetectOptions } from './detect.js';
export { LlmError, cancelledError, describeErrorBody } from './failure.js';
export type { AdapterOptions } from './completion.js';
export { createKoboldClient, createLlamaCppClient, createOllamaClient, createOpenAiChatClient, createOpenAiClient };
