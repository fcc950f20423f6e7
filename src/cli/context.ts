/**
 * Global flags -> where the workspace and database are. Shared by every command.
 */
import { findWorkspaceRoot, resolveDbPath } from '../app/workspace-root.js';

export interface GlobalOptions {
  workspace?: string;
  db?: string;
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
}

export interface CommandContext {
  root: string;
  dbPath: string;
  json: boolean;
  quiet: boolean;
}

export function resolveContext(options: GlobalOptions): CommandContext {
  const root = findWorkspaceRoot(options.workspace);
  return { root, dbPath: resolveDbPath(root, options.db), json: Boolean(options.json), quiet: Boolean(options.quiet) };
}
