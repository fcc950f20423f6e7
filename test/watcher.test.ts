/**
 * The workspace watcher (issue 8) on real files in temp folders: each way an editor saves,
 * done with the file operations that editor makes, gives exactly one batch naming that
 * file once; a checkout or stash of 50 files gives one batch; nothing else is reported.
 *
 * Batches are waited for with generous timeouts, then the test waits QUIET_MS more, so a
 * second (split or spurious) batch would be seen, and asserts the exact list of batches.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { watchWorkspace } from '../src/adapters/fs/watcher.js';
import type { WorkspaceChangeBatch, WorkspaceWatch } from '../src/core/ports.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

/** How long to keep listening after the expected batches, to catch an extra one. */
const QUIET_MS = 200;
/** How long a batch may take on a loaded machine before the test gives up. */
const BATCH_TIMEOUT_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Seen extends WorkspaceChangeBatch {
  /** Each changed file's content when the batch was delivered (a half-written file would show here). */
  contents: Record<string, string>;
}

interface Session {
  ws: TempWorkspace;
  root: string;
  batches: Seen[];
  /** performance.now() at each batch. */
  times: number[];
  errors: Error[];
  watch: WorkspaceWatch;
  path(relative: string): string;
  /** Waits for `count` batches in all, then `quietMs` more; returns every batch seen. */
  settle(count: number, quietMs?: number): Promise<Seen[]>;
}

const sessions: Session[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) {
    await session.watch.close();
    session.ws.cleanup();
  }
});

interface StartOptions {
  /** Runs on the workspace before the watch starts. */
  before?: (ws: TempWorkspace) => void;
  /** Default: the helper's database path and its -wal, -shm, -journal. */
  ignorePaths?: (ws: TempWorkspace) => string[];
  debounceMs?: number;
}

async function start(files: Record<string, string> = {}, options: StartOptions = {}): Promise<Session> {
  const ws = makeWorkspace(files);
  options.before?.(ws);
  const batches: Seen[] = [];
  const times: number[] = [];
  const errors: Error[] = [];
  let wake: (() => void) | undefined;
  const watch = await watchWorkspace(ws.root, {
    ignorePaths: options.ignorePaths?.(ws) ?? [ws.dbPath, `${ws.dbPath}-wal`, `${ws.dbPath}-shm`, `${ws.dbPath}-journal`],
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
    onBatch(batch) {
      const contents = Object.fromEntries(batch.changed.map((path) => [path, readFileSync(join(ws.root, path), 'utf8')]));
      batches.push({ ...batch, contents });
      times.push(performance.now());
      wake?.();
    },
    onError: (error) => errors.push(error),
  });
  const session: Session = {
    ws,
    root: ws.root,
    batches,
    times,
    errors,
    watch,
    path: (relative) => join(ws.root, relative),
    async settle(count, quietMs = QUIET_MS) {
      const until = Date.now() + BATCH_TIMEOUT_MS;
      while (batches.length < count && Date.now() < until) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, until - Date.now());
        });
      }
      await sleep(quietMs);
      return batches.map((batch) => ({ ...batch }));
    },
  };
  sessions.push(session);
  return session;
}

const A = 'blocks/notes/a.md';
const START = { [A]: 'one\n', 'blocks/b.md': 'bee\n', 'quire.yaml': 'llm_port: 5001\n' };
const changedA = (content: string): Seen => ({ changed: [A], removed: [], contents: { [A]: content } });

