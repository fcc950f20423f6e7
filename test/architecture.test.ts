/**
 * The dependency rule (AGENTS.md): core is pure, adapters never reach up, nothing imports cli,
 * only adapters/db knows SQLite (and only adapters/pg the pg driver), app sees adapters through their index at most,
 * adapter families stay apart, and the viewer (like cli) sits on app and core.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

const layerOf = (path: string) => relative(SRC, path).split('/')[0]!;
const resolveLayer = (from: string, spec: string) => (spec.startsWith('.') ? layerOf(join(from, '..', spec)) : undefined);

describe('architecture', () => {
  const all = files(SRC);
  it('core imports only core and pure libraries', () => {
    const bad = all.filter((f) => layerOf(f) === 'core').flatMap((f) =>
      imports(f).filter((spec) => (spec.startsWith('.') ? resolveLayer(f, spec) !== 'core' : /^node:(fs|net|http|child_process|path|os)/.test(spec) || spec === 'better-sqlite3')).map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect(bad).toEqual([]);
  });
  it('adapters and mock-llm never import app or cli', () => {
    const bad = all.filter((f) => ['adapters', 'mock-llm'].includes(layerOf(f))).flatMap((f) =>
      imports(f).filter((spec) => ['app', 'cli'].includes(resolveLayer(f, spec) ?? '')).map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect(bad).toEqual([]);
  });
  it('only adapters/db imports better-sqlite3', () => {
    const bad = all.filter((f) => !relative(SRC, f).startsWith('adapters/db/')).flatMap((f) => imports(f).filter((spec) => spec === 'better-sqlite3').map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect(bad).toEqual([]);
  });
  it('only adapters/pg imports the pg driver', () => {
    const bad = all.filter((f) => !relative(SRC, f).startsWith('adapters/pg/')).flatMap((f) => imports(f).filter((spec) => spec === 'pg' || spec.startsWith('pg/')).map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect(bad).toEqual([]);
    expect(imports(join(SRC, 'adapters/pg/open.ts'))).toContain('pg');
  });
  it('app imports no adapter internals: at most an adapter family\'s index', () => {
    const bad = all.filter((f) => layerOf(f) === 'app').flatMap((f) =>
      imports(f).filter((spec) => resolveLayer(f, spec) === 'adapters' && !/\/adapters\/[^/]+\/index\.js$/.test(join(f, '..', spec))).map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect(bad).toEqual([]);
  });
  it('adapter families do not import each other', () => {
    const familyOf = (path: string) => relative(SRC, path).split('/')[1];
    const bad = all.filter((f) => layerOf(f) === 'adapters').flatMap((f) =>
      imports(f).filter((spec) => resolveLayer(f, spec) === 'adapters' && familyOf(join(f, '..', spec)) !== familyOf(f)).map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect(bad).toEqual([]);
  });
  it('the rules above see real imports (a file known to import each kind)', () => {
    expect(imports(join(SRC, 'adapters/db/open.ts'))).toContain('better-sqlite3');
    expect(imports(join(SRC, 'app/run.ts')).some((spec) => spec.startsWith('./'))).toBe(true);
    expect(imports(join(SRC, 'cli/context.ts')).some((spec) => spec.startsWith('../adapters/'))).toBe(true);
  });
  it('viewer imports only app, core and libraries; nothing but cli imports viewer', () => {
    const viewerOut = all.filter((f) => layerOf(f) === 'viewer').flatMap((f) =>
      imports(f).filter((spec) => ['adapters', 'cli', 'mock-llm'].includes(resolveLayer(f, spec) ?? '')).map((spec) => `${relative(SRC, f)} -> ${spec}`));
    const viewerIn = all.filter((f) => !['cli', 'viewer'].includes(layerOf(f))).flatMap((f) =>
      imports(f).filter((spec) => resolveLayer(f, spec) === 'viewer').map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect([...viewerOut, ...viewerIn]).toEqual([]);
    expect(imports(join(SRC, 'viewer/routes.ts')).some((spec) => spec.startsWith('../app/'))).toBe(true);
  });
  it('nothing outside cli imports cli', () => {
    const bad = all.filter((f) => layerOf(f) !== 'cli').flatMap((f) => imports(f).filter((spec) => resolveLayer(f, spec) === 'cli').map((spec) => `${relative(SRC, f)} -> ${spec}`));
    expect(bad).toEqual([]);
  });
});
