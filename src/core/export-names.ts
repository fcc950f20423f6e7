/**
 * Where `quire export` puts rows that exist only in the database, as a pure function of
 * the rows. Sync uses the same function to adopt those rows when the files come back,
 * so ids and run history stay attached without any marker in the files.
 */

export interface DbOnlyBlockRow {
  id: number;
  title: string;
  folder_path: string | null;
}

/** Makes one path segment safe on every OS: no separators, controls, or reserved characters. */
export function safeSegment(text: string): string {
  const cleaned = text
    .replace(/[\u0000-\u001f\u007f<>:"|?*\\/]/g, '-')
    .replace(/^[\s.]+|[\s.]+$/g, '')
    .slice(0, 120);
  return cleaned === '' ? 'untitled' : cleaned;
}

/** Block key (path under blocks/ without .md) for each database-only block, by id; unique. */
export function exportBlockKeys(rows: readonly DbOnlyBlockRow[], takenKeys: ReadonlySet<string> = new Set()): Map<number, string> {
  const keys = new Map<number, string>();
  const used = new Set(takenKeys);
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    const folder = (row.folder_path ?? '')
      .split('/')
      .filter((part) => part.trim() !== '')
      .map(safeSegment)
      .join('/');
    const base = `${folder ? `${folder}/` : ''}${safeSegment(row.title)}`;
    let key = base;
    for (let n = 2; used.has(key); n++) key = `${base} (${n})`;
    used.add(key);
    keys.set(row.id, key);
  }
  return keys;
}

/** A unique payload or workflow name for each database-only row, by id. */
export function exportNames(rows: readonly { id: number; name: string }[], takenNames: ReadonlySet<string> = new Set()): Map<number, string> {
  const names = new Map<number, string>();
  const used = new Set(takenNames);
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    const base = safeSegment(row.name);
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base} (${n})`;
    used.add(name);
    names.set(row.id, name);
  }
  return names;
}
