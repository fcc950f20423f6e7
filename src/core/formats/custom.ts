/**
 * Workspace formats (`formats/<name>.yaml`), from their parsed YAML value.
 *
 * A file holds one of three shapes (FORMAT_SCHEMA below states the same contract for ajv and editors):
 *
 * Prefix/suffix fields, every one optional, all strings unless noted:
 *   bos_token          written first; left out for raw-completion endpoints (default '')
 *   system_prefix, system_suffix
 *   system_placement   own-turn (default) | first-user | last-user: a turn of its own, or the
 *                      system text (with its affixes) opens the first / last user turn's body
 *   default_system     system text used when the prompt has none
 *   user_prefix, user_suffix, assistant_prefix, assistant_suffix
 *   generation_prompt  ends every prompt (default: assistant_prefix)
 *   trim               boolean: trim whitespace around every message text (default false)
 *   stop               list of stop sequences (default none)
 *
 * Or a model's own Jinja chat template:
 *   chat_template      rendered with @huggingface/jinja, messages + add_generation_prompt: true
 *   bos_token, eos_token   passed to the template; a leading bos_token is left out for raw endpoints
 *   stop               default: [eos_token] when one is given
 *   (the template chooses its own date: `date_string` is not passed unless a caller asks,
 *   and `strftime_now` reads the render date)
 *
 * Or a built-in format with options:
 *   base               the built-in's name (llama3.1, chatml...)
 *   date_string        the date llama3.1 prints: a fixed date (default "26 Jul 2024"), or `today`
 *
 * Every shape accepts `description`. No file I/O here: the caller parses the YAML.
 */
import type { Template } from '@huggingface/jinja';
import { loadJinja } from '../parsers.js';
import { AppError, type SourceLocation } from '../errors.js';
import type { ChatMessage } from '../llm.js';
import { closestName } from '../suggest.js';
import { BUILTIN_FORMATS, getBuiltinFormat } from './builtin.js';
import { ChatTemplateLimitError, renderJinjaText, templateDateString, type JinjaFormat, type ModelFormat, type SystemPlacement, type TurnFormat } from './render.js';

/** Keys of the prefix/suffix shape. */
const PREFIX_FORMAT_KEYS = [
  'description', 'bos_token', 'system_prefix', 'system_suffix', 'system_placement', 'default_system',
  'user_prefix', 'user_suffix', 'assistant_prefix', 'assistant_suffix', 'generation_prompt', 'trim', 'stop',
] as const;

/** Keys of the Jinja shape. */
const JINJA_FORMAT_KEYS = ['description', 'chat_template', 'bos_token', 'eos_token', 'stop'] as const;

/** Keys of the built-in-with-options shape. */
const BASE_FORMAT_KEYS = ['description', 'base', 'date_string'] as const;

const SYSTEM_PLACEMENTS: readonly SystemPlacement[] = ['own-turn', 'first-user', 'last-user'];

const affix = (what: string) => ({ type: 'string', description: `Written ${what}` });

/**
 * JSON Schema (draft-07) of `formats/<name>.yaml`, also written to schemas/format.schema.json.
 * The if/then/else limits the keys to one shape, so mixing chat_template with prefix fields
 * is reported as the offending key.
 */
