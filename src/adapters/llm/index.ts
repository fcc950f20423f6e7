/**
 * The LLM server adapters: one LlmClient per API, picked by `api`, or detected for `auto`.
 */
import { AppError } from '../../core/errors.js';
import type { ApiKind, ApiSetting, LlmClient } from '../../core/llm.js';
import type { AdapterOptions } from './completion.js';
import { detectApi, detectedApi, type DetectOptions } from './detect.js';
import { cancelledError } from './failure.js';
import { createKoboldClient } from './kobold.js';
import { createLlamaCppClient } from './llamacpp.js';
import { createOllamaClient } from './ollama.js';
import { createOpenAiChatClient } from './openai-chat.js';
import { createOpenAiClient } from './openai.js';
import { sharedLookup } from './shared-lookup.js';
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
  // One adapter, made once the API is known; concurrent first calls share the detection.
  const adapter = sharedLookup(async (signal) => FACTORIES[await detectApi(url, detectOptions(options), signal)](options), {
    cancelled: () => cancelledError({ label: 'auto', method: 'GET', path: url }),
    discard: (client) => client.close(),
  });
  return {
    get api(): ApiKind {
      const api = adapter.peek()?.value.api ?? detectedApi(url);
      if (api === undefined) {
        throw new AppError('LLM_PROTOCOL', `[llm:auto] the API at ${url} is not detected yet`, { hint: 'use resolveLlmClient() to detect it first' });
      }
      return api;
    },
    url,
    complete: async (request, completion) => (await adapter.get(completion?.signal)).complete(request, completion),
    inspectContext: async (prompt, inspect) => (await adapter.get(inspect?.signal)).inspectContext(prompt, inspect),
    // Closes the adapter made so far (and stops a detection in progress); a later call makes a new one.
    close: () => adapter.reset(),
  };
}

/**
 * Like createLlmClient, but resolves `auto` first, so `client.api` is always the real API.
 * The detection is shared per URL: `signal` stops only this caller's wait.
 */
export async function resolveLlmClient(options: LlmClientOptions, signal?: AbortSignal): Promise<LlmClient> {
  return FACTORIES[await resolveApi(options, signal)](options);
}

/** The API a client with these options speaks: `api` itself, or for `auto` what detection finds (shared per URL; `signal` stops only this caller's wait). */
export function resolveApi(options: LlmClientOptions, signal?: AbortSignal): Promise<ApiKind> {
  return options.api === 'auto' ? detectApi(options.url, detectOptions(options), signal) : Promise.resolve(options.api);
}

/** Probes are quick questions: cap their timeout, keep the endpoint's retries for a server still starting. */
function detectOptions(options: AdapterOptions): DetectOptions {
  return { apiKey: options.apiKey, timeoutMs: Math.min(options.timeoutMs, 10_000), retries: options.retries, retryBaseMs: options.retryBaseMs };
}

export { detectApi, detectedApi, clearDetectedApis, type DetectOptions } from './detect.js';
export { LlmError, cancelledError, describeErrorBody } from './failure.js';
export type { AdapterOptions } from './completion.js';
export { sharedLookup, type SharedLookup, type SharedLookupOptions } from './shared-lookup.js';
export { createKoboldClient, createLlamaCppClient, createOllamaClient, createOpenAiChatClient, createOpenAiClient };
export {
  createEmbeddingClient, DEFAULT_EMBEDDING_RETRIES, DEFAULT_EMBEDDING_TIMEOUT_MS, type EmbeddingClient, type EmbeddingClientOptions,
} from './embeddings.js';
