/**
 * `inspectContext` for every adapter: the server's context size, asked once per client,
 * and the prompt's token count, asked only when the prompt might not fit.
 */
import { AppError } from '../../core/errors.js';
import type { ContextInfo, LlmClient } from '../../core/llm.js';
import { sharedLookup } from './shared-lookup.js';

/**
 * What a server can tell about its context, for `inspectContext`. Each probe returns
 * undefined when the server does not say (a missing route or an odd answer may also
 * throw LLM_HTTP / LLM_PROTOCOL: both mean "unknown"); connection failures, timeouts
 * and cancellation throw.
 */
export interface ContextProbes {
  /** The context size in tokens. Asked once per client: the answer, "unknown" included, is kept. */
  contextLength(signal: AbortSignal | undefined): Promise<number | undefined>;
  /** The prompt's token count, as the generation route would count it (special tokens included). */
  countTokens?(prompt: string, signal: AbortSignal | undefined): Promise<number | undefined>;
}

/**
 * Tokens a prompt may hold beyond one per byte: the BOS (and EOS) a server adds and a
 * tokenizer's dummy prefix cover no byte of the prompt text.
 */
const TOKENS_WITHOUT_BYTES = 4;

/**
 * The shared `inspectContext`: the context size is probed once, shared by concurrent callers
 * (a failed or missing probe is kept as unknown; a connection failure, timeout or
 * cancellation is not kept; `cancelled` is what a caller whose signal fires gets), and the
 * prompt is counted only when it might not fit. With `reserveTokens`, a prompt of B UTF-8
 * bytes surely fits when B + reserveTokens (+ a few special tokens) <= the context: every
 * token of a byte-level tokenizer covers at least one byte. Without it, always counted.
 */
export function createInspector(probes: ContextProbes, cancelled: () => Error): LlmClient['inspectContext'] {
  const size = sharedLookup((signal) => optionalProbe(() => probes.contextLength(signal)), { cancelled });
  const contextLength = (signal: AbortSignal | undefined): Promise<number | undefined> => size.get(signal);
  const countTokens = probes.countTokens?.bind(probes);
  const count = (prompt: string, signal: AbortSignal | undefined): Promise<number | undefined> =>
    countTokens ? optionalProbe(() => countTokens(prompt, signal)) : Promise.resolve(undefined);

  return async (prompt, options = {}) => {
    const { signal, reserveTokens } = options;
    if (reserveTokens === undefined) {
      const [length, tokens] = await Promise.all([contextLength(signal), count(prompt, signal)]);
      return contextInfo(length, tokens);
    }
    const length = await contextLength(signal);
    // Unknown size: a count could not be checked against anything.
    if (length === undefined) return {};
    if (!countTokens || Buffer.byteLength(prompt, 'utf8') + TOKENS_WITHOUT_BYTES + reserveTokens <= length) return { contextLength: length };
    return contextInfo(length, await count(prompt, signal));
  };
}

/** For inspectContext: run a probe and turn "endpoint missing / odd answer" into undefined. Connection failures and cancellation still throw. */
export async function optionalProbe<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await probe();
  } catch (error) {
    if (error instanceof AppError && (error.code === 'LLM_HTTP' || error.code === 'LLM_PROTOCOL')) return undefined;
    throw error;
  }
}

/** Removes undefined fields so results compare cleanly. */
export function contextInfo(contextLength: number | undefined, promptTokens: number | undefined): ContextInfo {
  return {
    ...(contextLength !== undefined ? { contextLength } : {}),
    ...(promptTokens !== undefined ? { promptTokens } : {}),
  };
}
