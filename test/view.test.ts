/**
 * `quire view` over HTTP: a real viewer on 127.0.0.1 reading a database recorded by real
 * runs against mock-llm (and batches and odd rows written beside them): every page, the
 * filters and pages, escaping of untrusted text, the Host check, the token, GET-only,
 * the database left byte-identical, exports equal to `quire results`, live versions over
 * server-sent events, a database from the original system, and the command itself.
 */
import { hostname, userInfo } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppContext } from '../src/cli/context.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { BIN, runCliAsync } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';
import { fileHash, get, insertBatch, insertOddRows, makeOriginalDatabase, openViewer, pairWorkspace, recordRuns } from './view-fixture.js';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(1)>';

let mock: MockLlm;
let ws: TempWorkspace;
let runs: number[];
let batchId: number;
let odd: ReturnType<typeof insertOddRows>;
let served: Awaited<ReturnType<typeof openViewer>>;
let base: string;
let dbHashBefore: string;

beforeAll(async () => {
  mock = await startMockLlm({ api: 'openai' });
  ws = pairWorkspace(mock.url);
  const ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
  try {
    runs = await recordRuns(ctx, ['the quick brown fox', 'the quick red fox', `${SCRIPT} and ${IMG}`]);
    // 120 records: every 10th failed, every 25th invalid; topics with "needle" in every 7th.
    batchId = await insertBatch(ctx, {
      records: 120,
      topic: (n) => (n % 7 === 0 ? `needle ${n}` : `hay ${n}`),
      status: (n) => (n % 25 === 0 ? 'invalid' : n % 10 === 0 ? 'failed' : 'completed'),
    });
  } finally {
    await ctx.close();
  }
  odd = insertOddRows(ws.dbPath);
  dbHashBefore = fileHash(ws.dbPath);
  served = await openViewer(ws);
  base = served.base;
});

afterAll(async () => {
  await served?.close();
  await mock?.close();
  ws?.cleanup();
});

