/**
 * Model formats and how they turn chat messages into the text a model sees.
 *
 * Two kinds of format exist:
 * - a `TurnFormat` is plain data (prefixes, suffixes, where the system text goes, trimming
 *   rules); the built-ins and the prefix/suffix workspace formats are of this kind;
 * - a `JinjaFormat` carries a model's own chat template, compiled once, for workspace
 *   formats that paste one in.
 *
 * Rendering always ends with the format's generation prompt (the open assistant header),
 * because quire sends the text to raw-completion endpoints and wants the model's reply next.
 */
import type { Template } from '@huggingface/jinja';
import { AppError, type SourceLocation } from '../errors.js';
import type { ChatMessage } from '../llm.js';
import { loadJinja } from '../parsers.js';

/** Where a turn format puts the system text. */
export type SystemPlacement =
  /** A turn of its own before the conversation (ChatML, Llama 3, Alpaca's preamble...). */
  | 'own-turn'
  /** Folded into the body of the first user turn (Llama 2 `<<SYS>>`, Mistral v1, Gemma). */
  | 'first-user'
  /** Folded into the body of the last user turn (Mistral v3 and Tekken templates). */
  | 'last-user';

/** Text written before and after a turn's body. */
export interface TurnAffixes {
  prefix: string;
  suffix: string;
}

/**
 * The system text's affixes and placement. For folded placements the affixes wrap the
 * system text inside the user turn's body, e.g. Llama 2's `<<SYS>>\n` ... `\n<</SYS>>\n\n`.
 */
export interface SystemRule extends TurnAffixes {
  placement: SystemPlacement;
  /** Used when the conversation has no system message (Qwen's identity line, Alpaca's preamble). */
  defaultText?: string;
  /** Write the system turn even with no system text: Llama 3.1 always writes its date header. */
  always?: boolean;
  /** Written at the start of the system turn, before the system text; `{date}` becomes the date string (templateDateString). */
  preamble?: string;
}

export interface AssistantRule extends TurnAffixes {
  /**
   * Keep only the text after the last occurrence of this marker in a past reply:
   * DeepSeek-R1's template drops the reasoning (`...</think>`) from the history.
   */
  keepAfter?: string;
}

/** Whitespace trimming the official template applies (trimming is JS `String.trim`, as in `@huggingface/jinja`). */
export interface TrimRule {
  /** Trim the system text itself. */
  system: boolean;
  /** Trim user and assistant text. */
  messages: boolean;
  /**
   * Trim a user turn's body after the system text is folded into it, not the user text alone:
   * Llama 2's template `.strip()`s the combined `<<SYS>>...` + user string, so the user text's
   * leading whitespace survives when a system text precedes it.
   */
  afterFold?: boolean;
}

/** A format described as data: the built-ins and prefix/suffix workspace formats. */
export interface TurnFormat {
  kind: 'turns';
  name: string;
  /** The BOS string the official template starts with ('' if it writes none). Left out for raw endpoints. */
  bos: string;
  /** Llama 2 writes BOS before every user turn; only the first one is the server's BOS, later ones stay. */
  bosBeforeEachUserTurn?: boolean;
  system: SystemRule;
  user: TurnAffixes;
  assistant: AssistantRule;
  /** Ends every prompt: the open assistant header ('' for formats whose user turn already ends with it). */
  generationPrompt: string;
  trim: TrimRule;
  /** End-of-turn string and next-turn header(s), sent as stop sequences. */
  stop: readonly string[];
  /**
   * The date a `{date}` preamble prints: a fixed string, or `today` (the render date).
   * Default DEFAULT_DATE_STRING, as the official Llama 3.1 template without `date_string`.
   */
  dateString?: string;
}

/** A workspace format holding a model's own Jinja chat template, compiled once. */
export interface JinjaFormat {
  kind: 'jinja';
  name: string;
  template: Template;
  /** Passed to the template as `bos_token`; a leading copy is left out for raw endpoints. */
  bosToken?: string;
  /** Passed to the template as `eos_token`. */
  eosToken?: string;
  stop: readonly string[];
  /** Where the template is written (its format file), for errors raised while rendering. */
  at?: SourceLocation;
  /**
   * Whether the template reads `date_string`. It is passed only when a caller chooses a date
   * (RenderOptions.dateString); otherwise the template decides, as with the Hugging Face tokenizer.
   */
  readsDateString?: boolean;
}

export type ModelFormat = TurnFormat | JinjaFormat;

