/**
 * `quire doctor` through the built CLI: real mock servers over 127.0.0.1 (with faults),
 * a port nothing listens on, a server that never answers, real temp workspaces and real
 * SQLite files.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '../src/mock-llm/index.js';
import { runCliAsync } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

/** One payload on `port` (plus a workflow using it). */
function filesFor(port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'blocks/ask.md': 'Say {{input.word}}.\n',
    'workflows/ask.payload.yaml': `llm_port: ${port}\nresponse_length: 8\nblocks: [ask]\n`,
    'workflows/flow.workflow.yaml': 'name: flow\ninputs:\n  word: { type: string, default: hi }\npayloads: [ask]\n',
    ...extra,
  };
}

interface Failure { code: string; message: string; hint: string }
interface Member {
  url: string; ok: boolean; reachable: boolean; api: string | null; model: string | null; context_length: number | null;
  generation: { ok: boolean; time_to_first_token_ms: number | null; total_ms: number | null; completion_tokens: number | null; finish_reason: string | null } | null;
  error: Failure | null;
}
interface Endpoint {
  port: number; ok: boolean; payloads: string[]; api: string; model: string | null; source: string;
  api_key_env: { name: string; set: boolean } | null; members: Member[]; error: Failure | null;
}
interface DoctorJson {
  ok: boolean;
  endpoints: Endpoint[];
  workspace: { ok: boolean; root: string; files: number; counts: Record<string, number>; problems: { file: string; line: number; col: number; code: string; message: string }[] };
  database: { ok: boolean; path: string; exists: boolean; size_bytes: number | null; migrations: { applied: number; known: number; pending: string[]; unknown: string[] } | null; runs: Record<string, number>; error: Failure | null };
}

const temp: TempWorkspace[] = [];
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (temp.length) temp.pop()!.cleanup();
  for (const server of servers.splice(0)) await server.close();
});

function workspace(files: Record<string, string>): TempWorkspace {
  const ws = makeWorkspace(files);
  temp.push(ws);
  return ws;
}

async function doctor(ws: TempWorkspace, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const started = performance.now();
  const result = await runCliAsync(['-w', ws.root, 'doctor', ...args], { env });
  return { ...result, ms: performance.now() - started };
}

async function doctorJson(ws: TempWorkspace, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const result = await doctor(ws, ['--json', ...args], env);
  return { ...result, body: JSON.parse(result.stdout) as DoctorJson };
}

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A host that takes connections and never says a word (a stuck server). */
async function silentServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/**
 * A vLLM that lists no model: `GET /v1/models` answers an empty list and a completion
 * without `model` is refused as vLLM refuses it. The mock always serves a model, so this
 * case needs its own stand-in.
 */