describe('pages', () => {
  it('serves every page with its content', async () => {
    const root = await get(`${base}/`);
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/runs');

    const newest = await get(`${base}/runs`);
    expect(newest.status).toBe(200);
    expect(newest.body).toContain('1–50 of 122 runs');
    const list = await get(`${base}/runs?limit=500`);
    expect(list.headers['content-type']).toMatch(/^text\/html/);
    for (const id of runs) expect(list.body, `run ${id}`).toContain(`href="/runs/${id}"`);
    expect(list.body).toMatch(/>\s*✓ 1<\/span>/); // checks of the fox runs
    expect(list.body).toContain('process gone'); // the typed-in running row, shown as it is

    const run = await get(`${base}/runs/${runs[0]}`);
    expect(run.status).toBe(200);
    expect(run.body).toContain('Topic: the quick brown fox'); // the prompt sent
    expect(run.body).toContain('echo: Topic: the quick brown fox'); // the response
    expect(run.body).toContain('data-copy="r'); // copy buttons
    expect(run.body).toContain('mock-model');
    expect(run.body).toContain(mock.url);
    expect(run.body).toContain('sampler.'); // sampler settings
    expect(run.body).toContain('blocks/ask.md'); // provenance: files used
    expect(run.body).toContain(`<th>ran by</th><td>${userInfo().username} on ${hostname()}</td>`); // who ran it, and where
    expect(run.body).toContain('checks passed');

    const compare = await get(`${base}/compare?a=${runs[0]}&b=${runs[1]}`);
    expect(compare.status).toBe(200);
    expect(compare.body).toContain('<del>brown</del>');
    expect(compare.body).toContain('<ins>red</ins>');
    // Only b: the previous completed run of its workflow.
    const previous = await get(`${base}/compare?b=${runs[1]}`);
    expect(previous.body).toContain(`href="/runs/${runs[0]}"`);
    // Ticked in the list: the older is a.
    const ticked = await get(`${base}/compare?run=${runs[1]}&run=${runs[0]}`);
    expect(ticked.body).toContain('<del>brown</del>');
    expect((await get(`${base}/compare`)).body).toContain('name="b"');

    const batches = await get(`${base}/batches`);
    expect(batches.status).toBe(200);
    expect(batches.body).toContain(`href="/batches/${batchId}"`);
    expect(batches.body).toContain('<progress');

    const batch = await get(`${base}/batches/${batchId}`);
    expect(batch.status).toBe(200);
    expect(batch.body).toContain('1–50 of 120 records');
    expect(batch.body).toContain('echo: Topic: hay 1'); // a step's output
    expect(batch.body).toContain('input.topic');
    expect(batch.body).toContain('not found in'); // a failed check's reason
    expect(batch.body).toContain(`/batches/${batchId}/results.csv`);

    const workflows = await get(`${base}/workflows`);
    expect(workflows.status).toBe(200);
    expect(workflows.body).toContain('one → two');
    const id = /href="\/workflows\/(\d+)"/.exec(workflows.body)![1];
    const workflow = await get(`${base}/workflows/${id}`);
    expect(workflow.status).toBe(200);
    expect(workflow.body).toContain('<code>ask</code>'); // the block a tag reaches (payload_blocks)
    expect(workflow.body).toContain('workflows/one.payload.yaml');
    expect(workflow.body).toContain(`href="/runs/${odd.array}"`); // its latest runs (the typed rows are the newest)
  });

  it('serves its own assets, cached by content hash', async () => {
    const page = await get(`${base}/runs`);
    const css = /href="(\/assets\/style\.[0-9a-f]+\.css)"/.exec(page.body)![1]!;
    const js = /src="(\/assets\/app\.[0-9a-f]+\.js)"/.exec(page.body)![1]!;
    const style = await get(`${base}${css}`);
    expect(style.status).toBe(200);
    expect(style.headers['content-type']).toMatch(/^text\/css/);
    expect(style.headers['cache-control']).toContain('immutable');
    expect((await get(`${base}${js}`)).headers['content-type']).toMatch(/^text\/javascript/);
    expect((await get(`${base}/assets/nope.js`)).status).toBe(404);
    expect(page.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z]/i); // no CDN, nothing from elsewhere
  });

  it('answers unknown things with 404 and bad parameters with 400', async () => {
    expect((await get(`${base}/runs/999999`)).status).toBe(404);
    expect((await get(`${base}/batches/999`)).status).toBe(404);
    expect((await get(`${base}/workflows/999`)).status).toBe(404);
    expect((await get(`${base}/nothing-here`)).status).toBe(404);
    expect((await get(`${base}/runs/abc`)).status).toBe(400);
    expect((await get(`${base}/runs?status=weird`)).status).toBe(400);
    expect((await get(`${base}/runs?from=2024-13-45`)).status).toBe(400);
    expect((await get(`${base}/runs?limit=100000`)).status).toBe(400);
    expect((await get(`${base}/batches/${batchId}?sort=input.x%22y`)).status).toBe(400);
    expect((await get(`${base}/batches/999/results.jsonl`)).status).toBe(404);
  });
});

