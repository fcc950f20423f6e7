/**
 * `quire init [dir]`: scaffold a working workspace. The starter files are the package's
 * own starter workspace (blocks/, workflows/, quire.yaml) plus the JSON Schemas that the
 * files' `yaml-language-server` modelines point at. Existing files are never overwritten,
 * and nothing is written through a symbolic link that leads outside the folder.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.js';
import type { FileToWrite, FileWriter } from '../core/ports.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STARTER_ENTRIES = ['quire.yaml', 'blocks', 'workflows', 'schemas'];
const GITIGNORE = '# quire: the database is a mirror plus run history; keep it out of git\ndata/\n';

export interface InitResult {
  root: string;
  created: string[];
  kept: string[];
}

export function initWorkspace(dir: string, writer: FileWriter): InitResult {
  const starter: FileToWrite[] = [];
  const walk = (from: string, rel: string) => {
    if (statSync(from).isDirectory()) {
      for (const name of readdirSync(from).sort()) walk(join(from, name), `${rel}/${name}`);
    } else starter.push({ path: rel, content: readFileSync(from) });
  };
  for (const entry of STARTER_ENTRIES) walk(join(PACKAGE_ROOT, entry), entry);

  // Starter files already there (even edited) are kept; only missing ones are written.
  const firstLook = writer.plan(dir, starter);
  const differing = new Set(firstLook.problems.filter((p) => p.message.startsWith('a different file')).map((p) => p.path));
  const files = starter.filter((file) => !differing.has(file.path));

  const gitignore = join(dir, '.gitignore');
  let current: string | undefined;
  try {
    current = readFileSync(gitignore, 'utf8');
  } catch {
    current = undefined;
  }
  const ignoresData = current !== undefined && /^data\/?$/m.test(current);
  if (!ignoresData) files.push({ path: '.gitignore', content: current === undefined ? GITIGNORE : `${current.replace(/\n?$/, '\n')}${GITIGNORE}`, replace: true });

  const plan = writer.plan(dir, files);
  if (plan.problems.length > 0) {
    throw new AppError('IO', `init refused: ${plan.problems.length} target(s) cannot be written:\n  ${plan.problems.map((p) => `${p.path}: ${p.message}`).join('\n  ')}`, {
      hint: 'nothing was written; fix those paths or choose another folder',
    });
  }
  writer.apply(plan);
  const created = plan.toWrite.map((f) => (f.path === '.gitignore' && current !== undefined ? '.gitignore (added data/)' : f.path));
  const kept = [...plan.unchanged.map((f) => f.path), ...differing, ...(ignoresData ? ['.gitignore'] : [])].sort();
  return { root: dir, created, kept };
}
