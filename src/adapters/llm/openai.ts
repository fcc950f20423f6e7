/**
 * OpenAI-compatible `/v1/completions` (protocols.md §2): the raw-prompt route on
 * vLLM, LM Studio, llama-server, KoboldCpp and text-generation-webui.
 * (Not Ollama's: its `/v1/completions` applies the model template; use `ollama`.)
 */
import type { CompletionRequest, FinishReason, LlmClient } from '../../core/llm.js';
import { createAdapterHttp, createDialectClient, type AdapterOptions, type Dialect, type Reading } from './completion.js';
import { optionalProbe, type ContextProbes } from './context-probe.js';
import { first, isRecord, num, record, str, type Json } from './fields.js';
import type { HttpClient } from './http.js';
import { withLookedUpModel } from './model-lookup.js';
import { mapParams, stopsOf } from './params.js';

/** `finish_reason` → the contract's reason ("content_filter", "tool_calls" etc. are still a normal end). */
export function openAiFinish(raw: unknown): FinishReason | undefined {
  if (typeof raw !== 'string') return undefined;
  return raw === 'length' ? 'length' : raw === 'stop' ? 'stop' : 'unknown';
}

/** Token counts from a `usage` object (non-stream replies, or the `include_usage` chunk). */
export function openAiUsage(reply: Json): Pick<Reading, 'promptTokens' | 'completionTokens'> {
  const usage = record(reply['usage']);
  return { promptTokens: num(usage['prompt_tokens']), completionTokens: num(usage['completion_tokens']) };
}

/** Fields both OpenAI routes send; the caller adds `prompt` or `messages`. */
export function openAiBody(request: CompletionRequest, stream: boolean, defaultModel: string | undefined): Json {
  const model = request.model ?? defaultModel;
  const stop = stopsOf(request);
  return {
    ...mapParams('openai', request.params),
    ...(model ? { model } : {}),
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    ...(stop.length > 0 ? { stop } : {}),
    stream,
    // Streams carry no token counts unless asked (servers that don't know the option ignore it).
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  };
}

export function openAiDialect(defaultModel: string | undefined): Dialect {
  return {
    api: 'openai',
    streamFormat: 'sse',
    streamEnd: 'a finish_reason or data: [DONE]',
    path: () => '/v1/completions',
    body: (request, stream) => ({ ...openAiBody(request, stream, defaultModel), prompt: request.prompt }),
    readReply(reply): Reading {
      const choice = first(reply['choices']);
      const raw = str(choice?.['finish_reason']);
      return { text: str(choice?.['text']), finishReason: openAiFinish(raw), rawFinishReason: raw, model: str(reply['model']), ...openAiUsage(reply) };
    },
    readChunk(chunk): Reading {
      const choice = first(chunk['choices']);
      const raw = str(choice?.['finish_reason']);
      return { text: str(choice?.['text']), finishReason: openAiFinish(raw), rawFinishReason: raw, model: str(chunk['model']), ...openAiUsage(chunk) };
    },
  };
}

/**
 * OpenAI routes have no standard way to read the context size or count tokens, so this
 * asks vLLM's own routes (protocols.md §2, vLLM): `GET /v1/models` → `max_model_len` of
 * the configured model's entry (else the first; else the `max_model_len` that `/tokenize`
 * reports), and `POST /tokenize {prompt}` → `count` (with `add_special_tokens`, as
 * `/v1/completions` tokenizes). Other servers lack one or both (a missing route or another
 * answer shape just leaves the field out).
 */
export function vllmContext(http: HttpClient, model: string | undefined): ContextProbes {
  const tokenize = async (prompt: string, signal: AbortSignal | undefined): Promise<Json> => {
    const body = { ...(model ? { model } : {}), prompt, add_special_tokens: true };
    return record(await (await http.send({ method: 'POST', path: '/tokenize', body, signal })).json());
  };
  return {
    async contextLength(signal) {
      const listed = await optionalProbe(async () => {
        const reply = record(await (await http.send({ method: 'GET', path: '/v1/models', signal })).json());
        const models = Array.isArray(reply['data']) ? reply['data'].filter(isRecord) : [];
        const entry = models.find((m) => model !== undefined && m['id'] === model) ?? models[0];
        return positive(entry?.['max_model_len']);
      });
      return listed ?? positive((await tokenize('', signal))['max_model_len']);
    },
    async countTokens(prompt, signal) {
      const count = num((await tokenize(prompt, signal))['count']);
      return count !== undefined && count >= 0 ? count : undefined;
    },
  };
}

/**
 * vLLM and LM Studio want the `model` field; llama.cpp and KoboldCpp ignore it. Without
 * one in quire.yaml, the first model `GET /v1/models` lists is used (none listed: no field).
 */
export function createOpenAiClient(options: AdapterOptions): LlmClient {
  const http = createAdapterHttp('openai', options);
  const withModel = (model: string | undefined) => createDialectClient(openAiDialect(model), http, vllmContext(http, model), { deadlineMs: options.deadlineMs });
  return options.model ? withModel(options.model) : withLookedUpModel('openai', http, (signal) => firstListedModel(http, signal), withModel);
}

/** The first id of `GET /v1/models`, or undefined when the server has no such list. */
export async function firstListedModel(http: HttpClient, signal: AbortSignal | undefined): Promise<string | undefined> {
  return optionalProbe(async () => {
    const reply = record(await (await http.send({ method: 'GET', path: '/v1/models', signal })).json());
    const data = Array.isArray(reply['data']) ? (reply['data'] as unknown[]) : [];
    return str(record(data[0])['id']);
  });
}

function positive(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && n > 0 ? n : undefined;
}
