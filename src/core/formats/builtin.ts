/**
 * The built-in model formats, written as data.
 *
 * Each entry reproduces one official chat template (the table in
 * shared/chat-templates/README.md; the test runs every rendered vector against it) or,
 * for Alpaca and Vicuna which have none, the reference strings of protocols.md 6.2/6.3.
 * The comment above each entry names the template and its quirks that the data encodes.
 */
import type { TurnFormat } from './render.js';

type TurnFormatData = Omit<TurnFormat, 'kind' | 'name' | 'trim'> & { trim?: TurnFormat['trim'] };

const NO_TRIM = { system: false, messages: false } as const;

function turnFormat(name: string, data: TurnFormatData): TurnFormat {
  return { kind: 'turns', name, trim: NO_TRIM, ...data };
}

/** Affixes shared by plain ChatML and Qwen. */
const CHATML = {
  system: { placement: 'own-turn', prefix: '<|im_start|>system\n', suffix: '<|im_end|>\n' },
  user: { prefix: '<|im_start|>user\n', suffix: '<|im_end|>\n' },
  assistant: { prefix: '<|im_start|>assistant\n', suffix: '<|im_end|>\n' },
  generationPrompt: '<|im_start|>assistant\n',
} as const;

/** Affixes shared by Llama 3 and 3.1; both templates `| trim` every message. */
const LLAMA3 = {
  bos: '<|begin_of_text|>',
  user: { prefix: '<|start_header_id|>user<|end_header_id|>\n\n', suffix: '<|eot_id|>' },
  assistant: { prefix: '<|start_header_id|>assistant<|end_header_id|>\n\n', suffix: '<|eot_id|>' },
  generationPrompt: '<|start_header_id|>assistant<|end_header_id|>\n\n',
  trim: { system: true, messages: true },
} as const;
const LLAMA3_SYSTEM = { placement: 'own-turn', prefix: '<|start_header_id|>system<|end_header_id|>\n\n', suffix: '<|eot_id|>' } as const;

/** Mistral templates never trim and end the prompt at `[/INST]`, so no generation prompt. */
const MISTRAL_STOP = ['</s>', '[INST]'] as const;

