/**
 * An output read as JSON, the way models write it: surrounding whitespace and ONE Markdown
 * code fence around the whole output (```json ... ``` or ``` ... ```) are allowed. Prose
 * before or after the fence is not: a check on JSON output should fail on chatter.
 */
import { jsonErrorOffset } from './json-position.js';
import { quoteAround, where } from './quote.js';

const FENCE = /^```(?:json)?[ \t]*(?:\r?\n)?([\s\S]*?)```$/i;

/** The text inside one surrounding fence (or the whole text), trimmed, and where it starts in `text`. */
export function stripFence(text: string): { body: string; offset: number } {
  const trimmed = text.trim();
  let offset = text.length - text.trimStart().length;
  let body = trimmed;
  const fence = FENCE.exec(trimmed);
  if (fence) {
    offset += fence[0].length - 3 - fence[1]!.length;
    body = fence[1]!;
  }
  const lead = body.length - body.trimStart().length;
  return { body: body.trim(), offset: offset + lead };
}

export type JsonRead = { ok: true; value: unknown } | { ok: false; reason: string };

/** The output parsed as JSON, or why not: the parser's message, the line and column in the output, the text around it. */
export function readJsonOutput(text: string): JsonRead {
  const { body, offset } = stripFence(text);
  if (body === '') return { ok: false, reason: text.trim() === '' ? 'output is empty, not JSON' : 'output is an empty code fence, not JSON' };
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    const message = plainMessage(error instanceof Error ? error.message : String(error));
    const at = offset + (jsonErrorOffset(body) ?? 0);
    return { ok: false, reason: `output is not valid JSON (${message}) at ${where(text, at)}: ${quoteAround(text, at)}` };
  }
}

/** V8's message without its position or its own excerpt of the input (ours replaces both). */
function plainMessage(message: string): string {
  return message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ at position \d+.*$/s, '')
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')
    // "Unexpected token '<newline>'": control characters shown escaped, as in the quote after it.
    .replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}