async function modellessVllm(): Promise<string> {
  const server: Server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/v1/models') return json(200, { object: 'list', data: [] });
      if (req.method === 'POST' && req.url === '/v1/completions') {
        return json(404, { error: { message: 'The model `` does not exist.', type: 'NotFoundError', param: null, code: 404 } });
      }
      json(404, { detail: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => new Promise((resolve) => server.close(() => resolve())) });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('quire doctor: endpoints', () => {
  const mocks = new Map<string, MockLlm>();
  beforeAll(async () => {
    for (const api of ['kobold', 'llamacpp', 'ollama', 'openai'] as const) mocks.set(api, await startMockLlm({ api, contextLength: 2048, model: `${api}-model` }));
  });
  afterAll(async () => {
    for (const mock of mocks.values()) await mock.close();
  });
  afterEach(() => {
    for (const mock of mocks.values()) mock.reset();
  });

  it.each(['kobold', 'llamacpp', 'ollama', 'openai'] as const)('%s: detects the API, reads the context size and model, and generates at most 4 tokens with a time to first token (exit 0)', async (api) => {
    const mock = mocks.get(api)!;
    const ws = workspace(filesFor(5001));
    const { code, body } = await doctorJson(ws, ['--endpoint', `5001=${mock.url}`]);
    expect(code).toBe(0);
    expect(body.ok).toBe(true);
    expect(body.endpoints).toHaveLength(1);
    const [endpoint] = body.endpoints;
    expect(endpoint).toMatchObject({ port: 5001, ok: true, payloads: ['ask'], api: 'auto', source: '--endpoint', api_key_env: null, error: null });
    const [member] = endpoint!.members;
    expect(member).toMatchObject({ url: mock.url, ok: true, reachable: true, api, context_length: 2048, error: null });
    expect(member!.generation).toMatchObject({ ok: true, finish_reason: expect.any(String) });
    expect(member!.generation!.time_to_first_token_ms).toEqual(expect.any(Number));
    expect(member!.generation!.completion_tokens).toBeLessThanOrEqual(4);
    // KoboldCpp's generation reply names no model; the others do (llama-server as its file name).
    if (api === 'kobold') expect(member!.model).toBeNull();
    else expect(member!.model).toMatch(new RegExp(`^${api}-model`));
    const generations = mock.requests.filter((r) => r.method === 'POST' && /generate|completion/.test(r.path));
    expect(generations).toHaveLength(1);
    const sent = generations[0]!.body as Record<string, unknown>;
    const maxTokens = sent['max_length'] ?? sent['n_predict'] ?? sent['max_tokens'] ?? (sent['options'] as Record<string, unknown> | undefined)?.['num_predict'];
    expect(maxTokens).toBe(4);
  });

  it('prints a checklist: ✓ per check with its details, and "all good"', async () => {
    const mock = mocks.get('llamacpp')!;
    const ws = workspace(filesFor(5001));
    const { code, stdout } = await doctor(ws, ['--endpoint', `5001=${mock.url}`]);
    expect(code).toBe(0);
    expect(stdout).toContain('port 5001 used by ask');
    expect(stdout).toMatch(/✓ reachable +http:\/\/127\.0\.0\.1:\d+ · llamacpp \(detected\)/);
    expect(stdout).toMatch(/✓ context +2048 tokens/);
    expect(stdout).toMatch(/✓ generation +first token after \d+ ms · \d tokens in \d+ ms · model llamacpp-model/);
    expect(stdout).toMatch(/✓ valid +3 files: 1 block, 1 payload, 1 workflow, 0 formats/);
    expect(stdout).toMatch(/all good\n$/);
    expect(stdout).not.toContain('\u001b['); // NO_COLOR
  });

  it('a port nothing listens on fails with a fix that names the host and port, the server to start and --endpoint (exit 1)', async () => {
    const port = await closedPort();
    const ws = workspace(filesFor(port, { 'quire.yaml': `endpoints:\n  ${port}: { api: kobold }\n` }));
    const { code, body } = await doctorJson(ws);
    expect(code).toBe(1);
    expect(body.ok).toBe(false);
    const [member] = body.endpoints[0]!.members;
    expect(member).toMatchObject({ url: `http://127.0.0.1:${port}`, ok: false, reachable: false, generation: null });
    expect(member!.error!.code).toBe('LLM_CONNECT');
    expect(member!.error!.hint).toBe(`nothing listens on 127.0.0.1:${port}: start KoboldCpp with --port ${port}, or point port ${port} elsewhere with --endpoint ${port}=URL`);
  });

  it('the terminal shows the failure with its fix under it', async () => {
    const port = await closedPort();
    const ws = workspace(filesFor(port));
    const { code, stdout } = await doctor(ws);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`✗ reachable +http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(stdout).toContain(`fix: nothing listens on 127.0.0.1:${port}: start your LLM server on port ${port}, or point port ${port} elsewhere with --endpoint ${port}=URL`);
    expect(stdout).toMatch(/1 thing to fix \(✗ above\)\n$/);
  });

  it('QUIRE_LLM_HOST decides the host, and the fix points at it', async () => {
    const port = await closedPort();
    const ws = workspace(filesFor(port));
    const { body } = await doctorJson(ws, ['--timeout', '3000'], { QUIRE_LLM_HOST: '127.0.0.2' });
    const endpoint = body.endpoints[0]!;
    expect(endpoint.source).toBe('QUIRE_LLM_HOST');
    expect(endpoint.members[0]!.url).toBe(`http://127.0.0.2:${port}`);
    expect(endpoint.members[0]!.error!.hint).toContain('fix QUIRE_LLM_HOST');
  });

  it('a server that is up but whose generation fails: reachable and detected, the error quoted, exit 1', async () => {
    const mock = mocks.get('kobold')!;
    const ws = workspace(filesFor(5001));
    const { code, body } = await doctorJson(ws, ['--endpoint', `5001=${mock.url}/__fault/status=500`]);
    expect(code).toBe(1);
    const [member] = body.endpoints[0]!.members;
    expect(member).toMatchObject({ ok: false, reachable: true, api: 'kobold', context_length: 2048, generation: { ok: false } });
    expect(member!.error!.code).toBe('LLM_HTTP');
    expect(member!.error!.message).toMatch(/-> 500: /);
    expect(member!.error!.hint).toMatch(/^the server is up but a 4-token generation failed: .*check the server's log/);
    const { stdout } = await doctor(ws, ['--endpoint', `5001=${mock.url}/__fault/status=500`]);
    expect(stdout).toMatch(/✓ reachable .*kobold \(detected\)\n.*\n +✗ generation +\[llm:kobold\] POST .* -> 500: /);
  });

  it('a server that never answers is given up on within --timeout, and endpoints are checked at the same time', async () => {
    const [one, two] = [await silentServer(), await silentServer()];
    const ws = workspace({
      ...filesFor(7001),
      'workflows/other.payload.yaml': 'llm_port: 7002\nblocks: [ask]\n',
    });
    const { code, body, ms } = await doctorJson(ws, ['--timeout', '2000', '--endpoint', `7001=${one}`, '--endpoint', `7002=${two}`]);
    expect(code).toBe(1);
    // One after the other would take 4 s and more.
    expect(ms).toBeLessThan(3_800);
    for (const endpoint of body.endpoints) {
      expect(endpoint.members[0]).toMatchObject({ ok: false, reachable: false });
      expect(endpoint.members[0]!.error).toMatchObject({ code: 'LLM_TIMEOUT', message: expect.stringContaining('within 2000 ms') });
    }
    expect(body.endpoints.map((e) => e.port)).toEqual([7001, 7002]);
  });

  it('a generation that hangs times out as "answers but did not finish", with --timeout in the fix', async () => {
    const mock = mocks.get('openai')!;
    const ws = workspace(filesFor(5001));
    const { code, body, ms } = await doctorJson(ws, ['--timeout', '1500', '--endpoint', `5001=${mock.url}/__fault/hang`]);
    expect(code).toBe(1);
    expect(ms).toBeLessThan(6_000);
    const [member] = body.endpoints[0]!.members;
    expect(member).toMatchObject({ reachable: true, api: 'openai', generation: { ok: false }, error: { code: 'LLM_TIMEOUT' } });
    expect(member!.error!.hint).toContain('--timeout');
  });

  it('an api_key_env variable that is not set fails the endpoint (the server is still checked, without a key)', async () => {
    const mock = mocks.get('openai')!;
    const ws = workspace(filesFor(5001, { 'quire.yaml': 'endpoints:\n  5001: { api_key_env: QUIRE_DOCTOR_TEST_KEY }\n' }));
    const { code, body, stdout } = await doctorJson(ws, ['--endpoint', `5001=${mock.url}`], { QUIRE_DOCTOR_TEST_KEY: undefined });
    expect(code).toBe(1);
    const [endpoint] = body.endpoints;
    expect(endpoint).toMatchObject({ ok: false, api_key_env: { name: 'QUIRE_DOCTOR_TEST_KEY', set: false } });
    expect(endpoint!.error!.message).toContain('QUIRE_DOCTOR_TEST_KEY');
    expect(endpoint!.error!.hint).toContain('export QUIRE_DOCTOR_TEST_KEY=');
    expect(endpoint!.members[0]).toMatchObject({ ok: true, reachable: true });
    expect(stdout).not.toContain('api key'); // --json prints only the document
    const text = await doctor(ws, ['--endpoint', `5001=${mock.url}`], { QUIRE_DOCTOR_TEST_KEY: undefined });
    expect(text.stdout).toMatch(/✗ api key +endpoint 5001 takes its API key from the environment variable QUIRE_DOCTOR_TEST_KEY, which is not set\n +fix: export QUIRE_DOCTOR_TEST_KEY=/);
  });

  it('a key the server refuses: the fix names the variable; the right key passes', async () => {
    const guarded = await startMockLlm({ api: 'openai', apiKey: 'right-key' });
    servers.push(guarded);
    const ws = workspace(filesFor(5001, { 'quire.yaml': 'endpoints:\n  5001: { api_key_env: QUIRE_DOCTOR_TEST_KEY }\n' }));
    const wrong = await doctorJson(ws, ['--endpoint', `5001=${guarded.url}`], { QUIRE_DOCTOR_TEST_KEY: 'wrong-key' });
    expect(wrong.code).toBe(1);
    const [member] = wrong.body.endpoints[0]!.members;
    expect(member).toMatchObject({ ok: false, reachable: true, error: { code: 'LLM_HTTP' } });
    expect(member!.error!.hint).toBe('the server refused the key in QUIRE_DOCTOR_TEST_KEY: export the right key as QUIRE_DOCTOR_TEST_KEY');
    expect(wrong.stdout).not.toContain('wrong-key');
    const right = await doctorJson(ws, ['--endpoint', `5001=${guarded.url}`], { QUIRE_DOCTOR_TEST_KEY: 'right-key' });
    expect(right.code).toBe(0);
    expect(right.body.endpoints[0]).toMatchObject({ ok: true, api_key_env: { name: 'QUIRE_DOCTOR_TEST_KEY', set: true } });
  });

  it('a vLLM that lists no model and quire.yaml names none: the fix says to set the model', async () => {
    const url = await modellessVllm();
    const ws = workspace(filesFor(8000));
    const { code, body } = await doctorJson(ws, ['--endpoint', `8000=${url}`]);
    expect(code).toBe(1);
    const [member] = body.endpoints[0]!.members;
    expect(member).toMatchObject({ ok: false, reachable: true, api: 'openai', generation: { ok: false }, error: { code: 'LLM_HTTP' } });
    expect(member!.error!.message).toContain('The model `` does not exist.');
    expect(member!.error!.hint).toMatch(/^the server wants a model name and quire\.yaml names none .*endpoints: \{ 8000: \{ model: <the served model> \} \}$/);
  });

  it('a pool is checked per member: one member down leaves the endpoint working (exit 0), the member shows its own fix', async () => {
    const mock = mocks.get('llamacpp')!;
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const ws = workspace(filesFor(5002, { 'quire.yaml': `endpoints:\n  5002: { urls: [${mock.url}, ${dead}] }\n` }));
    const { code, body } = await doctorJson(ws);
    expect(code).toBe(0);
    const [endpoint] = body.endpoints;
    expect(endpoint).toMatchObject({ ok: true, source: 'urls' });
    expect(endpoint!.members.map((m) => [m.url, m.ok])).toEqual([[mock.url, true], [dead, false]]);
    expect(endpoint!.members[1]!.error!.hint).toContain(`fix or remove ${dead} in quire.yaml (endpoints: 5002: urls)`);
    const text = await doctor(ws);
    expect(text.stdout).toContain('port 5002 used by ask · pool: 1 of 2 members work');
    expect(text.stdout).toContain(`  ✗ ${dead}\n    ✗ reachable`);
  });

  it('a pool with no member working fails', async () => {
    const ws = workspace(filesFor(5002, { 'quire.yaml': `endpoints:\n  5002: { urls: [http://127.0.0.1:${await closedPort()}, http://127.0.0.1:${await closedPort()}] }\n` }));
    const { code, body } = await doctorJson(ws);
    expect(code).toBe(1);
    expect(body.endpoints[0]!.ok).toBe(false);
  });

  it('--quiet prints only what fails', async () => {
    const mock = mocks.get('kobold')!;
    const port = await closedPort();
    const ws = workspace({ ...filesFor(5001), 'workflows/other.payload.yaml': `llm_port: ${port}\nblocks: [ask]\n` });
    const { code, stdout } = await doctor(ws, ['--quiet', '--endpoint', `5001=${mock.url}`]);
    expect(code).toBe(1);
    expect(stdout).not.toContain('✓');
    expect(stdout).not.toContain('port 5001');
    expect(stdout).toContain(`port ${port} used by other\n  ✗ reachable`);
    const fine = await doctor(ws, ['--quiet', '--endpoint', `5001=${mock.url}`, '--endpoint', `${port}=${mock.url}`]);
    expect(fine).toMatchObject({ code: 0, stdout: '' });
  });

  it('flags are checked: a malformed --endpoint or --timeout is a usage error (exit 2)', async () => {
    const ws = workspace(filesFor(5001));
    expect((await doctor(ws, ['--endpoint', '5001:nope'])).code).toBe(2);
    const timeout = await doctor(ws, ['--timeout', 'soon']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain('--timeout must be a whole number of milliseconds');
  });
});

describe('quire doctor: workspace and database', () => {
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm({ api: 'kobold' });
  });
  afterAll(async () => {
    await mock.close();
  });
  const up = () => ['--endpoint', `5001=${mock.url}`];

  it('lists every workspace problem as path:line:col: message and exits 1; the endpoints of the valid payloads are still checked', async () => {
    const ws = workspace({ ...filesFor(5001), 'workflows/broken.payload.yaml': 'blocks: [nope]\n', 'workflows/typo.payload.yaml': 'blocks: [ask]\ntemprature: 1\n' });
    const { code, body } = await doctorJson(ws, up());
    expect(code).toBe(1);
    expect(body.workspace.ok).toBe(false);
    expect(body.workspace.problems.map((p) => [p.file, p.line, p.col, p.code])).toEqual([
      ['workflows/broken.payload.yaml', 1, 10, 'MISSING_BLOCK'],
      ['workflows/typo.payload.yaml', 2, 1, 'SCHEMA'],
    ]);
    expect(body.endpoints.map((e) => [e.port, e.ok])).toEqual([[5001, true]]);
    const text = await doctor(ws, up());
    expect(text.stdout).toMatch(/✗ 2 problems \(5 files: .*\)\n +workflows\/broken\.payload\.yaml:1:10: .*nope.*\n +workflows\/typo\.payload\.yaml:2:1: /);
  });

  it('a new workspace: no database yet is fine, and doctor does not create one', async () => {
    const ws = workspace(filesFor(5001));
    const { code, body, stdout } = await doctorJson(ws, up());
    expect(code).toBe(0);
    expect(body.database).toEqual({ ok: true, path: ws.dbPath, exists: false, size_bytes: null, migrations: null, runs: {}, error: null });
    expect(stdout).toContain('"exists": false');
    expect(existsSync(ws.dbPath)).toBe(false);
  });

  it('after a run: schema version, file size and runs by status, read without changing the file', async () => {
    const ws = workspace(filesFor(5001));
    expect((await runCliAsync(['-w', ws.root, 'run', 'flow', '--endpoint', `5001=${mock.url}`])).code).toBe(0);
    expect((await runCliAsync(['-w', ws.root, 'run', 'flow', '--endpoint', `5001=http://127.0.0.1:${await closedPort()}`])).code).toBe(1);
    const before = { bytes: readFileSync(ws.dbPath), mtime: statSync(ws.dbPath).mtimeMs };
    const { code, body } = await doctorJson(ws, up());
    expect(code).toBe(0);
    expect(body.database).toMatchObject({ ok: true, exists: true, size_bytes: statSync(ws.dbPath).size, runs: { completed: 1, failed: 1 }, error: null });
    expect(body.database.migrations).toMatchObject({ pending: [], unknown: [] });
    expect(body.database.migrations!.applied).toBe(body.database.migrations!.known);
    expect(readFileSync(ws.dbPath).equals(before.bytes)).toBe(true);
    expect(statSync(ws.dbPath).mtimeMs).toBe(before.mtime);
    const text = await doctor(ws, up());
    expect(text.stdout).toMatch(/database data\/quire\.db\n +✓ schema +(\d+) of \1 migrations · [\d.]+ KiB\n +✓ runs +1 completed, 1 failed\n/);
  });

  it('a database from a newer quire is broken (exit 1): the migration it does not know, and the fix', async () => {
    const ws = workspace(filesFor(5001));
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    const db = new Database(ws.dbPath);
    db.prepare('INSERT INTO quire_migrations (name, applied_at) VALUES (?, ?)').run('m999_from_the_future', new Date().toISOString());
    db.close();
    const { code, body } = await doctorJson(ws, up());
    expect(code).toBe(1);
    expect(body.database).toMatchObject({ ok: false, migrations: { unknown: ['m999_from_the_future'] }, error: { code: 'MIGRATION', hint: 'upgrade quire, or point --db at another database file' } });
    expect(body.workspace.ok).toBe(true); // the files are still checked, without the cache
  });

  it('an older schema is fine: the migrations still to apply are named', async () => {
    const ws = workspace(filesFor(5001));
    expect((await runCliAsync(['-w', ws.root, 'sync'])).code).toBe(0);
    const db = new Database(ws.dbPath);
    const last = (db.prepare('SELECT name FROM quire_migrations ORDER BY rowid DESC LIMIT 1').get() as { name: string }).name;
    db.prepare('DELETE FROM quire_migrations WHERE name = ?').run(last);
    db.close();
    const { code, body } = await doctorJson(ws, up());
    expect(code).toBe(0);
    expect(body.database).toMatchObject({ ok: true, migrations: { pending: [last], unknown: [] } });
    expect(body.database.migrations!.applied).toBe(body.database.migrations!.known - 1);
  });

  it('a file that is not a database: DATABASE error with a fix, exit 1', async () => {
    const ws = workspace({ ...filesFor(5001), 'data/quire.db': 'not a database at all, just text that is long enough to be a header\n'.repeat(3) });
    const { code, body } = await doctorJson(ws, up());
    expect(code).toBe(1);
    expect(body.database).toMatchObject({ ok: false, exists: true, error: { code: 'DATABASE' } });
    expect(body.database.error!.hint).toContain('--db');
  });

  it('--db points doctor at another database', async () => {
    const ws = workspace(filesFor(5001));
    const other = `${ws.root}/elsewhere.db`;
    writeFileSync(other, '');
    const { body } = await doctorJson(ws, ['--db', other, ...up()]);
    expect(body.database).toMatchObject({ ok: true, path: other, exists: true, size_bytes: 0, runs: {} });
  });

  it('a workspace without payloads has no endpoints to check', async () => {
    const ws = workspace({ 'blocks/a.md': 'A\n' });
    const { code, body, stdout } = await doctorJson(ws);
    expect(code).toBe(0);
    expect(body.endpoints).toEqual([]);
    expect(stdout).toContain('"endpoints": []');
  });
});
