/**
 * `--input-file f.json|yaml`: workflow inputs from a file (YAML is a superset of JSON).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { AppError, ProblemsError } from '../core/errors.js';
import { parseYamlDocument } from '../core/yaml-document.js';
import { decodeSource } from '../core/text.js';

export function readInputFile(path: string): Record<string, unknown> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new AppError('INPUT', `cannot read --input-file ${path}: ${(error as Error).message}`);
  }
  const name = relative(process.cwd(), path) || path;
  const decoded = decodeSource(name, bytes);
  if (!decoded.ok) throw new ProblemsError([decoded.problem]);
  const parsed = parseYamlDocument(name, decoded.text);
  if (!parsed.ok) throw new ProblemsError(parsed.problems);
  return parsed.source.value as Record<string, unknown>;
}
