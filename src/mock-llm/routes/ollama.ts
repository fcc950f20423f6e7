/** Ollama native routes (protocols.md §4). */
import type { Route, RouteContext } from '../context.js';
import { numberField, recordField, stringField, stringList } from '../fields.js';
import { mockTimings, play, sendJson, sendText } from '../output.js';
import type { MockReply } from '../reply.js';
import { mockReply } from '../reply.js';

/**
 * The template the mock "model" applies when `raw` is not true. It ends with a visible
 * line (the reply rule strips the tags around it), so a client that forgets `raw: true`
 * gets `echo: (mock template applied)` instead of an answer to its prompt.
 */
export const OLLAMA_MOCK_TEMPLATE = (prompt: string): string => `<|user|>\n${prompt}<|end|>\n<|assistant|>\n(mock template applied)\n`;

export const ollamaRoutes: Route[] = [
  { method: 'GET', path: '/', family: 'ollama', handle: ({ res }) => sendText(res, 200, 'Ollama is running') },
  { method: 'GET', path: '/api/version', family: 'ollama', handle: ({ res }) => sendJson(res, 200, { version: '0.12.0' }) },
  {
    method: 'GET', path: '/api/tags', family: 'ollama',
    handle: ({ res, model }) => sendJson(res, 200, {
      models: [{
        name: model, model, modified_at: '2025-01-01T00:00:00Z', size: 1, digest: 'sha256:mock',
        details: { parent_model: '', format: 'gguf', family: 'mock', families: ['mock'], parameter_size: '1B', quantization_level: 'Q4_K_M' },
      }],
    }),
  },
  { method: 'POST', path: '/api/show', family: 'ollama', handle: show },
  { method: 'POST', path: '/api/generate', family: 'ollama', generation: true, handle: generate },
];

/** The mock model's architecture name: its context size is `model_info["mock.context_length"]`. */
const ARCH = 'mock';

/** Model details; the context size sits under `<arch>.context_length` (any model name is "installed"). */
function show(ctx: RouteContext): void {
  const { res, body, contextLength } = ctx;
  if (!stringField(body['model'])) return ctx.fail(400, 'model is required');
  sendJson(res, 200, {
    license: '', modelfile: '# Modelfile of the quire mock model\nFROM mock\n', parameters: 'stop                           "<|end|>"',
    template: OLLAMA_MOCK_TEMPLATE('{{ .Prompt }}'),
    details: { parent_model: '', format: 'gguf', family: ARCH, families: [ARCH], parameter_size: '1B', quantization_level: 'Q4_K_M' },
    model_info: {
      'general.architecture': ARCH, 'general.parameter_count': 1_000_000_000,
      [`${ARCH}.context_length`]: contextLength, [`${ARCH}.embedding_length`]: 64, [`${ARCH}.block_count`]: 2,
    },
    capabilities: ['completion'],
    modified_at: '2025-01-01T00:00:00Z',
  });
}

async function generate(ctx: RouteContext): Promise<void> {
  const { body } = ctx;
  const model = stringField(body['model']);
  if (!model) return ctx.fail(400, 'model is required');
  const raw = body['raw'] === true;
  if (raw && (body['system'] !== undefined || body['template'] !== undefined || body['context'] !== undefined)) {
    return ctx.fail(400, 'raw mode does not support template, system, or context');
  }
  const options = recordField(body['options']);
  const prompt = stringField(body['prompt']) ?? '';
  const reply = mockReply(raw ? prompt : OLLAMA_MOCK_TEMPLATE(prompt), {
    maxTokens: numberField(options['num_predict']) ?? -1,
    stop: stringList(options['stop']), // a top-level `stop` is not an Ollama field
  });
  const createdAt = new Date().toISOString();
  const final = (r: MockReply, response: string) => {
    const { promptMs, predictedMs } = mockTimings(r, ctx.faults.latencyMs);
    const loadNs = 1_000_000;
    return {
      model, created_at: createdAt, response, done: true, done_reason: r.finish === 'limit' ? 'length' : 'stop',
      total_duration: loadNs + (promptMs + predictedMs) * 1e6, load_duration: loadNs,
      prompt_eval_count: r.promptTokens, prompt_eval_duration: promptMs * 1e6,
      eval_count: r.completionTokens, eval_duration: predictedMs * 1e6,
    };
  };
  await play(ctx, reply, {
    stream: body['stream'] === false ? false : 'ndjson', // Ollama streams unless told not to
    body: (r) => final(r, r.text),
    chunk: (piece) => ({ model, created_at: createdAt, response: piece, done: false }),
    final: (r) => [final(r, '')],
  });
}
