/**
 * What the use cases need from the outside world, as interfaces (types only) the
 * adapters implement and the composition root (cli/context.ts) passes in. No use case opens a database,
 * walks a folder or makes a client itself, so one long-lived process (watch, batch, the
 * viewer) builds these once and runs many runs on them.
 *
 * History and the mirror are async: a shared network store (Postgres) implements them
 * as well as the local SQLite file does. The parse cache is this checkout's own local
 * state and stays synchronous.
 */
import type { BatchCounts, BatchRecord, BatchRecordResult, BatchSettings, BatchStatus, LeasedRecord, QueuedRecord, QueueProgress, RecordFormat } from './batch.js';
import type { WorkspaceChanges } from './changes.js';
import type { ExportInput } from './export.js';
import type { FinishedStatus, NewResponse, ResponseRecord, RunMetadata, RunRecord, RunSummary } from './history.js';
import type { SyncReport } from './sync-report.js';
import type { BatchResultsPage, BatchResultsQuery, PageRequest, RunFilter, RunPage, WorkflowDetail, WorkflowSummary } from './view.js';
import type { Problem } from './errors.js';
import type { Block, KnownFile, SourceFile, Workspace, WorkspaceFiles } from './types.js';
import type { CachedFileEntry, FileState, ParsedFile } from './workspace.js';

/** Run history: one run per workflow run, one response per completed step, each written as soon as it exists. */
export interface HistoryStore {
  /** Records a `running` run; returns its id. */
  startRun(run: { workflowId: number | null; metadata: RunMetadata; startedAt: Date }): Promise<number>;
  /** Records one completed step; returns the response id. */
  addResponse(response: NewResponse, createdAt: Date): Promise<number>;
  /**
   * Records the run's end; `last`, the response of its last step, is written with it in one
   * transaction (one round trip to a network store instead of two).
   */
  finishRun(runId: number, status: FinishedStatus, metadata: RunMetadata, completedAt: Date, last?: { response: NewResponse; createdAt: Date }): Promise<void>;
  /**
   * Runs left `running` whose process is gone (by `isAlive` on their metadata) become
   * `failed` (interrupted). Returns the ids marked.
   */
  markInterrupted(isAlive: (metadata: RunMetadata) => boolean, at: Date): Promise<number[]>;
  /** Runs recorded as `running`, oldest first. */
  running(): Promise<RunRecord[]>;
  getRun(runId: number): Promise<RunRecord | undefined>;
  /**
   * The newest `completed` run of the same workflow recorded before this one (`quire diff
   * <run>`); undefined when there is none, the run is unknown, or it has no workflow row.
   */
  previousCompleted(runId: number): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(query: { workflow?: string; limit: number }): Promise<RunSummary[]>;
  /** In the order recorded. */
  responses(runId: number): Promise<ResponseRecord[]>;
  /** The response a step cache key was last answered by, when it still exists. */
  cachedResponse(key: string): Promise<ResponseRecord | undefined>;
  /** Remembers that `responseId` answered the request with this cache key. */
  rememberResponse(key: string, responseId: number): Promise<void>;
  /** Several runs with their responses at once (a page of batch results); unknown ids are left out. */
  runsWithResponses(runIds: readonly number[]): Promise<Map<number, { run: RunRecord; responses: ResponseRecord[] }>>;
}

/**
 * Batches: one `batches` row per batch, one `batch_records` row per record once its run
 * ends (or it is found invalid), written with the batch's counts in one transaction.
 */
