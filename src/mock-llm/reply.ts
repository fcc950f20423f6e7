/**
 * The mock's deterministic "model", so tests can compute the expected text.
 *
 * Reply rule: `echo: ` + the last non-blank line of the prompt (trimmed), or just
 * `echo:` for a blank prompt. A "token" is one whitespace-separated word together
 * with the whitespace before it, so the streamed pieces concatenate to the text.
 * Generation then stops, in the order a real server would meet them:
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

/** The last non-blank line of a prompt, trimmed. */
export function lastLine(prompt: string): string {
  const lines = prompt.split('\n').map((line) => line.trim()).filter((line) => line !== '');
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

/** The full echo before any limit or stop applies. */
export function echoText(prompt: string): string {
  const line = lastLine(prompt);
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
