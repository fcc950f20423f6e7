/**
 * llama.cpp `llama-server` native `/completion` (protocols.md §3): SSE whose last
 * event has `stop: true` and no `[DONE]`; `stop` must be an array; timings in ms.
 */
import type { FinishReason, LlmClient } from '../../core/llm.js';
import { createAdapterHttp, createDialectClient, type AdapterOptions, type Dialect, type Reading } from './completion.js';
import type { ContextProbes } from './context-probe.js';
import { num, record, str, type Json } from './fields.js';
import type { HttpClient } from './http.js';
import { mapParams, stopsOf } from './params.js';

/** `stop_type`: eos and word are normal ends, limit means n_predict ran out. */
function finish(stopType: string | undefined): FinishReason | undefined {
  if (stopType === undefined) return undefined;
  return stopType === 'limit' ? 'length' : stopType === 'eos' || stopType === 'word' ? 'stop' : 'unknown';
}

function finalFields(reply: Json): Reading {
  const timings = record(reply['timings']);
  const raw = str(reply['stop_type']);
  const promptMs = num(timings['prompt_ms']);
  return {
    finishReason: finish(raw),
    rawFinishReason: raw,
    promptTokens: num(reply['tokens_evaluated']),
    completionTokens: num(reply['tokens_predicted']),
    promptMs,
    generationMs: num(timings['predicted_ms']),
    timeToFirstTokenMs: promptMs,
    model: str(reply['model']),
  };
}

export function llamaCppDialect(): Dialect {
  return {
    api: 'llamacpp',
    streamFormat: 'sse',
    streamEnd: 'a last event with "stop": true',
    path: () => '/completion',
    body: (request, stream) => ({
      ...mapParams('llamacpp', request.params),
      prompt: request.prompt,
      n_predict: request.maxTokens,
      temperature: request.temperature,
      stop: stopsOf(request), // an array: a lone string would be ignored
      stream,
    }),
    readReply: (reply) => ({ text: str(reply['content']), ...finalFields(reply) }),
    readChunk: (chunk) => ({
      text: str(chunk['content']),
      ...(chunk['stop'] === true ? { ...finalFields(chunk), done: true } : {}),
    }),
  };
}

/** The context from `GET /props` (`n_ctx`), counts from `POST /tokenize`. */
export function llamaCppContext(http: HttpClient): ContextProbes {
  return {
    async contextLength(signal) {
      const props = record(await (await http.send({ method: 'GET', path: '/props', signal })).json());
      // Current builds nest it; KoboldCpp's imitation and some older builds have it on top.
      const n = num(props['n_ctx']) ?? num(record(props['default_generation_settings'])['n_ctx']);
      return n !== undefined && n > 0 ? n : undefined;
    },
    async countTokens(prompt, signal) {
      // add_special: count the BOS the server adds to a string prompt.
      const reply = record(await (await http.send({ method: 'POST', path: '/tokenize', body: { content: prompt, add_special: true }, signal })).json());
      return Array.isArray(reply['tokens']) ? reply['tokens'].length : undefined;
    },
  };
}

export function createLlamaCppClient(options: AdapterOptions): LlmClient {
  const http = createAdapterHttp('llamacpp', options);
  return createDialectClient(llamaCppDialect(), http, llamaCppContext(http), { deadlineMs: options.deadlineMs });
}
