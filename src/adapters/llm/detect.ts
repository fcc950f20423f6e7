/**
 * `api: auto`: find out which API a server speaks, once per base URL per process.
 *
 * Servers imitate each other's routes (KoboldCpp answers `/props`, `/v1/models` and
 * Ollama routes; TabbyAPI answers `/api/extra/version`), so each probe looks for an
 * answer only the real server gives (protocols.md §7.12), most specific first:
 *  1. `GET /api/extra/version` with `result: "KoboldCpp"` → kobold
 *  2. `GET /props` with `build_info` → llamacpp
 *  3. `GET /api/tags` with a `models` array → ollama
 *  4. `GET /v1/models` answering 200 → openai
 * Connection failures, timeouts and 401/403 stop the probing with that error.
 */
import { AppError } from '../../core/errors.js';
import type { ApiKind } from '../../core/llm.js';
import { cancelledError, describeErrorBody, llmError } from './failure.js';
import { record, type Json } from './fields.js';
import { createHttpClient, type HttpClient } from './http.js';
import { sharedLookup, type SharedLookup } from './shared-lookup.js';
import { normalizeBaseUrl } from './url.js';

export interface DetectOptions {
  apiKey?: string | undefined;
  /** Per probe; default 5000 ms. */
  timeoutMs?: number | undefined;
  /** Extra attempts when the server cannot be reached (it may still be starting); default 0. */
  retries?: number | undefined;
  retryBaseMs?: number | undefined;
}

/** Per base URL: the detection, shared by concurrent callers and kept once it answered. */
interface Detection {
  lookup: SharedLookup<ApiKind>;
  options: DetectOptions;
}
const detections = new Map<string, Detection>();

/**
 * The API at `baseUrl`, probing on the first call for that URL; failures are not kept.
 * Concurrent callers share the probing: a caller whose `signal` fires stops waiting at
 * once (CANCELLED), and the probing goes on for the others.
 */
export function detectApi(baseUrl: string, options: DetectOptions = {}, signal?: AbortSignal): Promise<ApiKind> {
  const url = normalizeBaseUrl(baseUrl);
  let detection = detections.get(url);
  if (!detection) {
    const entry: Detection = {
      options,
      lookup: sharedLookup((probing) => probe(url, entry.options, probing), {
        cancelled: () => cancelledError({ label: 'auto', method: 'GET', path: url }),
      }),
    };
    detections.set(url, (detection = entry));
  }
  // Probing uses the options of the latest call before it starts.
  if (!detection.lookup.peek()) detection.options = options;
  return detection.lookup.get(signal);
}

/** The API already detected for `baseUrl`, without probing. */
export function detectedApi(baseUrl: string): ApiKind | undefined {
  return detections.get(normalizeBaseUrl(baseUrl))?.lookup.peek()?.value;
}

/** Forgets every detection (tests; a server swapped on the same port). */
export function clearDetectedApis(): void {
  for (const { lookup } of detections.values()) void lookup.reset();
  detections.clear();
}

async function probe(url: string, options: DetectOptions, signal: AbortSignal): Promise<ApiKind> {
  const http = createHttpClient({
    label: 'auto', baseUrl: url, apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? 5_000, retries: options.retries ?? 0, retryBaseMs: options.retryBaseMs,
  });
  try {
    if ((await getJson(http, '/api/extra/version', signal))?.['result'] === 'KoboldCpp') return 'kobold';
    if ((await getJson(http, '/props', signal))?.['build_info'] !== undefined) return 'llamacpp';
    if (Array.isArray((await getJson(http, '/api/tags', signal))?.['models'])) return 'ollama';
    if ((await getJson(http, '/v1/models', signal)) !== undefined) return 'openai';
  } finally {
    http.close(); // the adapter's client gets its own connections
  }
  throw new AppError('LLM_PROTOCOL', `[llm:auto] GET ${url} -> no known LLM API answered (tried /api/extra/version, /props, /api/tags, /v1/models)`, {
    hint: 'set the endpoint\'s `api` explicitly (kobold, openai, openai-chat, ollama, llamacpp)',
  });
}

/** A probe's JSON object, or undefined when the route is missing or answers something else. */
async function getJson(http: HttpClient, path: string, signal: AbortSignal): Promise<Json | undefined> {
  const exchange = await http.send({ method: 'GET', path, signal, allowErrorStatus: true });
  const text = await exchange.text();
  if (exchange.status === 401 || exchange.status === 403) {
    throw llmError(exchange.where, 'LLM_HTTP', `${exchange.status}: ${describeErrorBody(text, exchange.where.apiKey)}`, {
      status: exchange.status, attempts: exchange.attempts, hint: 'check the API key (the endpoint\'s api_key_env variable)',
    });
  }
  if (!exchange.ok) return undefined;
  try {
    return record(JSON.parse(text));
  } catch {
    return undefined;
  }
}
