import type { CAC } from 'cac';
import type { GlobalOptions } from '../context.js';
import { toList, type RunFlags } from './run.js';

export function registerWatch(cli: CAC): void {
  cli
    .command('watch [...workflows]', 'Run workflows, then rerun the ones a save reaches, on every save')
    .option('--input <key=value>', 'A workflow input (repeatable)')
    .option('--input-file <file>', 'Inputs from a JSON or YAML file (--input wins)')
    .option('--no-stream', 'Print each response whole when it completes')
    .option('--cache', 'Reuse answers of identical earlier requests: a save that changes step 3 reruns from step 3')
    .option('--endpoint <port=url>', 'Send a port\'s requests to this URL (repeatable)')
    .example('quire watch research --input text="$(cat article.txt)"')
    .action(executeWatch);
}

/** Builds the context and the watcher, starts the session, and stops it cleanly on Ctrl-C or SIGTERM (exit 130). */
async function executeWatch(workflows: string[], flags: RunFlags & GlobalOptions): Promise<void> {
  const { parseInputPairs } = await import('../../core/inputs.js');
  const { resolveContext, createAppContext, localStoreFiles } = await import('../context.js');
  const { startWatch } = await import('../../app/watch.js');
  const { watchWorkspace } = await import('../../adapters/fs/watcher.js');
  const { createWatchPrinter } = await import('../output/watch.js');
  const context = resolveContext(flags);
  const fromFile = flags.inputFile ? (await import('../../app/input-file.js')).readInputFile(flags.inputFile) : {};
  const inputs: Record<string, unknown> = { ...fromFile, ...parseInputPairs(toList(flags.input)) };
  const live = !context.json && flags.stream !== false && Boolean(process.stdout.isTTY);

  const app = createAppContext({ root: context.root, dbPath: context.dbPath });
  const dbFiles = localStoreFiles(context.root, context.dbPath);
  let session: Awaited<ReturnType<typeof startWatch>> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    if (stopping) process.exit(130); // a second Ctrl-C quits at once
    if (!context.json && !context.quiet) process.stderr.write('\nstopping: cancelling what runs, closing the watcher and the database\n');
    stopping = (async () => {
      await session?.stop();
      await app.close();
      process.exitCode = 130;
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    session = await startWatch(app, {
      workflows,
      inputs,
      endpointOverrides: toList(flags.endpoint),
      stream: flags.stream !== false,
      ...(flags.cache ? { cache: true } : {}),
      onEvent: createWatchPrinter(Boolean(context.json), Boolean(context.quiet), live),
      startWatcher: (onBatch) => watchWorkspace(context.root, { ignorePaths: dbFiles, onBatch, onError: (error) => process.stderr.write(`watch: ${error.message}\n`) }),
    });
    if (stopping) await session.stop();
  } catch (error) {
    await app.close();
    throw error;
  }
  // The process lives on the watcher until a signal stops it.
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (stopping) {
        clearInterval(check);
        void stopping.then(resolve);
      }
    }, 50);
  });
}
