/**
 * OpenAI-compatible `/v1/completions` (protocols.md §2): the raw-prompt route on
 * vLLM, LM Studio, llama-server, KoboldCpp and text-generation-webui.
 * (Not Ollama's: its `/v1/completions` applies the model template; use `ollama`.)
 */
import type { CompletionRequest, FinishReason, LlmClient } from '../../core/llm.js';
import { createAdapterHttp, createDialectClient, type AdapterOptions, type Dialect, type Reading } from './completion.js';
import { first, num, record, str, type Json } from './fields.js';
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

/** OpenAI routes have no standard way to read the context size or count tokens: `{}`. */
export function createOpenAiClient(options: AdapterOptions): LlmClient {
  return createDialectClient(openAiDialect(options.model), createAdapterHttp('openai', options), async () => ({}));
}
