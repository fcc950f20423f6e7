/** KoboldCpp 1.102 routes (protocols.md §1). */
import type { Route, RouteContext } from '../context.js';
import { numberField, stringField, stringList } from '../fields.js';
import { play, sendJson } from '../output.js';
import { countTokens, mockReply, tokenIds, type MockFinish, type MockReply } from '../reply.js';
import { koboldPerf } from '../stats.js';

/** What KoboldCpp puts in for its instruct placeholders when `replace_instruct_placeholders` is on (its Alpaca fallback tags). */
const PLACEHOLDERS: Record<string, string> = {
  '{{[INPUT]}}': '\n### Instruction:\n',
  '{{[OUTPUT]}}': '\n### Response:\n',
  '{{[SYSTEM]}}': '',
  '{{[INPUT_END]}}': '',
  '{{[OUTPUT_END]}}': '',
  '{{[SYSTEM_END]}}': '',
};

/** KoboldCpp 1.102's default `max_length` (`--defaultgenamt`). */
const DEFAULT_MAX_LENGTH = 768;

export const koboldRoutes: Route[] = [
  {
    method: 'GET', path: '/api/extra/version', family: 'kobold',
    handle: ({ res }) => sendJson(res, 200, {
      result: 'KoboldCpp', version: '1.102', protected: false, llm: true, txt2img: false, vision: false,
      audio: false, transcribe: false, multiplayer: false, websearch: false, tts: false, embeddings: false,
    }),
  },
  { method: 'GET', path: '/api/v1/model', family: 'kobold', handle: ({ res, model }) => sendJson(res, 200, { result: `koboldcpp/${model}` }) },
  { method: 'GET', path: '/api/v1/info/version', family: 'kobold', handle: ({ res }) => sendJson(res, 200, { result: '1.2.5' }) },
  { method: 'GET', path: '/api/extra/true_max_context_length', family: 'kobold', handle: ({ res, contextLength }) => sendJson(res, 200, { value: contextLength }) },
  { method: 'GET', path: '/api/v1/config/max_context_length', family: 'kobold', handle: ({ res, contextLength }) => sendJson(res, 200, { value: contextLength }) },
  { method: 'POST', path: '/api/extra/tokencount', family: 'kobold', handle: tokencount },
  { method: 'POST', path: '/api/extra/tokenize', family: 'kobold', handle: tokencount },
  { method: 'POST', path: '/api/extra/abort', family: 'kobold', handle: abort },
  // The last generation's counts and timings, whichever route ran it (see stats.ts).
  { method: 'GET', path: '/api/extra/perf', family: 'kobold', handle: ({ res, stats }) => sendJson(res, 200, koboldPerf(stats)) },
  { method: 'POST', path: '/api/v1/generate', family: 'kobold', generation: true, handle: (ctx) => generate(ctx, false) },
  { method: 'POST', path: '/api/extra/generate/stream', family: 'kobold', generation: true, handle: (ctx) => generate(ctx, true) },
];

/** KoboldCpp's imitation of llama.cpp's `/props` (no `build_info`, which is how detection tells them apart). */
export const koboldPropsImitation: Route = {
  method: 'GET', path: '/props', family: 'kobold',
  handle: ({ res, contextLength }) => sendJson(res, 200, { n_ctx: contextLength, chat_template: '', total_slots: 1 }),
};

function tokencount({ res, body }: RouteContext): void {
  const prompt = stringField(body['prompt']);
  if (prompt === undefined) return sendJson(res, 400, { value: -1 });
  sendJson(res, 200, { value: countTokens(prompt), ids: tokenIds(prompt) });
}

/** Answers with strings, as the real server does (its docs say booleans). */
function abort({ res, body, generations }: RouteContext): void {
  const genkey = stringField(body['genkey']);
  const generation = genkey === undefined ? undefined : generations.get(genkey);
  if (generation) generation.stopped = true;
  sendJson(res, 200, { success: generation ? 'true' : 'false', done: generation ? 'true' : 'false' });
}

/** A text stop sequence is reported as "length": only EOS gives "stop" (the §1.1 gotcha). */
function finishReason(finish: MockFinish): 'stop' | 'length' {
  return finish === 'eos' ? 'stop' : 'length';
}

async function generate(ctx: RouteContext, stream: boolean): Promise<void> {
  const { body } = ctx;
  let prompt = (stringField(body['memory']) ?? '') + (stringField(body['prompt']) ?? '');
  if (body['replace_instruct_placeholders'] !== false) {
    for (const [tag, text] of Object.entries(PLACEHOLDERS)) prompt = prompt.split(tag).join(text);
  }
  const reply = mockReply(prompt, {
    maxTokens: numberField(body['max_length']) ?? DEFAULT_MAX_LENGTH,
    stop: stringList(body['stop_sequence']),
    keepStop: body['trim_stop'] === false, // newer builds default to trimming
  });
  const genkey = stringField(body['genkey']);
  const result = (r: MockReply) => ({
    text: r.text, finish_reason: finishReason(r.finish), tool_calls: [], logprobs: null,
    prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens,
  });
  await play(ctx, reply, {
    stream: stream ? 'sse' : false,
    sseEvent: 'message',
    ...(genkey === undefined ? {} : { genkey }),
    headers: stream ? { 'x-accel-buffering': 'no' } : {},
    body: (r) => ({ results: [result(r)] }),
    chunk: (piece) => ({ token: piece, finish_reason: null }),
    final: (r) => [{ token: '', finish_reason: finishReason(r.finish) }],
  });
}
