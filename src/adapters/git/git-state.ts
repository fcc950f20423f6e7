/**
 * The workspace's git state, recorded with each run so a result can be traced to the
 * exact prompt files that made it. Asked once per process (or watch cycle), without
 * blocking: two git calls side by side.
 */
import { execFile } from 'node:child_process';
import type { GitState } from '../../core/ports.js';

function git(root: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: root, encoding: 'utf8', timeout: 5000, windowsHide: true }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
  });
}

export async function readGitState(root: string): Promise<GitState> {
  try {
    const [commit, status] = await Promise.all([
      git(root, ['rev-parse', 'HEAD']),
      // Only the workspace's own files count; the database folder is ignored by design.
      git(root, ['status', '--porcelain', '--', '.', ':(exclude)data']),
    ]);
    return { commit, dirty: status !== '' };
  } catch {
    return { commit: null, dirty: null }; // not a git repository, or git is not installed
  }
}
