import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';
import { toList } from './run.js';

export interface DoctorFlags extends GlobalOptions {
  endpoint?: string | string[];
  timeout?: number | string;
}

export function registerDoctor(cli: CAC): void {
  cli
    .command('doctor', 'Check the LLM servers the payloads use, the workspace files and the database; a fix for each failure')
    .option('--endpoint <port=url>', 'Send a port\'s requests to this URL, e.g. 5001=http://127.0.0.1:8080 (repeatable)')
    .option('--timeout <ms>', 'Time allowed for each server\'s checks (default 15000)')
    .example('quire doctor --endpoint 5001=http://127.0.0.1:8080')
    .action(async (flags: DoctorFlags) => {
      const { resolveContext, withAppContext } = await import('../context.js');
      const { runDoctor } = await import('../../app/doctor.js');
      const { printDoctor } = await import('../output/doctor.js');
      const context = resolveContext(flags);
      const report = await withAppContext(context, (app) =>
        runDoctor(app, { endpointOverrides: toList(flags.endpoint), ...(flags.timeout !== undefined ? { timeoutMs: Number(flags.timeout) } : {}) }),
      );
      printDoctor(context, report);
      if (!report.ok) process.exitCode = 1;
    });
}
