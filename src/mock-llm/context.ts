/** Types shared by the mock server and its per-API route files. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MockFaults } from './faults.js';
import type { MockStats } from './stats.js';

/** An API family the mock can speak. */
export type MockFamily = 'kobold' | 'openai' | 'ollama' | 'llamacpp';

/**
 * Which server the mock pretends to be. Each mode also serves the routes the real
 * server imitates, so detection has to look at the unique answers:
 *  - `kobold`: KoboldCpp routes (with `/api/extra/perf`) + OpenAI routes + a `/props` imitation without `build_info`;
 *  - `llamacpp`: llama-server routes + OpenAI routes (in llama.cpp's error shape);
 *  - `ollama`: Ollama native routes (with `/api/show`) + OpenAI routes;
 *  - `openai`: OpenAI routes as vLLM serves them (`max_model_len` in `/v1/models`, `POST /tokenize`);
 *  - `all`: everything (generation routes of every family on one port; `/tokenize` answers
 *    llama.cpp's `{content}` or vLLM's `{prompt}` shape by the body).
 */
export type MockApiMode = MockFamily | 'all';

/** A live generation; KoboldCpp's abort endpoint stops it by genkey. */
export interface Generation {
  stopped: boolean;
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The parsed JSON body, `{}` when there was none or it was not an object. */
  body: Record<string, unknown>;
  /** Effective faults for this request (generation routes only; `{}` elsewhere). */
  faults: MockFaults;
  contextLength: number;
  model: string;
  mode: MockApiMode;
  /** Live generations by KoboldCpp genkey. */
  generations: Map<string, Generation>;
  /** Server-wide generation statistics (KoboldCpp `/api/extra/perf`). */
  stats: MockStats;
  /** Answers with this route's own error shape. */
  fail(status: number, message?: string, type?: string): void;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  family: MockFamily;
  /** Text-generating route: faults apply. */
  generation?: boolean;
  handle(ctx: RouteContext): void | Promise<void>;
}
