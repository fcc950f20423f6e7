/**
 * `quire view`'s server: checks the database can be read without writing (app/view.ts),
 * then serves the pages over HTTP (@hono/node-server) on one read-only connection kept
 * for its lifetime. Loopback by default; bound anywhere else it requires a token
 * (generated when none is given). `close()` ends the live streams and open connections
 * and stops listening; the caller closes the context.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createAdaptorServer } from '@hono/node-server';
import type { AppContext } from '../app/context.js';
import { dataVersion, openView } from '../app/view.js';
import { AppError } from '../core/errors.js';
import { createLiveHub } from './live.js';
import { createRoutes } from './routes.js';
import type { SecurityOptions } from './security.js';

export interface ViewerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** 0: any free port. */
  port: number;
  /** Required on every request when given; generated when the host is not loopback. */
  token?: string;
  /** How often the data version is read while a page listens (default 250 ms). */
  pollMs?: number;
}

export interface Viewer {
  /** The address to open, token included when there is one. */
  url: string;
  host: string;
  port: number;
  token: string | null;
  /** Whether the token was generated here (so the caller prints it). */
  generatedToken: boolean;
  /** Bound beyond loopback: reachable from other machines. */
  exposed: boolean;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const isLoopback = (host: string): boolean => LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** A host as it appears in a URL or Host header (IPv6 in brackets). */
const hostPart = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host).toLowerCase();

export async function startViewer(ctx: AppContext, options: ViewerOptions): Promise<Viewer> {
  const host = options.host ?? '127.0.0.1';
  const exposed = !isLoopback(host);
  const generatedToken = exposed && !options.token;
  const token = options.token || (exposed ? randomBytes(18).toString('base64url') : null);

  await openView(ctx);
  const live = createLiveHub(() => dataVersion(ctx), options.pollMs ?? 250);
  // Completed once the port is known (0 picks one): the middleware reads them per request.
  const security: SecurityOptions = { allowedHosts: new Set<string>(), token, port: options.port };
  const routes = createRoutes(ctx, live, security);
  const server = createAdaptorServer({ fetch: routes.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      live.close();
      reject(error.code === 'EADDRINUSE'
        ? new AppError('IO', `port ${options.port} on ${host} is in use`, { hint: 'give another with --port, or --port 0 for any free one' })
        : new AppError('IO', `cannot listen on ${host}:${options.port}: ${error.message}`, { cause: error }));
    });
    server.listen(options.port, host.replace(/^\[(.*)\]$/, '$1'), () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  security.port = port;
  for (const name of boundNames(host)) {
    security.allowedHosts.add(`${name}:${port}`);
    if (port === 80) security.allowedHosts.add(name);
  }

  const shown = exposed && (host === '0.0.0.0' || host === '::' || host === '[::]') ? '127.0.0.1' : host;
  const url = `http://${hostPart(shown)}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  return {
    url, host, port, token, generatedToken, exposed,
    async close() {
      live.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * The names a browser may use for the viewer: loopback's, the bound host, and for a
 * wildcard bind (0.0.0.0, ::) every address of this machine's interfaces.
 */
function boundNames(host: string): string[] {
  const names = ['127.0.0.1', 'localhost', '[::1]', hostPart(host)];
  if (host === '0.0.0.0' || host === '::' || host === '[::]') {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.push(hostPart(address.address));
    }
  }
  return [...new Set(names)];
}
