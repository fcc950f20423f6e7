/**
 * llama.cpp `llama-server` native `/completion` (protocols.md §3): SSE whose last
 * event has `stop: true` and no `[DONE]`; `stop` must be an array; timings in ms.
 */
import type { FinishReason, LlmClient } from '../../core/llm.js';
import { contextInfo, createAdapterHttp, createDialectClient, optionalProbe, type AdapterOptions, type Dialect, type Reading } from './completion.js';
import { num, record, str, type Json } from './fields.js';
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

export function createLlamaCppClient(options: AdapterOptions): LlmClient {
  const http = createAdapterHttp('llamacpp', options);
  return createDialectClient(llamaCppDialect(), http, async (prompt, inspect = {}) => {
    const [contextLength, promptTokens] = await Promise.all([
      optionalProbe(async () => {
        const props = record(await (await http.send({ method: 'GET', path: '/props', signal: inspect.signal })).json());
        // Current builds nest it; KoboldCpp's imitation and some older builds have it on top.
        return num(props['n_ctx']) ?? num(record(props['default_generation_settings'])['n_ctx']);
      }),
      optionalProbe(async () => {
        // add_special: count the BOS the server adds to a string prompt.
        const reply = record(await (await http.send({ method: 'POST', path: '/tokenize', body: { content: prompt, add_special: true }, signal: inspect.signal })).json());
        return Array.isArray(reply['tokens']) ? reply['tokens'].length : undefined;
      }),
    ]);
    return contextInfo(contextLength, promptTokens);
  });
}