export const FORMAT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/quire-dev/quire/schemas/format.schema.json',
  title: 'quire model format (formats/<name>.yaml)',
  description: 'Prefix/suffix fields, or chat_template (a Jinja chat template), or base (a built-in format with options)',
  type: 'object',
  properties: {
    description: { type: 'string' },
    bos_token: {
      type: 'string',
      description: 'BOS string written first (prefix shape) or passed to the template; left out for raw-completion endpoints',
    },
    system_prefix: affix('before the system text'),
    system_suffix: affix('after the system text'),
    system_placement: {
      enum: [...SYSTEM_PLACEMENTS],
      default: 'own-turn',
      description: 'own-turn: a turn of its own; first-user / last-user: the wrapped system text opens that user turn',
    },
    default_system: { type: 'string', description: 'System text used when the prompt has none' },
    user_prefix: affix('before each user message'),
    user_suffix: affix('after each user message'),
    assistant_prefix: affix('before each past assistant reply'),
    assistant_suffix: affix('after each past assistant reply'),
    generation_prompt: { type: 'string', description: 'Ends every prompt; default: assistant_prefix' },
    trim: { type: 'boolean', default: false, description: 'Trim whitespace around every message text' },
    stop: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: 'Stop sequences; for chat_template formats the default is [eos_token]',
    },
    chat_template: {
      type: 'string',
      pattern: '\\S',
      description: "A model's Jinja chat template, rendered with @huggingface/jinja (add_generation_prompt: true)",
    },
    eos_token: { type: 'string', description: 'Passed to the chat template as eos_token' },
    base: {
      enum: Object.keys(BUILTIN_FORMATS),
      description: 'A built-in format to use with the options of this file (date_string)',
    },
    date_string: {
      type: 'string',
      minLength: 1,
      description: 'With base: llama3.1, the date it prints as "Today Date": a fixed date (default "26 Jul 2024", as the official template) or "today"',
    },
  },
  additionalProperties: false,
  // ajv's strict mode wants a required key declared in the same subschema.
  if: { type: 'object', properties: { chat_template: true }, required: ['chat_template'] },
  then: { type: 'object', propertyNames: { enum: [...JINJA_FORMAT_KEYS] } },
  else: {
    if: { type: 'object', properties: { base: true }, required: ['base'] },
    then: { type: 'object', propertyNames: { enum: [...BASE_FORMAT_KEYS] } },
    else: { type: 'object', propertyNames: { enum: [...PREFIX_FORMAT_KEYS] } },
  },
};

export interface CustomFormatOptions {
  /** Where the format is written, for errors its chat template raises while rendering. */
  at?: SourceLocation;
}

/**
 * Builds a workspace format from its parsed YAML value. A Jinja template is compiled here,
 * once, and rendered on a short chat, so a broken template, or one that runs past
 * CHAT_TEMPLATE_LIMITS whatever the messages, is reported when the workspace loads, not mid-run.
 *
 * @returns the format, ready for renderMessages.
 * @throws AppError `FORMAT` when the value has the wrong shape, the template does not parse or
 *   goes past the limits on a short chat.
 */
export function createCustomFormat(name: string, definition: unknown, options: CustomFormatOptions = {}): ModelFormat {
  if (!isPlainObject(definition)) {
    throw formatError(name, 'expected a mapping of format fields');
  }
  if ('chat_template' in definition) return createJinjaFormat(name, definition, options);
  if ('base' in definition) return createBaseFormat(name, definition);
  return createPrefixFormat(name, definition);
}

// --- Internal helpers ---

/** Short chats a chat template is tried on when it loads: with a system message, and without. */
const PROBE_CHATS: readonly (readonly ChatMessage[])[] = [
  [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'Hello.' }],
  [{ role: 'user', content: 'Hello.' }],
];

/**
 * Renders the template on the probe chats: going past a limit there is a problem of the file.
 * A template that raises for a chat's shape (no system role, say) is the template's business.
 */
function checkWithinLimits(format: JinjaFormat): void {
  for (const chat of PROBE_CHATS) {
    try {
      renderJinjaText(format, chat, { includeBos: true });
      return;
    } catch (error) {
      if (error instanceof ChatTemplateLimitError) {
        throw formatError(format.name, `chat_template ${error.message}, rendering a two-message chat`, {
          cause: error,
          hint: 'quire bounds a chat template\'s work and output so a template cannot stall or crash the process',
        });
      }
    }
  }
}

