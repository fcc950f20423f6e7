/**
 * Which process records a run, and whether it still runs. A pid alone is not enough: in a
 * container (or any PID namespace) the next quire often gets the very pid of the one that
 * was killed (1, typically). So a run records its process's pid and start, and a process
 * counts as the same only when both match.
 *
 * The start is the kernel's start time of the process (Linux: /proc/<pid>/stat field 22,
 * clock ticks since boot, with the boot id), which another process can read too; elsewhere
 * the process's own time origin, which only it knows: then another live pid counts as alive.
 */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { ProcessLiveness, RunOwner } from '../../core/ports.js';

function linuxStart(pid: number | 'self', bootId: string | undefined): string | undefined {
  if (bootId === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = fields[19];
    return ticks ? `linux:${bootId}:${ticks}` : undefined;
  } catch {
    return undefined;
  }
}

function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function createProcessLiveness(): ProcessLiveness {
  const bootId = readBootId();
  const host = hostname();
  const self: RunOwner & { host: string } = { pid: process.pid, start: linuxStart('self', bootId) ?? `origin:${Math.round(performance.timeOrigin)}`, host };
  return {
    self,
    author: { user: userName(), host },
    isAlive(owner) {
      // Another machine's process cannot be looked up from here: its own machine settles it.
      if (owner.host !== undefined && owner.host !== host) return true;
      if (owner.pid === self.pid) return owner.start === undefined ? true : owner.start === self.start;
      try {
        process.kill(owner.pid, 0);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
      }
      if (owner.start?.startsWith('linux:')) {
        const now = linuxStart(owner.pid, bootId);
        if (now !== undefined) return now === owner.start;
      }
      return true; // a live pid whose start cannot be compared: assume it is the same process
    },
  };
}

/** The login name (USER when the passwd entry cannot be read, as in some containers). */
function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? process.env['USERNAME'] ?? 'unknown';
  }
}
