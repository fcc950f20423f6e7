/** Lenient readers for request-body fields (the mock accepts what the real servers accept). */

export function numberField(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function recordField(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A string array; `acceptString` also takes a lone string (OpenAI `stop`). */
export function stringList(value: unknown, acceptString = false): string[] {
  if (typeof value === 'string') return acceptString ? [value] : [];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
