/**
 * The date Llama 3.1 prints ("Today Date: …"), through the built CLI: the same workflow
 * renders the same prompt every day (26 Jul 2024, what the official template prints when
 * the tokenizer passes no date_string), unless a workspace format chooses a fixed date or
 * `today`.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTemplateDate } from '../src/core/formats/index.js';
import { BIN, runCli } from './helpers/cli.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const temps: TempWorkspace[] = [];
afterAll(() => temps.forEach((ws) => ws.cleanup()));
beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
});

function workspace(format: string, files: Record<string, string> = {}): TempWorkspace {
  const ws = makeWorkspace({
    'blocks/t.md': 'Hello.\n',
    'workflows/p.payload.yaml': `model_format: ${format}\nblocks: [t]\n`,
    'workflows/w.workflow.yaml': 'payloads: [p]\n',
    ...files,
  });
  temps.push(ws);
  return ws;
}

/** The prompt text of the one step, from `render --json` or `run --dry-run --json`. */
function promptOf(ws: TempWorkspace, ...args: string[]): string {
  const result = runCli(['-w', ws.root, '--db', ws.dbPath, ...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { steps: { prompt: string }[] }).steps[0]!.prompt;
}

const header = (date: string) => `<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: ${date}\n\n<|eot_id|>`;

describe('llama3.1 Today Date', () => {
  it('is 26 Jul 2024 by default, on any day, in render and run --dry-run', () => {
    const ws = workspace('llama3.1');
    expect(promptOf(ws, 'render', 'p').startsWith(header('26 Jul 2024'))).toBe(true);
    expect(promptOf(ws, 'run', 'w', '--dry-run').startsWith(header('26 Jul 2024'))).toBe(true);
  });

  it('a workspace format chooses a fixed date, or today', () => {
    const ws = workspace('llama3.1-fixed', {
      'formats/llama3.1-fixed.yaml': 'base: llama3.1\ndate_string: 01 Feb 2030\n',
      'formats/llama3.1.yaml': 'description: the built-in, with today\'s date\nbase: llama3.1\ndate_string: today\n',
      'workflows/today.payload.yaml': 'model_format: llama3.1\nblocks: [t]\n',
    });
    expect(runCli(['-w', ws.root, 'validate']).code).toBe(0);
    expect(promptOf(ws, 'render', 'p').startsWith(header('01 Feb 2030'))).toBe(true);
    const before = formatTemplateDate(new Date());
    const today = promptOf(ws, 'render', 'today');
    const after = formatTemplateDate(new Date());
    expect([header(before), header(after)]).toContain(today.slice(0, header(before).length));
  });

  it('a bad base or date_string is a located problem', () => {
    const ws = workspace('x', {
      'formats/x.yaml': 'base: lama3.1\n',
      'formats/y.yaml': 'base: chatml\ndate_string: today\n',
      'formats/z.yaml': 'base: llama3.1\ndate_string: 1\n',
    });
    const result = runCli(['-w', ws.root, 'validate']);
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^formats\/x\.yaml:1:7: base must be one of: .*llama3\.1/));
    expect(lines).toContainEqual(expect.stringMatching(/^formats\/y\.yaml:\d+:\d+: Format "y": date_string applies only to a format that prints a date \(llama3\.1\), not "chatml"/));
    expect(lines).toContainEqual(expect.stringMatching(/^formats\/z\.yaml:2:14: date_string must be/));
  });
});

describe('the date a run recorded', () => {
  it('is in the response metadata: the fixed default, or today from a format that asks for it', async () => {
    const { startMockLlm } = await import('../src/mock-llm/index.js');
    const { runCliAsync } = await import('./helpers/cli.js');
    const mock = await startMockLlm({ api: 'kobold' });
    try {
      const dated = async (ws: TempWorkspace) => {
        const run = await runCliAsync(['-w', ws.root, 'run', 'w', '--json', '--endpoint', `5001=${mock.url}`]);
        expect(run.code, run.stderr).toBe(0);
        const shown = JSON.parse(runCli(['-w', ws.root, 'show', String((JSON.parse(run.stdout) as { run_id: number }).run_id), '--json']).stdout) as { responses: { metadata: { date_string?: string } }[] };
        return shown.responses[0]!.metadata.date_string;
      };
      expect(await dated(workspace('llama3.1'))).toBe('26 Jul 2024');
      expect(await dated(workspace('llama3.1', { 'formats/llama3.1.yaml': 'base: llama3.1\ndate_string: today\n' }))).toBe(formatTemplateDate(new Date()));
      expect(await dated(workspace('chatml'))).toBeUndefined();
    } finally {
      await mock.close();
    }
  });
});
