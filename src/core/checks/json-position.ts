/**
 * Where JSON text first goes wrong. V8's JSON.parse names a position for some errors
 * ("... in JSON at position 7") but not for others ("Unexpected token 'a', "abc" is not valid
 * JSON"), so the position is found by a scan of our own, run only after JSON.parse failed.
 * Iterative (an explicit stack), so deeply nested output cannot overflow the call stack.
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS: Record<string, string> = { t: 'true', f: 'false', n: 'null' };
const WHITESPACE = /[ \t\n\r]*/y;

/** Thrown inside the scan with the offset of the bad character. */
class Bad {
  constructor(readonly offset: number) {}
}

/** Offset of the first character that is not valid JSON (text.length: it ended too soon); undefined when valid. */
export function jsonErrorOffset(text: string): number | undefined {
  try {
    scan(text);
    return undefined;
  } catch (error) {
    if (error instanceof Bad) return error.offset;
    throw error;
  }
}

function scan(text: string): void {
  const closers: ('}' | ']')[] = [];
  let i = skip(text, 0);
  let expectValue = true;
  for (;;) {
    if (expectValue) {
      const c = text[i];
      if (c === '{' || c === '[') {
        const closer = c === '{' ? '}' : ']';
        i = skip(text, i + 1);
        if (text[i] === closer) {
          i = skip(text, i + 1);
          expectValue = false;
        } else {
          closers.push(closer);
          if (closer === '}') i = memberKey(text, i);
        }
        continue;
      }
      i = skip(text, c === '"' ? stringEnd(text, i) : tokenEnd(text, i));
      expectValue = false;
      continue;
    }
    const closer = closers.at(-1);
    if (closer === undefined) {
      if (i < text.length) throw new Bad(i);
      return;
    }
    if (text[i] === closer) {
      closers.pop();
      i = skip(text, i + 1);
      continue;
    }
    if (text[i] !== ',') throw new Bad(i);
    i = skip(text, i + 1);
    if (closer === '}') i = memberKey(text, i);
    expectValue = true;
  }
}

/** `"key" :` at `i`: the offset of the value after it. */
function memberKey(text: string, i: number): number {
  if (text[i] !== '"') throw new Bad(i);
  const colon = skip(text, stringEnd(text, i));
  if (text[colon] !== ':') throw new Bad(colon);
  return skip(text, colon + 1);
}

/** The offset after the string that starts at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (code === 0x22) return j + 1;
    if (code < 0x20) throw new Bad(j);
    if (code !== 0x5c) continue;
    const next = text[j + 1];
    if (next === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) throw new Bad(j + 1);
      j += 5;
    } else if (next !== undefined && '"\\/bfnrt'.includes(next)) j += 1;
    else throw new Bad(j + 1);
  }
  throw new Bad(text.length);
}

/** The offset after the number or literal at `i`; a bad one at its first wrong character (`tru}`: the `}`), as V8 names it. */
function tokenEnd(text: string, i: number): number {
  const literal = LITERALS[text[i] ?? ''];
  if (literal) {
    for (let k = 1; k < literal.length; k++) if (text[i + k] !== literal[k]) throw new Bad(i + k);
    return i + literal.length;
  }
  NUMBER.lastIndex = i;
  if (NUMBER.test(text)) return NUMBER.lastIndex;
  throw new Bad(text[i] === '-' ? i + 1 : i);
}

function skip(text: string, i: number): number {
  WHITESPACE.lastIndex = i;
  WHITESPACE.test(text);
  return WHITESPACE.lastIndex;
}