describe('filters and pages', () => {
  const rowIds = (body: string) => [...body.matchAll(/<tr data-run="(\d+)"/g)].map((m) => Number(m[1]));

  it('filters runs by workflow, status, trigger and date, newest first', async () => {
    const all = rowIds((await get(`${base}/runs?limit=500`)).body);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    expect(all.length).toBe(3 + 116 + 3); // recorded, batch runs (not the 4 invalid), odd rows

    const cli = rowIds((await get(`${base}/runs?trigger=cli`)).body);
    expect(cli).toEqual([...runs].reverse());
    const batchRuns = await get(`${base}/runs?trigger=batch&limit=20`);
    expect(batchRuns.body).toContain('1–20 of 116 runs');
    expect(rowIds((await get(`${base}/runs?trigger=watch`)).body)).toEqual([]);

    const failed = rowIds((await get(`${base}/runs?status=failed&limit=500`)).body);
    expect(failed).toContain(odd.array);
    expect(failed.length).toBe(10 + 1); // batch records 10, 20, …, 120 but not 50 and 100 (invalid), and the typed row

    const byWorkflow = rowIds((await get(`${base}/runs?workflow=pair&limit=500`)).body);
    expect(byWorkflow).not.toContain(odd.orphan);
    expect(byWorkflow).toContain(runs[0]);

    const today = new Date().toISOString().slice(0, 10);
    const todays = rowIds((await get(`${base}/runs?from=${today}&to=${today}&limit=500`)).body);
    expect(todays).toContain(runs[0]);
    expect(todays).not.toContain(odd.notJson); // started 2020-01-01
    expect(rowIds((await get(`${base}/runs?from=2020-01-01&to=2020-01-01`)).body)).toEqual([odd.notJson]);
  });

  it('pages through the runs', async () => {
    const first = await get(`${base}/runs?limit=50`);
    expect(first.body).toContain('1–50 of 122 runs · page 1 of 3');
    expect(first.body).toContain('href="/runs?page=2"'); // next keeps the default page size out of the URL
    const third = await get(`${base}/runs?page=3`);
    expect(third.body).toContain('101–122 of 122 runs · page 3 of 3');
    const ids = [...rowIds(first.body), ...rowIds((await get(`${base}/runs?page=2`)).body), ...rowIds(third.body)];
    expect(new Set(ids).size).toBe(122);
  });

  it('filters, sorts and pages a batch on the server', async () => {
    const records = (body: string) => [...body.matchAll(/<tr data-record="(\d+)"/g)].map((m) => Number(m[1]));
    expect(records((await get(`${base}/batches/${batchId}`)).body)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(records((await get(`${base}/batches/${batchId}?page=3`)).body)).toEqual(Array.from({ length: 20 }, (_, i) => i + 101));

    const failed = await get(`${base}/batches/${batchId}?status=failed`);
    expect(records(failed.body)).toEqual([10, 20, 30, 40, 60, 70, 80, 90, 110, 120]);
    expect(records((await get(`${base}/batches/${batchId}?status=invalid`)).body)).toEqual([25, 50, 75, 100]);

    // Text in inputs and outputs, case-insensitively; LIKE's wildcards are plain text.
    expect(records((await get(`${base}/batches/${batchId}?q=NEEDLE&limit=500`)).body)).toEqual([7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91, 98, 105, 112, 119]);
    expect(records((await get(`${base}/batches/${batchId}?q=needle%2070`)).body)).toEqual([70]);
    expect(records((await get(`${base}/batches/${batchId}?q=%25`)).body)).toEqual([]);
    expect(records((await get(`${base}/batches/${batchId}?q=must%20be%20a%20string&limit=500`)).body)).toEqual([25, 50, 75, 100]); // the error

    const descending = records((await get(`${base}/batches/${batchId}?dir=desc`)).body);
    expect(descending.slice(0, 3)).toEqual([120, 119, 118]);
    const byTopic = records((await get(`${base}/batches/${batchId}?sort=input.topic&limit=500`)).body);
    expect(byTopic.slice(0, 2)).toEqual([1, 10]); // "hay 1", "hay 10", … as text
    expect(byTopic.slice(-4)).toEqual([25, 50, 75, 100]); // no run, no input: last
    const byStatus = records((await get(`${base}/batches/${batchId}?sort=status&limit=500`)).body);
    expect(byStatus[0]).toBe(1); // completed first, by record
    expect(byStatus.slice(-4)).toEqual([25, 50, 75, 100]);
    expect((await get(`${base}/batches/${batchId}?sort=duration&dir=desc`)).status).toBe(200);
    expect((await get(`${base}/batches/${batchId}?sort=checks&status=completed`)).status).toBe(200);
  });
});

describe('safety', () => {
  it('shows untrusted text as text', async () => {
    const run = await get(`${base}/runs/${runs[2]}`);
    expect(run.body).not.toContain(SCRIPT);
    expect(run.body).not.toContain(IMG);
    expect(run.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(run.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(run.body).not.toMatch(/<script(?![^>]*src="\/assets\/app\.[0-9a-f]+\.js")/); // the only script is quire's
    for (const path of ['/runs', `/compare?a=${runs[1]}&b=${runs[2]}`, `/workflows`]) {
      const page = await get(`${base}${path}`);
      expect(page.body, path).not.toContain(SCRIPT);
      expect(page.body, path).not.toContain(IMG);
    }
    expect((await get(`${base}/runs?workflow=${encodeURIComponent(SCRIPT)}`)).body).not.toContain(SCRIPT);
  });

  it('sets a strict policy and the safety headers on every response', async () => {
    for (const path of ['/runs', '/nope', '/assets/nope.css', `/batches/${batchId}/results.csv`]) {
      const reply = await get(`${base}${path}`);
      expect(reply.headers['content-security-policy'], path).toContain("default-src 'self'");
      expect(reply.headers['content-security-policy'], path).toContain("script-src 'self'");
      expect(reply.headers['content-security-policy'], path).not.toContain('unsafe-inline');
      expect(reply.headers['x-content-type-options'], path).toBe('nosniff');
      expect(reply.headers['referrer-policy'], path).toBe('no-referrer');
    }
  });

  it('refuses a Host header it is not bound to (DNS rebinding)', async () => {
    const port = served.viewer.port;
    expect((await get(`${base}/runs`, { headers: { Host: 'evil.example' } })).status).toBe(403);
    expect((await get(`${base}/runs`, { headers: { Host: `evil.example:${port}` } })).status).toBe(403);
    expect((await get(`${base}/runs`, { headers: { Host: `127.0.0.1:${port + 1}` } })).status).toBe(403);
    expect((await get(`${base}/events`, { headers: { Host: 'evil.example' } })).status).toBe(403);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await get(`${base}/runs`, { headers: { Host: host } })).status, host).toBe(200);
    }
  });

  it('answers only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const reply = await get(`${base}/runs`, { method });
      expect(reply.status, method).toBe(405);
      expect(reply.headers.allow).toBe('GET, HEAD');
    }
    const head = await get(`${base}/runs`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('requires the token when bound beyond loopback', async () => {
    const exposed = await openViewer(ws, { host: '0.0.0.0', token: 'a-long-secret-token' });
    try {
      const at = `http://127.0.0.1:${exposed.viewer.port}`;
      expect(exposed.viewer.exposed).toBe(true);
      expect(exposed.viewer.url).toContain('?token=a-long-secret-token');
      expect((await get(`${at}/runs`)).status).toBe(401);
      expect((await get(`${at}/runs?token=wrong`)).status).toBe(401);
      expect((await get(`${at}/events`)).status).toBe(401);
      const visit = await get(`${at}/runs?status=completed&token=a-long-secret-token`);
      expect(visit.status).toBe(303);
      expect(visit.headers.location).toBe('/runs?status=completed'); // the token leaves the address bar
      const cookie = visit.headers['set-cookie']![0]!;
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      const withCookie = await get(`${at}/runs`, { headers: { Cookie: cookie.split(';')[0]! } });
      expect(withCookie.status).toBe(200);
      expect((await get(`${at}/runs`, { headers: { Authorization: 'Bearer a-long-secret-token' } })).status).toBe(200);
      // The Host check holds with the token too.
      expect((await get(`${at}/runs`, { headers: { Host: 'evil.example', Cookie: cookie.split(';')[0]! } })).status).toBe(403);
    } finally {
      await exposed.close();
    }
    const generated = await openViewer(ws, { host: '0.0.0.0' });
    try {
      expect(generated.viewer.generatedToken).toBe(true);
      expect(generated.viewer.token!.length).toBeGreaterThanOrEqual(20);
      expect((await get(`http://127.0.0.1:${generated.viewer.port}/runs`)).status).toBe(401);
    } finally {
      await generated.close();
    }
  });

  it('leaves the database file byte-identical after serving every page', async () => {
    const paths = ['/runs', '/runs?trigger=batch&page=2', ...runs.map((id) => `/runs/${id}`), `/runs/${odd.notJson}`, `/runs/${odd.array}`, `/runs/${odd.orphan}`,
      `/compare?b=${runs[1]}`, `/compare?a=${runs[0]}&b=${runs[2]}`, '/batches', `/batches/${batchId}?q=needle&sort=input.topic`,
      `/batches/${batchId}/results.jsonl`, `/batches/${batchId}/results.csv`, '/workflows', '/workflows/1'];
    for (const path of paths) expect((await get(`${base}${path}`)).status, path).toBeLessThan(300);
    expect(fileHash(ws.dbPath)).toBe(dbHashBefore);
  });
});

describe('rows of other tools and the original system', () => {
  it('shows rows with odd or missing metadata as they are', async () => {
    const notJson = await get(`${base}/runs/${odd.notJson}`);
    expect(notJson.status).toBe(200);
    expect(notJson.body).toContain('metadata is not JSON');
    expect(notJson.body).toContain('typed by hand');
    expect(notJson.body).toContain('not recorded');
    expect((await get(`${base}/runs/${odd.array}`)).status).toBe(200);
    const orphan = await get(`${base}/runs/${odd.orphan}`);
    expect(orphan.status).toBe(200);
    expect(orphan.body).toContain('workflow row gone');
    expect(orphan.body).toContain('process gone');
  });

  it('renders a database from the original system once upgraded, and refuses to upgrade one itself', async () => {
    const original = makeWorkspace();
    try {
      makeOriginalDatabase(original.dbPath);
      const before = fileHash(original.dbPath);
      await expect(openViewer(original)).rejects.toThrow(/needs an upgrade .* never writes/);
      expect(fileHash(original.dbPath)).toBe(before);

      const upgrade = createAppContext({ root: original.root, dbPath: original.dbPath });
      await upgrade.stores.forWriting();
      await upgrade.close();
      const viewer = await openViewer(original);
      try {
        const list = await get(`${viewer.base}/runs`);
        expect(list.status).toBe(200);
        expect(list.body).toContain('hello flow');
        const run = await get(`${viewer.base}/runs/1`);
        expect(run.body).toContain('Hello there, &lt;b&gt;Ada&lt;/b&gt;.');
        expect(run.body).toContain('Ada');
        const workflows = await get(`${viewer.base}/workflows/1`);
        expect(workflows.body).toContain('greet');
        expect(workflows.body).toContain('Intro');
        expect(workflows.body).toContain('Outro');
        expect(workflows.body).toContain('database only');
        expect((await get(`${viewer.base}/batches`)).body).toContain('No batches yet');
        expect((await get(`${viewer.base}/compare?b=1`)).status).toBe(404); // no earlier run to compare with
      } finally {
        await viewer.close();
      }
    } finally {
      original.cleanup();
    }
  });
});

describe('exports', () => {
  it('gives the same JSONL and CSV bytes as `quire results`', async () => {
    const [jsonl, csv, cliJsonl, cliCsv] = await Promise.all([
      get(`${base}/batches/${batchId}/results.jsonl`),
      get(`${base}/batches/${batchId}/results.csv`),
      runCliAsync(['-w', ws.root, 'results', String(batchId)]),
      runCliAsync(['-w', ws.root, 'results', String(batchId), '--format', 'csv']),
    ]);
    expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(jsonl.headers['content-disposition']).toBe(`attachment; filename="batch-${batchId}.jsonl"`);
    expect(jsonl.body.trim().split('\n')).toHaveLength(120);
    expect(jsonl.body).toBe(cliJsonl.stdout);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toBe(cliCsv.stdout);
  });
});

describe('live', () => {
  it('sends a new data version within a second of another process committing', async () => {
    const versions: number[] = [];
    const events = httpRequest(`${base}/events`);
    const response = once(events, 'response');
    events.end();
    const [res] = (await response) as [import('node:http').IncomingMessage];
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    let buffer = '';
    const next = () => new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no version event; got ${JSON.stringify(buffer)}`)), 1000);
      const onData = () => {
        const match = /event: version\ndata: (\d+)\n\n/.exec(buffer);
        if (!match) return;
        buffer = buffer.slice(match.index + match[0].length);
        clearTimeout(timer);
        res.off('data', onData);
        resolve(Number(match[1]));
      };
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        onData();
      });
    });
    try {
      versions.push(await next());
      const writer = createAppContext({ root: ws.root, dbPath: ws.dbPath });
      let added: number;
      try {
        [added] = (await recordRuns(writer, ['a live fox'])) as [number];
      } finally {
        await writer.close();
      }
      versions.push(await next());
      expect(versions[1]).not.toBe(versions[0]);
      // The page's live region, as the script fetches it: the new run is in it.
      const fragment = await get(`${base}/runs`, { headers: { 'X-Quire-Fragment': 'live' } });
      expect(fragment.body.startsWith('<div id="live">')).toBe(true);
      expect(fragment.body).toContain(`data-run="${added}"`);
      expect(fragment.body).not.toContain('<html');
    } finally {
      res.destroy();
    }
  });
});

describe('quire view', () => {
  it('prints its URL, serves, and stops cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, '-w', ws.root, 'view', '--port', '0'], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out} ${err}`)), 10_000);
      child.stdout.on('data', () => {
        const match = /quire view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    expect((await get(`${url}runs`)).status).toBe(200);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(err).toBe('');
  });

  it('refuses a port in use; bound beyond loopback it warns and prints a generated token', async () => {
    const taken = await runCliAsync(['-w', ws.root, 'view', '--port', String(served.viewer.port)]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('is in use');

    const child = spawn(process.execPath, [BIN, '-w', ws.root, 'view', '--port', '0', '--host', '0.0.0.0'], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no warning: ${out} ${err}`)), 10_000);
        child.stderr.on('data', () => {
          if (err.includes('warning')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(out).toMatch(/quire view: http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}/);
      expect(err).toContain('reachable from other machines');
    } finally {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
  });
});