export interface RenderOptions {
  /**
   * Whether the leading BOS string is written. Raw-completion endpoints add their own BOS
   * token, and a second one (parsed from the text) degrades output, so quire passes false there.
   */
  includeBos: boolean;
  /**
   * Now: what a `today` date string prints and what a Jinja template's `strftime_now` reads.
   * Default: the clock.
   */
  date?: Date;
  /**
   * The date a format that prints one (Llama 3.1's "Today Date") prints, over the format's own
   * choice: a fixed string such as `26 Jul 2024`, or `today`.
   */
  dateString?: string;
}

/** What Llama 3.1's official template prints when no `date_string` is passed, as the Hugging Face tokenizer does. */
export const DEFAULT_DATE_STRING = '26 Jul 2024';

/**
 * The date string a format prints with these options: the options' choice, else the
 * format's, else (a format with a `{date}` preamble: llama3.1) DEFAULT_DATE_STRING; `today`
 * becomes the render date. Undefined when the format prints no date, and for a Jinja template
 * given no date by the options (the template decides: its own default, or strftime_now).
 */
export function templateDateString(format: ModelFormat, options: Pick<RenderOptions, 'date' | 'dateString'> = {}): string | undefined {
  const printsDate = format.kind === 'turns' ? format.system.preamble?.includes('{date}') === true : format.readsDateString === true;
  if (!printsDate) return undefined;
  const choice = options.dateString ?? (format.kind === 'turns' ? (format.dateString ?? DEFAULT_DATE_STRING) : undefined);
  if (choice === undefined) return undefined;
  return choice === 'today' ? formatTemplateDate(options.date ?? new Date()) : choice;
}

/**
 * Renders messages in the format, ending with the generation prompt.
 * Everything after the leading BOS equals the official template's output byte for byte.
 *
 * @returns the prompt text.
 * @throws AppError `FORMAT` when a turn format gets a system message that is not the first
 *   message, or when a Jinja template raises (for example "System role not supported").
 */
export function renderMessages(format: ModelFormat, messages: readonly ChatMessage[], options: RenderOptions): string {
  return format.kind === 'turns' ? renderTurns(format, messages, options) : renderJinja(format, messages, options);
}

