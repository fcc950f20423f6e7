/**
 * `quire view` in a real headless browser (Debian's chromium driven by playwright-core):
 * the runs list, a run's prompt, two runs compared with the changed word highlighted, a
 * batch of 1,000 records paged and filtered, a run recorded by another process appearing
 * without a reload, and a response holding `<script>` that runs nothing. A screenshot of
 * each page goes to the test's temp folder (`QUIRE_VIEW_SHOTS=dir` keeps them).
 *
 * Skipped, saying why, only when /usr/bin/chromium is not installed (CI installs it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppContext } from '../src/cli/context.js';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { BIN } from './helpers/cli.js';
import type { TempWorkspace } from './helpers/workspace.js';
import { insertBatch, openViewer, pairWorkspace, recordRuns } from './view-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`view-browser: skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The response of this run tries to run script in the page two ways. */
const HOSTILE = '<script>window.__pwned = 1; alert(1)</script> <img src=x onerror="window.__pwned = 2; alert(2)">';

describe.skipIf(!available)(`the viewer in a browser${available ? '' : ` (skipped: ${CHROMIUM} is not installed)`}`, () => {
  let mock: MockLlm;
  let ws: TempWorkspace;
  let runs: number[];
  let batchId: number;
  let viewer: Awaited<ReturnType<typeof openViewer>>;
  let browser: BrowserContext;
  let page: Page;
  let shots: string;
  let profile: string;
  const problems: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    mock = await startMockLlm({ api: 'openai' });
    ws = pairWorkspace(mock.url);
    const ctx = createAppContext({ root: ws.root, dbPath: ws.dbPath });
    try {
      runs = await recordRuns(ctx, ['the quick brown fox', 'the quick red fox', HOSTILE]);
      batchId = await insertBatch(ctx, {
        records: 1000,
        topic: (n) => (n % 100 === 0 ? `needle ${n}` : `hay ${n}`),
        status: (n) => (n % 50 === 0 ? 'failed' : 'completed'),
      });
    } finally {
      await ctx.close();
    }
    viewer = await openViewer(ws);
    shots = process.env['QUIRE_VIEW_SHOTS'] ?? join(ws.root, 'screenshots');
    mkdirSync(shots, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'quire-chromium-'));
    // A persistent context is how playwright takes a fresh --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1360, height: 900 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    // A Content-Security-Policy violation by quire's own markup shows up here.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await viewer?.close();
    await mock?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    ws?.cleanup();
  });

  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  it('opens the runs list', async () => {
    await page.goto(`${viewer.base}/runs`);
    await expect.poll(() => page.locator('tr[data-run]').count()).toBe(50);
    expect(await page.locator('nav.pager').first().innerText()).toContain('1–50 of 1,003 runs');
    await page.locator('.live.on').waitFor({ timeout: 5000 }); // the event stream is connected
    await page.selectOption('select[name=trigger]', 'cli');
    await page.click('form.filters button[type=submit]');
    await expect.poll(() => page.locator('tr[data-run]').count()).toBe(3);
    await shot('runs');
  });

  it('opens a run and reads its prompt', async () => {
    await page.click(`a[href="/runs/${runs[0]}"]`);
    await page.waitForURL(`**/runs/${runs[0]}`);
    const prompt = await page.locator('pre.prompt').first().innerText();
    expect(prompt).toContain('Answer briefly.');
    expect(prompt).toContain('Topic: the quick brown fox');
    expect(await page.locator('pre.response').first().innerText()).toBe('echo: Topic: the quick brown fox');
    await shot('run');
  });

  it('compares two ticked runs and highlights the changed word', async () => {
    await page.goto(`${viewer.base}/runs?trigger=cli`);
    await page.check(`input[name=run][value="${runs[0]}"]`);
    await page.check(`input[name=run][value="${runs[1]}"]`);
    await page.click('button[form=pick]');
    await page.waitForURL('**/compare?**');
    const added = page.locator('.response-diff ins').first();
    expect(await added.innerText()).toBe('red');
    expect(await page.locator('.response-diff del').first().innerText()).toBe('brown');
    expect(await page.locator('.prompt-diff ins').first().innerText()).toBe('red');
    // Highlighted: its background is not the text's.
    const [highlight, plain] = await Promise.all([
      added.evaluate((el) => getComputedStyle(el).backgroundColor),
      page.locator('.response-diff pre').first().evaluate((el) => getComputedStyle(el).backgroundColor),
    ]);
    expect(highlight).not.toBe(plain);
    await shot('compare');
  });

  it('pages and filters a batch of 1,000 records', async () => {
    await page.goto(`${viewer.base}/batches`);
    await page.click(`a[href="/batches/${batchId}"]`);
    const records = () => page.locator('tr[data-record]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-record'))));
    expect(await page.locator('nav.pager').first().innerText()).toContain('1–50 of 1,000 records · page 1 of 20');
    await shot('batch');
    await page.locator('nav.pager').first().getByText('next ›').click();
    await page.waitForURL('**page=2');
    expect((await records())[0]).toBe(51);
    await page.locator('nav.pager').first().getByText('last »').click();
    await page.waitForURL('**page=20');
    expect((await records()).at(-1)).toBe(1000);

    await page.selectOption('select[name=status]', 'failed');
    await page.fill('input[name=q]', 'needle');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL('**q=needle**');
    expect(await records()).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    // A header sorts on the server; again reverses.
    await page.getByRole('link', { name: 'record' }).click();
    await page.waitForURL('**dir=desc**');
    expect((await records())[0]).toBe(1000);
    await shot('batch-filtered');
  });

  it('shows a run recorded by another process without a reload', async () => {
    await page.goto(`${viewer.base}/runs`);
    await page.locator('.live.on').waitFor({ timeout: 5000 });
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const before = Number(await page.locator('tr[data-run]').first().getAttribute('data-run'));
    await page.check(`input[name=run][value="${before}"]`); // a ticked box survives the update
    const child = spawn(process.execPath, [BIN, '-w', ws.root, 'run', 'pair', '--input', 'topic=a fox seen live', '--no-stream'], { env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const finished = Date.now();
    // The row may have come in while the run ran: it is done once it shows completed.
    await page.locator(`tr[data-run="${before + 1}"] .status-completed`).waitFor({ timeout: 3000 });
    const latency = Date.now() - finished;
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true); // no reload
    expect(await page.isChecked(`input[name=run][value="${before}"]`)).toBe(true);
    expect(latency).toBeLessThan(1500);
    await shot('runs-live');
  });

  it('runs nothing from a response holding <script> and <img onerror>', async () => {
    await page.goto(`${viewer.base}/runs/${runs[2]}`);
    await page.waitForTimeout(300); // time for an image error handler to have fired, were it markup
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    const response = await page.locator('pre.response').first().innerText();
    expect(response).toContain('<script>window.__pwned = 1; alert(1)</script>');
    expect(response).toContain('<img src=x onerror="window.__pwned = 2; alert(2)">');
    expect(await page.locator('pre.response img, pre.response script').count()).toBe(0);
    await shot('hostile-run');
    expect(problems).toEqual([]);
  });
});
