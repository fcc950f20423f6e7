/** Public surface of the mock LLM server (used by tests, demos and benchmarks). */
export { startMockLlm, type MockLlm, type MockLlmOptions, type RecordedRequest } from './server.js';
export type { MockApiMode, MockFamily } from './context.js';
export {
  ECHO_FORMS, echoedKey, FAULT_HEADER, FAULT_PATH_PREFIX, FAULT_QUERY, parseFaultSpec, type EchoForm, type MockFaults,
} from './faults.js';
export {
  countTokens, echoText, lastLine, mockChatPrompt, mockReply, replyLine, splitTokens, stripInstructMarkup, tokenIds,
  type MockFinish, type MockReply, type MockReplyOptions,
} from './reply.js';
export { OLLAMA_MOCK_TEMPLATE } from './routes/ollama.js';
