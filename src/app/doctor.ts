/**
 * `quire doctor`: what the workspace needs, checked. Every endpoint the payloads use
 * (each pool member on its own, all at once, each within a time budget): reachable, the
 * API it speaks, its model and context size, and a tiny generation with its time to the
 * first token. Then the workspace's problems and the database's state. Each failure
 * carries a concrete fix. Reads only: nothing is synced, migrated or recorded.
 */
import { DEFAULT_CONFIG } from '../core/config.js';
import { AppError, sortProblems, UsageError, type ErrorCode, type Problem } from '../core/errors.js';
import type { ApiKind, ApiSetting, CompletionRequest } from '../core/llm.js';
import type { WorkspaceConfig } from '../core/types.js';
import type { AppContext } from './context.js';
import { parseEndpointOverrides, resolveEndpoint, type ResolvedEndpoint } from './endpoints.js';
import { inspectWithCache } from './load.js';

/** Tokens the test generation may produce: enough to see the server generate, cheap on any model. */
export const DOCTOR_MAX_TOKENS = 4;
/** Default time allowed for all the checks of one server (connect, detect, context, generation). */
export const DOCTOR_TIMEOUT_MS = 15_000;

const PROMPT = 'Say OK.';

export interface DoctorOptions {
  /** `--endpoint port=url`, as `quire run` takes them. */
  endpointOverrides?: readonly string[];
  /** Time allowed for each server's checks, in ms (default DOCTOR_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Where API keys and QUIRE_LLM_HOST are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface DoctorFailure {
  code: ErrorCode;
  message: string;
  /** What to do about it. */
  hint: string;
}

export interface MemberReport {
  url: string;
  ok: boolean;
  /** The server answered over HTTP. */
  reachable: boolean;
  /** The API it speaks: detected for `api: auto`, else as configured. */
  api: ApiKind | null;
  /** The model the server reported with the test generation. */
  model: string | null;
  contextLength: number | null;
  /** The test generation; null when an earlier check failed. */
  generation: GenerationReport | null;
  error: DoctorFailure | null;
}

export interface GenerationReport {
  ok: boolean;
  timeToFirstTokenMs: number | null;
  totalMs: number | null;
  completionTokens: number | null;
  finishReason: string | null;
}

export interface EndpointReport {
  port: number;
  /** Works: its key is there and at least one member generates (a pool skips members that are down). */
  ok: boolean;
  /** Payloads that send to it. */
  payloads: string[];
  /** As configured (quire.yaml, else the default). */
  api: ApiSetting;
  /** The model named in quire.yaml. */
  model: string | null;
  /** Where the URL comes from. */
  source: 'default' | 'quire.yaml' | 'urls' | 'QUIRE_LLM_HOST' | '--endpoint';
  apiKeyEnv: { name: string; set: boolean } | null;
  members: MemberReport[];
  /** A failure of the endpoint as a whole (its API key variable). */
  error: DoctorFailure | null;
}

export interface WorkspaceReport {
  ok: boolean;
  root: string;
  files: number;
  counts: { blocks: number; payloads: number; workflows: number; formats: number };
  problems: Problem[];
}

export interface DatabaseReport {
  ok: boolean;
  path: string;
  exists: boolean;
  sizeBytes: number | null;
  migrations: { applied: number; known: number; pending: string[]; unknown: string[] } | null;
  runsByStatus: Record<string, number>;
  error: DoctorFailure | null;
}

export interface DoctorReport {
  /** Nothing the workspace needs is broken. */
  ok: boolean;
  endpoints: EndpointReport[];
  workspace: WorkspaceReport;
  database: DatabaseReport;
}

/**
 * Checks the workspace, its endpoints and its database. Never throws for what it finds
 * (that is the report); throws UsageError for a malformed `--endpoint` or timeout.
 */