describe('watcher: one batch per save, whatever the editor does', () => {
  // Each save is done with the calls that editor makes, back to back. `newFile`: the save
  // leaves another file (inode) at the path, so a second save checks it is still watched.
  const saves: [name: string, newFile: boolean, save: (s: Session, content: string) => void | Promise<void>][] = [
    ['write in place (nano; VS Code default: truncate + write)', false, (s, content) => writeFileSync(s.path(A), content)],
    ['write in place in two writes 5 ms apart (several change events)', false, async (s, content) => {
      const fd = openSync(s.path(A), 'w');
      writeSync(fd, content.slice(0, 2));
      await sleep(5);
      writeSync(fd, content.slice(2));
      closeSync(fd);
    }],
    ['vim, backupcopy=yes with swap file: copy to x~, write in place, delete x~', false, (s, content) => {
      writeFileSync(s.path('blocks/notes/.a.md.swp'), 'swap');
      writeFileSync(s.path(`${A}~`), readFileSync(s.path(A)));
      writeFileSync(s.path(A), content);
      unlinkSync(s.path(`${A}~`));
      writeFileSync(s.path('blocks/notes/.a.md.swx'), 'swap');
    }],
    ['vim, backupcopy=no: probe 4913, rename to x~, write new, delete x~', true, (s, content) => {
      const dir = s.path('blocks/notes');
      writeFileSync(join(dir, '4913'), '');
      unlinkSync(join(dir, '4913'));
      renameSync(s.path(A), s.path(`${A}~`));
      writeFileSync(s.path(A), content);
      unlinkSync(s.path(`${A}~`));
    }],
    ['JetBrains safe write: x___jb_tmp___, x -> x___jb_old___, tmp -> x, delete old', true, (s, content) => {
      writeFileSync(s.path(`${A}___jb_tmp___`), content);
      renameSync(s.path(A), s.path(`${A}___jb_old___`));
      renameSync(s.path(`${A}___jb_tmp___`), s.path(A));
      unlinkSync(s.path(`${A}___jb_old___`));
    }],
    ['emacs: lock link .#x, autosave #x#, rename to x~, write new, clean up', true, (s, content) => {
      symlinkSync('user@host.1234:1700000000', s.path('blocks/notes/.#a.md'));
      writeFileSync(s.path('blocks/notes/#a.md#'), content);
      renameSync(s.path(A), s.path(`${A}~`));
      writeFileSync(s.path(A), content);
      unlinkSync(s.path('blocks/notes/#a.md#'));
      unlinkSync(s.path('blocks/notes/.#a.md'));
    }],
    ['sed -i (a temp file renamed over)', true, (s, content) => {
      execFileSync('sed', ['-i', `s/^one$/${content.trim()}/`, s.path(A)]);
    }],
    ['atomic writer (write-file-atomic: x.<hash> renamed over)', true, (s, content) => {
      writeFileSync(s.path(`${A}.3141592653`), content);
      renameSync(s.path(`${A}.3141592653`), s.path(A));
    }],
  ];

  it.each(saves)('%s', async (_name, newFile, save) => {
    const s = await start(START);
    const at = performance.now();
    await save(s, 'two\n');
    const took = performance.now() - at;
    const first = await s.settle(1, newFile ? 150 : QUIET_MS);
    // A save that a loaded machine stretched past the settle time (60 ms) may be seen midway.
    if (took < 58) expect(first).toEqual([changedA('two\n')]);
    else expect(first.at(-1)).toEqual(changedA('two\n'));
    if (newFile) {
      writeFileSync(s.path(A), 'three\n');
      expect((await s.settle(first.length + 1)).slice(first.length)).toEqual([changedA('three\n')]);
    }
    expect(s.errors).toEqual([]);
  });

  // A writer that truncates and writes later. chokidar emits one `change` (the truncation) and
  // drops the write's within 50 ms of it: the batch must wait for the write, not report an
  // empty file. A pause longer than the settle time (60 ms) is two saves as far as anyone can
  // tell, so a loaded machine that stretches the sleep gets only the last batch checked.
  it.each([20, 45])('truncate, then write %i ms later: one batch, with the written file', async (pauseMs) => {
    const s = await start(START);
    const at = performance.now();
    truncateSync(s.path(A), 0);
    await sleep(pauseMs);
    appendFileSync(s.path(A), 'two\n');
    const pause = performance.now() - at;
    const batches = await s.settle(1);
    if (pause < 58) expect(batches).toEqual([changedA('two\n')]);
    else expect(batches.at(-1)).toEqual(changedA('two\n'));
  });

  // Deleted and created again within the removal settle time (110 ms): changed, not removed.
  it('delete, then create 70 ms later: one batch, changed', async () => {
    const s = await start(START);
    const at = performance.now();
    unlinkSync(s.path(A));
    await sleep(70);
    writeFileSync(s.path(A), 'two\n');
    const pause = performance.now() - at;
    const batches = await s.settle(1);
    if (pause < 100) expect(batches).toEqual([changedA('two\n')]);
    else expect(batches.at(-1)).toEqual(changedA('two\n'));
  });

  it('a file deleted and not created again is removed, once', async () => {
    const s = await start(START);
    unlinkSync(s.path(A));
    expect(await s.settle(1)).toEqual([{ changed: [], removed: [A], contents: {} }]);
  });

  it('a new file, in folders made for it, is changed', async () => {
    const s = await start(START);
    mkdirSync(s.path('blocks/new/deep'), { recursive: true });
    writeFileSync(s.path('blocks/new/deep/c.md'), 'sea\n');
    expect(await s.settle(1)).toEqual([{ changed: ['blocks/new/deep/c.md'], removed: [], contents: { 'blocks/new/deep/c.md': 'sea\n' } }]);
  });

  it('a file created and deleted within one batch is not reported', async () => {
    const s = await start(START);
    writeFileSync(s.path('blocks/brief.md'), 'x');
    unlinkSync(s.path('blocks/brief.md'));
    writeFileSync(s.path('blocks/b.md'), 'bee 2\n');
    expect(await s.settle(1)).toEqual([{ changed: ['blocks/b.md'], removed: [], contents: { 'blocks/b.md': 'bee 2\n' } }]);
  });

  it('a folder removed or renamed: its files are removed, the new names changed, in one batch', async () => {
    const s = await start({ ...START, 'blocks/old/x.md': 'x\n', 'blocks/old/y.md': 'y\n', 'blocks/gone/z.md': 'z\n' });
    renameSync(s.path('blocks/old'), s.path('blocks/renamed'));
    rmSync(s.path('blocks/gone'), { recursive: true });
    expect(await s.settle(1)).toEqual([{
      changed: ['blocks/renamed/x.md', 'blocks/renamed/y.md'],
      removed: ['blocks/gone/z.md', 'blocks/old/x.md', 'blocks/old/y.md'],
      contents: { 'blocks/renamed/x.md': 'x\n', 'blocks/renamed/y.md': 'y\n' },
    }]);
  });
});

