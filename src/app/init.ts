/**
 * `quire init [dir]`: scaffold a working workspace. The starter files are the package's
 * own starter workspace (blocks/, workflows/, quire.yaml) plus the JSON Schemas that the
 * files' `yaml-language-server` modelines point at. Existing files are never overwritten.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STARTER_ENTRIES = ['quire.yaml', 'blocks', 'workflows', 'schemas'];
const GITIGNORE = '# quire: the database is a mirror plus run history; keep it out of git\ndata/\n';

export interface InitResult {
  root: string;
  created: string[];
  kept: string[];
}

export function initWorkspace(dir: string): InitResult {
  const created: string[] = [];
  const kept: string[] = [];
  mkdirSync(dir, { recursive: true });
  const copy = (from: string, to: string) => {
    const rel = relative(dir, to).split(sep).join('/');
    if (existsSync(to)) {
      kept.push(rel);
      return;
    }
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to);
    created.push(rel);
  };
  const walk = (from: string, to: string) => {
    if (statSync(from).isDirectory()) {
      for (const name of readdirSync(from)) walk(join(from, name), join(to, name));
    } else copy(from, to);
  };
  for (const entry of STARTER_ENTRIES) walk(join(PACKAGE_ROOT, entry), join(dir, entry));

  const gitignore = join(dir, '.gitignore');
  if (!existsSync(gitignore)) {
    writeFileSync(gitignore, GITIGNORE);
    created.push('.gitignore');
  } else if (!/^data\/?$/m.test(readFileSync(gitignore, 'utf8'))) {
    writeFileSync(gitignore, `${readFileSync(gitignore, 'utf8').replace(/\n?$/, '\n')}${GITIGNORE}`);
    created.push('.gitignore (added data/)');
  } else kept.push('.gitignore');
  return { root: dir, created, kept };
}
