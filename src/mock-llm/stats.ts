/**
 * What the mock remembers about its generations, for KoboldCpp's `GET /api/extra/perf`
 * (protocols.md §1.3), which reports on the last finished generation.
 */
import { mockTimings } from './output.js';
import type { MockFinish, MockReply } from './reply.js';

export interface MockStats {
  /** The last generation that finished (ran out, hit a stop, was aborted or cut), on any route. */
  last?: { reply: MockReply; latencyMs: number | undefined; seed: number };
  /** Finished generations. */
  totalGens: number;
  /** Generations in progress. */
  active: number;
  /** The most generations in progress at once since the start or the last reset (limits are checked against it). */
  peakActive: number;
  readonly startedAt: number;
  /** When the last generation finished (or the server started). */
  idleSince: number;
}

export function createStats(): MockStats {
  const now = Date.now();
  return { totalGens: 0, active: 0, peakActive: 0, startedAt: now, idleSince: now };
}

/** Records a finished generation; the mock calls it before it writes the reply's end, as KoboldCpp does. */
export function recordGeneration(stats: MockStats, reply: MockReply, latencyMs: number | undefined, seed: number): void {
  stats.last = { reply, latencyMs, seed };
  stats.totalGens++;
  stats.idleSince = Date.now();
}

/** KoboldCpp's raw stop reasons (`expose.h`): 0 out of tokens, 1 EOS, 2 custom stop string. */
const STOP_REASON: Record<MockFinish, number> = { limit: 0, eos: 1, word: 2 };

/**
 * The `/api/extra/perf` body (KoboldCpp 1.102 fields). `last_token_count` and
 * `last_input_count` are the last generation's completion and prompt tokens; times follow
 * `mockTimings` (1 ms per prompt token, `latency` or 10 ms per generated token).
 * Before any generation the counts are 0 and `stop_reason` is -1.
 */
export function koboldPerf(stats: MockStats): Record<string, unknown> {
  const last = stats.last;
  const prompt = last?.reply.promptTokens ?? 0;
  const generated = last?.reply.completionTokens ?? 0;
  const { promptMs, predictedMs } = last ? mockTimings(last.reply, last.latencyMs) : { promptMs: 0, predictedMs: 0 };
  const now = Date.now();
  return {
    last_process: prompt ? promptMs / prompt : 0,
    last_eval: generated ? predictedMs / generated : 0,
    last_token_count: generated,
    last_input_count: prompt,
    last_process_time: promptMs / 1000,
    last_eval_time: predictedMs / 1000,
    last_process_speed: promptMs ? (prompt * 1000) / promptMs : 0,
    last_eval_speed: predictedMs ? (generated * 1000) / predictedMs : 0,
    last_seed: last?.seed ?? 0,
    stop_reason: last ? STOP_REASON[last.reply.finish] : -1,
    total_gens: stats.totalGens,
    queue: Math.max(0, stats.active - 1),
    idle: stats.active === 0 ? 1 : 0,
    uptime: (now - stats.startedAt) / 1000,
    idletime: stats.active === 0 ? (now - stats.idleSince) / 1000 : 0,
  };
}
