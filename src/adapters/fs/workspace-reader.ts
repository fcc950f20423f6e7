/** The WorkspaceReader over a folder on disk. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceReader } from '../../core/ports.js';
import { readAuxiliaryFile, readWorkspaceFile, readWorkspaceFiles } from './workspace-files.js';

export function createWorkspaceReader(root: string): WorkspaceReader {
  return {
    root,
    walk: (known) => readWorkspaceFiles(root, known),
    read: (path) => readFileSync(join(root, path)),
    readOne: (path) => readWorkspaceFile(root, path),
    readAuxiliary: (path) => readAuxiliaryFile(root, path),
  };
}
