import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';

export interface RunFlags extends GlobalOptions {
  input?: string | string[];
  inputFile?: string;
  dryRun?: boolean;
  stream?: boolean;
  endpoint?: string | string[];
}

export const toList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]).map(String);

export function registerRun(cli: CAC): void {
  cli
    .command('run <workflow>', 'Sync, run a workflow against the LLM servers, stream and record it')
    .option('--input <key=value>', 'A workflow input (repeatable)')
    .option('--input-file <file>', 'Inputs from a JSON or YAML file (--input wins)')
    .option('--dry-run', 'Render every step and record nothing (no server is called)')
    .option('--no-stream', 'Print each response whole when it completes')
    .option('--endpoint <port=url>', 'Send a port\'s requests to this URL, e.g. 5001=http://127.0.0.1:8080 (repeatable)')
    .example('quire run research --input text="$(cat article.txt)" --input words=50')
    .action(async (workflow: string, flags: RunFlags) => {
      const { executeRun } = await import('../output/run.js');
      await executeRun(workflow, flags);
    });
}
