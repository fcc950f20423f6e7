/**
 * Keeping an API key out of what quire shows and stores. A server or a proxy in front of it
 * may echo the key back in an error body, a redirect URL or a reply field, and rarely as it
 * was sent, so each form below becomes `***`:
 *  - as is, URL-encoded (encodeURIComponent, encodeURI, and form encoding: space as `+`,
 *    `!'()~` escaped; percent escapes in either case), JSON-escaped and HTML-escaped;
 *  - any of those with invisible characters between its characters (zero-width space and
 *    joiners, soft hyphen, word joiner, BOM, bidi marks: Unicode Cf, plus U+034F and the
 *    Hangul fillers), which look like the key on screen and defeat a plain search;
 *  - base64 and base64url at any alignment (so `Basic base64(user:key)` and `base64("Bearer
 *    key")` are caught too): the whole base64 run holding the key is replaced. Only for keys
 *    of 7 bytes or more, whose base64 is distinctive enough not to hit unrelated text.
 * Not covered: other encodings (hex, double URL-encoding, compressed or encrypted bodies), a
 * key the server itself truncated, and the model's own text in a successful reply, which is
 * the answer and is kept as is.
 */

export type Redactor = (text: string) => string;

const MASK = '***';

/** How much of a long text `redactHead` looks at: far more than any message quotes. */
const HEAD_CHARS = 65_536;

/** Characters that render as nothing: allowed between any two characters of a key's form. */
const INVISIBLE = '[\\p{Cf}\\u034F\\u115F\\u1160\\u3164\\uFFA0]*';

const BASE64_CHAR = /[A-Za-z0-9+/_-]/;

/** Shortest base64 core (characters that depend only on the key) worth searching for. */
const MIN_BASE64_CORE = 8;

const cache = new Map<string, Redactor>();

/** A function that masks `secret` in every form above; the identity for no secret. */
export function createRedactor(secret: string | undefined): Redactor {
  if (!secret) return (text) => text;
  let redactor = cache.get(secret);
  if (!redactor) {
    const pattern = textPattern(secret);
    const cores = base64Cores(secret);
    redactor = (text) => cores.reduce(maskBase64, text.replace(pattern, MASK));
    if (cache.size > 64) cache.clear(); // keys per process are few; never grow without bound
    cache.set(secret, redactor);
  }
  return redactor;
}

/** Masks `secret` in `text` (see createRedactor). */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret ? createRedactor(secret)(text) : text;
}

/**
 * The start of a text that may be huge (an error body), masked: only about the first 64 KiB
 * are kept, and a key that runs past that point is masked whole, so a caller that shortens
 * the result further never shows part of one.
 */
export function redactHead(text: string, secret: string | undefined): string {
  if (text.length <= HEAD_CHARS) return redactSecret(text, secret);
  // Wide enough that a form starting before the cut ends inside the window (invisible characters between its characters included).
  const margin = secret ? 16 * secret.length + 256 : 0;
  const masked = redactSecret(text.slice(0, HEAD_CHARS + margin), secret);
  // A mask across the cut is kept whole: `***`, never a lone `*`.
  const mask = masked.lastIndexOf(MASK, HEAD_CHARS - 1);
  return masked.slice(0, mask >= 0 && mask + MASK.length > HEAD_CHARS ? mask + MASK.length : HEAD_CHARS);
}

/** One pattern for every textual form, each allowing invisible characters between its characters. */
function textPattern(secret: string): RegExp {
  const forms = new Set<string>([secret]);
  const add = (encode: () => string): void => {
    try {
      forms.add(encode());
    } catch {
      // a lone surrogate cannot be URL-encoded: that form cannot occur either
    }
  };
  add(() => encodeURIComponent(secret));
  add(() => encodeURI(secret));
  add(() => new URLSearchParams([['k', secret]]).toString().slice(2));
  add(() => JSON.stringify(secret).slice(1, -1));
  add(() => JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'));
  add(() => htmlEscape(secret));
  add(() => htmlEscape(secret).replace(/&#39;/g, '&#x27;'));
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map((form) => units(form).map(unitPattern).join(INVISIBLE));
  return new RegExp(alternatives.map((a) => `(?:${a})`).join('|'), 'gu');
}

/** A form split into what must stay together: a percent escape, a JSON escape, an HTML entity, or one code point. */
function units(form: string): string[] {
  return form.match(/%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\[^u]|&#?[A-Za-z0-9]+;|[\s\S]/gu) ?? [];
}

/** A unit's characters, invisible characters allowed between them too; escape hex digits in either case (servers differ). */
function unitPattern(unit: string): string {
  const escape = /^%[0-9A-Fa-f]{2}$/.test(unit) || /^\\u[0-9A-Fa-f]{4}$/.test(unit);
  return [...unit].map((ch) => (escape && /[A-Fa-f]/.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : escapeRegExp(ch))).join(INVISIBLE);
}

/**
 * The key in base64 and base64url at each of the three byte alignments: only the characters
 * fed by key bytes alone (the ones mixed with the bytes before and after depend on the
 * surrounding text), and only when that core is long enough to be distinctive.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const cores = new Set<string>();
  for (let align = 0; align < 3; align++) {
    const padded = Buffer.concat([Buffer.alloc(align), bytes]);
    const encoded = padded.toString('base64').replace(/=+$/, '');
    const start = [0, 2, 3][align]!;
    const end = padded.length % 3 === 0 ? encoded.length : encoded.length - 1;
    const core = encoded.slice(start, end);
    if (core.length < MIN_BASE64_CORE) continue;
    cores.add(core);
    cores.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...cores];
}

/** Replaces every base64 run that contains `core` (with its `=` padding) by the mask; linear in the text. */
function maskBase64(text: string, core: string): string {
  let out = '';
  let done = 0;
  for (let at = text.indexOf(core); at >= 0; at = text.indexOf(core, done)) {
    let start = at;
    while (start > done && BASE64_CHAR.test(text[start - 1]!)) start--;
    let end = at + core.length;
    while (end < text.length && BASE64_CHAR.test(text[end]!)) end++;
    while (end < text.length && text[end] === '=') end++;
    out += text.slice(done, start) + MASK;
    done = end;
  }
  return out + text.slice(done);
}

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Escapes what is special outside a character class (valid with and without the `u` flag). */
function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
