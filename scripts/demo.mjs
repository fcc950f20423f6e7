// The main job, end to end: start `quire mock-llm` on a free port, run the repo's
// example workflow against it (streamed), show the recorded run, run its test cases,
// stop the server.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
const quire = (args, options = {}) => spawnSync(process.execPath, [bin, '-w', root, ...args], { stdio: 'inherit', ...options });

// A little latency per token so the streaming is visible.
const server = spawn(process.execPath, [bin, 'mock-llm', '--port', '0', '--fault', 'latency=25', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
const firstLine = await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.once('exit', (code) => reject(new Error(`mock-llm exited early (code ${code})`)));
  createInterface({ input: server.stdout }).once('line', resolve);
});
const { url } = JSON.parse(firstLine);
console.log(`\n● mock-llm is serving the KoboldCpp, OpenAI, Ollama and llama.cpp APIs at ${url}`);
console.log(`● quire run research --endpoint 5001=${url}\n`);

let status = 1;
try {
  const run = quire(['run', 'research', '--endpoint', `5001=${url}`]);
  status = run.status ?? 1;
  console.log('\n● the recorded run (quire runs --limit 3, then quire show <id>):\n');
  quire(['runs', '--limit', '3']);
  const latest = spawnSync(process.execPath, [bin, '-w', root, 'runs', '--limit', '1', '--json'], { encoding: 'utf8' });
  const id = JSON.parse(latest.stdout).runs[0]?.id;
  if (id !== undefined) {
    console.log('');
    quire(['show', String(id)]);
  }
  console.log(`\n● quire test --endpoint 5001=${url}: the cases in workflows/research.tests.yaml and their checks\n`);
  const tested = quire(['test', '--endpoint', `5001=${url}`]);
  if (status === 0) status = tested.status ?? 1;
} finally {
  server.kill('SIGTERM');
}
console.log('\n● done. Point the same workflow at a real server: see "Real servers" in the README.');
process.exitCode = status;
