/**
 * Payload `params` → each API's field names.
 *
 * Users write params once and may run them against any server, so the common
 * sampler settings are accepted under any server's spelling and renamed for the
 * target API (e.g. `seed` → KoboldCpp `sampler_seed`; `repetition_penalty`/`rep_pen`/
 * `repeat_penalty` → `rep_pen`, `repeat_penalty` or `repetition_penalty`). Other keys
 * pass through unchanged, so server-specific settings still work.
 *
 * The request's own fields win: max-token spellings (`max_tokens`, `max_length`,
 * `n_predict`, `num_predict`...) are dropped because `maxTokens` is always sent, and
 * `stop`/`stop_sequence` are merged into the stop list (see `stopsOf`).
 */
import type { CompletionRequest } from '../../core/llm.js';

export type ParamDialect = 'kobold' | 'openai' | 'ollama' | 'llamacpp';

/** Every spelling → the meaning it names. */
const MEANING: Record<string, string> = {
  seed: 'seed', sampler_seed: 'seed',
  repetition_penalty: 'penalty', rep_pen: 'penalty', repeat_penalty: 'penalty',
  repeat_last_n: 'penaltyRange', rep_pen_range: 'penaltyRange',
  typical: 'typical', typical_p: 'typical',
  ignore_eos: 'ignoreEos', ban_eos_token: 'ignoreEos',
  num_ctx: 'context', max_context_length: 'context',
};

/** The meaning → each API's field name (protocols.md §1.1, §2, §3, §4, §7.3). Missing: keep the user's key. */
const FIELD: Record<string, Partial<Record<ParamDialect, string>>> = {
  seed: { kobold: 'sampler_seed', openai: 'seed', ollama: 'seed', llamacpp: 'seed' },
  penalty: { kobold: 'rep_pen', openai: 'repetition_penalty', ollama: 'repeat_penalty', llamacpp: 'repeat_penalty' },
  penaltyRange: { kobold: 'rep_pen_range', openai: 'repeat_last_n', ollama: 'repeat_last_n', llamacpp: 'repeat_last_n' },
  typical: { kobold: 'typical', openai: 'typical_p', ollama: 'typical_p', llamacpp: 'typical_p' },
  ignoreEos: { kobold: 'ban_eos_token', openai: 'ignore_eos', llamacpp: 'ignore_eos' },
  context: { kobold: 'max_context_length', ollama: 'num_ctx' },
};

/** Spellings of fields the adapter always sets from the request itself. */
const REQUEST_OWNED = new Set([
  'max_tokens', 'max_completion_tokens', 'max_length', 'max_new_tokens', 'n_predict', 'num_predict',
  'stop', 'stop_sequence',
]);

/** Params renamed for one API (flat: KoboldCpp, OpenAI, llama.cpp). */
export function mapParams(dialect: ParamDialect, params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (REQUEST_OWNED.has(key) || value === undefined) continue;
    const meaning = MEANING[key];
    out[(meaning && FIELD[meaning]?.[dialect]) ?? key] = value;
  }
  return out;
}

/** Ollama request fields that live at the top level; every other setting goes in `options`. */
const OLLAMA_TOP_LEVEL = new Set([
  'format', 'keep_alive', 'think', 'images', 'suffix', 'logprobs', 'top_logprobs', 'truncate', 'shift',
  'system', 'template', 'context',
]);

/** Params for Ollama, split into top-level fields and `options` (a nested `options` object is merged in). */
export function mapOllamaParams(params: Record<string, unknown>): { top: Record<string, unknown>; options: Record<string, unknown> } {
  const { options: nested, ...rest } = params;
  const flat = { ...(isRecord(nested) ? nested : {}), ...rest };
  const top: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(mapParams('ollama', flat))) {
    (OLLAMA_TOP_LEVEL.has(key) ? top : options)[key] = value;
  }
  return { top, options };
}

/** The request's stop strings plus any in params (`stop`, `stop_sequence`), deduplicated, empties dropped. */
export function stopsOf(request: Pick<CompletionRequest, 'stop' | 'params'>): string[] {
  const fromParams = [request.params['stop'], request.params['stop_sequence']].flatMap((value) =>
    typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  return [...new Set([...request.stop, ...fromParams])].filter((stop) => stop !== '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
