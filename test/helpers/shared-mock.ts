/**
 * One mock-llm for a whole test file (started before, closed after, its request log
 * emptied before each test), and LLM clients pointed at it.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createLlmClient, type LlmClientOptions } from '../../src/adapters/llm/index.js';
import type { ApiKind } from '../../src/core/llm.js';
import { startMockLlm, type MockLlm } from '../../src/mock-llm/index.js';

export function useSharedMockLlm(defaults: Partial<LlmClientOptions> = {}) {
  let mock: MockLlm | undefined;
  beforeAll(async () => {
    mock = await startMockLlm({ api: 'all' });
  });
  afterAll(async () => {
    await mock?.close();
  });
  beforeEach(() => {
    mock?.reset();
  });
  return {
    get mock(): MockLlm {
      if (!mock) throw new Error('the shared mock-llm is not started yet (use it inside a test)');
      return mock;
    },
    /** A client for the shared mock; `fault` puts a `/__fault/<spec>` prefix on its base URL. */
    clientFor(api: ApiKind, options: Partial<LlmClientOptions> & { fault?: string } = {}) {
      const { fault, ...rest } = options;
      const url = fault ? `${this.mock.url}/__fault/${fault}` : this.mock.url;
      return createLlmClient({ api, url, model: 'mock-model', timeoutMs: 2_000, retries: 2, retryBaseMs: 5, ...defaults, ...rest });
    },
  };
}
