import type { StepCheckResult } from './checks/types.js';

/**
 * Run history as the app and the CLI see it: typed records of runs and responses
 * (types only). Stores keep the original system's columns; metadata is JSON there.
 */

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';
export type FinishedStatus = Exclude<RunStatus, 'running'>;

/**
 * `runs.metadata` (spec section 7). Rows typed into the original system may hold any
 * JSON (or text, kept as `raw`), so every field is optional to a reader.
 */
export interface RunMetadata {
  inputs?: Record<string, unknown>;
  trigger?: string;
  quire_version?: string;
  git_commit?: string | null;
  git_dirty?: boolean | null;
  /** Content hash of every workspace file the run used, by path. */
  files?: Record<string, string>;
  /** For a run started by `quire watch`: the saved files that started it. */
  changed_files?: string[];
  /** For a run of a batch: the batch's id and the 1-based record number. */
  batch_id?: number;
  batch_record?: number;
  /** The line of the input file where the record starts. */
  batch_line?: number;
  /** Steps whose checks passed and failed. */
  checks?: { passed: number; failed: number };
  /** Who ran it, and on which machine (a shared store holds every member's runs). */
  user?: string;
  host?: string;
  /** The process running it, while it runs (liveness of `running` rows): its pid and start (and `host`). */
  pid?: number;
  process_start?: string;
  steps_completed?: number;
  error?: string;
  failed_step?: { index: number; name: string };
  /** Unparseable metadata text of a foreign row. */
  raw?: string;
  [key: string]: unknown;
}

/** `responses.metadata`: where the answer came from, with what settings, and how it went. */
export interface ResponseMetadata {
  step?: string;
  step_index?: number;
  payload?: string;
  endpoint?: string;
  api?: string;
  model?: string | null;
  model_format?: string;
  /** The date the model format printed into the prompt, when it prints one (llama3.1). */
  date_string?: string;
  sampler?: Record<string, unknown>;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  time_to_first_token_ms?: number | null;
  total_ms?: number;
  finish_reason?: string;
  raw_finish_reason?: string | null;
  attempts?: number;
  context_length?: number;
  /** The step's checks (`expect`), as they came out. */
  checks?: StepCheckResult;
  /** For a judge's call: the step it judged. */
  judge_for?: string;
  /** The step was answered from the step cache (`--cache`), by the response with this id. */
  cache_hit?: boolean;
  cached_from?: number;
  raw?: string;
  [key: string]: unknown;
}

export interface RunRecord {
  id: number;
  workflowId: number | null;
  /** The workflow's name, null when its row is gone. */
  workflow: string | null;
  status: RunStatus;
  startedAt: string;
  completedAt: string | null;
  metadata: RunMetadata;
}

export interface RunSummary extends RunRecord {
  /** Responses recorded. */
  steps: number;
}

export interface ResponseRecord {
  id: number;
  runId: number;
  payloadId: number | null;
  /** The payload's name, null when its row is gone. */
  payload: string | null;
  content: string | null;
  /** The exact text sent (JSON messages for chat APIs); null for rows from the original system. */
  prompt: string | null;
  metadata: ResponseMetadata;
  createdAt: string;
}

export interface NewResponse {
  runId: number;
  payloadId: number | null;
  content: string;
  prompt: string;
  metadata: ResponseMetadata;
  /** The step cache key this response answers: remembered in the same write (one round trip to a network store). */
  cacheKey?: string;
}