function createJinjaFormat(name: string, definition: Record<string, unknown>, options: CustomFormatOptions): JinjaFormat {
  rejectUnknownKeys(name, definition, JINJA_FORMAT_KEYS, 'a chat_template format');
  const source = readString(name, definition, 'chat_template') ?? '';
  if (source.trim() === '') throw formatError(name, 'chat_template is empty');
  const bosToken = readString(name, definition, 'bos_token');
  const eosToken = readString(name, definition, 'eos_token');
  const stop = readStop(name, definition) ?? (eosToken ? [eosToken] : []);

  let template: Template;
  try {
    template = new (loadJinja().Template)(source);
  } catch (error) {
    throw formatError(name, `chat_template does not parse: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      hint: 'quire renders chat templates with @huggingface/jinja, which supports most but not all of Python Jinja',
    });
  }

  const format: JinjaFormat = {
    kind: 'jinja',
    name,
    template,
    ...(bosToken === undefined ? {} : { bosToken }),
    ...(eosToken === undefined ? {} : { eosToken }),
    stop,
    ...(options.at === undefined ? {} : { at: options.at }),
    readsDateString: /\bdate_string\b/.test(source),
  };
  checkWithinLimits(format);
  return format;
}

/** A built-in format with this file's options (today: the date Llama 3.1 prints). */
function createBaseFormat(name: string, definition: Record<string, unknown>): TurnFormat {
  rejectUnknownKeys(name, definition, BASE_FORMAT_KEYS, 'a base format');
  const baseName = readString(name, definition, 'base') ?? '';
  const base = getBuiltinFormat(baseName);
  if (!base) {
    const known = Object.keys(BUILTIN_FORMATS);
    const match = closestName(baseName, known);
    throw formatError(name, `base must name a built-in format, not "${baseName}"${match ? `; did you mean "${match}"?` : ''}`, { hint: `Built-in formats: ${known.join(', ')}` });
  }
  const format: TurnFormat = { ...base, name };
  const dateString = readDateString(name, definition);
  if (dateString !== undefined) {
    if (templateDateString(base) === undefined) {
      throw formatError(name, `date_string applies only to a format that prints a date (llama3.1), not "${baseName}"`);
    }
    format.dateString = dateString;
  }
  return format;
}

function createPrefixFormat(name: string, definition: Record<string, unknown>): TurnFormat {
  rejectUnknownKeys(name, definition, PREFIX_FORMAT_KEYS, 'a prefix/suffix format');
  const text = (key: string): string => readString(name, definition, key) ?? '';

  const placement = definition['system_placement'] ?? 'own-turn';
  if (!SYSTEM_PLACEMENTS.includes(placement as SystemPlacement)) {
    throw formatError(name, `system_placement must be one of ${SYSTEM_PLACEMENTS.join(', ')}`);
  }
  const trim = definition['trim'] ?? false;
  if (typeof trim !== 'boolean') throw formatError(name, 'trim must be true or false');
  const defaultText = readString(name, definition, 'default_system');

  return {
    kind: 'turns',
    name,
    bos: text('bos_token'),
    system: {
      placement: placement as SystemPlacement,
      prefix: text('system_prefix'),
      suffix: text('system_suffix'),
      ...(defaultText === undefined ? {} : { defaultText }),
    },
    user: { prefix: text('user_prefix'), suffix: text('user_suffix') },
    assistant: { prefix: text('assistant_prefix'), suffix: text('assistant_suffix') },
    generationPrompt: readString(name, definition, 'generation_prompt') ?? text('assistant_prefix'),
    trim: { system: trim, messages: trim },
    stop: readStop(name, definition) ?? [],
  };
}

function rejectUnknownKeys(
  name: string,
  definition: Record<string, unknown>,
  allowed: readonly string[],
  shape: string,
): void {
  const unknown = Object.keys(definition).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw formatError(name, `unknown field${unknown.length === 1 ? '' : 's'} for ${shape}: ${unknown.join(', ')}`, {
      hint: `Allowed: ${allowed.join(', ')}. A format has chat_template, or base, or prefix/suffix fields: one shape only.`,
    });
  }
}

function readString(name: string, definition: Record<string, unknown>, key: string): string | undefined {
  const value = definition[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw formatError(name, `${key} must be a string`);
  return value;
}

/** `date_string`: a non-empty one-line text, `today` meaning the render date. */
function readDateString(name: string, definition: Record<string, unknown>): string | undefined {
  const value = readString(name, definition, 'date_string');
  if (value !== undefined && (value.trim() === '' || /[\r\n]/.test(value))) {
    throw formatError(name, 'date_string must be one line of text: a date such as "26 Jul 2024", or "today"');
  }
  return value;
}

function readStop(name: string, definition: Record<string, unknown>): string[] | undefined {
  const value = definition['stop'];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw formatError(name, 'stop must be a list of non-empty strings');
  }
  return [...(value as string[])];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatError(name: string, message: string, options: { hint?: string; cause?: unknown } = {}): AppError {
  return new AppError('FORMAT', `Format "${name}": ${message}`, options);
}
