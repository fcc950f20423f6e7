/** LLM errors with one message format, and readable text from each server's error body. */
import { AppError, type AppErrorOptions, type ErrorCode } from '../../core/errors.js';
import { redactHead, redactSecret } from './redact.js';

/**
 * An AppError from an LLM call. The message reads `[llm:<api>] <METHOD> <path> -> <detail>`;
 * `status` and `attempts` are there for the run record.
 */
export class LlmError extends AppError {
  readonly status: number | undefined;
  readonly attempts: number;
  /**
   * The client stopped reading a reply the server was still producing (a runaway stream or
   * body): the generation may still be running there, so the adapter stops it as it would
   * a cancelled one (KoboldCpp's abort call).
   */
  readonly abandoned: boolean;

  constructor(code: ErrorCode, message: string, options: LlmErrorOptions = {}) {
    super(code, message, options);
    this.name = 'LlmError';
    this.status = options.status;
    this.attempts = options.attempts ?? 0;
    this.abandoned = options.abandoned ?? false;
  }
}

export type LlmErrorOptions = AppErrorOptions & { status?: number; attempts?: number; abandoned?: boolean };

export interface FailureContext {
  /** The `<api>` label: an ApiKind, or `auto` while detecting. */
  label: string;
  method: string;
  path: string;
  /** Masked in every message and hint, in every form redact.ts knows, in case a server echoes it back. */
  apiKey?: string | undefined;
}

export function llmError(
  where: FailureContext,
  code: ErrorCode,
  detail: string,
  options: LlmErrorOptions = {},
): LlmError {
  const message = redactSecret(`[llm:${where.label}] ${where.method} ${where.path} -> ${detail}`, where.apiKey);
  const hint = options.hint === undefined ? undefined : redactSecret(options.hint, where.apiKey);
  return new LlmError(code, message, { ...options, ...(hint === undefined ? {} : { hint }) });
}

/** The CANCELLED error every LLM call rejects with when its signal fires (`attempts`: HTTP attempts made, 0 when none went out). */
export function cancelledError(where: FailureContext, attempts = 0): LlmError {
  return llmError(where, 'CANCELLED', 'cancelled', { attempts });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withType(message: string, type: unknown): string {
  return typeof type === 'string' && type !== '' && !message.includes(type) ? `${message} (${type})` : message;
}

/**
 * The readable part of an error body, for the four shapes of protocols.md §7.10:
 * KoboldCpp `{detail:{msg,type}}`, llama.cpp `{error:{code,message,type}}`, Ollama
 * `{error:"..."}`, OpenAI-style `{error:{message,type,...}}` or flat `{object:"error",message}`.
 * Anything else is shown as trimmed text (HTML tags removed). `secret` is masked before the
 * text is shortened, so a cut never leaves the start of a key behind.
 */
export function describeErrorBody(body: string, secret?: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const found = isRecord(parsed) ? describeErrorValue(parsed) : undefined;
  if (found) return redactHead(found, secret);
  const text = redactHead(body, secret).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** The message in an already-parsed error object, or undefined when it has none. */
export function describeErrorValue(value: Record<string, unknown>): string | undefined {
  const { detail, error } = value;
  if (isRecord(detail) && typeof detail['msg'] === 'string') return withType(detail['msg'], detail['type']);
  if (typeof detail === 'string') return detail;
  if (typeof error === 'string') return error;
  if (isRecord(error) && typeof error['message'] === 'string') return withType(error['message'], error['type']);
  if (value['object'] === 'error' && typeof value['message'] === 'string') return withType(value['message'], value['type']);
  return undefined;
}

/** Context overflow is its own code: the fix (shorter prompt, bigger context) differs from other 400s. */
export function isContextOverflow(status: number, message: string): boolean {
  return (status === 400 || status === 413)
    && /exceed_context_size|context (length|size|window)|maximum context/i.test(message);
}

/** A 200 reply or stream message that carries an error (llama.cpp and Ollama report mid-stream failures this way). */
export function failOnErrorObject(where: FailureContext, value: Record<string, unknown>, attempts: number): void {
  if (value['error'] === undefined && value['detail'] === undefined) return;
  if (value['error'] === null) return;
  const message = describeErrorValue(value);
  if (message !== undefined) throw replyError(where, message, attempts);
}

/** An error the server put in a 200 reply or stream. */
export function replyError(where: FailureContext, message: string, attempts: number): LlmError {
  return llmError(where, isContextOverflow(400, message) ? 'LLM_CONTEXT' : 'LLM_HTTP', `server error in the reply: ${message}`, { attempts });
}

/** A reply (or stream message) that is not the API's shape. */
export function unexpectedReply(where: FailureContext, value: unknown, attempts: number): LlmError {
  return llmError(where, 'LLM_PROTOCOL', `unexpected reply shape (is this the right api?): ${clip(JSON.stringify(value) ?? String(value), where.apiKey)}`, { attempts });
}

/** Reply text for a message: one line, at most 120 characters, `secret` masked before the cut. */
export function clip(text: string, secret?: string): string {
  const flat = redactHead(text, secret).replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}