export async function runDoctor(ctx: AppContext, options: DoctorOptions = {}): Promise<DoctorReport> {
  const overrides = parseEndpointOverrides(options.endpointOverrides ?? []);
  const timeoutMs = options.timeoutMs ?? DOCTOR_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError(`--timeout must be a whole number of milliseconds, got ${String(options.timeoutMs)}`);
  const env = options.env ?? process.env;

  const checked = inspectWithCache(ctx);
  const { workspace } = checked;
  const workspaceReport: WorkspaceReport = {
    ok: checked.problems.length === 0,
    root: ctx.root,
    files: checked.fileCount,
    counts: { blocks: workspace.blocks.size, payloads: workspace.payloads.size, workflows: workspace.workflows.size, formats: workspace.formats.size },
    problems: sortProblems(checked.problems),
  };

  const byPort = new Map<number, string[]>();
  for (const payload of workspace.payloads.values()) byPort.set(payload.llmPort, [...(byPort.get(payload.llmPort) ?? []), payload.name]);
  const ports = [...byPort.keys()].sort((a, b) => a - b);

  const [endpoints, database] = await Promise.all([
    Promise.all(ports.map((port) => checkEndpoint(ctx, workspace.config, port, byPort.get(port)!.sort(), overrides, env, timeoutMs, options.signal))),
    describeDatabase(ctx),
  ]);
  return { ok: workspaceReport.ok && database.ok && endpoints.every((e) => e.ok), endpoints, workspace: workspaceReport, database };
}

// --- Endpoints ---

async function checkEndpoint(
  ctx: AppContext, config: WorkspaceConfig, port: number, payloads: string[], overrides: Map<number, string>,
  env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal | undefined,
): Promise<EndpointReport> {
  const own = config.endpoints[String(port)] ?? {};
  const keyName = own.api_key_env ?? config.llm.api_key_env;
  const source: EndpointReport['source'] = overrides.has(port) ? '--endpoint' : own.urls?.length ? 'urls'
    : env['QUIRE_LLM_HOST'] ? 'QUIRE_LLM_HOST' : own.host || config.llm.host !== DEFAULT_CONFIG.llm.host ? 'quire.yaml' : 'default';
  let endpoint: ResolvedEndpoint;
  let error: DoctorFailure | null = null;
  try {
    endpoint = resolveEndpoint(config, port, overrides, env);
  } catch (failure) {
    if (!(failure instanceof AppError)) throw failure;
    // The key is missing: still see whether the server is there (without a key).
    error = { code: failure.code, message: failure.message, hint: failure.hint ?? `set ${keyName}` };
    const keyless: WorkspaceConfig = { ...config, llm: { ...config.llm, api_key_env: undefined }, endpoints: { ...config.endpoints, [String(port)]: { ...own, api_key_env: undefined } } };
    endpoint = resolveEndpoint(keyless, port, overrides, env);
  }
  const members = await Promise.all(endpoint.urls.map((url) => checkMember(ctx, endpoint, url, { port, source, keyName, timeoutMs, signal })));
  return {
    port,
    ok: error === null && members.some((m) => m.ok),
    payloads,
    api: endpoint.api,
    model: endpoint.model ?? null,
    source,
    apiKeyEnv: keyName ? { name: keyName, set: Boolean(env[keyName]) } : null,
    members,
    error,
  };
}

