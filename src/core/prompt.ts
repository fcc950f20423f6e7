/**
 * From a rendered payload to what is sent: chat messages, the format-wrapped text for
 * raw-completion endpoints, and the stop sequences.
 */
import { AppError } from './errors.js';
import { createCustomFormat, getBuiltinFormat, renderMessages, stopSequences, templateDateString, type ModelFormat } from './formats/index.js';
import type { ChatMessage } from './llm.js';
import type { RenderedPayload } from './render.js';
import type { Payload, Workspace } from './types.js';

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** The text for raw-completion endpoints: messages wrapped in the model format, no leading BOS. */
  text: string;
  stop: string[];
  format: string;
  /**
   * The date the text prints as "Today Date" (llama3.1, or a chat_template given date_string):
   * for the run's response metadata, since it changes the prompt. Absent when the format prints none.
   */
  dateString?: string;
}

export interface BuildPromptOptions {
  /** Now, for a `today` date string. Default: the clock. */
  date?: Date;
  /** The date string to print over the format's choice (a fixed date, or `today`). */
  dateString?: string;
}

/** Looks formats up by name: workspace formats first (they may override built-ins), compiled once. */
export function createFormatResolver(workspace: Workspace) {
  const cache = new Map<string, ModelFormat>();
  return (name: string): ModelFormat => {
    let format = cache.get(name);
    if (format) return format;
    const custom = workspace.formats.get(name);
    // The file is known here, not the position of chat_template in it.
    format = custom ? createCustomFormat(name, custom.definition, { at: { file: custom.sourcePath, line: 1, col: 1 } }) : getBuiltinFormat(name);
    if (!format) throw new AppError('UNKNOWN_FORMAT', `unknown model_format "${name}"`);
    cache.set(name, format);
    return format;
  };
}

/** The payload's own stop sequences from `params.stop` (a string or a list). */
export function payloadStops(payload: Payload): string[] {
  const stop = payload.params['stop'];
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}

/** Builds the messages, the wrapped text and the stop list for one step. */
export function buildPrompt(payload: Payload, rendered: RenderedPayload, format: ModelFormat, options: BuildPromptOptions = {}): BuiltPrompt {
  const messages: ChatMessage[] = [];
  if (rendered.system !== '') messages.push({ role: 'system', content: rendered.system });
  messages.push({ role: 'user', content: rendered.prompt });
  // The date is resolved once, so the text and the recorded date agree even across midnight.
  const dateString = templateDateString(format, options);
  const text = renderMessages(format, messages, { includeBos: false, ...(options.date ? { date: options.date } : {}), ...(dateString === undefined ? {} : { dateString }) });
  const stop = [...new Set([...stopSequences(format), ...payloadStops(payload)])];
  return { messages, text, stop, format: payload.modelFormat, ...(dateString === undefined ? {} : { dateString }) };
}
