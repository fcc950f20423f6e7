/**
 * OpenAI-compatible routes: `/v1/completions`, `/v1/chat/completions`, `/v1/models` (protocols.md §2),
 * and vLLM's `/tokenize` (served in the `openai` and `all` modes, which stand for vLLM).
 */
import type { Route, RouteContext } from '../context.js';
import { numberField, recordField, stringField, stringList } from '../fields.js';
import { play, sendJson } from '../output.js';
import { countTokens, mockChatPrompt, mockReply, tokenIds, type MockFinish, type MockReply } from '../reply.js';
import { llamacppTokenize } from './llamacpp.js';

/** vLLM's (and text-generation-webui's) default `max_tokens` on completions. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

export const openaiRoutes: Route[] = [
  { method: 'GET', path: '/v1/models', family: 'openai', handle: models },
  { method: 'POST', path: '/v1/completions', family: 'openai', generation: true, handle: (ctx) => complete(ctx, false) },
  { method: 'POST', path: '/v1/chat/completions', family: 'openai', generation: true, handle: (ctx) => complete(ctx, true) },
];

/** vLLM-only routes (the `openai` and `all` modes). */
export const vllmRoutes: Route[] = [
  { method: 'POST', path: '/tokenize', family: 'openai', handle: vllmTokenize },
];

/** `/tokenize` for the `all` mode: llama.cpp's answer for `{content}`, vLLM's otherwise. */
export const tokenizeEitherShape: Route = {
  method: 'POST', path: '/tokenize', family: 'openai',
  handle: (ctx) => (ctx.body['content'] !== undefined ? llamacppTokenize(ctx) : vllmTokenize(ctx)),
};

/**
 * The model list as each imitated server writes it: only vLLM (`openai`, `all`) reports
 * `max_model_len`; llama-server reports the trained context in `meta.n_ctx_train`;
 * KoboldCpp and Ollama report neither.
 */
function models({ res, model, contextLength, mode }: RouteContext): void {
  const entry: Record<string, unknown> = { id: model, object: 'model', created: 0, owned_by: 'quire-mock' };
  if (mode === 'openai' || mode === 'all') Object.assign(entry, { root: model, parent: null, max_model_len: contextLength });
  if (mode === 'llamacpp') entry['meta'] = { n_ctx_train: contextLength, vocab_type: 1, n_vocab: 32000 };
  sendJson(res, 200, { object: 'list', data: [entry] });
}

/** vLLM: `{prompt}` (or chat `{messages}`) → `{count, max_model_len, tokens}`. */
function vllmTokenize(ctx: RouteContext): void {
  const { res, body, contextLength } = ctx;
  const text = typeof body['prompt'] === 'string' ? body['prompt']
    : Array.isArray(body['messages']) ? mockChatPrompt(body['messages'] as { content?: unknown }[])
    : undefined;
  if (text === undefined) return ctx.fail(400, 'Either `prompt` or `messages` is required.', 'BadRequestError');
  sendJson(res, 200, { count: countTokens(text), max_model_len: contextLength, tokens: tokenIds(text) });
}

function finishReason(finish: MockFinish): 'stop' | 'length' {
  return finish === 'limit' ? 'length' : 'stop';
}

let nextId = 1;

async function complete(ctx: RouteContext, chat: boolean): Promise<void> {
  const { body } = ctx;
  const prompt = chat
    ? mockChatPrompt(Array.isArray(body['messages']) ? (body['messages'] as { content?: unknown }[]) : [])
    : (stringField(body['prompt']) ?? stringList(body['prompt'])[0] ?? '');
  const maxTokens = numberField(body['max_tokens'])
    ?? (chat ? numberField(body['max_completion_tokens']) : COMPLETIONS_DEFAULT_MAX_TOKENS);
  const reply = mockReply(prompt, { ...(maxTokens === undefined ? {} : { maxTokens }), stop: stringList(body['stop'], true) });

  // vLLM refuses prompts that cannot fit with the requested completion; llama-server counts the prompt only.
  const needed = reply.promptTokens + (ctx.mode === 'llamacpp' ? 0 : (maxTokens ?? 0));
  if (needed > ctx.contextLength) {
    return ctx.fail(400,
      `This model's maximum context length is ${ctx.contextLength} tokens. However, you requested ${needed} tokens ` +
      `(${reply.promptTokens} in the messages, ${maxTokens ?? 0} in the completion). Please reduce the length of the messages or completion.`,
      ctx.mode === 'llamacpp' ? 'exceed_context_size_error' : 'BadRequestError');
  }

  const id = `${chat ? 'chatcmpl' : 'cmpl'}-mock-${nextId++}`;
  const created = Math.floor(Date.now() / 1000);
  const model = stringField(body['model']) ?? ctx.model;
  const object = chat ? 'chat.completion' : 'text_completion';
  const chunkObject = chat ? 'chat.completion.chunk' : 'text_completion';
  const usage = (r: MockReply) => ({
    prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens,
  });
  const includeUsage = recordField(body['stream_options'])['include_usage'] === true;

  await play(ctx, reply, {
    stream: body['stream'] === true ? 'sse' : false,
    done: true,
    body: (r) => ({
      id, object, created, model,
      choices: [chat
        ? { index: 0, message: { role: 'assistant', content: r.text }, logprobs: null, finish_reason: finishReason(r.finish) }
        : { index: 0, text: r.text, logprobs: null, finish_reason: finishReason(r.finish) }],
      usage: usage(r),
    }),
    chunk: (piece, index) => ({
      id, object: chunkObject, created, model,
      choices: [chat
        ? { index: 0, delta: index === 0 ? { role: 'assistant', content: piece } : { content: piece }, logprobs: null, finish_reason: null }
        : { index: 0, text: piece, logprobs: null, finish_reason: null }],
    }),
    final: (r) => [
      {
        id, object: chunkObject, created, model,
        choices: [chat
          ? { index: 0, delta: {}, logprobs: null, finish_reason: finishReason(r.finish) }
          : { index: 0, text: '', logprobs: null, finish_reason: finishReason(r.finish) }],
      },
      ...(includeUsage ? [{ id, object: chunkObject, created, model, choices: [], usage: usage(r) }] : []),
    ],
  });
}
