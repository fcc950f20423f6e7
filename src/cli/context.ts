/**
 * The composition root: global flags -> where the workspace and database are, and the
 * AppContext every command runs on (the only place that picks the adapters).
 */
import { createSqliteStoreProvider } from '../adapters/db/sqlite-stores.js';
import { createFileWriter } from '../adapters/fs/file-writer.js';
import { createWorkspaceReader } from '../adapters/fs/workspace-reader.js';
import { readGitState } from '../adapters/git/git-state.js';
import { createProcessLiveness } from '../adapters/process/liveness.js';
import { systemClock, type AppContext, type ClientFactory } from '../app/context.js';
import type { GitState, StoreProvider } from '../core/ports.js';
import { displayLocation, isPostgresUrl } from '../core/store-location.js';
import { combineStores } from '../app/shared-stores.js';
import { findWorkspaceRoot, localCachePath, resolveDbPath } from '../app/workspace-root.js';
import { QUIRE_VERSION } from './version.js';

export interface GlobalOptions {
  workspace?: string;
  db?: string;
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
}

export interface CommandContext {
  root: string;
  dbPath: string;
  json: boolean;
  quiet: boolean;
}

export function resolveContext(options: GlobalOptions): CommandContext {
  const root = findWorkspaceRoot(options.workspace);
  return { root, dbPath: resolveDbPath(root, options.db), json: Boolean(options.json), quiet: Boolean(options.quiet) };
}

export interface AppContextOptions {
  root: string;
  dbPath: string;
  version?: string;
  /** The LLM clients to use (default: real clients, made on first use). */
  clients?: ClientFactory;
}

export function createAppContext(options: AppContextOptions): AppContext {
  const stores = storeProvider(options.root, options.dbPath);
  const clients = options.clients ?? lazyClientFactory();
  let git: Promise<GitState> | undefined;
  return {
    root: options.root,
    files: createWorkspaceReader(options.root),
    writer: createFileWriter(),
    stores,
    clients,
    clock: systemClock,
    processes: createProcessLiveness(),
    // Loaded on first use: only batches and tests read records.
    openRecords: async (path) => (await import('../adapters/records/index.js')).openRecordSource(path, { cwd: options.root }),
    version: options.version ?? QUIRE_VERSION,
    gitState({ refresh = false } = {}) {
      if (refresh || !git) git = readGitState(options.root);
      return git;
    },
    async close() {
      await clients.close?.();
      await stores.close();
    },
  };
}

/**
 * SQLite at a path; at a postgres:// URL the shared store, with this checkout's parse cache
 * in a local SQLite file. The pg driver is loaded only when a URL is given.
 */
function storeProvider(root: string, location: string): StoreProvider {
  if (!isPostgresUrl(location)) return createSqliteStoreProvider(location);
  let shared: Promise<StoreProvider> | undefined;
  const load = () => (shared ??= import('../adapters/pg/stores.js').then((m) => m.createPgStoreProvider(location)));
  const lazy: StoreProvider = {
    location: displayLocation(location),
    readCache: () => undefined,
    forWriting: async () => (await load()).forWriting(),
    forReading: async () => (await load()).forReading(),
    describe: async () => (await load()).describe(),
    close: async () => {
      if (shared) await (await shared).close();
    },
  };
  return combineStores(lazy, createSqliteStoreProvider(localCachePath(root)));
}

/** The local files of the store (the database and its journals), which watch must not take for saves. */
export function localStoreFiles(root: string, location: string): string[] {
  const file = isPostgresUrl(location) ? localCachePath(root) : location;
  return ['', '-wal', '-shm', '-journal'].map((suffix) => file + suffix);
}

/** The real client factory, loaded on the first request: commands that call no server never load the adapters. */
function lazyClientFactory(): ClientFactory {
  let factory: Promise<ClientFactory> | undefined;
  const load = () => (factory ??= import('../app/clients.js').then((m) => m.createClientFactory() as ClientFactory));
  const lazy: ClientFactory = async (endpoint, signal) => (await load())(endpoint, signal);
  lazy.close = async () => {
    if (factory) await (await factory).close?.();
  };
  return lazy;
}

/** Runs `use` on a context made from the global flags, closing it afterwards. */
export async function withAppContext<T>(context: CommandContext, use: (app: AppContext) => Promise<T> | T): Promise<T> {
  const app = createAppContext({ root: context.root, dbPath: context.dbPath });
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}