/** The format's stop sequences, as a fresh array the caller may extend with its own. */
export function stopSequences(format: ModelFormat): string[] {
  return [...format.stop];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Formats a date the way Llama 3.1's template prints it: `26 Jul 2024` (strftime `%d %b %Y`). */
export function formatTemplateDate(date: Date): string {
  // Local time and English month names whatever the machine's locale, as strftime in the C locale.
  return `${String(date.getDate()).padStart(2, '0')} ${MONTHS[date.getMonth()]} ${date.getFullYear()}`;
}

// --- Internal helpers ---

function renderTurns(format: TurnFormat, messages: readonly ChatMessage[], options: RenderOptions): string {
  const { systemMessage, conversation } = splitLeadingSystem(format.name, messages);
  const rawSystem = systemMessage ?? format.system.defaultText;
  const systemText = rawSystem !== undefined && format.trim.system ? rawSystem.trim() : rawSystem;
  const { system, user, assistant, trim } = format;

  let text = options.includeBos ? format.bos : '';

  if (system.placement === 'own-turn' && (systemText !== undefined || system.always)) {
    text += system.prefix + preambleText(format, options) + (systemText ?? '') + system.suffix;
  }

  const foldIndex = systemText === undefined ? -1 : foldTargetIndex(system.placement, conversation);
  conversation.forEach((message, index) => {
    if (message.role === 'user') {
      const folded = index === foldIndex ? system.prefix + systemText + system.suffix : '';
      if (format.bosBeforeEachUserTurn && index > 0) text += format.bos;
      text += user.prefix + userBody(folded, message.content, trim) + user.suffix;
    } else {
      text += assistant.prefix + assistantBody(message.content, assistant, trim) + assistant.suffix;
    }
  });

  return text + format.generationPrompt;
}

/**
 * Takes a leading system message off the conversation. Turn formats place exactly one
 * system text, so a system message anywhere else is refused rather than silently moved.
 */
function splitLeadingSystem(
  formatName: string,
  messages: readonly ChatMessage[],
): { systemMessage: string | undefined; conversation: readonly ChatMessage[] } {
  const misplaced = messages.findIndex((message, index) => index > 0 && message.role === 'system');
  if (misplaced !== -1) {
    throw new AppError(
      'FORMAT',
      `Format "${formatName}" takes a system message only as the first message; message ${misplaced + 1} is a system message`,
    );
  }
  const first = messages[0];
  return first?.role === 'system'
    ? { systemMessage: first.content, conversation: messages.slice(1) }
    : { systemMessage: undefined, conversation: messages };
}

/** Index of the user message that receives a folded system text, or -1. */
function foldTargetIndex(placement: SystemPlacement, conversation: readonly ChatMessage[]): number {
  if (placement === 'first-user') return conversation.findIndex((message) => message.role === 'user');
  if (placement === 'last-user') {
    for (let index = conversation.length - 1; index >= 0; index--) {
      if (conversation[index]?.role === 'user') return index;
    }
  }
  return -1;
}

function userBody(folded: string, content: string, trim: TrimRule): string {
  if (!trim.messages) return folded + content;
  return trim.afterFold ? (folded + content).trim() : folded + content.trim();
}

function assistantBody(content: string, assistant: AssistantRule, trim: TrimRule): string {
  let body = content;
  if (assistant.keepAfter !== undefined) {
    const at = body.lastIndexOf(assistant.keepAfter);
    if (at !== -1) body = body.slice(at + assistant.keepAfter.length);
  }
  return trim.messages ? body.trim() : body;
}

function preambleText(format: TurnFormat, options: RenderOptions): string {
  const { preamble } = format.system;
  if (preamble === undefined) return '';
  return preamble.replaceAll('{date}', () => templateDateString(format, options) ?? DEFAULT_DATE_STRING);
}

function renderJinja(format: JinjaFormat, messages: readonly ChatMessage[], options: RenderOptions): string {
  let text: string;
  try {
    text = renderJinjaText(format, messages, options);
  } catch (error) {
    const location = format.at === undefined ? {} : { location: format.at };
    if (error instanceof ChatTemplateLimitError) {
      throw new AppError('FORMAT', `Format "${format.name}": chat_template ${error.message}`, {
        cause: error,
        hint: 'quire bounds a chat template\'s work and output so a template cannot stall or crash the process',
        ...location,
      });
    }
    throw new AppError('FORMAT', `Format "${format.name}": the chat template failed: ${errorMessage(error)}`, {
      cause: error,
      hint: 'The template may not support these messages (many refuse a system message or non-alternating roles).',
      ...location,
    });
  }
  // Only a BOS at the very start is the server's; BOS strings later in the text must stay.
  if (!options.includeBos && format.bosToken && text.startsWith(format.bosToken)) {
    text = text.slice(format.bosToken.length);
  }
  return text;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// --- Bounded Jinja rendering ---

/**
 * Bounds of one chat template rendering. @huggingface/jinja has none: `range(300000000)`
 * allocates until V8 aborts the process. A real chat template takes a few hundred steps for
 * a short chat (about 30 a message), so these are far above any template's needs.
 */
export const CHAT_TEMPLATE_LIMITS = {
  /** Expressions, statements and blocks (a loop's body, once per iteration) evaluated: bounds loops and recursion (~0.5 s). */
  steps: 50_000,
  /** Items in one list, `range()` included (checked before it is built). */
  items: 100_000,
  /** Characters in any one text the template builds, its output included (16 MiB). */
  characters: 16 * 1024 * 1024,
} as const;

/** A chat template went past CHAT_TEMPLATE_LIMITS. */
export class ChatTemplateLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatTemplateLimitError';
  }
}

/** The template's variables: messages, add_generation_prompt and the tokens the format defines. */
export function renderJinjaText(format: JinjaFormat, messages: readonly ChatMessage[], options: RenderOptions): string {
  const context: Record<string, unknown> = {
    // Plain copies: the template sees exactly role and content, nothing of the caller's objects.
    messages: messages.map(({ role, content }) => ({ role, content })),
    add_generation_prompt: true,
  };
  // A token the format does not define stays undefined in the template (Qwen's tokenizer has no BOS).
  if (format.bosToken !== undefined) context['bos_token'] = format.bosToken;
  if (format.eosToken !== undefined) context['eos_token'] = format.eosToken;
  const dateString = templateDateString(format, options);
  if (dateString !== undefined) context['date_string'] = dateString;
  return renderBounded(format.template, context, options.date ?? new Date());
}

