/**
 * Ollama native `/api/generate` with `raw: true` (protocols.md §4): the prompt is
 * already wrapped, so the model's template must not be applied again. Streams NDJSON.
 */
import { AppError } from '../../core/errors.js';
import type { FinishReason, LlmClient } from '../../core/llm.js';
import { createAdapterHttp, createDialectClient, type AdapterOptions, type Dialect, type Reading } from './completion.js';
import type { ContextProbes } from './context-probe.js';
import { num, nsToMs, record, str, type Json } from './fields.js';
import type { HttpClient } from './http.js';
import { withLookedUpModel } from './model-lookup.js';
import { mapOllamaParams, stopsOf } from './params.js';

function finish(raw: string | undefined): FinishReason | undefined {
  if (raw === undefined) return undefined;
  return raw === 'stop' ? 'stop' : raw === 'length' ? 'length' : 'unknown';
}

/**
 * The final object's metrics. They are `omitempty` (a fully cached prompt has no
 * prompt_eval_count), so on the final object a missing count means 0. Durations are ns.
 */
function finalFields(reply: Json): Reading {
  const loadMs = nsToMs(reply['load_duration']) ?? 0;
  const promptMs = nsToMs(reply['prompt_eval_duration']);
  const raw = str(reply['done_reason']);
  return {
    finishReason: finish(raw),
    rawFinishReason: raw,
    promptTokens: num(reply['prompt_eval_count']) ?? 0,
    completionTokens: num(reply['eval_count']) ?? 0,
    promptMs,
    generationMs: nsToMs(reply['eval_duration']),
    timeToFirstTokenMs: promptMs === undefined ? undefined : loadMs + promptMs,
    model: str(reply['model']),
  };
}

export function ollamaDialect(defaultModel: string | undefined): Dialect {
  return {
    api: 'ollama',
    streamFormat: 'ndjson',
    streamEnd: 'a last line with "done": true',
    path: () => '/api/generate',
    body(request, stream) {
      const { top, options } = mapOllamaParams(request.params);
      const model = request.model ?? defaultModel;
      const stop = stopsOf(request);
      return {
        ...top,
        ...(model ? { model } : {}),
        prompt: request.prompt,
        raw: true,
        stream, // Ollama streams unless told otherwise
        options: {
          ...options,
          temperature: request.temperature,
          num_predict: request.maxTokens,
          ...(stop.length > 0 ? { stop } : {}),
        },
      };
    },
    readReply: (reply) => ({ text: str(reply['response']), ...(reply['done'] === true ? finalFields(reply) : {}) }),
    readChunk: (chunk) => ({
      text: str(chunk['response']),
      ...(chunk['done'] === true ? { ...finalFields(chunk), done: true } : {}),
    }),
  };
}

/**
 * The context size from `POST /api/show {model}` (protocols.md §4): `model_info["<arch>.context_length"]`,
 * `<arch>` being `model_info["general.architecture"]`. That is the model's trained context;
 * the server runs it with `num_ctx` (a Modelfile or request setting, else
 * `OLLAMA_CONTEXT_LENGTH`), which /api/show does not report. Ollama has no tokenizer
 * route, so `promptTokens` stays undefined. Needs the endpoint's model; without one: `{}`.
 */
export function ollamaContext(http: HttpClient, model: string | undefined): ContextProbes {
  return {
    async contextLength(signal) {
      if (!model) return undefined;
      const reply = record(await (await http.send({ method: 'POST', path: '/api/show', body: { model }, signal })).json());
      const info = record(reply['model_info']);
      const arch = str(info['general.architecture']);
      const value = arch === undefined ? undefined : num(info[`${arch}.context_length`]);
      return value !== undefined && value > 0 ? value : undefined;
    },
  };
}

/**
 * Ollama needs a model name on every request. Without one in quire.yaml, the client uses
 * the first model the server lists (`GET /api/tags`), asked once, so a workflow runs
 * against a fresh `ollama serve` without configuration.
 */
export function createOllamaClient(options: AdapterOptions): LlmClient {
  const http = createAdapterHttp('ollama', options);
  const withModel = (model: string | undefined) => createDialectClient(ollamaDialect(model), http, ollamaContext(http, model), { deadlineMs: options.deadlineMs });
  return options.model ? withModel(options.model) : withLookedUpModel('ollama', http, (signal) => firstModel(http, signal), withModel);
}

async function firstModel(http: HttpClient, signal: AbortSignal | undefined): Promise<string> {
  const reply = record(await (await http.send({ method: 'GET', path: '/api/tags', signal })).json());
  const models = Array.isArray(reply['models']) ? (reply['models'] as unknown[]) : [];
  const name = str(record(models[0])['name']) ?? str(record(models[0])['model']);
  if (!name) {
    throw new AppError('LLM_PROTOCOL', `[llm:ollama] ${http.baseUrl} has no models`, {
      hint: 'pull one (`ollama pull llama3.1`), or name the model in quire.yaml: endpoints: { 11434: { model: ... } }',
    });
  }
  return name;
}