interface MemberSetting {
  port: number;
  source: EndpointReport['source'];
  keyName: string | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** One server: detect (through the app's client factory), context size, then a few tokens; all within the time budget. */
async function checkMember(ctx: AppContext, endpoint: ResolvedEndpoint, url: string, setting: MemberSetting): Promise<MemberReport> {
  const { timeoutMs } = setting;
  // Its own client (one URL, no retries, short timeouts): a dead server fails at once, a silent one within the budget.
  const member: ResolvedEndpoint = {
    ...endpoint,
    urls: [url],
    retries: 0,
    timeoutMs: Math.min(endpoint.timeoutMs, timeoutMs),
    deadlineMs: Math.min(endpoint.deadlineMs ?? timeoutMs, timeoutMs),
  };
  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(), timeoutMs);
  const onOuterAbort = () => budget.abort();
  setting.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = budget.signal;

  const report: MemberReport = { url, ok: false, reachable: false, api: null, model: null, contextLength: null, generation: null, error: null };
  let generating = false;
  try {
    const client = await ctx.clients(member, signal);
    report.api = client.api;
    // Detection only answers when the server does; a configured API is first heard from here.
    if (endpoint.api === 'auto') report.reachable = true;
    const context = await client.inspectContext(PROMPT, { signal, reserveTokens: DOCTOR_MAX_TOKENS });
    report.reachable = true;
    report.contextLength = context.contextLength ?? null;

    generating = true;
    const request: CompletionRequest = {
      prompt: PROMPT,
      messages: [{ role: 'user', content: PROMPT }],
      maxTokens: DOCTOR_MAX_TOKENS,
      temperature: 0,
      stop: [],
      params: {},
      ...(endpoint.model ? { model: endpoint.model } : {}),
    };
    const started = performance.now();
    let firstToken: number | undefined;
    const result = await client.complete(request, { signal, onToken: () => (firstToken ??= performance.now() - started) });
    report.model = result.model ?? null;
    const ttft = result.timeToFirstTokenMs ?? firstToken;
    report.generation = {
      ok: true,
      timeToFirstTokenMs: ttft === undefined ? null : Math.round(ttft),
      totalMs: Math.round(result.totalMs),
      completionTokens: result.completionTokens ?? null,
      finishReason: result.finishReason,
    };
    report.ok = true;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const timedOut = budget.signal.aborted && !setting.signal?.aborted;
    const code: ErrorCode = timedOut ? 'LLM_TIMEOUT' : error.code;
    if (code !== 'LLM_CONNECT' && code !== 'LLM_TIMEOUT' && code !== 'CANCELLED') report.reachable = true;
    if (generating) report.generation = { ok: false, timeToFirstTokenMs: null, totalMs: null, completionTokens: null, finishReason: null };
    report.error = {
      code,
      message: !timedOut ? error.message : generating ? `the test generation did not finish within ${timeoutMs} ms` : `no answer from ${url} within ${timeoutMs} ms`,
      hint: hintFor(error, code, { ...setting, endpoint, url, api: report.api, generating, reachable: report.reachable }),
    };
  } finally {
    clearTimeout(timer);
    setting.signal?.removeEventListener('abort', onOuterAbort);
  }
  return report;
}

/** Well-known ports of the servers quire speaks, for a hint when nothing answers. */
const SERVER_BY_PORT: Record<number, ApiKind> = { 5001: 'kobold', 8080: 'llamacpp', 11434: 'ollama', 8000: 'openai' };

function startServer(api: ApiSetting, port: number): string {
  switch (api === 'auto' ? SERVER_BY_PORT[port] : api) {
    case 'kobold': return `start KoboldCpp with --port ${port}`;
    case 'llamacpp': return `start llama-server with --port ${port}`;
    case 'ollama': return `start Ollama there (OLLAMA_HOST=127.0.0.1:${port} ollama serve)`;
    case 'openai':
    case 'openai-chat': return `start the server (vLLM: vllm serve <model> --port ${port}; LM Studio: lms server start --port ${port})`;
    default: return `start your LLM server on port ${port}`;
  }
}

/** The fix for a failed check, as concrete as the failure allows. */
function hintFor(
  error: AppError, code: ErrorCode,
  at: MemberSetting & { endpoint: ResolvedEndpoint; url: string; api: ApiKind | null; generating: boolean; reachable: boolean },
): string {
  const { port, endpoint, url, keyName } = at;
  const where = hostOf(url);
  const elsewhere = `point port ${port} elsewhere with --endpoint ${port}=URL`;
  const fixUrl = at.source === '--endpoint' ? `fix the URL given with --endpoint ${port}=...`
    : at.source === 'urls' ? `fix or remove ${url} in quire.yaml (endpoints: ${port}: urls)`
    : at.source === 'QUIRE_LLM_HOST' ? `fix QUIRE_LLM_HOST, or ${elsewhere}`
    : at.source === 'quire.yaml' ? `fix the host in quire.yaml, or ${elsewhere}`
    : elsewhere;
  if (code === 'LLM_CONNECT') {
    switch (systemCode(error)) {
      case 'ECONNREFUSED': return `nothing listens on ${where}: ${startServer(endpoint.api, Number(new URL(url).port || port))}, or ${fixUrl}`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN': return `the host name in ${url} does not resolve: ${fixUrl}`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH': return `${where} cannot be reached from this machine (no route): check the network, or ${fixUrl}`;
      default: return error.hint ?? `check that the server at ${url} runs, or ${fixUrl}`;
    }
  }
  if (code === 'LLM_TIMEOUT') {
    return at.reachable
      ? `the server answers but did not finish ${DOCTOR_MAX_TOKENS} tokens in ${at.timeoutMs} ms: it may be loading the model or busy with another generation (KoboldCpp serves one at a time); try again, or allow more time with --timeout`
      : `nothing answered at ${where} within ${at.timeoutMs} ms (a firewall dropping packets, or a stuck server): check the server and the network, or ${fixUrl}`;
  }
  const status = (error as { status?: unknown }).status;
  if (code === 'LLM_HTTP' && (status === 401 || status === 403)) {
    return keyName
      ? `the server refused the key in ${keyName}: export the right key as ${keyName}`
      : `the server wants an API key: set api_key_env for port ${port} in quire.yaml (endpoints: ${port}: { api_key_env: MY_KEY }) and export that variable`;
  }
  const wantsModel = at.api === 'openai' || at.api === 'openai-chat';
  if (at.generating && wantsModel && !endpoint.model && code === 'LLM_HTTP' && /model/i.test(error.message)) {
    return `the server wants a model name and quire.yaml names none (quire sends the first model GET /v1/models lists, and this server listed none it accepts): set it, e.g. endpoints: { ${port}: { model: <the served model> } }`;
  }
  if (at.generating) {
    const own = error.hint ? `${error.hint}; ` : '';
    return `the server is up but a ${DOCTOR_MAX_TOKENS}-token generation failed: ${own}check the server's log (is a model loaded?)`;
  }
  return error.hint ?? `check the server at ${url}, or set the endpoint's api in quire.yaml`;
}

/** host:port of a URL, for messages. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.host;
  } catch {
    return url;
  }
}

/** The system error code (ECONNREFUSED...) somewhere in an error's cause chain. */
function systemCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    const inner = (e as { errors?: { code?: unknown }[] }).errors?.[0]?.code;
    if (typeof inner === 'string') return inner;
  }
  return undefined;
}

// --- Database ---

async function describeDatabase(ctx: AppContext): Promise<DatabaseReport> {
  const path = ctx.stores.location;
  try {
    const found = await ctx.stores.describe();
    const known = new Set(found.migrations.known);
    const applied = new Set(found.migrations.applied);
    const unknown = found.migrations.applied.filter((name) => !known.has(name));
    const pending = found.exists ? found.migrations.known.filter((name) => !applied.has(name)) : [];
    return {
      ok: unknown.length === 0,
      path,
      exists: found.exists,
      sizeBytes: found.exists ? found.sizeBytes : null,
      migrations: found.exists ? { applied: found.migrations.applied.length, known: known.size, pending, unknown } : null,
      runsByStatus: found.runsByStatus,
      error: unknown.length === 0 ? null : {
        code: 'MIGRATION',
        message: `the database was migrated by a newer version of quire (it has ${unknown.join(', ')})`,
        hint: 'upgrade quire, or point --db at another database file',
      },
    };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return {
      ok: false, path, exists: true, sizeBytes: null, migrations: null, runsByStatus: {},
      error: { code: error.code, message: error.message, hint: error.hint ?? 'point --db at another file, or move this one away (the next sync creates a new database)' },
    };
  }
}
