/**
 * A shared store (Postgres) with this checkout's parse cache in a local file: the history,
 * batches, viewer queries and mirror are the shared store's; the cache, and a local copy of
 * the mirror that the cache reads block text from, are the local store's.
 *
 * Every mirror apply goes to both: the local one first (it is this checkout's alone, so the
 * cache's `changes` are always right for it), then the shared one, which decides for itself
 * whether it can trust them (MirrorStore.holdsFiles). Nothing else of the local store is
 * used: its history stays empty.
 */
import type { MirrorStore, ParseCache, StoreProvider, Stores } from '../core/ports.js';

export function combineStores(shared: StoreProvider, local: StoreProvider): StoreProvider {
  let writing: Stores | undefined;
  const combined = (sharedStores: Stores, cache: ParseCache, localMirror?: MirrorStore): Stores => ({
    ...sharedStores,
    cache,
    mirror: localMirror
      ? {
          ...sharedStores.mirror,
          async apply(workspace, changes, fingerprint) {
            await localMirror.apply(workspace, changes);
            return sharedStores.mirror.apply(workspace, changes, fingerprint);
          },
        }
      : sharedStores.mirror,
  });

  return {
    location: shared.location,
    readCache: () => local.readCache(),
    async forWriting() {
      if (writing) return writing;
      const sharedStores = await shared.forWriting();
      const localStores = await local.forWriting();
      return (writing = combined(sharedStores, localStores.cache, localStores.mirror));
    },
    async forReading() {
      if (writing) return writing;
      // Readers (runs, show, the viewer) never touch the cache: an empty one when there is no local file.
      return combined(await shared.forReading(), local.readCache() ?? EMPTY_CACHE);
    },
    describe: () => shared.describe(),
    async close() {
      writing = undefined;
      await Promise.all([shared.close(), local.close()]);
    },
  };
}

/** The cache of a checkout that has not synced yet, for reading only. */
const EMPTY_CACHE: ParseCache = {
  knownFiles: () => new Map(),
  matchesLastSync: () => false,
  lastCounts: () => undefined,
  entries: () => new Map(),
  parsed: () => undefined,
  pathOf: () => undefined,
  blockIndex: () => ({ pathByKey: new Map(), tags: new Map() }),
  block: () => undefined,
  record: () => {
    throw new Error('the parse cache was opened for reading');
  },
  markSynced: () => {
    throw new Error('the parse cache was opened for reading');
  },
  refreshStats: () => {
    throw new Error('the parse cache was opened for reading');
  },
};
