/**
 * The mock's deterministic "model", so tests can compute the expected text.
 *
 * Reply rule (`echoText`): `echo: ` + the prompt's *reply line*, or just `echo:` when it
 * has none. The reply line (`replyLine`) is found in three steps:
 *  1. Instruct markup is removed (`stripInstructMarkup`); every piece becomes a line break:
 *     - special tokens `<|…|>` (ChatML, Llama 3, Phi, Command-R…) and `<｜…｜>` (DeepSeek,
 *       U+FF5C), with no whitespace inside;
 *     - `<s>`, `</s>`, `<bos>`, `<eos>`, `<unk>`, `<pad>`, `<BOS_TOKEN>`, `<EOS_TOKEN>`,
 *       `<start_of_turn>`, `<end_of_turn>`, `<think>`, `</think>`, `<<SYS>>`, `<</SYS>>`;
 *     - `[INST]`, `[/INST]`, `[SYSTEM_PROMPT]`, `[/SYSTEM_PROMPT]` (and `[AVAILABLE_TOOLS]`,
 *       `[TOOL_RESULTS]`, `[TOOL_CALLS]` with their closing forms);
 *     - KoboldCpp placeholders `{{[INPUT]}}`, `{{[OUTPUT]}}`, `{{[SYSTEM]}}` and their `_END` forms;
 *     - then Vicuna's inline role markers: upper-case `USER:` / `ASSISTANT:` at the start of
 *       a line or after whitespace.
 *  2. The remaining lines are trimmed; blank lines and role-header lines are dropped. A
 *     role-header line is, case-insensitively, an optional run of `#` then one of `system`,
 *     `user`, `assistant`, `model`, `human`, `bot`, `chatbot`, `gpt`, `instruction`, `input`,
 *     `response`, then an optional `:` (e.g. `assistant`, `model`, `### Response:`, `USER:`).
 *  3. The last line left is the reply line.
 * So a prompt rendered in any built-in model format gets the last line of its last user
 * message back, and the format's stop strings never cut the reply short.
 *
 * A "token" is one whitespace-separated word together with the whitespace before it, so
 * the streamed pieces concatenate to the text. Prompt token counts are taken on the whole
 * prompt, markup included. Generation then stops, in the order a real server would meet them:
 *  1. after `maxTokens` tokens (`limit`; a negative or missing value means no limit);
 *  2. at the first occurrence of any stop string in the generated text (`word`);
 *     the stop string is cut off unless `keepStop` is set (KoboldCpp `trim_stop:false`);
 *  3. otherwise at the end of the echo (`eos`).
 */

export type MockFinish = 'eos' | 'word' | 'limit';

export interface MockReplyOptions {
  maxTokens?: number;
  stop?: readonly string[];
  /** Keep the stop string in the text (KoboldCpp with `trim_stop: false`). */
  keepStop?: boolean;
}

export interface MockReply {
  text: string;
  /** The streamed pieces, in order; they concatenate to `text`. */
  pieces: string[];
  finish: MockFinish;
  /** The stop string that fired, for `finish: 'word'`. */
  stoppingWord?: string;
  promptTokens: number;
  completionTokens: number;
}

/** The last non-blank line of a text, trimmed (no markup stripping: see `replyLine`). */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines[lines.length - 1] ?? '';
}

/** Special tokens and instruct tags (step 1 of the reply rule). */
const MARKUP = new RegExp([
  '<\\|[^|\\s<>]{1,64}\\|>',
  '<\uFF5C[^\uFF5C\\s<>]{1,64}\uFF5C>',
  '</?(?:s|bos|eos|unk|pad|think)>',
  '<(?:BOS|EOS)_TOKEN>',
  '<(?:start|end)_of_turn>',
  '<</?SYS>>',
  '\\[/?(?:INST|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_RESULTS|TOOL_CALLS)\\]',
  '\\{\\{\\[(?:INPUT|OUTPUT|SYSTEM)(?:_END)?\\]\\}\\}',
].join('|'), 'g');

