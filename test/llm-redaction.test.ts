/**
 * Issue 7: an API key never reaches a message, a hint or a recorded field, whatever form a
 * server echoes it back in: as is, URL-encoded, form-encoded, base64 (any alignment), or split
 * by zero-width characters; and a message cut to length never keeps the start of it. Run over
 * real HTTP against the mock (fault `echoKey=FORM`) and small scripted servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import { createLlmClient, type LlmClientOptions } from '../src/adapters/llm/index.js';
import { createRedactor } from '../src/adapters/llm/redact.js';
import { ECHO_FORMS, echoedKey, parseFaultSpec, startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { API_CASES, requestFor } from './helpers/llm-cases.js';
import { scripted } from './helpers/scripted-server.js';

/** Characters every encoding treats differently: `/`, `+`, `=`, space, `~`, `!`, `*`, `'`. */
const KEY = "sk-test/SECRET+key=1 ~!*'9";

/** Every form a leak could take, for assertions (what must never appear). */
function leakedForms(key: string): string[] {
  const base64Runs = [0, 1, 2].map((align) => Buffer.from('\0'.repeat(align) + key).toString('base64').slice(4, -4));
  return [
    key, encodeURIComponent(key), lowerHex(encodeURIComponent(key)), new URLSearchParams([['k', key]]).toString().slice(2),
    Buffer.from(key).toString('base64').slice(0, -4), ...base64Runs, key.slice(0, 12), 'SECRET',
  ];
}

/** Percent escapes with lower-case hex, as some servers write them. */
function lowerHex(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
}

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm({ api: 'all' });
});
afterAll(async () => {
  await mock.close();
});

