import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import type { ChatMessage } from '../src/core/llm.js';
import {
  BUILTIN_FORMATS,
  CHAT_TEMPLATE_LIMITS,
  ChatTemplateLimitError,
  createCustomFormat,
  DEFAULT_DATE_STRING,
  FORMAT_SCHEMA,
  formatTemplateDate,
  getBuiltinFormat,
  renderMessages,
  stopSequences,
  templateDateString,
  type ModelFormat,
} from '../src/core/formats/index.js';
import { buildPrompt } from '../src/core/prompt.js';
import type { Payload } from '../src/core/types.js';

/** One record of shared/chat-templates/vectors.json (copied to test/fixtures). */
interface Vector {
  template_file: string;
  conversation_id: string;
  messages: ChatMessage[];
  bos_token: string | null;
  eos_token: string | null;
  extra_vars: { date_string?: string };
  rendered?: string;
  error?: string;
  starts_with_bos: boolean;
  stop_strings: string[];
}

const FIXTURES = new URL('./fixtures/chat-templates/', import.meta.url);
const VECTORS = JSON.parse(readFileSync(new URL('vectors.json', FIXTURES), 'utf8')) as Vector[];
const templateSource = (file: string): string => readFileSync(new URL(file, FIXTURES), 'utf8');

/** chat-templates/README.md: which official template defines which built-in. */
const BUILTIN_BY_TEMPLATE: Record<string, string> = {
  'llama2.jinja': 'llama2',
  'llama3.llama-3.0.jinja': 'llama3',
  'llama3.jinja': 'llama3.1',
  'mistral.jinja': 'mistral',
  'mistral.v3-mixtral-8x22b.jinja': 'mistral-v3',
  'mistral.nemo-tekken.jinja': 'mistral-tekken',
  'mistral.v7-small-24b-2501.jinja': 'mistral-v7',
  'chatml.openhermes-2.5.jinja': 'chatml',
  'chatml.jinja': 'qwen',
  'gemma.gemma-3.jinja': 'gemma',
  'phi3.jinja': 'phi3',
  'command-r.jinja': 'command-r',
  'deepseek.jinja': 'deepseek',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** The vectors' Llama 3.1 date ("26 Jul 2024") as a local Date; other records get the same fixed day. */
function vectorDate(vector: Vector): Date {
  const [day, month, year] = (vector.extra_vars.date_string ?? '26 Jul 2024').split(' ');
  return new Date(Number(year), MONTHS.indexOf(month ?? ''), Number(day));
}

function withoutLeadingBos(vector: Vector, rendered: string): string {
  return vector.starts_with_bos && vector.bos_token ? rendered.slice(vector.bos_token.length) : rendered;
}

function builtin(name: string): ModelFormat {
  const format = getBuiltinFormat(name);
  if (!format) throw new Error(`no built-in format ${name}`);
  return format;
}

function jinjaFormatFor(vector: Vector): ModelFormat {
  return createCustomFormat(vector.template_file, {
    chat_template: templateSource(vector.template_file),
    ...(vector.bos_token === null ? {} : { bos_token: vector.bos_token }),
    ...(vector.eos_token === null ? {} : { eos_token: vector.eos_token }),
  });
}

/** The error text a vector records, without the engine's "template parse error: SyntaxError: " framing. */
function recordedErrorText(error: string): string {
  return error.replace(/^template parse error: /, '').replace(/^\w*Error: /, '').replace(/:\s*\\n$/, '');
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

function expectFormatError(run: () => unknown, messagePart?: string): AppError {
  const error = catchError(run);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('FORMAT');
  if (messagePart !== undefined) expect((error as AppError).message).toContain(messagePart);
  return error as AppError;
}

const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
const system = (content: string): ChatMessage => ({ role: 'system', content });

describe('vectors.json', () => {
  it('holds 72 records, 52 of them defining a built-in', () => {
    expect(VECTORS).toHaveLength(72);
    expect(VECTORS.filter((v) => BUILTIN_BY_TEMPLATE[v.template_file])).toHaveLength(52);
  });

  it('maps every README template to an existing built-in', () => {
    for (const name of Object.values(BUILTIN_BY_TEMPLATE)) expect(getBuiltinFormat(name)?.name).toBe(name);
  });
});

describe('built-in formats reproduce their official template', () => {
  const cases = VECTORS.filter((v) => BUILTIN_BY_TEMPLATE[v.template_file]).map(
    (v) => [BUILTIN_BY_TEMPLATE[v.template_file]!, v.template_file, v.conversation_id, v] as const,
  );

  it.each(cases)('%s = %s, conversation %s', (name, _file, _conversation, vector) => {
    const format = builtin(name);
    const rendered = vector.rendered;
    expect(vector.error).toBeUndefined();
    if (rendered === undefined) throw new Error('vector has no rendered text');
    const date = vectorDate(vector);

    expect(renderMessages(format, vector.messages, { includeBos: false, date })).toBe(withoutLeadingBos(vector, rendered));
    expect(renderMessages(format, vector.messages, { includeBos: true, date })).toBe(rendered);
    expect(stopSequences(format)).toEqual(vector.stop_strings);
  });
});

describe('every vector through a chat_template workspace format', () => {
  const cases = VECTORS.map((v) => [v.template_file, v.conversation_id, v] as const);

  it.each(cases)('%s, conversation %s', (_file, _conversation, vector) => {
    const date = vectorDate(vector);
    if (vector.error?.startsWith('template parse error')) {
      // Mistral-Small-3.1's backslash-newline string literals do not parse in @huggingface/jinja.
      expectFormatError(() => jinjaFormatFor(vector), recordedErrorText(vector.error));
      return;
    }
    const format = jinjaFormatFor(vector);
    if (vector.error !== undefined) {
      // Gemma 2 raises "System role not supported" for a system message.
      expectFormatError(() => renderMessages(format, vector.messages, { includeBos: true, date }), recordedErrorText(vector.error));
      return;
    }
    const rendered = vector.rendered!;
    expect(renderMessages(format, vector.messages, { includeBos: true, date })).toBe(rendered);
    // DeepSeek V2.5 B/C start with leaked spaces before BOS: only a BOS at the very start is removed.
    expect(renderMessages(format, vector.messages, { includeBos: false, date })).toBe(withoutLeadingBos(vector, rendered));
    expect(stopSequences(format)).toEqual(vector.eos_token ? [vector.eos_token] : []);
  });
});

describe('built-in formats beyond the vectors', () => {
  // Whitespace around every message, including the system text and a past reply, plus a
  // reasoning block: compared against the official template rendered by the Jinja engine.
  const conversation = [
    system('  Be brief.\n'),
    user('\n Hi '),
    assistant(' <think>greet back</think>\nHello!\n'),
    user(' Name three colors.  '),
  ];
  const templates = Object.entries(BUILTIN_BY_TEMPLATE);

  it.each(templates)('%s equals its template (as %s) on a whitespace-heavy chat', (file, name) => {
    const vector = VECTORS.find((v) => v.template_file === file)!;
    const official = renderMessages(jinjaFormatFor(vector), conversation, { includeBos: true, date: vectorDate(vector) });
    expect(renderMessages(builtin(name), conversation, { includeBos: true, date: vectorDate(vector) })).toBe(official);
  });

  it('Llama 3.1 prints 26 Jul 2024 like the official template without date_string, whatever the day', () => {
    const format = builtin('llama3.1');
    const header = (date: string) => `Cutting Knowledge Date: December 2023\nToday Date: ${date}\n\n<|eot_id|>`;
    expect(DEFAULT_DATE_STRING).toBe('26 Jul 2024');
    expect(renderMessages(format, [user('x')], { includeBos: false })).toContain(header('26 Jul 2024'));
    // The clock alone changes nothing: the prompt is the same every day.
    expect(renderMessages(format, [user('x')], { includeBos: false, date: new Date(2025, 0, 5) })).toContain(header('26 Jul 2024'));
    expect(renderMessages(format, [user('x')], { includeBos: false, date: new Date(2025, 0, 5), dateString: 'today' })).toContain(header('05 Jan 2025'));
    expect(renderMessages(format, [user('x')], { includeBos: false, dateString: '01 Feb 2030' })).toContain(header('01 Feb 2030'));
    expect(formatTemplateDate(new Date(2024, 6, 26))).toBe('26 Jul 2024');
    expect(templateDateString(format)).toBe('26 Jul 2024');
    expect(templateDateString(builtin('llama3'))).toBeUndefined();
  });

  it('refuses a system message that is not the first message', () => {
    expectFormatError(() => renderMessages(builtin('chatml'), [user('a'), system('b')], { includeBos: false }), 'message 2');
  });

  it('has the documented names', () => {
    expect(Object.keys(BUILTIN_FORMATS).sort()).toEqual(
      ['alpaca', 'chatml', 'command-r', 'deepseek', 'default', 'gemma', 'llama2', 'llama3', 'llama3.1', 'mistral',
        'mistral-tekken', 'mistral-v3', 'mistral-v7', 'phi3', 'qwen', 'vicuna'].sort(),
    );
    expect(getBuiltinFormat('nope')).toBeUndefined();
    expect(getBuiltinFormat('toString')).toBeUndefined();
  });
});

describe('default, alpaca and vicuna (protocols.md 6.1-6.3)', () => {
  const ALPACA_PREAMBLE =
    'Below is an instruction that describes a task. Write a response that appropriately completes the request.';
  const VICUNA_SYSTEM =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";
  const render = (name: string, messages: ChatMessage[]) => renderMessages(builtin(name), messages, { includeBos: false });

  it('default: the prompt verbatim, after the system text and a blank line', () => {
    expect(render('default', [user('Summarize.\n')])).toBe('Summarize.\n');
    expect(render('default', [system('Be brief.'), user('Summarize.')])).toBe('Be brief.\n\nSummarize.');
    expect(render('default', [system('S'), user('u1'), assistant('a1'), user('u2')])).toBe('S\n\nu1\n\na1\n\nu2');
    expect(renderMessages(builtin('default'), [user('x')], { includeBos: true })).toBe('x');
    expect(stopSequences(builtin('default'))).toEqual([]);
  });

  it('alpaca single turn uses the preamble as the default system text', () => {
    expect(render('alpaca', [user('Name three colors.')])).toBe(
      `${ALPACA_PREAMBLE}\n\n### Instruction:\nName three colors.\n\n### Response:\n`,
    );
    expect(render('alpaca', [system('Be brief.'), user('u1')])).toBe('Be brief.\n\n### Instruction:\nu1\n\n### Response:\n');
  });

  it('alpaca multi-turn repeats instruction/response pairs', () => {
    expect(render('alpaca', [user('u1'), assistant('a1'), user('u2')])).toBe(
      `${ALPACA_PREAMBLE}\n\n### Instruction:\nu1\n\n### Response:\na1\n\n### Instruction:\nu2\n\n### Response:\n`,
    );
    expect(stopSequences(builtin('alpaca'))).toEqual(['### Instruction:', '\n### ']);
  });

  it('vicuna single and multi-turn follow FastChat vicuna_v1.1', () => {
    expect(render('vicuna', [user('u1')])).toBe(`${VICUNA_SYSTEM} USER: u1 ASSISTANT:`);
    expect(render('vicuna', [system('S'), user('u1'), assistant('a1'), user('u2')])).toBe(
      'S USER: u1 ASSISTANT: a1</s>USER: u2 ASSISTANT:',
    );
    expect(stopSequences(builtin('vicuna'))).toEqual(['USER:', '</s>']);
  });

  it('stopSequences returns a copy the caller may extend', () => {
    const stops = stopSequences(builtin('chatml'));
    stops.push('###');
    expect(stopSequences(builtin('chatml'))).toEqual(['<|im_end|>', '<|im_start|>']);
  });
});

describe('prefix/suffix workspace formats', () => {
  const zephyr = {
    bos_token: '<s>',
    system_prefix: '<|system|>\n',
    system_suffix: '</s>\n',
    user_prefix: '<|user|>\n',
    user_suffix: '</s>\n',
    assistant_prefix: '<|assistant|>\n',
    assistant_suffix: '</s>\n',
    stop: ['</s>', '<|user|>'],
  };

  it('wraps each turn and ends with the assistant prefix', () => {
    const format = createCustomFormat('zephyr', zephyr);
    const messages = [system('S'), user('u1'), assistant('a1'), user('u2')];
    const body = '<|system|>\nS</s>\n<|user|>\nu1</s>\n<|assistant|>\na1</s>\n<|user|>\nu2</s>\n<|assistant|>\n';
    expect(renderMessages(format, messages, { includeBos: false })).toBe(body);
    expect(renderMessages(format, messages, { includeBos: true })).toBe(`<s>${body}`);
    expect(stopSequences(format)).toEqual(['</s>', '<|user|>']);
  });

  it('folds the system text into a user turn, trims, and uses a default system text', () => {
    const format = createCustomFormat('folded', {
      system_placement: 'last-user',
      system_suffix: '\n\n',
      default_system: 'Default.',
      user_prefix: '[U]',
      user_suffix: '[/U]',
      assistant_prefix: '[A]',
      assistant_suffix: '[/A]',
      generation_prompt: '[A]>',
      trim: true,
    });
    expect(renderMessages(format, [user(' u1 '), assistant(' a1 '), user(' u2 ')], { includeBos: true })).toBe(
      '[U]u1[/U][A]a1[/A][U]Default.\n\nu2[/U][A]>',
    );
    expect(stopSequences(format)).toEqual([]);
  });

  it('accepts an empty definition as "no wrapping"', () => {
    expect(renderMessages(createCustomFormat('bare', {}), [user('x')], { includeBos: true })).toBe('x');
  });

  it('rejects unknown or mixed fields, wrong types and bad placements', () => {
    expectFormatError(() => createCustomFormat('f', { user_prefx: 'x' }), 'user_prefx');
    expectFormatError(() => createCustomFormat('f', { chat_template: '{{ x }}', user_prefix: 'x' }), 'user_prefix');
    expectFormatError(() => createCustomFormat('f', { eos_token: '</s>' }), 'eos_token');
    expectFormatError(() => createCustomFormat('f', { user_prefix: 3 }), 'user_prefix');
    expectFormatError(() => createCustomFormat('f', { system_placement: 'middle' }), 'system_placement');
    expectFormatError(() => createCustomFormat('f', { stop: 'x' }), 'stop');
    expectFormatError(() => createCustomFormat('f', { trim: 'yes' }), 'trim');
    expectFormatError(() => createCustomFormat('f', ['x']));
    expectFormatError(() => createCustomFormat('f', null));
  });
});

describe('chat_template workspace formats', () => {
  it('reports a template that does not parse as a FORMAT error', () => {
    expectFormatError(() => createCustomFormat('broken', { chat_template: '{{ messages[0].content ' }), 'Format "broken"');
    expectFormatError(() => createCustomFormat('broken', { chat_template: '{% for m in messages %}x' }));
    expectFormatError(() => createCustomFormat('empty', { chat_template: '' }), 'empty');
  });

  it('reports a template that raises while rendering as a FORMAT error, keeping the cause', () => {
    const format = createCustomFormat('strict', { chat_template: "{{ raise_exception('no system here') }}" });
    const error = expectFormatError(() => renderMessages(format, [user('x')], { includeBos: false }), 'no system here');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('compiles once and renders many times with the tokens and messages it is given', () => {
    const format = createCustomFormat('simple', {
      chat_template:
        "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
      bos_token: '<s>',
      eos_token: '</s>',
      stop: ['<user>'],
    });
    expect(renderMessages(format, [user('a')], { includeBos: false })).toBe('<user>a</s><assistant>');
    expect(renderMessages(format, [system('s'), user('b')], { includeBos: true })).toBe('<s><system>s</s><user>b</s><assistant>');
    expect(stopSequences(format)).toEqual(['<user>']);
    // Without `stop`, the end-of-sequence token is the stop sequence.
    expect(stopSequences(createCustomFormat('eos', { chat_template: 'x', eos_token: '<|im_end|>' }))).toEqual(['<|im_end|>']);
  });

  it('keeps a BOS that is not at the very start (Llama 2 history)', () => {
    const vector = VECTORS.find((v) => v.template_file === 'llama2.jinja' && v.conversation_id === 'C')!;
    const text = renderMessages(jinjaFormatFor(vector), vector.messages, { includeBos: false });
    expect(text.startsWith('[INST]')).toBe(true);
    expect(text).toContain('</s><s>[INST]');
  });
});

describe('the date Llama 3.1 prints, chosen by a workspace format', () => {
  const header = (date: string) => `<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: ${date}\n\n`;
  const day = new Date(2025, 0, 5);

  it('base: llama3.1 with a fixed date_string, or today', () => {
    const fixed = createCustomFormat('l-fixed', { base: 'llama3.1', date_string: '01 Feb 2030' });
    expect(fixed.name).toBe('l-fixed');
    expect(renderMessages(fixed, [user('x')], { includeBos: false, date: day }).startsWith(header('01 Feb 2030'))).toBe(true);
    const today = createCustomFormat('l-today', { base: 'llama3.1', date_string: 'today' });
    expect(renderMessages(today, [user('x')], { includeBos: false, date: day }).startsWith(header('05 Jan 2025'))).toBe(true);
    expect(templateDateString(today, { date: day })).toBe('05 Jan 2025');
    // Everything else is the built-in's: the same text as llama3.1 on the same date.
    const same = createCustomFormat('l', { base: 'llama3.1' });
    expect(renderMessages(same, [system('s'), user('u')], { includeBos: true })).toBe(renderMessages(builtin('llama3.1'), [system('s'), user('u')], { includeBos: true }));
    expect(stopSequences(same)).toEqual(stopSequences(builtin('llama3.1')));
  });

  it('refuses an unknown base, a date for a format that prints none, and a date that is not one line', () => {
    expectFormatError(() => createCustomFormat('b', { base: 'lama3.1' }), 'did you mean "llama3.1"?');
    expectFormatError(() => createCustomFormat('b', { base: 'chatml', date_string: 'today' }), 'date_string applies only to a format that prints a date');
    expectFormatError(() => createCustomFormat('b', { base: 'llama3.1', date_string: 'a\nb' }), 'date_string must be one line');
    expectFormatError(() => createCustomFormat('b', { base: 'llama3.1', user_prefix: 'x' }), 'user_prefix');
  });

  it('a chat_template decides its own date unless the caller chooses one', () => {
    const vector = VECTORS.find((v) => v.template_file === 'llama3.jinja')!;
    const official = createCustomFormat('j', { chat_template: templateSource('llama3.jinja'), bos_token: vector.bos_token });
    // No date_string passed: the template's own default ("26 Jul 2024" here), whatever the clock.
    expect(renderMessages(official, [user('x')], { includeBos: false, date: day }).startsWith(header('26 Jul 2024'))).toBe(true);
    expect(templateDateString(official, { date: day })).toBeUndefined();
    // A caller's choice is passed as date_string to a template that reads it.
    expect(renderMessages(official, [user('x')], { includeBos: false, date: day, dateString: 'today' }).startsWith(header('05 Jan 2025'))).toBe(true);
    expect(templateDateString(official, { date: day, dateString: 'today' })).toBe('05 Jan 2025');
    // A template that never reads date_string reports no date; one may print today itself.
    expect(templateDateString(createCustomFormat('c', { chat_template: '{{ messages[0].content }}' }), { dateString: 'today' })).toBeUndefined();
    const clock = createCustomFormat('t', { chat_template: "{{ strftime_now('%d %b %Y') }}" });
    expect(renderMessages(clock, [user('x')], { includeBos: false, date: day })).toBe('05 Jan 2025');
    expectFormatError(() => createCustomFormat('j', { chat_template: 'x', date_string: 'today' }), 'date_string');
  });

  it('the built prompt carries the date it printed, for the run to record', () => {
    const payload = { params: {}, modelFormat: 'llama3.1' } as unknown as Payload;
    const rendered = { system: '', prompt: 'x' };
    expect(buildPrompt(payload, rendered, builtin('llama3.1')).dateString).toBe('26 Jul 2024');
    const today = createCustomFormat('l-today', { base: 'llama3.1', date_string: 'today' });
    const built = buildPrompt(payload, rendered, today, { date: day });
    expect(built.dateString).toBe('05 Jan 2025');
    expect(built.text.startsWith(header('05 Jan 2025'))).toBe(true);
    expect(buildPrompt(payload, rendered, builtin('llama3.1'), { date: day, dateString: 'today' }).dateString).toBe('05 Jan 2025');
    expect('dateString' in buildPrompt(payload, rendered, builtin('chatml'))).toBe(false);
  });
});

describe('chat_template rendering is bounded', () => {
  const at = { file: 'formats/x.yaml', line: 1, col: 1 };
  /** Compiles without the load-time check (it would refuse the template): the render itself must stop. */
  const longOnly = (body: string) =>
    createCustomFormat('x', { chat_template: `{% if messages[-1].content|length > 10 %}${body}{% endif %}ok` }, { at });
  const long = [user('a message longer than ten characters')];

  it('stops a huge range() before building it, a million loop iterations, and a 16 MiB text, as located FORMAT errors', () => {
    for (const [body, message] of [
      ['{% for i in range(300000000) %}x{% endfor %}', `range() for 300000000 items, more than the ${CHAT_TEMPLATE_LIMITS.items} allowed`],
      ['{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}', `ran more than ${CHAT_TEMPLATE_LIMITS.steps} steps`],
      ["{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}", 'built a text of more than 16777216 characters'],
      ["{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}", `built a list of more than ${CHAT_TEMPLATE_LIMITS.items} items`],
    ] as const) {
      const format = longOnly(body);
      expect(renderMessages(format, [user('short')], { includeBos: false })).toBe('ok');
      const error = expectFormatError(() => renderMessages(format, long, { includeBos: false }), message);
      expect(error.message).toMatch(/^Format "x": chat_template /);
      expect(error.cause).toBeInstanceOf(ChatTemplateLimitError);
      expect(error.location).toEqual(at);
    }
  });

  it('refuses at load a template that goes past a limit on a short chat', () => {
    expectFormatError(() => createCustomFormat('x', { chat_template: '{% for i in range(300000000) %}x{% endfor %}' }), 'Format "x": chat_template called range()');
    // A template that raises for a system message is tried without one, and loads.
    expect(() => createCustomFormat('g', { chat_template: "{% if messages[0].role == 'system' %}{{ raise_exception('no system') }}{% endif %}ok" })).not.toThrow();
  });

  it('has @huggingface/jinja\'s globals; strftime_now reads the render date, in English', async () => {
    const { Template } = await import('@huggingface/jinja');
    const source = '{{ true }} {{ false }} {{ none }} {{ True }} {{ False }} {{ None }} {{ range(3) }} {{ range(1, 7, 2)|join(",") }} {{ range(3, 0, -1)|list }} {{ strftime_now is defined }} {{ raise_exception is defined }}';
    const format = createCustomFormat('globals', { chat_template: source });
    expect(renderMessages(format, [user('x')], { includeBos: false })).toBe(new Template(source).render({ messages: [], add_generation_prompt: true }));
    const dated = createCustomFormat('dated', { chat_template: "{{ strftime_now('%d %b %Y / %B %m %H:%M %%') }}" });
    expect(renderMessages(dated, [user('x')], { includeBos: false, date: new Date(2025, 0, 5, 7, 8) })).toBe('05 Jan 2025 / January 01 07:08 %');
    expectFormatError(() => renderMessages(createCustomFormat('r', { chat_template: "{{ raise_exception('nope') }}" }), [user('x')], { includeBos: false }), 'nope');
  });
});

describe('FORMAT_SCHEMA', () => {
  // ajv is CommonJS; under NodeNext its default export is the module object.
  const ajv = new AjvModule.default({ allErrors: true, strict: true, allowUnionTypes: true });
  const validate = ajv.compile(FORMAT_SCHEMA);

  it('is what schemas/format.schema.json holds', () => {
    const file = readFileSync(new URL('../schemas/format.schema.json', import.meta.url), 'utf8');
    expect(JSON.parse(file)).toEqual(JSON.parse(JSON.stringify(FORMAT_SCHEMA)));
  });

  it('accepts both shapes and rejects the mixtures createCustomFormat rejects', () => {
    expect(validate({ user_prefix: '[INST]', stop: ['</s>'], trim: true, system_placement: 'first-user' })).toBe(true);
    expect(validate({ chat_template: '{{ x }}', bos_token: '<s>', eos_token: '</s>', stop: ['</s>'] })).toBe(true);
    expect(validate({ chat_template: '{{ x }}', user_prefix: 'x' })).toBe(false);
    expect(validate({ eos_token: '</s>' })).toBe(false);
    expect(validate({ user_prefx: 'x' })).toBe(false);
    expect(validate({ system_placement: 'middle' })).toBe(false);
    expect(validate({ stop: [''] })).toBe(false);
    expect(validate({ chat_template: ' \n' })).toBe(false);
    expect(validate({ base: 'llama3.1', date_string: 'today', description: 'd' })).toBe(true);
    expect(validate({ chat_template: '{{ x }}', date_string: '26 Jul 2024' })).toBe(false);
    expect(validate({ base: 'lama3.1' })).toBe(false);
    expect(validate({ base: 'llama3.1', user_prefix: 'x' })).toBe(false);
    expect(validate({ base: 'llama3.1', chat_template: 'x' })).toBe(false);
    expect(validate({ user_prefix: 'x', date_string: 'today' })).toBe(false);
    expect(validate({ base: 'llama3.1', date_string: '' })).toBe(false);
  });
});
