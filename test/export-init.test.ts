/**
 * `quire export` and `quire init` write only inside their folder, plan every write before
 * writing any, and refuse a whole export or init with a message naming each target that
 * cannot be written. The real CLI, real files, symlinks and FIFOs.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function outsideFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'quire-outside-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A synced workspace whose database also holds these database-only blocks. */
function withDatabaseBlocks(files: Record<string, string>, blocks: { title: string; folder: string; content: string }[]): TempWorkspace {
  const ws = makeWorkspace(files);
  cleanups.push(() => ws.cleanup());
  expect(runCli(['-w', ws.root, 'sync']).code).toBe(0);
  const db = new Database(ws.dbPath);
  for (const b of blocks) db.prepare('INSERT INTO blocks (title, content, folder_path) VALUES (?, ?, ?)').run(b.title, b.content, b.folder);
  db.close();
  return ws;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }).map(String).sort();
}

describe('export', () => {
  it('refuses to write through a symlinked folder leading outside the workspace', () => {
    const outside = outsideFolder();
    const ws = withDatabaseBlocks({ 'blocks/ok.md': 'ok\n' }, [{ title: 'pwn', folder: 'evil', content: 'x' }]);
    symlinkSync(outside, join(ws.root, 'blocks/evil'));
    const result = runCli(['-w', ws.root, 'export']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('blocks/evil/pwn.md: cannot write block #');
    expect(result.stderr).toContain('outside');
    expect(filesUnder(outside)).toEqual([]);
  });

  it('refuses the whole export when one row would need a file where another needs a folder, writing nothing', () => {
    const ws = withDatabaseBlocks({ 'blocks/ok.md': 'ok\n' }, [
      { title: 'a', folder: '', content: 'A' },
      { title: 'b', folder: 'a.md', content: 'B' },
    ]);
    const result = runCli(['-w', ws.root, 'export']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('blocks/a.md would be both a file and a folder');
    expect(result.stderr).not.toContain('internal error');
    expect(existsSync(join(ws.root, 'blocks/a.md'))).toBe(false);
  });

  it('names a folder in the way, and does not hang on a FIFO at a target path', () => {
    const ws = withDatabaseBlocks({ 'blocks/ok.md': 'ok\n' }, [
      { title: 'dir', folder: 'x', content: 'A' },
      { title: 'pipe', folder: 'x', content: 'B' },
      { title: 'fine', folder: 'x', content: 'C' },
    ]);
    mkdirSync(join(ws.root, 'blocks/x/dir.md'), { recursive: true });
    execFileSync('mkfifo', [join(ws.root, 'blocks/x/pipe.md')]);
    const started = Date.now();
    const result = runCli(['-w', ws.root, 'export', '--json']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    const error = (JSON.parse(result.stdout) as { error: { message: string } }).error.message;
    expect(error).toContain('blocks/x/dir.md: cannot write block #');
    expect(error).toContain('a folder is in the way');
    expect(error).toContain('blocks/x/pipe.md: cannot write block #');
    expect(error).toContain('not a regular file');
    expect(existsSync(join(ws.root, 'blocks/x/fine.md'))).toBe(false);
  });
});

describe('init', () => {
  function emptyDir(): string {
    const dir = outsideFolder();
    return dir;
  }

  it('scaffolds a workspace that validates, then keeps every file on a second init', () => {
    const dir = emptyDir();
    const first = runCli(['init', dir, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const created = (JSON.parse(first.stdout) as { created: string[] }).created;
    expect(created).toContain('quire.yaml');
    expect(created).toContain('.gitignore');
    expect(runCli(['-w', dir, 'validate']).code).toBe(0);
    writeFileSync(join(dir, 'quire.yaml'), '# mine\n');
    const second = JSON.parse(runCli(['init', dir, '--json']).stdout) as { created: string[]; kept: string[] };
    expect(second.created).toEqual([]);
    expect(second.kept).toContain('quire.yaml');
    expect(readFileSync(join(dir, 'quire.yaml'), 'utf8')).toBe('# mine\n');
  });

  it('refuses to write into a blocks folder that is a symlink leading outside, writing nothing', () => {
    const dir = emptyDir();
    const outside = outsideFolder();
    symlinkSync(outside, join(dir, 'blocks'));
    const result = runCli(['init', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('blocks is a symbolic link to');
    expect(filesUnder(outside)).toEqual([]);
    expect(existsSync(join(dir, 'quire.yaml'))).toBe(false);
  });

  it('does not append to a .gitignore that is a symlink leading outside', () => {
    const dir = emptyDir();
    const outside = outsideFolder();
    writeFileSync(join(outside, 'theirs'), 'node_modules/\n');
    symlinkSync(join(outside, 'theirs'), join(dir, '.gitignore'));
    const result = runCli(['init', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('.gitignore: it is a symbolic link to');
    expect(readFileSync(join(outside, 'theirs'), 'utf8')).toBe('node_modules/\n');
  });
});
