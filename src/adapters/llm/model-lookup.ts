/**
 * Servers that want a model name (Ollama, vLLM) when quire.yaml names none: the first
 * model the server lists, looked up once per client.
 */
import type { ApiKind, LlmClient } from '../../core/llm.js';
import type { HttpClient } from './http.js';

/**
 * A client whose model name, when none is configured, is looked up once from the server
 * (the first model it lists) and then used for every request. `lookup` may answer
 * undefined: the requests then go without a model, as servers with one model accept.
 */
export function withLookedUpModel(
  api: ApiKind,
  http: HttpClient,
  lookup: (signal: AbortSignal | undefined) => Promise<string | undefined>,
  make: (model: string | undefined) => LlmClient,
): LlmClient {
  let pending: Promise<LlmClient> | undefined;
  const resolve = (signal?: AbortSignal): Promise<LlmClient> => {
    pending ??= lookup(signal).then(make);
    pending.catch(() => (pending = undefined)); // a failed lookup is retried by the next call
    return pending;
  };
  return {
    api,
    url: http.baseUrl,
    complete: async (request, options) => (request.model ? make(request.model) : await resolve(options?.signal)).complete(request, options),
    inspectContext: async (prompt, options) => (await resolve(options?.signal)).inspectContext(prompt, options),
  };
}
