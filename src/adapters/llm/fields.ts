/** Reading fields out of server replies without trusting their shape. */

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown): Json {
  return isRecord(value) ? value : {};
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The first element of an array field, as a record. */
export function first(value: unknown): Json | undefined {
  return Array.isArray(value) && isRecord(value[0]) ? value[0] : undefined;
}

/** Nanoseconds (Ollama) → milliseconds. */
export function nsToMs(value: unknown): number | undefined {
  const ns = num(value);
  return ns === undefined ? undefined : ns / 1e6;
}
