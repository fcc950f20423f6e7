/**
 * What keeps the viewer safe to leave running (the middleware every request passes):
 *
 * - the Host header must name the address the viewer is bound to (127.0.0.1, localhost,
 *   [::1], the --host value), so a web page that rebinds its own DNS name to 127.0.0.1
 *   cannot read the viewer from the user's browser;
 * - only GET and HEAD exist: nothing the viewer serves changes anything (others are 405);
 * - with a token (required when bound beyond loopback), every request shows it: once as
 *   `?token=` (answered with a cookie and a redirect that drops it from the address bar),
 *   then by that cookie, or as `Authorization: Bearer`;
 * - every response carries a strict Content-Security-Policy (scripts and styles from the
 *   viewer only, none inline), nosniff, no referrer and no framing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface SecurityOptions {
  /** Host header values accepted (lower case, with the port); read per request. */
  allowedHosts: Set<string>;
  /** Required on every request when set. */
  token: string | null;
  /**
   * The bound port, read per request (known only once listening): it names the cookie, as
   * cookies are shared across ports and two viewers on one host must keep theirs apart.
   */
  port: number;
}

/** Adds the security headers to every response, the refusals below included. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  };
}

/** Refuses foreign Host headers, methods other than GET and HEAD, and requests without the token. */
export function guard(options: SecurityOptions): MiddlewareHandler {
  const expected = options.token === null ? null : digest(options.token);
  const matches = (candidate: string | undefined) => expected !== null && candidate !== undefined && candidate !== '' && timingSafeEqual(digest(candidate), expected);

  return async (c, next) => {
    const host = c.req.header('host')?.toLowerCase();
    if (host === undefined || !options.allowedHosts.has(host)) {
      return c.text(`quire view: refused: the Host header ${JSON.stringify(host ?? '')} is not an address this viewer is bound to\n`, 403);
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      return c.text('quire view is read-only: only GET and HEAD\n', 405, { Allow: 'GET, HEAD' });
    }
    if (expected === null) return next();
    const cookieName = `quire_view_${options.port}`;

    const url = new URL(c.req.url);
    const given = url.searchParams.get('token') ?? undefined;
    if (given !== undefined && matches(given)) {
      setCookie(c, cookieName, options.token!, { path: '/', httpOnly: true, sameSite: 'Strict' });
      url.searchParams.delete('token');
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (matches(getCookie(c, cookieName)) || matches(bearer)) return next();
    return c.text('quire view: a token is required: open the URL `quire view` printed (it ends in ?token=...)\n', 401);
  };
}

/** Compared as digests: equal lengths for timingSafeEqual, whatever was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
