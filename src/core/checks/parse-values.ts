/**
 * Small validators for check arguments: each returns the value when it has the right shape,
 * else records a located problem (with what it got) and returns undefined.
 */
import { closestName } from '../suggest.js';

export type Path = (string | number)[];

/** Records problems for one check; paths are relative to the check's value. */
export interface ArgContext {
  /** The check's name, for messages. */
  name: string;
  problem(path: Path, message: string, which?: 'key' | 'value'): void;
}

/** `similar.threshold`, `one_of[2]`. */
export function label(ctx: ArgContext, path: Path): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : `${text}.${part}`), ctx.name);
}

export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'boolean' ? 'the boolean' : typeof value === 'number' ? 'the number' : typeof value} ${String(value)}`;
}

function wrong(ctx: ArgContext, path: Path, value: unknown, expected: string): undefined {
  const hint = typeof value === 'number' || typeof value === 'boolean' ? ` (quote it for text: "${String(value)}")` : '';
  ctx.problem(path, `${label(ctx, path)} must be ${expected}, got ${typeName(value)}${/^a (non-empty )?string$/.test(expected) ? hint : ''}`);
  return undefined;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function text(ctx: ArgContext, path: Path, value: unknown, options: { nonEmpty?: boolean } = {}): string | undefined {
  if (typeof value !== 'string') return wrong(ctx, path, value, options.nonEmpty ? 'a non-empty string' : 'a string');
  if (options.nonEmpty && value === '') return wrong(ctx, path, value, 'a non-empty string');
  return value;
}

/** A list of strings, at least one. */
export function textList(ctx: ArgContext, path: Path, value: unknown, options: { nonEmpty?: boolean } = {}): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return wrong(ctx, path, value, 'a non-empty list of strings');
  const items = value.map((item, i) => text(ctx, [...path, i], item, options));
  return items.every((item) => item !== undefined) ? (items as string[]) : undefined;
}

export function count(ctx: ArgContext, path: Path, value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) >= 0 ? (value as number) : wrong(ctx, path, value, 'a whole number, 0 or more');
}

export function positive(ctx: ArgContext, path: Path, value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : wrong(ctx, path, value, 'a number greater than 0');
}

/** A threshold or similarity: 0..1. */
export function fraction(ctx: ArgContext, path: Path, value: unknown): number | undefined {
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : wrong(ctx, path, value, 'a number from 0 to 1');
}

export function port(ctx: ArgContext, path: Path, value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535 ? (value as number) : wrong(ctx, path, value, 'a port number (1 to 65535)');
}

export function oneOf<T extends string>(ctx: ArgContext, path: Path, value: unknown, allowed: readonly T[]): T | undefined {
  return allowed.includes(value as T) ? (value as T) : wrong(ctx, path, value, `one of: ${allowed.join(', ')}`);
}

/**
 * A mapping with only the allowed keys and every required one: unknown keys are problems at
 * the key, with "did you mean". Undefined when it is not a mapping or lacks a required key.
 */
export function mapping(ctx: ArgContext, path: Path, value: unknown, allowed: readonly string[], required: readonly string[], form: string): Record<string, unknown> | undefined {
  if (!isMapping(value)) return wrong(ctx, path, value, form);
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const suggestion = closestName(key, allowed);
    ctx.problem([...path, key], `unknown key "${key}" in ${label(ctx, path)}${suggestion ? `; did you mean "${suggestion}"?` : ` (allowed: ${allowed.join(', ')})`}`, 'key');
  }
  const missing = required.filter((key) => !Object.hasOwn(value, key));
  for (const key of missing) ctx.problem(path, `${label(ctx, path)} needs "${key}"`);
  return missing.length === 0 ? value : undefined;
}
