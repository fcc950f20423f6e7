/**
 * The two ends of `quire migrate-store`, from what was typed: a postgres:// URL is a
 * Postgres database (adapters/pg), anything else a SQLite file (adapters/db). Each adapter
 * is loaded only when named.
 */
import { isPostgresUrl } from '../adapters/pg/open.js';
import type { StoreEndpoint } from '../core/store-copy.js';

export async function storeEndpoint(spec: string): Promise<StoreEndpoint> {
  if (isPostgresUrl(spec)) return (await import('../adapters/pg/copy.js')).postgresEndpoint(spec);
  return (await import('../adapters/db/copy.js')).sqliteEndpoint(spec);
}
