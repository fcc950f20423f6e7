/**
 * Opens a URL in the desktop's browser (`quire view --open`): xdg-open, open or start,
 * detached; a machine without one only misses the convenience (the URL is printed).
 */
import { spawn } from 'node:child_process';

export function openBrowser(url: string): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]]
      : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => process.stderr.write(`could not open a browser (${command}); open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`could not open a browser; open ${url} yourself\n`);
  }
}
