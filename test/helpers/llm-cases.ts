/**
 * Per-API expectations for the LLM contract suite: where each adapter sends its
 * request, what the mapped body must contain, and what its server can report.
 */
import type { ApiKind, CompletionRequest, FinishReason } from '../../src/core/llm.js';
import { mockChatPrompt } from '../../src/mock-llm/index.js';

/** Params written with generic names, as a payload would. */
export const GENERIC_PARAMS = { seed: 42, repetition_penalty: 1.1, top_p: 0.9, top_k: 40, typical_p: 0.95, custom_flag: 'kept' };

export interface ApiCase {
  api: ApiKind;
  path: { whole: string; stream: string };
  /** What the mapped request body must contain for `GENERIC_PARAMS`, maxTokens 8, temperature 0.5, stop ['###']. */
  mappedBody: Record<string, unknown>;
  /** Generic names that must not be sent as-is (they were renamed). */
  renamedAway: string[];
  /** The raw finish reason for a reply that ended on its own. */
  rawEos: string;
  /** The finish reason reported when a stop string ended a *streamed* reply. */
  streamStopFinish: FinishReason;
  /** Whether a stream reports token counts (KoboldCpp: read from `/api/extra/perf` afterwards). */
  streamCounts: boolean;
  /** Whether replies carry server timings (promptMs / generationMs). */
  serverTimings: boolean;
  /** What inspectContext can report against the mock in `all` mode. */
  inspects: { contextLength: boolean; promptTokens: boolean };
  /** The text the mock's model sees for a request (chat flattens the messages). */
  promptSeen(request: CompletionRequest): string;
}

const raw = (request: CompletionRequest): string => request.prompt;

export const API_CASES: ApiCase[] = [
  {
    api: 'kobold',
    path: { whole: '/api/v1/generate', stream: '/api/extra/generate/stream' },
    mappedBody: {
      sampler_seed: 42, rep_pen: 1.1, top_p: 0.9, top_k: 40, typical: 0.95, custom_flag: 'kept',
      max_length: 8, temperature: 0.5, stop_sequence: ['###'], trim_stop: true, replace_instruct_placeholders: false,
    },
    renamedAway: ['seed', 'repetition_penalty', 'typical_p', 'max_tokens', 'stop'],
    rawEos: 'stop',
    // KoboldCpp says "length" for a text stop; the count from /api/extra/perf corrects it.
    streamStopFinish: 'stop',
    streamCounts: true,
    serverTimings: false,
    inspects: { contextLength: true, promptTokens: true },
    promptSeen: raw,
  },
  {
    api: 'openai',
    path: { whole: '/v1/completions', stream: '/v1/completions' },
    mappedBody: {
      seed: 42, repetition_penalty: 1.1, top_p: 0.9, top_k: 40, typical_p: 0.95, custom_flag: 'kept',
      max_tokens: 8, temperature: 0.5, stop: ['###'], model: 'mock-model', stream: false,
    },
    renamedAway: [],
    rawEos: 'stop',
    streamStopFinish: 'stop',
    streamCounts: true,
    serverTimings: false,
    inspects: { contextLength: true, promptTokens: true }, // vLLM's /v1/models and /tokenize
    promptSeen: raw,
  },
  {
    api: 'openai-chat',
    path: { whole: '/v1/chat/completions', stream: '/v1/chat/completions' },
    mappedBody: {
      seed: 42, repetition_penalty: 1.1, top_p: 0.9, top_k: 40, typical_p: 0.95, custom_flag: 'kept',
      max_tokens: 8, temperature: 0.5, stop: ['###'], model: 'mock-model', stream: false,
    },
    renamedAway: ['prompt'],
    rawEos: 'stop',
    streamStopFinish: 'stop',
    streamCounts: true,
    serverTimings: false,
    inspects: { contextLength: false, promptTokens: false },
    promptSeen: (request) => mockChatPrompt(request.messages),
  },
  {
    api: 'ollama',
    path: { whole: '/api/generate', stream: '/api/generate' },
    mappedBody: {
      model: 'mock-model', raw: true, stream: false,
      options: { seed: 42, repeat_penalty: 1.1, top_p: 0.9, top_k: 40, typical_p: 0.95, custom_flag: 'kept', temperature: 0.5, num_predict: 8, stop: ['###'] },
    },
    renamedAway: ['seed', 'stop', 'temperature', 'top_p'],
    rawEos: 'stop',
    streamStopFinish: 'stop',
    streamCounts: true,
    serverTimings: true,
    inspects: { contextLength: true, promptTokens: false }, // /api/show; no tokenizer route
    promptSeen: raw,
  },
  {
    api: 'llamacpp',
    path: { whole: '/completion', stream: '/completion' },
    mappedBody: {
      seed: 42, repeat_penalty: 1.1, top_p: 0.9, top_k: 40, typical_p: 0.95, custom_flag: 'kept',
      n_predict: 8, temperature: 0.5, stop: ['###'], stream: false,
    },
    renamedAway: ['repetition_penalty', 'max_tokens'],
    rawEos: 'eos',
    streamStopFinish: 'stop',
    streamCounts: true,
    serverTimings: true,
    inspects: { contextLength: true, promptTokens: true },
    promptSeen: raw,
  },
];

/** A request whose last prompt line (and last chat message) is `line`. */
export function requestFor(line: string, overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    prompt: `### System\nYou are terse.\n### User\n${line}\n`,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: line },
    ],
    maxTokens: 50,
    temperature: 0.5,
    stop: [],
    params: {},
    ...overrides,
  };
}