export interface BatchStore {
  createBatch(batch: { workflowId: number | null; workflow: string; inputPath: string; inputHash: string | null; inputFormat: RecordFormat; settings: BatchSettings; startedAt: Date }): Promise<number>;
  getBatch(id: number): Promise<BatchRecord | undefined>;
  /** Newest first. */
  listBatches(query: { workflow?: string; limit: number }): Promise<BatchRecord[]>;
  /** The newest batch of a workflow over the same input file (path and content hash), for `--resume` without an id. */
  latestBatch(workflow: string, inputPath: string, inputHash: string | null): Promise<BatchRecord | undefined>;
  /** Marks a batch running again (a resume), with the settings of this attempt. */
  reopenBatch(id: number, settings: BatchSettings): Promise<void>;
  /** What became of one record, when known. */
  recordResult(batchId: number, record: number): Promise<BatchRecordResult | undefined>;
  /**
   * Records what became of a batch of records (one transaction): their rows (replacing an
   * earlier attempt's) and the batch's counts and records read.
   */
  saveResults(batchId: number, results: readonly BatchRecordResult[], progress: { recordCount: number; counts: BatchCounts }): Promise<void>;
  finishBatch(id: number, status: Exclude<BatchStatus, 'running'>, completedAt: Date, progress: { recordCount: number; counts: BatchCounts }): Promise<void>;
  /** Batches left `running` whose process is gone become `cancelled`. Returns the ids marked. */
  markInterrupted(isAlive: (settings: BatchSettings) => boolean, at: Date): Promise<number[]>;
  /** The batch's records by their latest status. */
  countResults(batchId: number): Promise<Pick<BatchCounts, 'completed' | 'failed' | 'cancelled' | 'invalid'>>;
  /**
   * Finished runs of the batch (by runs.metadata.batch_id) that no saved result links to:
   * the process stopped before saving them. A resume saves them first.
   */
  unsavedRuns(batchId: number): Promise<RunRecord[]>;
  /** The batch's records in order, from `afterRecord` on, at most `limit` (for exports, page by page). */
  results(batchId: number, page: { afterRecord: number; limit: number }): Promise<BatchRecordResult[]>;
}

/**
 * The queue of batches run by `quire worker`s on any number of machines (a shared store
 * only). A record is leased to one worker at a time; a lease that is not renewed runs out
 * and the record returns to the queue; a result counts only from the worker holding the
 * lease, so no record completes twice.
 */
export interface WorkQueue {
  /**
   * Registers a batch of workers in one transaction: the `batches` row, every valid record
   * queued and every invalid one saved as `invalid`, with the counts. Nothing is queued
   * when `items` throws.
   */
  registerBatch(batch: Parameters<BatchStore['createBatch']>[0], items: AsyncIterable<{ queued: QueuedRecord } | { invalid: BatchRecordResult }>): Promise<{ batchId: number; queued: number; invalid: number }>;
  /**
   * Leases up to `limit` records to `worker` for `leaseMs`: queued ones, and leased ones
   * whose lease ran out (their earlier runs still `running` are settled as interrupted),
   * oldest batch first, skipping the batches in `skip` and records other workers are
   * claiming at the same moment.
   */
  claim(worker: string, limit: number, leaseMs: number, skip?: readonly number[]): Promise<LeasedRecord[]>;
  /** Extends every lease `worker` holds by `leaseMs` from now; returns how many it holds. */
  renew(worker: string, leaseMs: number): Promise<number>;
  /**
   * Saves results of records leased to `worker`, with the batch's counts, in one
   * transaction; a result whose lease the worker no longer holds is dropped. A batch with
   * nothing left to do is finished. Returns the records saved.
   */
  complete(worker: string, batchId: number, results: readonly BatchRecordResult[], at: Date): Promise<number[]>;
  /** Returns records leased to `worker` to the queue (all of them, or those listed), for others to run. */
  release(worker: string, records?: readonly { batchId: number; record: number }[]): Promise<void>;
  /** Where a batch stands. */
  progress(batchId: number): Promise<QueueProgress>;
  /** Whether any batch has records queued or leased. */
  hasWork(): Promise<boolean>;
}

/**
 * What the viewer reads (`quire view`), read-only: listings that are filtered, sorted and
 * paged in the store, so a page of 100,000 runs or records costs what one page costs.
 */
export interface ViewQueries {
  /** Runs matching the filter, newest first, with the total across pages. */
  runsPage(filter: RunFilter, page: PageRequest): Promise<RunPage>;
  /** Workflow names that have rows (for the filter's choices), sorted. */
  workflowNames(): Promise<string[]>;
  /** One page of a batch's records, filtered and sorted, with the total across pages. */
  batchResultsPage(batchId: number, query: BatchResultsQuery): Promise<BatchResultsPage>;
  /** Every workflow row, live ones first, by name. */
  workflows(): Promise<WorkflowSummary[]>;
  /** One workflow with its steps, their payloads and the blocks each uses. */
  workflow(id: number): Promise<WorkflowDetail | undefined>;
  /**
   * A number that changes whenever another connection commits to the store (SQLite's
   * `PRAGMA data_version`): polled to update open pages.
   */
  dataVersion(): Promise<number>;
}

