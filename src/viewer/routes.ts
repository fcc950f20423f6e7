/**
 * The viewer's HTTP surface (Hono): one GET route per page, the exports, the live event
 * stream and the assets, behind the security middleware. Query parameters are checked
 * here (a bad one is a 400 page); the data comes from app/view.ts; the HTML from pages/.
 */
import { PassThrough, Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import type { AppContext } from '../app/context.js';
import { writeResultsCsv, writeResultsJsonl } from '../app/results-writers.js';
import {
  dataVersion, exportBatch, viewBatch, viewBatches, viewComparison, viewRun, viewRuns, viewWorkflow, viewWorkflows,
} from '../app/view.js';
import { AppError } from '../core/errors.js';
import type { BatchResultSort, RunFilter } from '../core/view.js';
import { assetAt } from './assets/index.js';
import type { LiveHub } from './live.js';
import { batchesPage, batchPage, RECORD_STATUSES } from './pages/batches.js';
import { comparePage, comparePicker } from './pages/compare.js';
import { errorPage } from './pages/errors.js';
import { document, fragment, type Page } from './pages/layout.js';
import { runPage } from './pages/run.js';
import { runsPage, RUN_STATUSES } from './pages/runs.js';
import { workflowPage, workflowsPage } from './pages/workflows.js';
import { guard, securityHeaders, type SecurityOptions } from './security.js';

/** A query parameter that cannot be used: answered with a 400 page naming it. */
class BadRequest extends Error {}

const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

export function createRoutes(ctx: AppContext, live: LiveHub, security: SecurityOptions): Hono {
  const app = new Hono();
  app.use('*', securityHeaders());
  app.use('*', guard(security));

  app.get('/', (c) => c.redirect('/runs', 302));

  app.get('/runs', (c) => page(c, async () => {
    const filter = runFilter(c);
    const paging = paged(c);
    const view = await viewRuns(ctx, filter, { limit: paging.limit, offset: (paging.page - 1) * paging.limit });
    return runsPage(view, filter, { ...paging, total: view.total });
  }));

  app.get('/runs/:id', (c) => page(c, async () => runPage(await viewRun(ctx, id(c.req.param('id'), 'run')))));

  app.get('/compare', (c) => page(c, async () => {
    const picked = c.req.queries('run') ?? [];
    let a = optionalId(c.req.query('a'), 'a');
    let b = optionalId(c.req.query('b'), 'b');
    if (picked.length > 0) {
      // Ticked in the runs list: the older is a; one alone is compared with its previous run.
      const ids = picked.map((p) => id(p, 'run')).sort((x, y) => x - y);
      if (ids.length > 2) throw new BadRequest('tick at most two runs to compare');
      [a, b] = ids.length === 2 ? [ids[0], ids[1]] : [undefined, ids[0]];
    }
    if (b === undefined) return comparePicker(a !== undefined ? 'name run b too' : undefined);
    return comparePage(await viewComparison(ctx, { ...(a !== undefined ? { a } : {}), b }));
  }));

  app.get('/batches', (c) => page(c, async () => batchesPage(await viewBatches(ctx, 500))));

  app.get('/batches/:id', (c) => page(c, async () => {
    const batchId = id(c.req.param('id'), 'batch');
    const status = oneOf(c.req.query('status'), RECORD_STATUSES, 'status');
    const text = c.req.query('q')?.trim() || undefined;
    const sort = resultSort(c.req.query('sort'));
    const descending = c.req.query('dir') === 'desc';
    const paging = paged(c);
    const view = await viewBatch(ctx, batchId, {
      ...(status !== undefined ? { status } : {}),
      ...(text !== undefined ? { text } : {}),
      sort, descending, page: { limit: paging.limit, offset: (paging.page - 1) * paging.limit },
    });
    return batchPage(view, { ...(status !== undefined ? { status } : {}), ...(text !== undefined ? { text } : {}), sort, descending, paging: { ...paging, total: view.total } });
  }));

  app.get('/batches/:id/results.jsonl', (c) => exportResults(c, 'jsonl'));
  app.get('/batches/:id/results.csv', (c) => exportResults(c, 'csv'));

  app.get('/workflows', (c) => page(c, async () => workflowsPage(await viewWorkflows(ctx))));
  app.get('/workflows/:id', (c) => page(c, async () => workflowPage(await viewWorkflow(ctx, id(c.req.param('id'), 'workflow'), 10))));

  app.get('/events', (c) => {
    const headers = { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' };
    // HEAD gets no stream: one never read would keep its listener (and the polling) alive.
    return c.req.method === 'HEAD' ? c.body(null, 200, headers) : new Response(live.stream(), { headers });
  });

  app.get('/assets/:file', (c) => {
    const asset = assetAt(new URL(c.req.url).pathname);
    if (!asset) return c.text('not found\n', 404);
    // The hash is in the path: a changed file has another URL.
    return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=31536000, immutable' });
  });
  app.get('/favicon.ico', (c) => c.body(null, 204));

  app.notFound((c) => respond(c, errorPage('Not found', `nothing at ${new URL(c.req.url).pathname}`), 404, 0));

  /** Renders a page (or only its live region, for the script), read at the database version before it. */
  async function page(c: Context, build: () => Promise<Page>): Promise<Response> {
    const version = await dataVersion(ctx);
    try {
      return respond(c, await build(), 200, version);
    } catch (error) {
      if (error instanceof BadRequest) return respond(c, errorPage('Bad request', error.message), 400, version);
      if (error instanceof AppError && error.code === 'NOT_FOUND') return respond(c, errorPage('Not found', error.message), 404, version);
      process.stderr.write(`quire view: ${c.req.method} ${c.req.url}: ${(error as Error).stack ?? String(error)}\n`);
      return respond(c, errorPage('Error', (error as Error).message), 500, version);
    }
  }

  async function exportResults(c: Context, format: 'jsonl' | 'csv'): Promise<Response> {
    let batchId: number;
    let exported: Awaited<ReturnType<typeof exportBatch>>;
    try {
      batchId = id(c.req.param('id') ?? '', 'batch');
      exported = await exportBatch(ctx, batchId);
    } catch (error) {
      const status = error instanceof BadRequest ? 400 : 404;
      return c.text(`${(error as Error).message}\n`, status);
    }
    const headers = {
      'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="batch-${batchId}.${format}"`,
      'Cache-Control': 'no-store',
    };
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    // The same writers as `quire results`, into the response as they go (flat memory for any size).
    const out = new PassThrough();
    const write = format === 'csv' ? writeResultsCsv(exported.rows(), exported.rows(), out) : writeResultsJsonl(exported.rows(), out);
    write.then(() => out.end(), (error: unknown) => out.destroy(error as Error));
    return new Response(Readable.toWeb(out) as ReadableStream<Uint8Array>, { headers });
  }

  return app;
}

function respond(c: Context, page: Page, status: 200 | 400 | 404 | 500, version: number): Response {
  const partial = c.req.header('x-quire-fragment') === 'live';
  const body = partial ? fragment(page).value : document(page, version).value;
  return c.html(body, status, { 'Cache-Control': 'no-store', Vary: 'X-Quire-Fragment' });
}

function id(text: string, what: string): number {
  if (!/^[1-9]\d{0,14}$/.test(text)) throw new BadRequest(`${what} id must be a positive whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function optionalId(text: string | undefined, what: string): number | undefined {
  return text === undefined || text.trim() === '' ? undefined : id(text.trim(), what);
}

function oneOf<T extends string>(text: string | undefined, allowed: readonly T[], what: string): T | undefined {
  if (text === undefined || text === '') return undefined;
  if (!(allowed as readonly string[]).includes(text)) throw new BadRequest(`${what} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
  return text as T;
}

function runFilter(c: Context): RunFilter {
  const day = (name: 'from' | 'to') => {
    const text = c.req.query(name);
    if (text === undefined || text === '') return undefined;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) throw new BadRequest(`${name} must be a date (YYYY-MM-DD), got ${JSON.stringify(text)}`);
    return text;
  };
  const workflow = c.req.query('workflow') || undefined;
  const status = oneOf(c.req.query('status'), RUN_STATUSES, 'status');
  const trigger = c.req.query('trigger') || undefined;
  if (trigger !== undefined && trigger.length > 100) throw new BadRequest('trigger is too long');
  const from = day('from');
  const to = day('to');
  return {
    ...(workflow !== undefined ? { workflow } : {}), ...(status !== undefined ? { status } : {}), ...(trigger !== undefined ? { trigger } : {}),
    ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}),
  };
}

function paged(c: Context): { page: number; limit: number } {
  const page = optionalId(c.req.query('page'), 'page') ?? 1;
  const limit = optionalId(c.req.query('limit'), 'limit') ?? PAGE_SIZE;
  if (limit > MAX_PAGE_SIZE) throw new BadRequest(`limit is at most ${MAX_PAGE_SIZE}`);
  return { page, limit };
}

function resultSort(text: string | undefined): BatchResultSort {
  if (text === undefined || text === '' || text === 'record') return { by: 'record' };
  if (text === 'line' || text === 'status' || text === 'duration' || text === 'checks') return { by: text };
  if (text.startsWith('input.') && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(text.slice('input.'.length))) return { by: 'input', name: text.slice('input.'.length) };
  throw new BadRequest(`sort must be record, line, status, duration, checks or input.<name>, got ${JSON.stringify(text)}`);
}
