/**
 * The viewer's static files, kept in the code (tsc builds them with everything else, so
 * nothing is built or copied at install time) and served by quire with a content hash in
 * their URL: a page's assets are cached for good and refetched only when they change.
 */
import { createHash } from 'node:crypto';
import { APP_JS } from './script.js';
import { STYLE_CSS } from './style.js';

const ICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2f5fd0"/><path d="M4 4h8v2H4zm0 3h8v2H4zm0 3h5v2H4z" fill="#fff"/></svg>';

export interface Asset {
  body: string;
  type: string;
  /** The URL path, with a content hash (`/assets/style.<hash>.css`). */
  path: string;
}

function asset(name: string, extension: string, body: string, type: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { body, type, path: `/assets/${name}.${hash}.${extension}` };
}

export const ASSETS = {
  style: asset('style', 'css', STYLE_CSS, 'text/css; charset=utf-8'),
  script: asset('app', 'js', APP_JS, 'text/javascript; charset=utf-8'),
  icon: asset('icon', 'svg', ICON_SVG, 'image/svg+xml'),
} as const;

/** The asset served at a path, if any. */
export function assetAt(path: string): Asset | undefined {
  return Object.values(ASSETS).find((a) => a.path === path);
}