type JinjaLib = ReturnType<typeof loadJinja>;
type JinjaEnvironment = InstanceType<JinjaLib['Environment']>;
/** What quire uses of the interpreter (the package's runtime types do not resolve under NodeNext). */
interface BoundedInterpreter {
  run(program: Template['parsed']): { value: unknown };
}
let boundedInterpreterClass: (new (env: JinjaEnvironment) => BoundedInterpreter) | undefined;

/** An Interpreter that counts every evaluation and checks the size of every value it produces. */
function boundedInterpreter(env: JinjaEnvironment): BoundedInterpreter {
  const Bounded = (boundedInterpreterClass ??= defineBoundedInterpreter(loadJinja().Interpreter) as unknown as new (env: JinjaEnvironment) => BoundedInterpreter);
  return new Bounded(env);
}

/**
 * Counts every evaluated expression or statement and every block run (one per loop iteration,
 * even of an empty body), and checks the size of every value produced. Relies on
 * @huggingface/jinja dispatching through `this.evaluate` and `this.evaluateBlock`.
 */
function defineBoundedInterpreter(Interpreter: JinjaLib['Interpreter']) {
  return class Bounded extends Interpreter {
    private steps = 0;

    private step(): void {
      if (++this.steps > CHAT_TEMPLATE_LIMITS.steps) {
        throw new ChatTemplateLimitError(`ran more than ${CHAT_TEMPLATE_LIMITS.steps} steps (a loop over a huge range, or one that never ends?)`);
      }
    }

    evaluate(statement: unknown, environment: unknown): { value: unknown } {
      this.step();
      const value = super.evaluate(statement, environment) as { value: unknown };
      checkSize(value.value);
      return value;
    }

    evaluateBlock(statements: unknown, environment: unknown): { value: unknown } {
      this.step();
      const value = super.evaluateBlock(statements, environment) as { value: unknown };
      checkSize(value.value);
      return value;
    }
  };
}

function checkSize(value: unknown): void {
  if (typeof value === 'string' && value.length > CHAT_TEMPLATE_LIMITS.characters) {
    throw new ChatTemplateLimitError(`built a text of more than ${CHAT_TEMPLATE_LIMITS.characters} characters (16 MiB)`);
  }
  if (Array.isArray(value) && value.length > CHAT_TEMPLATE_LIMITS.items) {
    throw new ChatTemplateLimitError(`built a list of more than ${CHAT_TEMPLATE_LIMITS.items} items`);
  }
}

/**
 * What `Template.render` does, with the same globals (@huggingface/jinja 0.5's setupGlobals)
 * except that `range()` refuses a list over the limit before building it, `strftime_now`
 * reads `now` and writes English month names whatever the machine's locale (as Python's
 * strftime in the C locale), and the interpreter is bounded.
 */
function renderBounded(template: Template, context: Record<string, unknown>, now: Date): string {
  const env = new (loadJinja().Environment)();
  env.set('false', false);
  env.set('true', true);
  env.set('none', null);
  env.set('raise_exception', (message: unknown) => {
    throw new Error(String(message));
  });
  env.set('range', boundedRange);
  env.set('strftime_now', (format: unknown) => strftime(now, String(format)));
  env.set('True', true);
  env.set('False', false);
  env.set('None', null);
  for (const [key, value] of Object.entries(context)) env.set(key, value);
  const result = boundedInterpreter(env).run(template.parsed);
  checkSize(result.value);
  return String(result.value);
}

/** Python's range(), as @huggingface/jinja has it, refusing more than the item limit up front. */
function boundedRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new Error('range() step must not be zero');
  const length = Math.ceil((stop - start) / step);
  if (length > CHAT_TEMPLATE_LIMITS.items) {
    throw new ChatTemplateLimitError(`called range() for ${length} items, more than the ${CHAT_TEMPLATE_LIMITS.items} allowed`);
  }
  const result: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) result.push(i);
  else for (let i = start; i > stop; i += step) result.push(i);
  return result;
}

const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The strftime subset @huggingface/jinja supports (%Y %m %d %b %B %H %M %%), in the C locale. */
function strftime(date: Date, format: string): string {
  const pad2 = (n: number) => String(n).padStart(2, '0');
  return format.replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case '%Y':
        return String(date.getFullYear());
      case '%m':
        return pad2(date.getMonth() + 1);
      case '%d':
        return pad2(date.getDate());
      case '%b':
        return MONTHS[date.getMonth()]!;
      case '%B':
        return LONG_MONTHS[date.getMonth()]!;
      case '%H':
        return pad2(date.getHours());
      case '%M':
        return pad2(date.getMinutes());
      default:
        return '%';
    }
  });
}