const FORMATS: TurnFormat[] = [
  // No wrapping: "system\n\nprompt". Later turns are separated by blank lines too.
  turnFormat('default', {
    bos: '',
    system: { placement: 'own-turn', prefix: '', suffix: '\n\n' },
    user: { prefix: '', suffix: '' },
    assistant: { prefix: '\n\n', suffix: '\n\n' },
    generationPrompt: '',
    stop: [],
  }),

  // Stanford Alpaca train.py: the preamble paragraph is the system text. The server adds BOS.
  turnFormat('alpaca', {
    bos: '',
    system: {
      placement: 'own-turn',
      prefix: '',
      suffix: '\n\n',
      defaultText: 'Below is an instruction that describes a task. Write a response that appropriately completes the request.',
    },
    user: { prefix: '### Instruction:\n', suffix: '\n\n' },
    assistant: { prefix: '### Response:\n', suffix: '\n\n' },
    generationPrompt: '### Response:\n',
    stop: ['### Instruction:', '\n### '],
  }),

  // FastChat vicuna_v1.1 (ADD_COLON_TWO, sep " ", sep2 "</s>"): "{system} USER: u ASSISTANT: a</s>USER: ...".
  turnFormat('vicuna', {
    bos: '',
    system: {
      placement: 'own-turn',
      prefix: '',
      suffix: ' ',
      defaultText:
        "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
    },
    user: { prefix: 'USER: ', suffix: ' ' },
    assistant: { prefix: 'ASSISTANT: ', suffix: '</s>' },
    generationPrompt: 'ASSISTANT:',
    stop: ['USER:', '</s>'],
  }),

  // llama2.jinja: `<<SYS>>` inside the first [INST]; the combined body is .strip()ped;
  // every user turn starts with BOS; a reply is ' ' + text + ' </s>'.
  turnFormat('llama2', {
    bos: '<s>',
    bosBeforeEachUserTurn: true,
    system: { placement: 'first-user', prefix: '<<SYS>>\n', suffix: '\n<</SYS>>\n\n' },
    user: { prefix: '[INST] ', suffix: ' [/INST]' },
    assistant: { prefix: ' ', suffix: ' </s>' },
    generationPrompt: '',
    trim: { system: false, messages: true, afterFold: true },
    stop: ['</s>', '[INST]'],
  }),

  // llama3.llama-3.0.jinja: a system turn only when there is a system message.
  turnFormat('llama3', {
    ...LLAMA3,
    system: LLAMA3_SYSTEM,
    stop: ['<|eot_id|>', '<|start_header_id|>', '<|end_of_text|>'],
  }),

  // llama3.jinja (3.1): the system turn is always written and starts with the date header;
  // the header is not trimmed, the system text is.
  turnFormat('llama3.1', {
    ...LLAMA3,
    system: { ...LLAMA3_SYSTEM, always: true, preamble: 'Cutting Knowledge Date: December 2023\nToday Date: {date}\n\n' },
    stop: ['<|eot_id|>', '<|start_header_id|>', '<|eom_id|>', '<|end_of_text|>'],
  }),

  // mistral.jinja (v0.2, tokenizer v1): " [INST] " with spaces; system joined to the FIRST user message.
  turnFormat('mistral', {
    bos: '<s>',
    system: { placement: 'first-user', prefix: '', suffix: '\n\n' },
    user: { prefix: ' [INST] ', suffix: ' [/INST]' },
    assistant: { prefix: ' ', suffix: '</s>' },
    generationPrompt: '',
    stop: MISTRAL_STOP,
  }),

  // mistral.v3-mixtral-8x22b.jinja: "[INST] x[/INST]"; system joined to the LAST user message.
  turnFormat('mistral-v3', {
    bos: '<s>',
    system: { placement: 'last-user', prefix: '', suffix: '\n\n' },
    user: { prefix: '[INST] ', suffix: '[/INST]' },
    assistant: { prefix: ' ', suffix: '</s>' },
    generationPrompt: '',
    stop: MISTRAL_STOP,
  }),

  // mistral.nemo-tekken.jinja: as v3 without any spaces (tekken tokenizers are whitespace-sensitive).
  turnFormat('mistral-tekken', {
    bos: '<s>',
    system: { placement: 'last-user', prefix: '', suffix: '\n\n' },
    user: { prefix: '[INST]', suffix: '[/INST]' },
    assistant: { prefix: '', suffix: '</s>' },
    generationPrompt: '',
    stop: MISTRAL_STOP,
  }),

  // mistral.v7-small-24b-2501.jinja: a [SYSTEM_PROMPT] turn of its own, no spaces, no default system.
  turnFormat('mistral-v7', {
    bos: '<s>',
    system: { placement: 'own-turn', prefix: '[SYSTEM_PROMPT]', suffix: '[/SYSTEM_PROMPT]' },
    user: { prefix: '[INST]', suffix: '[/INST]' },
    assistant: { prefix: '', suffix: '</s>' },
    generationPrompt: '',
    stop: MISTRAL_STOP,
  }),

  // chatml.openhermes-2.5.jinja: plain ChatML; the template writes no BOS.
  turnFormat('chatml', {
    ...CHATML,
    bos: '',
    stop: ['<|im_end|>', '<|im_start|>'],
  }),

  // chatml.jinja (Qwen2.5): ChatML with Qwen's identity line when no system message is given.
  turnFormat('qwen', {
    ...CHATML,
    bos: '',
    system: { ...CHATML.system, defaultText: 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' },
    stop: ['<|im_end|>', '<|im_start|>', '<|endoftext|>'],
  }),

  // gemma.gemma-3.jinja: no system role, so system + "\n\n" opens the first user turn;
  // the user text is trimmed, the system text is not; the assistant is called "model".
  turnFormat('gemma', {
    bos: '<bos>',
    system: { placement: 'first-user', prefix: '', suffix: '\n\n' },
    user: { prefix: '<start_of_turn>user\n', suffix: '<end_of_turn>\n' },
    assistant: { prefix: '<start_of_turn>model\n', suffix: '<end_of_turn>\n' },
    generationPrompt: '<start_of_turn>model\n',
    trim: { system: false, messages: true },
    stop: ['<end_of_turn>', '<start_of_turn>', '<eos>'],
  }),

  // phi3.jinja (Phi-3-mini-4k): no BOS in the template, no trimming.
  turnFormat('phi3', {
    bos: '',
    system: { placement: 'own-turn', prefix: '<|system|>\n', suffix: '<|end|>\n' },
    user: { prefix: '<|user|>\n', suffix: '<|end|>\n' },
    assistant: { prefix: '<|assistant|>\n', suffix: '<|end|>\n' },
    generationPrompt: '<|assistant|>\n',
    stop: ['<|end|>', '<|endoftext|>', '<|user|>', '<|assistant|>'],
  }),

  // command-r.jinja (c4ai-command-r-plus default): a preamble turn only with a system message
  // (the built-in default preamble is disabled in the template); user and reply are stripped.
  turnFormat('command-r', {
    bos: '<BOS_TOKEN>',
    system: { placement: 'own-turn', prefix: '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>', suffix: '<|END_OF_TURN_TOKEN|>' },
    user: { prefix: '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>', suffix: '<|END_OF_TURN_TOKEN|>' },
    assistant: { prefix: '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>', suffix: '<|END_OF_TURN_TOKEN|>' },
    generationPrompt: '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>',
    trim: { system: false, messages: true },
    stop: ['<|END_OF_TURN_TOKEN|>', '<|START_OF_TURN_TOKEN|>', '<EOS_TOKEN>'],
  }),

  // deepseek.jinja (R1-Distill-Llama-8B): bare system text right after BOS; past replies lose
  // their reasoning up to "</think>"; the prompt pre-fills "<think>\n". The lookalike
  // characters (U+FF5C, U+2581) are part of the tokens.
  turnFormat('deepseek', {
    bos: '<｜begin▁of▁sentence｜>',
    system: { placement: 'own-turn', prefix: '', suffix: '' },
    user: { prefix: '<｜User｜>', suffix: '' },
    assistant: { prefix: '<｜Assistant｜>', suffix: '<｜end▁of▁sentence｜>', keepAfter: '</think>' },
    generationPrompt: '<｜Assistant｜><think>\n',
    stop: ['<｜end▁of▁sentence｜>', '<｜User｜>'],
  }),
];

/** Every built-in format by name. */
export const BUILTIN_FORMATS: Readonly<Record<string, TurnFormat>> = Object.freeze(
  Object.fromEntries(FORMATS.map((format) => [format.name, format])),
);

/** The built-in format with this name, or undefined (the caller reports UNKNOWN_FORMAT with its location). */
export function getBuiltinFormat(name: string): TurnFormat | undefined {
  return Object.hasOwn(BUILTIN_FORMATS, name) ? BUILTIN_FORMATS[name] : undefined;
}
