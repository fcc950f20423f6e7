/**
 * OpenAI-compatible `/v1/chat/completions` (protocols.md §2): the server applies
 * the model's chat template to `messages`, so the prompt's own wrapping is not used.
 */
import type { ChatMessage, CompletionRequest, LlmClient } from '../../core/llm.js';
import { createAdapterHttp, createDialectClient, type AdapterOptions, type Dialect, type Reading } from './completion.js';
import { first, record, str } from './fields.js';
import { withLookedUpModel } from './model-lookup.js';
import { firstListedModel, openAiBody, openAiFinish, openAiUsage } from './openai.js';

/** The request's messages, or the prompt as one user message when there are none. */
function messagesOf(request: CompletionRequest): ChatMessage[] {
  return request.messages.length > 0 ? request.messages : [{ role: 'user', content: request.prompt }];
}

export function openAiChatDialect(defaultModel: string | undefined): Dialect {
  return {
    api: 'openai-chat',
    streamFormat: 'sse',
    streamEnd: 'a finish_reason or data: [DONE]',
    path: () => '/v1/chat/completions',
    body: (request, stream) => ({ ...openAiBody(request, stream, defaultModel), messages: messagesOf(request) }),
    readReply(reply): Reading {
      const choice = first(reply['choices']);
      const message = choice?.['message'];
      const raw = str(choice?.['finish_reason']);
      // `content` may be null (e.g. only reasoning or tool calls came back).
      const text = message === undefined ? undefined : (str(record(message)['content']) ?? '');
      return { text, finishReason: openAiFinish(raw), rawFinishReason: raw, model: str(reply['model']), ...openAiUsage(reply) };
    },
    readChunk(chunk): Reading {
      const choice = first(chunk['choices']);
      const raw = str(choice?.['finish_reason']);
      return {
        text: str(record(choice?.['delta'])['content']),
        finishReason: openAiFinish(raw), rawFinishReason: raw, model: str(chunk['model']), ...openAiUsage(chunk),
      };
    },
  };
}

export function createOpenAiChatClient(options: AdapterOptions): LlmClient {
  // The chat template the server applies is unknown here, so there is no prompt to count.
  const http = createAdapterHttp('openai-chat', options);
  const withModel = (model: string | undefined) => createDialectClient(openAiChatDialect(model), http, undefined, { deadlineMs: options.deadlineMs });
  return options.model ? withModel(options.model) : withLookedUpModel('openai-chat', http, (signal) => firstListedModel(http, signal), withModel);
}