describe('watcher: what is watched', () => {
  it('blocks/, workflows/, formats/ and quire.yaml made after the watch starts are watched', async () => {
    const s = await start();
    s.ws.write('blocks/a.md', 'a\n');
    s.ws.write('workflows/w.workflow.yaml', 'name: w\n');
    s.ws.write('workflows/deep/p.payload.yaml', 'name: p\n');
    s.ws.write('formats/f.yaml', 'prefix: x\n');
    s.ws.write('quire.yaml', 'llm_port: 5001\n');
    const all = ['blocks/a.md', 'formats/f.yaml', 'quire.yaml', 'workflows/deep/p.payload.yaml', 'workflows/w.workflow.yaml'];
    const first = await s.settle(1);
    expect(first.map((b) => ({ changed: b.changed, removed: b.removed }))).toEqual([{ changed: all, removed: [] }]);
    // The new folders are watched, not only seen once.
    s.ws.write('workflows/deep/p.payload.yaml', 'name: p2\n');
    s.ws.write('formats/f.yaml', 'prefix: y\n');
    const second = await s.settle(2);
    expect(second[1]).toEqual({ changed: ['formats/f.yaml', 'workflows/deep/p.payload.yaml'], removed: [], contents: { 'formats/f.yaml': 'prefix: y\n', 'workflows/deep/p.payload.yaml': 'name: p2\n' } });
  });

  it('ignores the database, .git, node_modules, dot-files, editor droppings and files quire does not read', async () => {
    const s = await start(START, {
      before: (ws) => {
        ws.write('.git/HEAD', 'ref: refs/heads/main\n');
        ws.write('node_modules/pkg/README.md', 'x');
      },
      // The database at the root, and one path that would otherwise be a workspace file.
      ignorePaths: (ws) => ['quire.db', 'quire.db-wal', 'quire.db-shm', 'quire.db-journal', 'formats/state.yaml'].map((name) => join(ws.root, name)),
    });
    for (const name of ['quire.db', 'quire.db-wal', 'quire.db-shm', 'quire.db-journal', 'formats/state.yaml', '.git/index', '.git/refs/heads/x', 'node_modules/pkg/index.md', 'blocks/node.txt', 'formats/sub/f.yaml', 'blocks/.hidden.md', 'blocks/.dir/x.md', 'blocks/notes/.a.md.swp', 'blocks/notes/.a.md.swx', 'blocks/notes/a.md~', 'blocks/notes/4913', 'blocks/notes/.#a.md', 'blocks/notes/#a.md#', 'blocks/notes/a.md___jb_tmp___', 'blocks/notes/a.md___jb_old___', 'blocks/x.tmp', 'workflows/w.workflow.yml', 'README.md', 'other/x.md']) {
      s.ws.write(name, 'x');
    }
    appendFileSync(s.path('quire.db'), 'more');
    expect(await s.settle(0)).toEqual([]);
    // It still watches what it should.
    writeFileSync(s.path('blocks/b.md'), 'bee 2\n');
    expect((await s.settle(1)).map((b) => b.changed)).toEqual([['blocks/b.md']]);
    expect(s.errors).toEqual([]);
  });

  it('a change of attributes only (mode, times set back) is not reported; a write after it is', async () => {
    const old = new Date(Date.now() - 3_600_000);
    const s = await start(START, { before: (ws) => utimesSync(join(ws.root, A), old, old) });
    chmodSync(s.path(A), 0o600);
    utimesSync(s.path(A), old, old);
    expect(await s.settle(0)).toEqual([]);
    writeFileSync(s.path(A), 'two\n');
    expect(await s.settle(1)).toEqual([changedA('two\n')]);
  });

  it('just after a write, equal stats are checked against the bytes: same bytes are left out, a same-size write in the same clock tick is not', async () => {
    const s = await start(START);
    // A whole-second mtime (as on a file system with 1 s timestamps), so it can be set exactly again.
    const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
    writeFileSync(s.path(A), 'two\n');
    utimesSync(s.path(A), tick, tick);
    expect(await s.settle(1)).toEqual([changedA('two\n')]);
    // What a late duplicate event looks like: an event, and the file's stats unchanged.
    // (Times set again: chokidar passes that on; a chmod after a read it drops by itself.)
    utimesSync(s.path(A), tick, tick);
    expect(await s.settle(1)).toEqual([changedA('two\n')]);
    // Another write of the same size in the same tick: same size, mtime and inode.
    writeFileSync(s.path(A), 'six\n');
    utimesSync(s.path(A), tick, tick);
    expect(statSync(s.path(A)).mtimeMs).toBe(tick.getTime());
    expect(await s.settle(2)).toEqual([changedA('two\n'), changedA('six\n')]);
  });

  it('a shorter debounce still waits out chokidar\'s 50 ms change throttle', async () => {
    const s = await start(START, { debounceMs: 5 });
    const at = performance.now();
    writeFileSync(s.path(A), 'two\n');
    expect(await s.settle(1)).toEqual([changedA('two\n')]);
    expect(s.times[0]! - at).toBeGreaterThanOrEqual(55);
  });

  it('refuses a root that is not a folder', async () => {
    await expect(watchWorkspace('/nonexistent/quire-watch-root', { ignorePaths: [], onBatch: () => {}, onError: () => {} })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('watcher: bursts', () => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', ...args], { cwd, stdio: 'pipe' });
  const FILES = Array.from({ length: 50 }, (_, i) => `blocks/set${i % 5}/b${String(i).padStart(2, '0')}.md`);

  /** A repository whose `other` branch changes 50 files: 40 edited, 5 added, 5 deleted. */
  function repository(ws: TempWorkspace) {
    const files = Object.fromEntries(FILES.slice(0, 45).map((path) => [path, `${path} on main\n`]));
    for (const [path, content] of Object.entries(files)) ws.write(path, content);
    ws.write('quire.yaml', 'llm_port: 5001\n');
    git(ws.root, 'init', '-q', '-b', 'main');
    git(ws.root, 'add', '-A');
    git(ws.root, 'commit', '-q', '-m', 'main');
    git(ws.root, 'checkout', '-q', '-b', 'other');
    for (const path of FILES.slice(0, 40)) ws.write(path, `${path} on other, longer\n`);
    for (const path of FILES.slice(40, 45)) rmSync(join(ws.root, path));
    for (const path of FILES.slice(45)) ws.write(path, `${path} added on other\n`);
    git(ws.root, 'add', '-A');
    git(ws.root, 'commit', '-q', '-m', 'other');
    git(ws.root, 'checkout', '-q', 'main');
  }

  it('git checkout of a branch that changes 50 files is one batch with all 50; checking out back is another', async () => {
    const s = await start({}, { before: repository });
    git(s.root, 'checkout', '-q', 'other');
    const [toOther] = await s.settle(1);
    expect(s.batches).toHaveLength(1);
    expect(toOther!.changed).toEqual([...FILES.slice(0, 40), ...FILES.slice(45)].sort());
    expect(toOther!.removed).toEqual(FILES.slice(40, 45).sort());
    expect(toOther!.contents[FILES[0]!]).toBe(`${FILES[0]} on other, longer\n`);

    git(s.root, 'checkout', '-q', 'main');
    const batches = await s.settle(2);
    expect(batches).toHaveLength(2);
    expect(batches[1]!.changed).toEqual(FILES.slice(0, 45).sort());
    expect(batches[1]!.removed).toEqual(FILES.slice(45).sort());
  });

  it('git stash of 50 edited files is one batch with all 50', async () => {
    const s = await start({}, { before: repository });
    for (const path of FILES.slice(0, 45)) s.ws.write(path, `${path} edited\n`);
    s.ws.write('blocks/extra/one.md', 'x\n');
    rmSync(s.path('quire.yaml'));
    git(s.root, 'add', 'blocks/extra/one.md');
    // The edits themselves are one burst (written back to back).
    const [edits] = await s.settle(1);
    expect(edits!.changed).toHaveLength(46);
    expect(edits!.removed).toEqual(['quire.yaml']);

    git(s.root, 'stash', '-q');
    const batches = await s.settle(2);
    expect(batches).toHaveLength(2);
    expect(batches[1]!.changed).toEqual([...FILES.slice(0, 45), 'quire.yaml'].sort());
    expect(batches[1]!.removed).toEqual(['blocks/extra/one.md']);
    expect(batches[1]!.contents['quire.yaml']).toBe('llm_port: 5001\n');
  });
});

describe('watcher: close', () => {
  const handles = () => process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap' || name === 'StatWatcher').length;

  it('releases every watch handle, and no batch comes after close()', async () => {
    await sleep(50); // handles of the tests before finish closing
    const before = handles();
    const s = await start(START);
    expect(handles()).toBeGreaterThan(before);
    writeFileSync(s.path(A), 'two\n');
    await s.watch.close();
    await s.watch.close(); // twice is harmless
    writeFileSync(s.path('blocks/b.md'), 'bee 2\n');
    await sleep(QUIET_MS);
    expect(s.batches).toEqual([]);
    expect(handles()).toBe(before);
  });

  it('a process that watches, gets a batch and closes exits by itself (the built adapter)', async () => {
    const built = fileURLToPath(new URL('../dist/adapters/fs/watcher.js', import.meta.url));
    expect(existsSync(built), 'run `npm run build` first').toBe(true);
    const ws = makeWorkspace(START);
    try {
      const script = `
        import { watchWorkspace } from ${JSON.stringify(built)};
        import { writeFileSync } from 'node:fs';
        const watch = await watchWorkspace(${JSON.stringify(ws.root)}, {
          ignorePaths: [],
          onBatch: async (batch) => { console.log(JSON.stringify(batch)); await watch.close(); },
          onError: (error) => { console.error(error); process.exitCode = 1; },
        });
        writeFileSync(${JSON.stringify(join(ws.root, A))}, 'two\\n');
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timeout = setTimeout(() => {
          child.kill();
          resolve(-1);
        }, 8000);
        child.on('close', (exit) => {
          clearTimeout(timeout);
          resolve(exit);
        });
      });
      expect({ code, stdout: stdout.trim(), stderr }).toEqual({ code: 0, stdout: JSON.stringify({ changed: [A], removed: [] }), stderr: '' });
    } finally {
      ws.cleanup();
    }
  });
});

describe('watcher: timing', () => {
  it('a save is reported after tens of milliseconds, not seconds', async () => {
    const s = await start(START);
    const at = performance.now();
    writeFileSync(s.path(A), 'two\n');
    expect(await s.settle(1)).toEqual([changedA('two\n')]);
    const lag = s.times[0]! - at;
    // Not sooner than the settle time after a change (60 ms); far from awaitWriteFinish's 2 s
    // (the upper bound is loose for a loaded machine: typically about 65 ms).
    expect(lag).toBeGreaterThanOrEqual(55);
    expect(lag).toBeLessThan(1000);
  });
});
