/**
 * What the viewer (`quire view`) reads beyond run history and batches, as data (types
 * only): a filtered page of runs with its total, a sorted and filtered page of a batch's
 * records, and the workflows with the payloads and blocks they link to.
 */
import type { BatchRecordResult } from './batch.js';
import type { RunSummary } from './history.js';

/** The triggers quire records (`runs.metadata.trigger`). */
export const RUN_TRIGGERS = ['cli', 'watch', 'batch', 'test'] as const;

/** Which runs to list; every field narrows. Dates are `YYYY-MM-DD` (UTC, as recorded), both ends included. */
export interface RunFilter {
  workflow?: string;
  /** One workflow row (a name may have an archived row and a live one). */
  workflowId?: number;
  status?: string;
  trigger?: string;
  from?: string;
  to?: string;
}

export interface PageRequest {
  limit: number;
  offset: number;
}

/** A run in a listing, with what its responses add up to. */
export interface RunListItem extends RunSummary {
  /** Sums over the responses that recorded them; null when none did. */
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface RunPage {
  /** Runs matching the filter, all pages together. */
  total: number;
  /** Newest first. */
  runs: RunListItem[];
}

export type BatchResultSort =
  | { by: 'record' | 'line' | 'status' | 'duration' | 'checks' }
  /** A workflow input's value (names are plain identifiers: others are not sortable). */
  | { by: 'input'; name: string };

export interface BatchResultsQuery {
  status?: BatchRecordResult['status'];
  /** Case-insensitive text in the record's inputs, its outputs or its error. */
  text?: string;
  sort: BatchResultSort;
  descending: boolean;
  page: PageRequest;
}

export interface BatchResultsPage {
  /** Records matching the filter, all pages together. */
  total: number;
  results: BatchRecordResult[];
}

/** A workflow row as the listing shows it. */
export interface WorkflowSummary {
  id: number;
  name: string;
  archived: boolean;
  /** The file it mirrors; null for a row typed into the original system. */
  sourcePath: string | null;
  description: string | null;
  /** Payload names in step order (from the workflow_payloads links). */
  payloads: string[];
  runCount: number;
  lastRun: { id: number; status: string; startedAt: string } | null;
}

export interface BlockLink {
  id: number;
  key: string | null;
  title: string;
  folderPath: string | null;
  sourcePath: string | null;
}

export interface PayloadLink {
  id: number;
  name: string;
  archived: boolean;
  sourcePath: string | null;
  modelFormat: string | null;
  llmPort: number | null;
  temperature: number | null;
  responseLength: number | null;
  /** The blocks it uses, in order (payload_blocks: tags expanded by the mirror). */
  blocks: BlockLink[];
}

export interface WorkflowStepLink {
  index: number;
  /** From the workflow's definition; null for rows without one. */
  name: string | null;
  payload: PayloadLink | null;
}

export interface WorkflowDetail extends WorkflowSummary {
  steps: WorkflowStepLink[];
  /** Declared inputs, from the definition (as recorded). */
  inputs: Record<string, unknown>;
}
