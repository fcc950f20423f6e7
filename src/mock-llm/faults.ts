/**
 * Fault injection for the mock server.
 *
 * Faults apply to generation requests only (the text-generating routes), so the
 * info routes used for detection and context inspection keep answering.
 *
 * They can be set in four places; later ones override earlier ones key by key:
 *  1. `startMockLlm({ faults })` and `mock.setFaults(faults)` (server-wide);
 *  2. a base-URL path prefix `/__fault/<spec>` (e.g. `http://127.0.0.1:PORT/__fault/status=500,failFirst=1`),
 *     which lets a test point an unmodified client at a faulty "server";
 *  3. the request header `x-mock-fault: <spec>`;
 *  4. the query parameter `?mock-fault=<spec>`.
 *
 * `<spec>` is a comma-separated list of `key=value` or bare flags:
 *   latency=MS      delay before each token (non-streaming: tokens × MS before the reply)
 *   status=N        answer generation requests with HTTP N in the route's own error shape
 *                   (503 uses KoboldCpp's "Server is busy" body on Kobold routes)
 *   retryAfter=S    send `Retry-After: S` with the error status
 *   failFirst=N     only the first N generation requests with this same spec fail with `status`
 *                   (500 when no status is given), later ones succeed
 *   hang            accept the request and never answer
 *   drop=N          send N tokens (non-streaming: half the body), then destroy the socket
 *   malformed       reply with invalid JSON (non-streaming) or an invalid JSON event (streaming)
 *   html            answer `200 text/html` with a login page instead of a reply or a stream
 *                   (what a login proxy or a wrong port gives)
 *   cut=N           streams only: send at most N tokens, then end the stream cleanly without the
 *                   API's end (no final event, no `done:true`, no `[DONE]`); whole replies are unaffected
 *   endless         ignore max tokens and stop strings and never finish: a stream sends the reply's
 *                   tokens, then ` more` after ` more` until the client disconnects (or, KoboldCpp,
 *                   aborts); a whole reply is never sent. `latency` paces it.
 *   echoKey=FORM    answer generation requests with `status` (default 401) in the route's error
 *                   shape, quoting the bearer token sent, as a careless server or proxy might:
 *                   FORM is plain, url (encodeURIComponent), form (form encoding), base64 (of the
 *                   whole `Authorization` value) or zw (a zero-width space between its characters)
 *   ctx=N           context length for this request (default: the server's `contextLength`)
 *   id=TEXT         no effect; makes a spec unique so its `failFirst` counter is its own
 */

export interface MockFaults {
  latencyMs?: number;
  status?: number;
  retryAfter?: string;
  failFirst?: number;
  hang?: boolean;
  dropAfter?: number;
  malformed?: boolean;
  html?: boolean;
  cutAfter?: number;
  endless?: boolean;
  echoKey?: EchoForm;
  contextLength?: number;
  id?: string;
}

/** How the `echoKey` fault writes the key back. */
export const ECHO_FORMS = ['plain', 'url', 'form', 'base64', 'zw'] as const;
export type EchoForm = (typeof ECHO_FORMS)[number];

/** The credential of an `Authorization` header as the `echoKey` fault quotes it. */
export function echoedKey(authorization: string | undefined, form: EchoForm): string {
  const header = authorization ?? '';
  const token = header.replace(/^Bearer\s+/i, '');
  switch (form) {
    case 'plain': return token;
    case 'url': return encodeURIComponent(token);
    case 'form': return new URLSearchParams([['key', token]]).toString().slice('key='.length);
    case 'base64': return Buffer.from(header, 'utf8').toString('base64');
    case 'zw': return [...token].join('\u200B');
  }
}

export const FAULT_HEADER = 'x-mock-fault';
export const FAULT_QUERY = 'mock-fault';
export const FAULT_PATH_PREFIX = '/__fault/';

/** Parses a `<spec>` string; unknown keys are an error so typos don't silently pass. */
export function parseFaultSpec(spec: string): MockFaults {
  const faults: MockFaults = {};
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    switch (key) {
      case 'latency': faults.latencyMs = toNumber(key, value); break;
      case 'status': faults.status = toNumber(key, value); break;
      case 'retryAfter': faults.retryAfter = value; break;
      case 'failFirst': faults.failFirst = toNumber(key, value); break;
      case 'hang': faults.hang = value !== 'false'; break;
      case 'drop': faults.dropAfter = toNumber(key, value); break;
      case 'malformed': faults.malformed = value !== 'false'; break;
      case 'html': faults.html = value !== 'false'; break;
      case 'cut': faults.cutAfter = toNumber(key, value); break;
      case 'endless': faults.endless = value !== 'false'; break;
      case 'echoKey':
        if (!(ECHO_FORMS as readonly string[]).includes(value)) throw new Error(`mock-llm: fault "echoKey" takes ${ECHO_FORMS.join(', ')}, got "${value}"`);
        faults.echoKey = value as EchoForm;
        break;
      case 'ctx': faults.contextLength = toNumber(key, value); break;
      case 'id': faults.id = value; break;
      default: throw new Error(`mock-llm: unknown fault "${key}" in "${spec}"`);
    }
  }
  return faults;
}

/**
 * Splits a request path into its `/__fault/<spec>` prefix (if any) and the real path.
 * The spec is one path segment: commas and `=` are legal in paths.
 */
export function splitFaultPrefix(path: string): { spec?: string; path: string } {
  if (!path.startsWith(FAULT_PATH_PREFIX)) return { path };
  const rest = path.slice(FAULT_PATH_PREFIX.length);
  const slash = rest.indexOf('/');
  const spec = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
  return { spec, path: slash < 0 ? '/' : rest.slice(slash) };
}

/** Merges fault layers; a later layer overrides an earlier one key by key. */
export function mergeFaults(...layers: (MockFaults | undefined)[]): MockFaults {
  const merged: MockFaults = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

/** The status a generation request must fail with now, if any; counts `failFirst` per spec. */
export function errorStatusFor(faults: MockFaults, counters: Map<string, number>): number | undefined {
  if (faults.failFirst === undefined) return faults.status;
  const key = JSON.stringify(faults);
  const seen = counters.get(key) ?? 0;
  counters.set(key, seen + 1);
  return seen < faults.failFirst ? (faults.status ?? 500) : undefined;
}

function toNumber(key: string, value: string): number {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n)) throw new Error(`mock-llm: fault "${key}" needs a number, got "${value}"`);
  return n;
}
