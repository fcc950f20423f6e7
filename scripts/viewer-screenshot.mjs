// The README's picture of `quire view`: the repo's example workspace copied to a temp
// folder, `research` run twice against mock-llm (a block edited and the input changed in
// between), then the compare page of the two runs photographed in headless chromium
// (Debian's /usr/bin/chromium, driven by playwright-core) into docs/viewer-compare.png.
// Needs the build: `npm run build && node scripts/viewer-screenshot.mjs`.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dist = (path) => new URL(`../dist/${path}`, import.meta.url).href;
const { startMockLlm } = await import(dist('mock-llm/index.js'));
const { createAppContext } = await import(dist('cli/context.js'));
const { runWorkflow } = await import(dist('app/run.js'));
const { startViewer } = await import(dist('viewer/server.js'));

const out = process.argv[2] ?? join(repo, 'docs', 'viewer-compare.png');
const root = mkdtempSync(join(tmpdir(), 'quire-viewer-shot-'));
const profile = mkdtempSync(join(tmpdir(), 'quire-chromium-'));
for (const path of ['blocks', 'workflows', 'quire.yaml']) cpSync(join(repo, path), join(root, path), { recursive: true });
const dbPath = join(root, 'data', 'quire.db');

const mock = await startMockLlm({ api: 'all' });
let viewer;
let browser;
let ctx;
try {
  ctx = createAppContext({ root, dbPath });
  const run = (text) => runWorkflow(ctx, { workflow: 'research', inputs: { text }, trigger: 'cli', stream: false, endpointOverrides: [`5001=${mock.url}`] });
  const first = await run('The quick brown fox jumps over the lazy dog. The dog, unbothered, keeps sleeping in the afternoon sun.');
  // A prompt edit and an input edit: the comparison shows the file, the prompt and the answers.
  writeFileSync(join(root, 'blocks/style/concise.md'), '---\ntags: [style]\n---\nBe concise: one sentence at most.\n');
  const second = await run('The quick red fox jumps over the sleepy dog. The dog, unbothered, keeps sleeping in the afternoon sun.');
  await ctx.close();

  ctx = createAppContext({ root, dbPath });
  viewer = await startViewer(ctx, { port: 0 });
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1000 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`http://127.0.0.1:${viewer.port}/compare?a=${first.runId}&b=${second.runId}`);
  await page.locator('.live.on').waitFor({ timeout: 5000 });
  mkdirSync(join(out, '..'), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser?.close();
  await viewer?.close();
  await ctx?.close();
  await mock.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}
