/**
 * Servers that want a model name (Ollama, vLLM) when quire.yaml names none: the first
 * model the server lists, looked up once per client.
 */
import type { ApiKind, LlmClient } from '../../core/llm.js';
import { cancelledError } from './failure.js';
import type { HttpClient } from './http.js';
import { sharedLookup } from './shared-lookup.js';

/**
 * A client whose model name, when none is configured, is looked up once from the server
 * (the first model it lists; concurrent callers share the lookup, a failed one is asked
 * again by the next call) and then used for every request. `lookup` may answer
 * undefined: the requests then go without a model, as servers with one model accept.
 */
export function withLookedUpModel(
  api: ApiKind,
  http: HttpClient,
  lookup: (signal: AbortSignal | undefined) => Promise<string | undefined>,
  make: (model: string | undefined) => LlmClient,
): LlmClient {
  // The lookup is shared: a caller whose signal fires stops waiting; the others still get the model.
  const client = sharedLookup((signal) => lookup(signal).then(make), {
    cancelled: () => cancelledError({ label: api, method: 'GET', path: http.baseUrl }),
  });
  const resolve = (signal?: AbortSignal): Promise<LlmClient> => client.get(signal);
  return {
    api,
    url: http.baseUrl,
    complete: async (request, options) => (request.model ? make(request.model) : await resolve(options?.signal)).complete(request, options),
    inspectContext: async (prompt, options) => (await resolve(options?.signal)).inspectContext(prompt, options),
    // Every client made here talks through `http`.
    close: async () => http.close(),
  };
}