function clientFor(api: LlmClientOptions['api'], fault: string, apiKey = KEY) {
  return createLlmClient({ api, url: `${mock.url}/__fault/${fault}`, model: 'mock-model', apiKey, timeoutMs: 2_000, retries: 0 });
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then((value) => ({ resolved: value }), (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function expectNoKey(text: string, key = KEY): void {
  for (const form of leakedForms(key)) expect(text, `leaks ${JSON.stringify(form)}`).not.toContain(form);
  expect(text.replace(/[\p{Cf}]/gu, '')).not.toContain(key);
}

describe('the redactor', () => {
  const redact = createRedactor(KEY);

  it.each([
    ['as is', KEY],
    ['encodeURIComponent', encodeURIComponent(KEY)],
    ['encodeURIComponent, lower-case hex', lowerHex(encodeURIComponent(KEY))],
    ['encodeURI', encodeURI(KEY)],
    ['form encoding', new URLSearchParams([['k', KEY]]).toString().slice(2)],
    ['JSON-escaped with \\/', JSON.stringify(KEY).slice(1, -1).replace(/\//g, '\\/')],
    ['HTML-escaped', KEY.replace(/'/g, '&#39;')],
    ['split by zero-width spaces', [...KEY].join('\u200B')],
    ['split by a soft hyphen, a word joiner and a BOM', [...KEY].reduce((out, ch, i) => out + ['\u00AD', '\u2060', '\uFEFF'][i % 3] + ch)],
    ['URL-encoded and split by zero-width joiners', [...encodeURIComponent(KEY)].join('\u200D')],
    ['base64', Buffer.from(KEY).toString('base64')],
    ['base64 of "Bearer <key>"', Buffer.from(`Bearer ${KEY}`).toString('base64')],
    ['base64 of "u:<key>" (Basic auth)', Buffer.from(`u:${KEY}`).toString('base64')],
    ['base64url with text after it', Buffer.from(`${KEY}&more=1`).toString('base64url')],
  ])('masks the key %s', (_form, echoed) => {
    const out = redact(`before ${echoed} after`);
    expect(out).toBe('before *** after');
  });

  it('leaves text without the key alone, base64 and URLs included', () => {
    const text = `Invalid API key (${Buffer.from('someone else').toString('base64')}) at /v1/completions?x=sk-test%2F`;
    expect(redact(text)).toBe(text);
    expect(createRedactor(undefined)(KEY)).toBe(KEY);
  });
});

describe.each(API_CASES)('redaction: $api', (c) => {
  it.each(ECHO_FORMS)('an error body quoting the key (%s) shows *** in its place, streamed or not', async (form) => {
    for (const onToken of [undefined, () => undefined]) {
      const error = await failure(clientFor(c.api, `echoKey=${form}`).complete(requestFor('x'), onToken ? { onToken } : {}));
      expect(error.code).toBe('LLM_HTTP');
      expect(error.message).toMatch(/-> 401: Invalid API key: \*\*\*/);
      expectNoKey(error.message);
    }
  });
});

describe('redaction where text is cut or quoted', () => {
  it('never leaves the start of a key at the cut of a long error body', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`${'x'.repeat(290)} ${encodeURIComponent(KEY)} and more`);
    });
    try {
      const error = await failure(createLlmClient({ api: 'kobold', url: server.url, apiKey: KEY, timeoutMs: 1_000, retries: 0 }).complete(requestFor('x')));
      expect(error.message).toContain('***');
      expectNoKey(error.message);
      expect(error.message).not.toContain('sk-test');
    } finally {
      await server.close();
    }
  });

  it('masks the key in a redirect URL quoted in the hint, and in invalid JSON quoted in the message', async () => {
    const server = await scripted((req, res) => {
      if (req.url === '/completion') {
        res.writeHead(302, { location: `https://login.example/?next=/completion&token=${encodeURIComponent(KEY)}` });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"results": [{"text": "oops", "echo": "${Buffer.from(`Bearer ${KEY}`).toString('base64')}"`);
    });
    try {
      const redirected = await failure(createLlmClient({ api: 'llamacpp', url: server.url, apiKey: KEY, timeoutMs: 1_000, retries: 0 }).complete(requestFor('x')));
      expect(redirected.hint).toMatch(/^the server redirects to https:\/\/login\.example\/\?next=\/completion&token=\*\*\*; use that URL/);
      expectNoKey(`${redirected.message} ${redirected.hint}`);
      const invalid = await failure(createLlmClient({ api: 'kobold', url: server.url, apiKey: KEY, timeoutMs: 1_000, retries: 0 }).complete(requestFor('x')));
      expect(invalid.code).toBe('LLM_PROTOCOL');
      expect(invalid.message).toContain('"echo": "***');
      expectNoKey(invalid.message);
    } finally {
      await server.close();
    }
  });

  it('masks a key the server puts in the model name of a reply, and keeps the reply text as the model wrote it', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model: `proxy:${encodeURIComponent(KEY)}`, choices: [{ text: `the key is ${KEY}`, finish_reason: 'stop' }] }));
    });
    try {
      const result = await createLlmClient({ api: 'openai', url: server.url, model: 'm', apiKey: KEY, timeoutMs: 1_000, retries: 0 }).complete(requestFor('x'));
      expect(result.model).toBe('proxy:***');
      expect(result.text).toBe(`the key is ${KEY}`);
    } finally {
      await server.close();
    }
  });
});

describe('mock fault echoKey', () => {
  it('quotes the bearer token in the form asked for, and refuses an unknown form', async () => {
    expect(parseFaultSpec('echoKey=zw')).toEqual({ echoKey: 'zw' });
    expect(() => parseFaultSpec('echoKey=hex')).toThrow(/echoKey/);
    expect(echoedKey('Bearer a/b c', 'url')).toBe('a%2Fb%20c');
    expect(echoedKey('Bearer a/b c', 'form')).toBe('a%2Fb+c');
    expect(echoedKey('Bearer ab', 'base64')).toBe(Buffer.from('Bearer ab').toString('base64'));
    expect(echoedKey('Bearer ab', 'zw')).toBe('a\u200Bb');
    const response = await fetch(`${mock.url}/__fault/echoKey=url/v1/completions`, {
      method: 'POST', headers: { authorization: 'Bearer k/1' }, body: JSON.stringify({ prompt: 'x' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: 'Invalid API key: k%2F1', type: 'authentication_error', param: null, code: null } });
  });
});


describe('redaction of huge texts', () => {
  it('stays fast on a 2 MB run of base64-like text without the key', () => {
    const redact = createRedactor(KEY);
    const noise = 'QUJD'.repeat(500_000); // 2 MB of base64 without the key
    const started = Date.now();
    expect(redact(noise)).toBe(noise);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('never shows the start of a key that straddles the 64 KiB a message looks at', async () => {
    for (const at of [65_536 - 10, 65_536 - 1, 65_536]) {
      const server = await scripted((_req, res) => {
        res.writeHead(500, { 'content-type': 'text/html' });
        // The key starts at character `at`, after one long tag: the message shows it once tags are stripped.
        res.end(`<div title="${'x'.repeat(at - 14)}">${KEY}</div>`);
      });
      try {
        const error = await failure(createLlmClient({ api: 'kobold', url: server.url, apiKey: KEY, timeoutMs: 1_000, retries: 0 }).complete(requestFor('x')));
        expect(error.message).not.toContain('sk-test');
        if (at < 65_536) expect(error.message).toMatch(/-> 500: \*\*\*( <\/d.*)?$/);
      } finally {
        await server.close();
      }
    }
  });
});
