/**
 * LLM clients per endpoint, made once per process: `auto` is probed once, a pool of
 * servers (`urls:`) sends each request to the least-busy healthy member, and
 * `concurrency` caps the requests in flight per endpoint (unset: by the API the server
 * speaks, detected for `auto`: KoboldCpp 1, others 4).
 */
import { cancelledError, clearDetectedApis, createLlmClient, resolveApi, sharedLookup, type LlmError, type SharedLookup } from '../adapters/llm/index.js';
import { AppError } from '../core/errors.js';
import type { CompletionOptions, CompletionRequest, LlmClient } from '../core/llm.js';
import { defaultConcurrency, type ResolvedEndpoint } from './endpoints.js';
import type { ClientFactory } from './run.js';

/** How long a pool member that refused a connection, or failed MEMBER_FAILURES times in a row, is skipped. */
const UNHEALTHY_MS = 30_000;
/** Server-side failures in a row that take a pool member out (its circuit opens) for UNHEALTHY_MS. */
const MEMBER_FAILURES = 3;

/**
 * A failure of the server rather than of the request (unreachable, timed out, a broken
 * reply, a 5xx): the same request may well succeed on another member of the pool. A 4xx
 * (the request itself is wrong, or the context is too small) would fail anywhere.
 */
function serverFailure(error: unknown): boolean {
  if (!(error instanceof AppError)) return false;
  if (error.code === 'LLM_CONNECT' || error.code === 'LLM_TIMEOUT' || error.code === 'LLM_PROTOCOL') return true;
  const status = (error as { status?: number }).status;
  return error.code === 'LLM_HTTP' && (status === undefined || status >= 500 || status === 429);
}

/** The client factory of a process, which can also close every client it made. */
export interface ClosableClientFactory extends ClientFactory {
  /**
   * Closes every client made so far (their connections end; requests in flight or still
   * being set up fail with CANCELLED) and forgets them: later calls make new ones. For a
   * long-lived process that drops its clients, e.g. when quire.yaml changes. The APIs
   * `auto` detected are forgotten too (process-wide): the next request probes again.
   */
  close(): Promise<void>;
}

export function createClientFactory(): ClosableClientFactory {
  const clients = new Map<string, SharedLookup<LlmClient>>();
  const getClient: ClientFactory = (endpoint, signal) => {
    // Every setting is in the key: an endpoint whose settings changed gets a client of its own.
    const key = JSON.stringify([endpoint.port, endpoint.api, endpoint.urls, endpoint.model, endpoint.apiKey, endpoint.timeoutMs, endpoint.deadlineMs, endpoint.retries, endpoint.concurrency]);
    let client = clients.get(key);
    if (!client) {
      // Shared by the steps (and runs) that need it at once: one caller's cancellation
      // stops only its own wait. A failed probe is not kept: the next step probes again.
      client = sharedLookup((probing) => makeEndpointClient(endpoint, probing), {
        cancelled: () => cancelledError({ label: endpoint.api, method: 'GET', path: endpoint.urls.join(',') }),
        discard: (made) => made.close(),
      });
      clients.set(key, client);
    }
    return client.get(signal);
  };
  const close = async (): Promise<void> => {
    const made = [...clients.values()];
    clients.clear();
    // What `auto` found out is forgotten too: the server behind a port may have changed.
    clearDetectedApis();
    await Promise.all(made.map((client) => client.reset()));
  };
  return Object.assign(getClient, { close });
}

async function makeEndpointClient(endpoint: ResolvedEndpoint, signal?: AbortSignal): Promise<LlmClient> {
  const options = (url: string) => ({ api: endpoint.api, url, model: endpoint.model, apiKey: endpoint.apiKey, timeoutMs: endpoint.timeoutMs, deadlineMs: endpoint.deadlineMs, retries: endpoint.retries });
  // Members are detected side by side; a pool works as long as one member answers.
  const settled = await Promise.allSettled(endpoint.urls.map(async (url) => ({ url, api: await resolveApi(options(url), signal) })));
  const found = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (found.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
  // Unset in quire.yaml: from the API the servers speak (a pool with a KoboldCpp member: one at a time).
  const limit = endpoint.concurrency ?? Math.min(...found.map((member) => defaultConcurrency(member.api)));
  // Headroom over the concurrency cap: context probes run beside generations.
  const members = found.map(({ url, api }) => createLlmClient({ ...options(url), api, maxSockets: limit + 2 }));
  return limitConcurrency(members.length === 1 ? members[0]! : createPool(members), limit);
}

/**
 * Servers with the same model as one client. Each request goes to the least-busy healthy
 * member (ties: the one that served least, so sequential steps alternate). A request the
 * member fails server-side (see serverFailure) moves on to the next member; a member that
 * refuses connections, or fails MEMBER_FAILURES requests in a row, rests for UNHEALTHY_MS
 * (a circuit breaker) while the others take its work. `endpoint` on the result names the
 * member that answered.
 */
export function createPool(members: LlmClient[]): LlmClient {
  const state = members.map((client) => ({ client, inFlight: 0, served: 0, downUntil: 0, failures: 0 }));
  type Member = (typeof state)[number];
  const pick = (exclude: ReadonlySet<Member> = new Set()) => {
    const now = Date.now();
    const open = state.filter((m) => !exclude.has(m));
    const healthy = open.filter((m) => m.downUntil <= now);
    const candidates = healthy.length ? healthy : open;
    return candidates.reduce<Member | undefined>((best, m) => (!best || m.inFlight < best.inFlight || (m.inFlight === best.inFlight && m.served < best.served) ? m : best), undefined);
  };
  /** Runs `use` on the best member, moving on to the next while members fail server-side. */
  const withMember = async <T>(counts: boolean, use: (client: LlmClient) => Promise<T>): Promise<T> => {
    const tried = new Set<Member>();
    for (;;) {
      const member = pick(tried)!;
      tried.add(member);
      member.inFlight++;
      if (counts) member.served++;
      try {
        const result = await use(member.client);
        member.failures = 0;
        return result;
      } catch (error) {
        if (!serverFailure(error)) throw error;
        member.failures++;
        const unreachable = (error as AppError).code === 'LLM_CONNECT';
        if (unreachable || member.failures >= MEMBER_FAILURES) member.downUntil = Date.now() + UNHEALTHY_MS;
        if (tried.size === state.length) throw error;
      } finally {
        member.inFlight--;
      }
    }
  };
  return {
    get api() {
      return members[0]!.api;
    },
    url: members.map((m) => m.url).join(','),
    async complete(request: CompletionRequest, options?: CompletionOptions) {
      return withMember(true, async (client) => ({ ...(await client.complete(request, options)), endpoint: client.url }));
    },
    inspectContext: (prompt, options) => withMember(false, (client) => client.inspectContext(prompt, options)),
    close: async () => {
      await Promise.all(members.map((client) => client.close()));
    },
  };
}

/**
 * A client that lets at most `limit` completions run at once; the rest wait in order. A
 * request whose signal fires while it waits leaves the queue at once with CANCELLED,
 * without taking a slot. `close()` cancels the waiting requests too.
 */
export function limitConcurrency(client: LlmClient, limit: number): LlmClient {
  let active = 0;
  const waiting: { start(): void; cancel(): void }[] = [];
  const cancelled = (): LlmError => cancelledError({ label: labelOf(client), method: 'POST', path: client.url });
  const acquire = (signal: AbortSignal | undefined): Promise<void> => {
    if (active < limit) {
      active++;
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        signal?.removeEventListener('abort', onAbort);
        const at = waiting.indexOf(waiter);
        if (at >= 0) waiting.splice(at, 1);
      };
      const waiter = {
        start() {
          leave();
          active++;
          resolve();
        },
        cancel() {
          leave();
          reject(cancelled());
        },
      };
      const onAbort = (): void => waiter.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting.push(waiter);
    });
  };
  const release = () => {
    active--;
    waiting[0]?.start();
  };
  return {
    get api() {
      return client.api;
    },
    url: client.url,
    async complete(request, options) {
      await acquire(options?.signal);
      try {
        return await client.complete(request, options);
      } finally {
        release();
      }
    },
    inspectContext: (prompt, options) => client.inspectContext(prompt, options),
    async close() {
      for (const waiter of [...waiting]) waiter.cancel();
      await client.close();
    },
  };
}

/** `[llm:<api>]` for a message; `auto` while a lazily detected client does not know its API yet. */
function labelOf(client: LlmClient): string {
  try {
    return client.api;
  } catch {
    return 'auto';
  }
}