/** The seven tables of the original system, kept as the files say. */
export interface MirrorStore {
  /**
   * Applies a validated workspace, touching only what `changes` reaches, in one transaction.
   * `fingerprint` (mirrorFingerprint of every file, when the caller has it) lets a shared
   * store skip an apply another checkout already made of the same files.
   */
  apply(workspace: Workspace, changes: WorkspaceChanges, fingerprint?: string): Promise<SyncReport>;
  /**
   * Present on a store other checkouts write too (Postgres): whether its file-backed rows
   * were last made from exactly these files (a mirrorFingerprint). Another checkout's sync
   * of another commit makes this false, and the next apply compares every row.
   */
  holdsFiles?(fingerprint: string): Promise<boolean>;
  /** Ids runs and responses link to: the workflow's row and every file-backed payload's. */
  runLinks(workflow: string): Promise<{ workflowId: number | null; payloadIds: ReadonlyMap<string, number> }>;
  /**
   * Live rows that came from files, per table: compared with the counts of the last sync,
   * so rows deleted behind quire's back (another tool, a hand-written DELETE) are noticed.
   */
  fileRowCounts(): Promise<{ blocks: number; payloads: number; workflows: number }>;
  /** Rows that exist only in the database (typed into the original system), for `quire export`. */
  exportSource(): Promise<ExportInput>;
}

/**
 * This checkout's parse cache: what each file parsed to at the last sync, with its size
 * and mtime then, so unchanged files are neither read nor parsed again.
 */
export interface ParseCache {
  /** Size, mtime and hash of every file at the last sync. */
  knownFiles(): ReadonlyMap<string, KnownFile>;
  /** Whether these hashes are exactly the files the last sync mirrored (same quire). */
  matchesLastSync(hashes: ReadonlyMap<string, string>): boolean;
  /** Row counts of the last sync, when recorded. */
  lastCounts(): { blocks: number; payloads: number; workflows: number } | undefined;
  /** Every cached parse by path; blocks carry their text. */
  entries(): Map<string, CachedFileEntry>;
  /** One file's cached parse, blocks excepted (see block()). */
  parsed(path: string): ParsedFile | undefined;
  /** The file of a file-backed workflow or payload, by name. */
  pathOf(kind: 'workflow' | 'payload', name: string): string | undefined;
  /** Every cached block's key -> file, and tag -> keys sorted by key. */
  blockIndex(): { pathByKey: Map<string, string>; tags: Map<string, string[]> };
  /** A cached block with its text. */
  block(path: string): Block | undefined;
  /**
   * Records a sync: the parse and stats of the files that changed, the files that are
   * gone, and every file's hash (the next sync's shortcut) with the row counts.
   */
  record(sync: {
    changed: readonly { path: string; size: number; mtimeMs: number; state: FileState }[];
    removed: readonly string[];
    /**
     * Every file's hash, for the next sync's shortcut. Omitted by a caller that records
     * often (watch, per save): the shortcut is then cleared until markSynced.
     */
    hashes?: ReadonlyMap<string, string>;
    counts: { blocks: number; payloads: number; workflows: number };
  }): void;
  /** Records every file's hash and the row counts: the next sync's "nothing changed" shortcut. */
  markSynced(hashes: ReadonlyMap<string, string>, counts: { blocks: number; payloads: number; workflows: number }): void;
  /** New sizes and mtimes of files whose bytes are unchanged (touched, checked out again). */
  refreshStats(files: readonly { path: string; size: number; mtimeMs: number }[]): void;
}

export interface Stores {
  history: HistoryStore;
  batches: BatchStore;
  /** Batches run by workers: a shared store only. */
  queue?: WorkQueue;
  mirror: MirrorStore;
  view: ViewQueries;
  cache: ParseCache;
}

/**
 * Where the stores live, opened lazily: reading commands never write, and a sync of an
 * invalid workspace never creates or changes the database.
 */
export interface StoreProvider {
  /** Where the data is, for messages (a file path or a URL without credentials). */
  readonly location: string;
  /** The parse cache of the last sync, without writing anything; undefined when there is none usable. */
  readCache(): ParseCache | undefined;
  /** Stores ready for writing: created and migrated on first use. */
  forWriting(): Promise<Stores>;
  /** Stores for reading only. @throws AppError NOT_FOUND when there is no database yet */
  forReading(): Promise<Stores>;
  /**
   * What is there, for `quire doctor`: read only, never creating, migrating or settling
   * anything (a missing database is `exists: false`).
   * @throws AppError DATABASE when the file cannot be read as a database
   */
  describe(): Promise<StoreDescription>;
  close(): Promise<void>;
}

