/**
 * Writing files into a folder the user owns (`quire export`, `quire init`), planned
 * first and written only when every target is usable: a target is refused when it, or a
 * folder on its way, is a symbolic link leading outside the folder, a file where a folder
 * must be, a folder or a special file (FIFO, socket, device) where a file must be, or
 * when two planned files collide. Nothing is written unless nothing is refused.
 */
import { lstatSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { FileToWrite, FileWriter, WritePlan } from '../../core/ports.js';

const inside = (root: string, path: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** The real path of the folder, or of its nearest existing ancestor joined with the rest. */
function realFolder(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    const parent = dirname(folder);
    return parent === folder ? folder : join(realFolder(parent), folder.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

export function createFileWriter(): FileWriter {
  return {
    plan(root, files) {
      const realRoot = realFolder(root);
      const plan: WritePlan = { root, toWrite: [], unchanged: [], problems: [] };
      const refuse = (file: FileToWrite, message: string) => plan.problems.push({ path: file.path, ...(file.owner ? { owner: file.owner } : {}), message });
      const planned = new Set(files.map((f) => f.path));
      const seen = new Set<string>();

      for (const file of files) {
        if (seen.has(file.path)) {
          refuse(file, 'two files would be written at this path');
          continue;
        }
        seen.add(file.path);
        const parts = file.path.split('/');
        if (file.path.startsWith('/') || parts.some((part) => part === '..' || part === '' || part === '.')) {
          refuse(file, 'the path is not a plain relative path inside the folder');
          continue;
        }
        // Every folder on the way: an existing one must be a real folder inside the root.
        let problem: string | undefined;
        for (let i = 1; i < parts.length && !problem; i++) {
          const prefix = parts.slice(0, i).join('/');
          if (planned.has(prefix)) problem = `${prefix} would be both a file and a folder`;
          const stats = lstatOrUndefined(join(root, prefix));
          if (!stats || problem) continue;
          if (stats.isSymbolicLink()) {
            const real = realFolder(join(root, prefix));
            if (!inside(realRoot, real)) problem = `${prefix} is a symbolic link to ${real}, outside ${root}`;
            else if (!statSync(real).isDirectory()) problem = `${prefix} is a file, not a folder`;
          } else if (!stats.isDirectory()) problem = `${prefix} is a file, not a folder`;
        }
        if (problem) {
          refuse(file, problem);
          continue;
        }
        const target = join(root, file.path);
        let stats = lstatOrUndefined(target);
        if (stats?.isSymbolicLink()) {
          const real = realFolder(target);
          if (!inside(realRoot, real)) {
            refuse(file, `it is a symbolic link to ${real}, outside ${root}`);
            continue;
          }
          stats = lstatOrUndefined(real);
        }
        if (!stats) {
          plan.toWrite.push(file);
          continue;
        }
        if (stats.isDirectory()) refuse(file, 'a folder is in the way');
        else if (!stats.isFile()) refuse(file, 'it is not a regular file (a FIFO, socket or device)');
        else if (Buffer.compare(readFileSync(target), Buffer.from(file.content)) === 0) plan.unchanged.push(file);
        else if (file.replace) plan.toWrite.push(file);
        else refuse(file, 'a different file is already there');
      }
      return plan;
    },

    apply(plan) {
      if (plan.problems.length > 0) throw new Error('a write plan with problems cannot be applied');
      for (const file of plan.toWrite) {
        const target = join(plan.root, file.path);
        mkdirSync(dirname(target), { recursive: true });
        // A new file is created exclusively: whatever appeared since the plan is not overwritten.
        writeFileSync(target, file.content, { flag: file.replace ? 'w' : 'wx' });
      }
    },
  };
}
