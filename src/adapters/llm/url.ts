/** Base URLs as the adapters use them: no trailing slash, no credentials, no query. */
import { AppError } from '../../core/errors.js';

export function normalizeBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('LLM_CONNECT', `[llm] invalid server URL "${url.replace(/\/\/[^/@]*@/, '//***@')}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AppError('LLM_CONNECT', `[llm] unsupported URL scheme "${parsed.protocol}" (use http or https)`);
  }
  // LlmClient.url and error messages must never show credentials: keys go in apiKey.
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}
