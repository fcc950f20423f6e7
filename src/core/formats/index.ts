/**
 * Model formats: how quire turns a system text and a prompt (or a short chat) into the
 * text a model sees on a raw-completion endpoint, and which stop sequences go with it.
 */
export type {
  AssistantRule,
  JinjaFormat,
  ModelFormat,
  RenderOptions,
  SystemPlacement,
  SystemRule,
  TrimRule,
  TurnAffixes,
  TurnFormat,
} from './render.js';
export { CHAT_TEMPLATE_LIMITS, ChatTemplateLimitError, DEFAULT_DATE_STRING, formatTemplateDate, renderMessages, stopSequences, templateDateString } from './render.js';
export { BUILTIN_FORMATS, getBuiltinFormat } from './builtin.js';
export { createCustomFormat, FORMAT_SCHEMA, type CustomFormatOptions } from './custom.js';
