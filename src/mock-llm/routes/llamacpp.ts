/** llama.cpp `llama-server` native routes (protocols.md §3). */
import type { Route, RouteContext } from '../context.js';
import { numberField, stringField, stringList } from '../fields.js';
import { mockTimings, play, sendJson } from '../output.js';
import { mockReply, tokenIds, type MockReply } from '../reply.js';

export const llamacppRoutes: Route[] = [
  { method: 'GET', path: '/health', family: 'llamacpp', handle: ({ res }) => sendJson(res, 200, { status: 'ok' }) },
  {
    method: 'GET', path: '/props', family: 'llamacpp',
    handle: ({ res, contextLength, model }) => sendJson(res, 200, {
      default_generation_settings: { n_ctx: contextLength, params: { temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05, n_predict: -1 } },
      total_slots: 1, model_path: `/models/${model}.gguf`, chat_template: '', modalities: { vision: false, audio: false },
      build_info: 'b9999-mock', is_sleeping: false,
    }),
  },
  { method: 'POST', path: '/tokenize', family: 'llamacpp', handle: llamacppTokenize },
  { method: 'POST', path: '/completion', family: 'llamacpp', generation: true, handle: complete },
];

/** `{content}` → `{tokens:[ids]}`. */
export function llamacppTokenize({ res, body }: RouteContext): void {
  sendJson(res, 200, { tokens: tokenIds(stringField(body['content']) ?? '') });
}

const STOP_TYPE = { eos: 'eos', word: 'word', limit: 'limit' } as const;

async function complete(ctx: RouteContext): Promise<void> {
  const { body } = ctx;
  const prompt = stringField(body['prompt']) ?? '';
  const maxTokens = numberField(body['n_predict']) ?? numberField(body['max_tokens']) ?? -1;
  // `stop` must be an array: a lone string is ignored, as by the real server.
  const reply = mockReply(prompt, { maxTokens, stop: stringList(body['stop']) });
  if (reply.promptTokens > ctx.contextLength) {
    return ctx.fail(400, 'the request exceeds the available context size, try increasing it', 'exceed_context_size_error');
  }
  const model = `${ctx.model}.gguf`;
  const timings = (r: MockReply) => {
    const { promptMs, predictedMs } = mockTimings(r, ctx.faults.latencyMs);
    return {
      cache_n: 0, prompt_n: r.promptTokens, prompt_ms: promptMs,
      prompt_per_token_ms: r.promptTokens ? promptMs / r.promptTokens : 0,
      prompt_per_second: promptMs ? (r.promptTokens * 1000) / promptMs : 0,
      predicted_n: r.completionTokens, predicted_ms: predictedMs,
      predicted_per_token_ms: r.completionTokens ? predictedMs / r.completionTokens : 0,
      predicted_per_second: predictedMs ? (r.completionTokens * 1000) / predictedMs : 0,
    };
  };
  const final = (r: MockReply, content: string) => ({
    index: 0, content, tokens: [], id_slot: 0, stop: true, model,
    tokens_predicted: r.completionTokens, tokens_evaluated: r.promptTokens,
    generation_settings: { n_ctx: ctx.contextLength, n_predict: maxTokens, temperature: body['temperature'] ?? 0.8 },
    prompt, has_new_line: r.text.includes('\n'), truncated: false,
    stop_type: STOP_TYPE[r.finish], stopping_word: r.stoppingWord ?? '', tokens_cached: r.promptTokens + r.completionTokens,
    timings: timings(r),
  });
  let predicted = 0;
  await play(ctx, reply, {
    stream: body['stream'] === true ? 'sse' : false,
    body: (r) => final(r, r.text),
    chunk: (piece) => ({
      index: 0, content: piece, tokens: [], stop: false, id_slot: 0,
      tokens_predicted: ++predicted, tokens_evaluated: reply.promptTokens,
    }),
    final: (r) => [final(r, '')],
  });
}
