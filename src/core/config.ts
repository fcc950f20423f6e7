/**
 * The optional workspace config, `quire.yaml`.
 */
import type { Problem } from './errors.js';
import { parseCheckedYaml } from './yaml-document.js';
import type { EndpointConfig, WorkspaceConfig } from './types.js';
import { PASSWORD_IN_CONFIG, passwordInUrl } from './store-location.js';

export const CONFIG_FILE = 'quire.yaml';

export const DEFAULT_CONFIG: WorkspaceConfig = {
  llm: { host: '127.0.0.1', api: 'auto', timeout_ms: 300_000, retries: 2 },
  endpoints: {},
};

export type ConfigParse = { ok: true; config: WorkspaceConfig } | { ok: false; problems: Problem[] };

/** Parses quire.yaml, filling defaults. An empty file is a valid, default config. */
export function parseConfig(path: string, text: string, contentHash: string): ConfigParse {
  if (text.trim() === '') return { ok: true, config: { ...DEFAULT_CONFIG, sourcePath: path, contentHash } };
  const parsed = parseCheckedYaml(path, text, 'config');
  if (!parsed.ok) return parsed;
  const value = parsed.source.value as { llm?: Partial<WorkspaceConfig['llm']>; endpoints?: Record<string, EndpointConfig>; store?: string };
  if (value.store !== undefined && passwordInUrl(value.store)) {
    const at = parsed.source.locate(['store']);
    return { ok: false, problems: [{ file: path, line: at.line, col: at.col, code: 'SCHEMA', message: PASSWORD_IN_CONFIG }] };
  }
  return {
    ok: true,
    config: {
      llm: { ...DEFAULT_CONFIG.llm, ...value.llm },
      endpoints: value.endpoints ?? {},
      ...(value.store !== undefined ? { store: value.store } : {}),
      sourcePath: path,
      contentHash,
    },
  };
}