/** Vicuna's inline role markers (`{system} USER: {u} ASSISTANT:`), matched after the tokens are gone. */
const VICUNA_ROLE = /(^|\s)(?:USER|ASSISTANT):/gm;

/** A line that is only a role header (step 2 of the reply rule). */
const ROLE_HEADER = /^(?:#+\s*)?(?:system|user|assistant|model|human|bot|chatbot|gpt|instruction|input|response)\s*:?$/i;

/** The prompt with instruct markup replaced by line breaks (step 1 of the reply rule). */
export function stripInstructMarkup(prompt: string): string {
  return prompt.replace(MARKUP, '\n').replace(VICUNA_ROLE, '$1\n');
}

/** The line the mock answers: the last line that is neither blank nor a role header once markup is stripped. */
export function replyLine(prompt: string): string {
  const lines = stripInstructMarkup(prompt).split('\n').map((line) => line.trim())
    .filter((line) => line !== '' && !ROLE_HEADER.test(line));
  return lines[lines.length - 1] ?? '';
}

/** Mock tokens: each whitespace-separated word with its leading whitespace. */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** The mock's token count of any text: its number of whitespace-separated words. */
export function countTokens(text: string): number {
  return splitTokens(text).length;
}

/** Deterministic fake token ids (one per word) for the tokenize endpoints. */
export function tokenIds(text: string): number[] {
  return splitTokens(text).map((word) => {
    let id = 7;
    for (const ch of word.trim()) id = (id * 31 + ch.charCodeAt(0)) % 32000;
    return id;
  });
}

/** How the mock's chat endpoints flatten messages before replying: contents joined by newlines. */
export function mockChatPrompt(messages: readonly { content?: unknown }[]): string {
  return messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
}

/** The full echo before any limit or stop applies (the reply rule at the top of this file). */
export function echoText(prompt: string): string {
  const line = replyLine(prompt);
  return line === '' ? 'echo:' : `echo: ${line}`;
}

/** The mock model's reply to a prompt (see the rules at the top of this file). */
export function mockReply(prompt: string, options: MockReplyOptions = {}): MockReply {
  const all = splitTokens(echoText(prompt));
  const max = options.maxTokens;
  const limit = max === undefined || max < 0 ? all.length : Math.min(Math.floor(max), all.length);
  const generated = all.slice(0, limit);
  const generatedText = generated.join('');
  const promptTokens = countTokens(prompt);

  const hit = firstStop(generatedText, options.stop ?? []);
  if (hit) {
    const cut = options.keepStop ? hit.index + hit.stop.length : hit.index;
    const text = generatedText.slice(0, cut);
    // Tokens up to the one that completed the stop string were generated.
    const completionTokens = tokensToReach(generated, hit.index + hit.stop.length);
    return { text, pieces: cutPieces(generated, cut), finish: 'word', stoppingWord: hit.stop, promptTokens, completionTokens };
  }
  return {
    text: generatedText,
    pieces: generated,
    finish: limit < all.length ? 'limit' : 'eos',
    promptTokens,
    completionTokens: generated.length,
  };
}

function firstStop(text: string, stops: readonly string[]): { index: number; stop: string } | undefined {
  let best: { index: number; stop: string } | undefined;
  for (const stop of stops) {
    if (stop === '') continue;
    const index = text.indexOf(stop);
    if (index >= 0 && (best === undefined || index < best.index)) best = { index, stop };
  }
  return best;
}

function tokensToReach(pieces: readonly string[], chars: number): number {
  let length = 0;
  for (let i = 0; i < pieces.length; i++) {
    length += pieces[i]!.length;
    if (length >= chars) return i + 1;
  }
  return pieces.length;
}

/** The pieces covering the first `chars` characters, the last one cut short. */
function cutPieces(pieces: readonly string[], chars: number): string[] {
  const out: string[] = [];
  let left = chars;
  for (const piece of pieces) {
    if (left <= 0) break;
    out.push(piece.slice(0, left));
    left -= piece.length;
  }
  return out.filter((piece) => piece !== '');
}
