import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';

export function registerMockLlm(cli: CAC): void {
  cli
    .command('mock-llm', 'A deterministic local LLM server (KoboldCpp, OpenAI, Ollama and llama.cpp APIs) for trying workflows and for tests')
    .option('--port <port>', 'Port on 127.0.0.1 (default: a free one)')
    .option('--api <api>', 'Pretend to be: all | kobold | openai | ollama | llamacpp (default all)')
    .option('--context <tokens>', 'Context size in mock tokens (default 4096)')
    .option('--fault <spec>', 'Faults for every generation, e.g. latency=20 or status=503,failFirst=1')
    .action(async (flags: { port?: string | number; api?: string; context?: string | number; fault?: string; json?: boolean }) => {
      const { startMockLlm, parseFaultSpec } = await import('../../mock-llm/index.js');
      const port = flags.port === undefined ? 0 : Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${String(flags.port)}"`);
      const api = flags.api ?? 'all';
      if (!['all', 'kobold', 'openai', 'ollama', 'llamacpp'].includes(api)) throw new UsageError(`--api must be all, kobold, openai, ollama or llamacpp, got "${api}"`);
      const mock = await startMockLlm({
        port,
        api: api as 'all',
        ...(flags.context !== undefined ? { contextLength: Number(flags.context) } : {}),
        ...(flags.fault ? { faults: parseFaultSpec(flags.fault) } : {}),
      });
      // The first stdout line is the URL, so scripts can read it.
      process.stdout.write(flags.json ? `${JSON.stringify({ url: mock.url, port: mock.port, api })}\n` : `mock-llm listening on ${mock.url} (api: ${api}); Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await mock.close();
    });
}
