/**
 * The workspace's git state, recorded with each run so a result can be traced to the
 * exact prompt files that made it.
 */
import { execFileSync } from 'node:child_process';

export interface GitState {
  commit: string | null;
  dirty: boolean | null;
}

export function readGitState(root: string): GitState {
  const git = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  try {
    const commit = git(['rev-parse', 'HEAD']);
    // Only the workspace's own files count; the database folder is ignored by design.
    const dirty = git(['status', '--porcelain', '--', '.', ':(exclude)data']) !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null }; // not a git repository, or git is not installed
  }
}
