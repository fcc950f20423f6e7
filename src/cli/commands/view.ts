import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';
import { displayLocation } from '../../core/store-location.js';

/** The viewer's default port: stable, so its address can be bookmarked beside `quire watch`. */
const DEFAULT_PORT = 7357;

interface ViewFlags extends GlobalOptions {
  port?: string | number;
  host?: string;
  open?: boolean;
  token?: string | number;
}

export function registerView(cli: CAC): void {
  cli
    .command('view', 'A local web viewer of runs, comparisons, batches and workflows (read-only; updates live)')
    .option('--port <port>', `Port (default ${DEFAULT_PORT}; 0 picks a free one)`)
    .option('--host <host>', 'Address to bind (default 127.0.0.1; anything else needs a token)')
    .option('--open', 'Open it in the browser')
    .option('--token <token>', 'Require this token on every request (generated when bound beyond loopback)')
    .example('quire view --open')
    .action(executeView);
}

/** Starts the viewer on one context, prints where it is, and stops cleanly on Ctrl-C or SIGTERM (exit 0). */
async function executeView(flags: ViewFlags): Promise<void> {
  const port = flags.port === undefined ? DEFAULT_PORT : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${String(flags.port)}"`);
  const token = flags.token === undefined ? undefined : String(flags.token);
  if (token !== undefined && token.length < 8) throw new UsageError('--token must be at least 8 characters');
  const { resolveContext, createAppContext } = await import('../context.js');
  const { startViewer } = await import('../../viewer/server.js');
  const context = resolveContext(flags);
  const app = createAppContext({ root: context.root, dbPath: context.dbPath });
  let viewer: Awaited<ReturnType<typeof startViewer>>;
  try {
    viewer = await startViewer(app, { port, ...(flags.host ? { host: String(flags.host) } : {}), ...(token !== undefined ? { token } : {}) });
  } catch (error) {
    await app.close();
    throw error;
  }

  if (context.json) process.stdout.write(`${JSON.stringify({ url: viewer.url, host: viewer.host, port: viewer.port, token: viewer.token })}\n`);
  else process.stdout.write(`quire view: ${viewer.url}\nread-only view of ${displayLocation(context.dbPath)}; pages update as runs are recorded; Ctrl-C to stop\n`);
  if (viewer.exposed) {
    process.stderr.write(`warning: bound to ${viewer.host}, reachable from other machines; every request needs the token${viewer.generatedToken ? ' (generated: it is in the URL above)' : ''}. Traffic is plain HTTP.\n`);
  }
  if (flags.open) (await import('../open-browser.js')).openBrowser(viewer.url);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await viewer.close();
  await app.close();
}
