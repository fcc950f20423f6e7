/** What a sync did, per kind of row (printed by `quire sync`). */

export interface KindCounts {
  added: number;
  updated: number;
  adopted: number;
  archived: number;
  removed: number;
  unchanged: number;
}

export interface SyncReport {
  blocks: KindCounts;
  payloads: KindCounts;
  workflows: KindCounts;
}

export const emptyCounts = (): KindCounts => ({ added: 0, updated: 0, adopted: 0, archived: 0, removed: 0, unchanged: 0 });

/** The report of a sync that found nothing to do. */
export function unchangedReport(counts: { blocks: number; payloads: number; workflows: number }): SyncReport {
  const same = (n: number): KindCounts => ({ ...emptyCounts(), unchanged: n });
  return { blocks: same(counts.blocks), payloads: same(counts.payloads), workflows: same(counts.workflows) };
}
