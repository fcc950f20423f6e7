/**
 * What a process builds once and every use case is given: the workspace's files, the
 * stores, the LLM clients, a clock and the git state. A one-shot command makes one and
 * closes it; `watch`, batches and the viewer keep one open and run many runs on it.
 * Built by the composition root, cli/context.ts.
 */
import type { RecordSource } from '../core/batch.js';
import type { LlmClient } from '../core/llm.js';
import type { Clock, FileWriter, GitState, ProcessLiveness, StoreProvider, WorkspaceReader } from '../core/ports.js';
import type { ResolvedEndpoint } from './endpoints.js';

/** Makes (and caches) the client for an endpoint, resolving `auto` by probing; `close` releases every client made. */
export type ClientFactory = ((endpoint: ResolvedEndpoint, signal?: AbortSignal) => Promise<LlmClient>) & { close?: () => Promise<void> | void };

export interface AppContext {
  readonly root: string;
  readonly files: WorkspaceReader;
  /** Planned, contained writes (export). */
  readonly writer: FileWriter;
  readonly stores: StoreProvider;
  readonly clients: ClientFactory;
  readonly clock: Clock;
  /** This process's identity, and whether the process of a `running` run still lives. */
  readonly processes: ProcessLiveness;
  /** Opens a file of input records (a test case's dataset) by workspace-relative path; '-' is stdin. */
  openRecords(path: string): Promise<RecordSource>;
  /** quire's version, recorded with every run. */
  readonly version: string;
  /** The workspace's git state, read once and kept (a watch cycle reads it again with refresh). */
  gitState(options?: { refresh?: boolean }): Promise<GitState>;
  /** Closes the clients and the stores. */
  close(): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };
