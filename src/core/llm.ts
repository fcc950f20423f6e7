/**
 * The contract between the runner and the LLM server adapters (types only).
 *
 * One adapter per server API. The runner never knows which server it talks to:
 * it hands over a request and receives streamed tokens and one result.
 */

/** The server APIs quire speaks. */
export type ApiKind = 'kobold' | 'openai' | 'openai-chat' | 'ollama' | 'llamacpp';

/** `auto` is resolved to an ApiKind by probing the server once per endpoint. */
export type ApiSetting = ApiKind | 'auto';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  /** The fully wrapped prompt, for raw-completion APIs. */
  prompt: string;
  /** The same prompt as chat messages, for chat APIs (the server applies its template). */
  messages: ChatMessage[];
  /** Max new tokens (the payload's response_length). Always sent. */
  maxTokens: number;
  /** Always sent. */
  temperature: number;
  /** Stop sequences: the format's plus the payload's. */
  stop: string[];
  /** Payload `params`, passed through after field-name mapping (seed, top_p, repetition penalty...). */
  params: Record<string, unknown>;
  /** Model name, for servers that need one (Ollama, vLLM). */
  model?: string;
}

export type FinishReason = 'stop' | 'length' | 'cancelled' | 'error' | 'unknown';

export interface CompletionResult {
  text: string;
  finishReason: FinishReason;
  /** The server's own finish/stop reason, verbatim, when it gives one. */
  rawFinishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
  /**
   * Milliseconds to the first token: measured from sending the request when streaming;
   * the server's own prompt-processing time otherwise (llama.cpp, Ollama), when it reports one.
   */
  timeToFirstTokenMs?: number;
  totalMs: number;
  /** Server-reported prompt processing time in ms (llama.cpp `timings.prompt_ms`, Ollama `prompt_eval_duration`). */
  promptMs?: number;
  /** Server-reported generation time in ms (llama.cpp `timings.predicted_ms`, Ollama `eval_duration`); tokens/s = completionTokens / generationMs * 1000. */
  generationMs?: number;
  /** The model the server reports, when it reports one. */
  model?: string;
  /** HTTP attempts made, 1 when the first one succeeded. */
  attempts: number;
  /** The server that answered, when an endpoint is a pool of several. */
  endpoint?: string;
}

export interface CompletionOptions {
  /** Aborting cancels the generation on the server too. */
  signal?: AbortSignal;
  /** When set, the adapter streams and calls this with each piece of text. */
  onToken?: (text: string) => void;
}

export interface ContextInfo {
  /** The server's real context size in tokens, if it exposes one (asked once per client, then kept). */
  contextLength?: number;
  /**
   * Token count of the given prompt, if the server can count and it was needed: with
   * `reserveTokens`, only when the prompt might not fit (its UTF-8 byte length, plus a few
   * special tokens, plus `reserveTokens` exceeds `contextLength`; a token covers at least one
   * byte) and never when `contextLength` is unknown. Without `reserveTokens`, whenever the
   * server can count. So `contextLength` and `promptTokens` both present with
   * `promptTokens + reserveTokens > contextLength` is the one sure sign of an overflow.
   */
  promptTokens?: number;
}

export interface InspectContextOptions {
  /** Aborting cancels the probes. */
  signal?: AbortSignal;
  /** Tokens that must fit beside the prompt (the response length): lets the adapter skip counting a prompt that surely fits. */
  reserveTokens?: number;
}

export interface LlmClient {
  readonly api: ApiKind;
  /** Base URL, e.g. http://127.0.0.1:5001 (never contains credentials). */
  readonly url: string;
  complete(request: CompletionRequest, options?: CompletionOptions): Promise<CompletionResult>;
  /** Context size and (when needed, see ContextInfo) prompt token count where the server exposes them; `{}` otherwise. */
  inspectContext(prompt: string, options?: InspectContextOptions): Promise<ContextInfo>;
  /**
   * Releases the client's connections to the server (kept-alive sockets), for a process
   * that drops clients, e.g. when quire.yaml changes. Requests still in flight or waiting
   * fail with CANCELLED. A client used after `close()` still works, keeping no connection
   * (or, where the client is made lazily, opening new ones); closing twice is harmless.
   */
  close(): Promise<void>;
}