/** The database as it is on disk (StoreProvider.describe). */
export interface StoreDescription {
  location: string;
  exists: boolean;
  /** The database file's size in bytes (its WAL file not counted); 0 when it does not exist. */
  sizeBytes: number;
  /** Migration names recorded in the database (in the order applied), and the ones this quire knows (in order). */
  migrations: { applied: string[]; known: string[] };
  /** Runs per status (`completed`, `failed`...); empty when there is no runs table. */
  runsByStatus: Record<string, number>;
}

/** The workspace's files on disk. */
export interface WorkspaceReader {
  readonly root: string;
  /** Walks the workspace; files whose size and mtime match `known` come without bytes. */
  walk(known?: ReadonlyMap<string, KnownFile>): WorkspaceFiles;
  /** One file's bytes, by workspace-relative path. */
  read(path: string): Uint8Array;
  /**
   * One workspace file by path, as the walk would read it (a watcher's report). Neither a
   * file nor a problem: it is gone, or not a workspace file.
   */
  readOne(path: string): { file?: SourceFile; problems: Problem[] };
  /**
   * Another file the workspace names (a check's JSON Schema, approved outputs), by
   * workspace-relative path: as UTF-8 text, inside the workspace only, size-capped. The
   * reason when it cannot be read; neither when it does not exist.
   */
  readAuxiliary(path: string): { text?: string; problem?: string };
}

/** A file to write into a folder (`quire export`, `quire init`). */
export interface FileToWrite {
  /** `/`-separated, relative to the folder. */
  path: string;
  content: string | Uint8Array;
  /** Replace a file that differs (default: refuse). */
  replace?: boolean;
  /** What the file comes from, for messages (e.g. `block #12`). */
  owner?: string;
}

export interface WritePlan {
  root: string;
  toWrite: FileToWrite[];
  /** Already there, byte for byte. */
  unchanged: FileToWrite[];
  /** Targets that cannot be written; a plan with any is never applied. */
  problems: { path: string; owner?: string; message: string }[];
}

/** Writes planned whole before anything is written, contained in the folder. */
export interface FileWriter {
  plan(root: string, files: readonly FileToWrite[]): WritePlan;
  /** @throws when the plan has problems */
  apply(plan: WritePlan): void;
}

/** The process that records a run: its pid and its start, so a reused pid is not mistaken for it. */
export interface RunOwner {
  pid: number;
  /** Opaque; compared for equality. Absent on runs recorded by older quire versions. */
  start?: string;
  /**
   * The machine (its host name). A pid means nothing on another machine: a run recorded
   * there counts as alive here (its own machine settles it). Absent on older runs.
   */
  host?: string;
}

/** Who runs this process, recorded on every run: the shared store shows whose run it is. */
export interface RunAuthor {
  user: string;
  host: string;
}

export interface ProcessLiveness {
  /** This process. */
  readonly self: RunOwner & { host: string };
  /** Who runs it, and where. */
  readonly author: RunAuthor;
  /** Whether the process that recorded a run still runs (this process included). */
  isAlive(owner: RunOwner): boolean;
}

export interface Clock {
  now(): Date;
}

export interface GitState {
  commit: string | null;
  dirty: boolean | null;
}

/**
 * One save, or one burst of saves (a checkout, a stash), as the watcher reports it.
 * Workspace-relative `/`-separated paths of workspace files only, each once, sorted.
 */
export interface WorkspaceChangeBatch {
  /** Files added or rewritten (a file deleted and created again within the batch is here). */
  changed: string[];
  /** Files that were there and are gone. */
  removed: string[];
}

export interface WatchOptions {
  /** Absolute paths never reported: the database and its -wal, -shm and -journal files. */
  ignorePaths: readonly string[];
  /** Quiet time after the last event before a batch is emitted, in ms (default 40). */
  debounceMs?: number;
  /** Called once per batch, never with an empty batch, never after close(). */
  onBatch(batch: WorkspaceChangeBatch): void;
  /** A watching failure (the OS watch limit, a folder that cannot be read), or an onBatch that threw. */
  onError(error: Error): void;
}

export interface WorkspaceWatch {
  /** Stops watching and releases every handle; a batch still being gathered is dropped. */
  close(): Promise<void>;
}

/** Reports saves to the workspace's files as they happen (`quire watch`). */
export interface WorkspaceWatcher {
  /** Resolves once the initial scan is done: every save after that is reported. */
  watchWorkspace(root: string, options: WatchOptions): Promise<WorkspaceWatch>;
}
