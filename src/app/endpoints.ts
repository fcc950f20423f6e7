/**
 * Which server a payload's `llm_port` means: quire.yaml `llm:` defaults, overridden per
 * port by `endpoints:`, by QUIRE_LLM_HOST, and by `--endpoint port=url` on the command line.
 */
import { AppError, UsageError } from '../core/errors.js';
import type { ApiKind, ApiSetting } from '../core/llm.js';
import type { EndpointConfig, WorkspaceConfig } from '../core/types.js';

export interface ResolvedEndpoint {
  port: number;
  urls: string[];
  api: ApiSetting;
  model?: string;
  /** The key itself, read from the environment; never stored or printed. */
  apiKey?: string;
  /** Time allowed for the response headers, then between body chunks. */
  timeoutMs: number;
  /** Total time one request may take (retries included); unset: the adapters' default, 30 minutes. */
  deadlineMs?: number;
  retries: number;
  /**
   * Requests in flight at once, when quire.yaml sets it. Unset: `defaultConcurrency` of the
   * API the server speaks, which for `api: auto` is known only after detection.
   */
  concurrency?: number;
}

/** The concurrency of an endpoint that sets none: KoboldCpp serves one generation at a time; other servers batch. */
export function defaultConcurrency(api: ApiKind): number {
  return api === 'kobold' ? 1 : 4;
}

/** Parses `--endpoint 5001=http://host:port` flags. @throws AppError USAGE */
export function parseEndpointOverrides(values: readonly string[]): Map<number, string> {
  const overrides = new Map<number, string>();
  for (const value of values) {
    const match = /^(\d{1,5})=(https?:\/\/.+)$/.exec(value);
    const port = match ? Number(match[1]) : 0;
    if (!match || port < 1 || port > 65535) throw new UsageError(`--endpoint "${value}" must look like 5001=http://127.0.0.1:8080, with a port from 1 to 65535`);
    overrides.set(port, match![2]!.replace(/\/+$/, ''));
  }
  return overrides;
}

export function resolveEndpoint(config: WorkspaceConfig, port: number, overrides: Map<number, string>, env: NodeJS.ProcessEnv = process.env): ResolvedEndpoint {
  const own: EndpointConfig = config.endpoints[String(port)] ?? {};
  const deadlineMs = own.deadline_ms ?? config.llm.deadline_ms;
  const host = env['QUIRE_LLM_HOST'] || own.host || config.llm.host;
  const override = overrides.get(port);
  const urls = override ? [override] : own.urls?.length ? own.urls.map((u) => u.replace(/\/+$/, '')) : [`http://${formatHost(host)}:${port}`];
  const keyEnv = own.api_key_env ?? config.llm.api_key_env;
  let apiKey: string | undefined;
  if (keyEnv) {
    apiKey = env[keyEnv];
    if (!apiKey) {
      throw new AppError('USAGE', `endpoint ${port} takes its API key from the environment variable ${keyEnv}, which is not set`, {
        hint: `export ${keyEnv}=... before running, or remove api_key_env from quire.yaml`,
      });
    }
  }
  return {
    port,
    urls,
    api: (own.api ?? config.llm.api) as ApiSetting,
    ...(own.model ? { model: own.model } : {}),
    ...(apiKey ? { apiKey } : {}),
    timeoutMs: own.timeout_ms ?? config.llm.timeout_ms,
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    retries: own.retries ?? config.llm.retries,
    // Unset: decided by the client factory from the API the server speaks (after detection).
    ...(own.concurrency !== undefined ? { concurrency: own.concurrency } : {}),
  };
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
