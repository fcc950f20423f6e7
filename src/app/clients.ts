/**
 * LLM clients per endpoint, made once per process: `auto` is probed once, a pool of
 * servers (`urls:`) sends each request to the least-busy healthy member, and
 * `concurrency` caps the requests in flight per endpoint.
 */
import { resolveLlmClient } from '../adapters/llm/index.js';
import { AppError } from '../core/errors.js';
import type { CompletionOptions, CompletionRequest, LlmClient } from '../core/llm.js';
import type { ResolvedEndpoint } from './endpoints.js';
import type { ClientFactory } from './run.js';

/** How long a pool member that refused a connection is skipped. */
const UNHEALTHY_MS = 30_000;

export function createClientFactory(): ClientFactory {
  const cache = new Map<string, Promise<LlmClient>>();
  return (endpoint, signal) => {
    const key = `${endpoint.port}|${endpoint.api}|${endpoint.urls.join(',')}`;
    let client = cache.get(key);
    if (!client) {
      client = makeEndpointClient(endpoint, signal);
      cache.set(key, client);
      client.catch(() => cache.delete(key)); // a failed probe is retried by the next step
    }
    return client;
  };
}

async function makeEndpointClient(endpoint: ResolvedEndpoint, signal?: AbortSignal): Promise<LlmClient> {
  const members = await Promise.all(
    endpoint.urls.map((url) =>
      // Headroom over the concurrency cap: context probes run beside generations.
      resolveLlmClient({ api: endpoint.api, url, model: endpoint.model, apiKey: endpoint.apiKey, timeoutMs: endpoint.timeoutMs, retries: endpoint.retries, maxSockets: endpoint.concurrency + 2 }, signal),
    ),
  );
  return limitConcurrency(members.length === 1 ? members[0]! : createPool(members), endpoint.concurrency);
}

/** Least-busy healthy member first; a member that refused a connection rests for a while. */
export function createPool(members: LlmClient[]): LlmClient {
  const state = members.map((client) => ({ client, inFlight: 0, downUntil: 0 }));
  const pick = () => {
    const now = Date.now();
    const healthy = state.filter((m) => m.downUntil <= now);
    const candidates = healthy.length ? healthy : state;
    return candidates.reduce((best, m) => (m.inFlight < best.inFlight ? m : best));
  };
  return {
    get api() {
      return members[0]!.api;
    },
    url: members.map((m) => m.url).join(','),
    async complete(request: CompletionRequest, options?: CompletionOptions) {
      const member = pick();
      member.inFlight++;
      try {
        return await member.client.complete(request, options);
      } catch (error) {
        if (error instanceof AppError && error.code === 'LLM_CONNECT') member.downUntil = Date.now() + UNHEALTHY_MS;
        throw error;
      } finally {
        member.inFlight--;
      }
    },
    inspectContext: (prompt, options) => pick().client.inspectContext(prompt, options),
  };
}

/** A client that lets at most `limit` completions run at once; the rest wait in order. */
export function limitConcurrency(client: LlmClient, limit: number): LlmClient {
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = () =>
    new Promise<void>((resolve) => {
      if (active < limit) {
        active++;
        resolve();
      } else waiting.push(() => { active++; resolve(); });
    });
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    get api() {
      return client.api;
    },
    url: client.url,
    async complete(request, options) {
      await acquire();
      try {
        return await client.complete(request, options);
      } finally {
        release();
      }
    },
    inspectContext: (prompt, options) => client.inspectContext(prompt, options),
  };
}
