/**
 * The validated workspace model: what the files say, after parsing and checking.
 * No logic here.
 */
import type { CheckSpec } from './checks/types.js';
import type { Problem, SourceLocation } from './errors.js';
import type { TestSuite } from './tests-file.js';

/** Kinds of workspace file. */
export type FileKind = 'block' | 'payload' | 'workflow' | 'config' | 'format' | 'tests';

/** One file as read from disk: the adapter's output, the core's input. */
export interface SourceFile {
  /** Workspace-relative path, `/`-separated. */
  path: string;
  kind: FileKind;
  /** The content; absent when the reader knows the file is unchanged since the last sync. */
  bytes?: Uint8Array;
  /** The content hash, when `bytes` is absent. */
  knownHash?: string;
  size: number;
  mtimeMs: number;
}

/** What the last sync saw of a file. */
export interface KnownFile {
  size: number;
  mtimeMs: number;
  hash: string;
}

/** The workspace's files as one walk found them, with the files it could not read. */
export interface WorkspaceFiles {
  files: SourceFile[];
  problems: Problem[];
}

/** A `{{block "key"}}` or `{{tag "name"}}` inside a block's template. */
export interface Include {
  kind: 'block' | 'tag';
  name: string;
  line: number;
  col: number;
}

export interface Block {
  /** Path under blocks/ without `.md`, `/`-separated: how everything names a block. */
  key: string;
  title: string;
  tags: string[];
  /** The body after the front matter, byte for byte. */
  content: string;
  /** The folder part of the key ('' at the root). */
  folderPath: string;
  sourcePath: string;
  contentHash: string;
  /** 1-based line of the body's first line in the file (for template error positions). */
  bodyLine: number;
  includes: Include[];
}

/** One entry of a payload's `system` or `blocks` list. */
export type BlockRef =
  | { kind: 'block'; key: string; at: SourceLocation }
  | { kind: 'tag'; tag: string; at: SourceLocation }
  | { kind: 'text'; text: string; at: SourceLocation; includes: Include[] };

export interface PayloadSettings {
  temperature: number;
  responseLength: number;
  llmPort: number;
  modelFormat: string;
  system: BlockRef[];
  blocks: BlockRef[];
  params: Record<string, unknown>;
}

export interface Payload extends PayloadSettings {
  name: string;
  sourcePath: string;
  /** Hash of the file it came from; for inline payloads, of the workflow file. */
  contentHash: string;
  /** For an inline payload: the workflow that defines it. */
  inlineIn?: string;
  /** Where the payload is defined (its file's first line, or the inline entry). */
  at: SourceLocation;
  formatAt?: SourceLocation;
}

export type InputType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

export interface InputSpec {
  type: InputType;
  default?: unknown;
  description?: string;
  required: boolean;
}

export interface Step {
  /** Step name: `as`, else the payload name (inline: its own name). */
  name: string;
  /** The payload's full name (inline payloads: `<workflow>/<name>`). */
  payload: string;
  vars: Record<string, unknown>;
  /** Checks on the step's output (`expect:`), run after the step completes. */
  expect: CheckSpec[];
  /** The step passes when the weighted mean score of its checks reaches this; unset: every check must pass. */
  threshold?: number;
  at: SourceLocation;
}

export interface Workflow {
  name: string;
  description: string;
  inputs: Record<string, InputSpec>;
  steps: Step[];
  sourcePath: string;
  contentHash: string;
  at: SourceLocation;
}

export interface EndpointConfig {
  api?: string;
  host?: string;
  urls?: string[];
  model?: string;
  concurrency?: number;
  timeout_ms?: number;
  /** Total time per request, in ms, retries included. */
  deadline_ms?: number;
  retries?: number;
  api_key_env?: string;
}

export interface WorkspaceConfig {
  llm: {
    host: string;
    api: string;
    timeout_ms: number;
    deadline_ms?: number;
    retries: number;
    api_key_env?: string;
  };
  endpoints: Record<string, EndpointConfig>;
  /** Where the stores are (a SQLite path or a postgres:// URL without password); QUIRE_DB and --db override it. */
  store?: string;
  sourcePath?: string;
  contentHash?: string;
}

/** A user-defined format file, as parsed (its content is interpreted by core/formats). */
export interface FormatFile {
  name: string;
  definition: Record<string, unknown>;
  sourcePath: string;
  contentHash: string;
}

/** The whole validated workspace. */
export interface Workspace {
  blocks: Map<string, Block>;
  /** tag -> block keys, sorted by key. */
  tags: Map<string, string[]>;
  payloads: Map<string, Payload>;
  workflows: Map<string, Workflow>;
  formats: Map<string, FormatFile>;
  /** Test case files, by path. */
  tests: Map<string, TestSuite>;
  config: WorkspaceConfig;
}
