import type { ResponseRow, RunRow } from '../../adapters/db/runs.js';
import type { CommandContext } from '../context.js';
import { bold, dim, printJson } from '../report.js';

export function printRuns(context: CommandContext, runs: (RunRow & { steps: number })[]): void {
  if (context.json) {
    printJson({ ok: true, runs: runs.map((r) => ({ id: r.id, workflow: r.workflow, status: r.status, started_at: r.started_at, completed_at: r.completed_at, steps: r.steps, error: r.metadata['error'] ?? null })) });
    return;
  }
  if (runs.length === 0) {
    process.stdout.write('no runs yet\n');
    return;
  }
  const rows = runs.map((r) => [`#${r.id}`, r.workflow ?? '(deleted)', r.status, r.started_at, String(r.steps), typeof r.metadata['error'] === 'string' ? (r.metadata['error'] as string).slice(0, 60) : '']);
  const header = ['run', 'workflow', 'status', 'started (UTC)', 'steps', 'error'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${bold(line(header))}\n${rows.map(line).join('\n')}\n`);
}

export function printRun(context: CommandContext, { run, responses }: { run: RunRow; responses: ResponseRow[] }): void {
  if (context.json) {
    printJson({ ok: true, run: { ...run }, responses: responses.map((r) => ({ id: r.id, payload: r.payload, payload_id: r.payload_id, prompt: r.prompt, content: r.content, metadata: r.metadata, created_at: r.created_at })) });
    return;
  }
  const m = run.metadata;
  process.stdout.write(`${bold(`run #${run.id}`)} · ${run.workflow ?? '(deleted workflow)'} · ${run.status}\n`);
  process.stdout.write(dim(`started ${run.started_at} UTC${run.completed_at ? ` · finished ${run.completed_at} UTC` : ''}\n`));
  if (m['git_commit']) process.stdout.write(dim(`git ${String(m['git_commit']).slice(0, 12)}${m['git_dirty'] ? ' (uncommitted changes)' : ''}\n`));
  if (m['inputs'] && Object.keys(m['inputs'] as object).length) process.stdout.write(dim(`inputs ${JSON.stringify(m['inputs'])}\n`));
  if (m['error']) process.stdout.write(`error: ${String(m['error'])}\n`);
  for (const response of responses) {
    const meta = response.metadata;
    const title = `── ${String(meta['step'] ?? response.payload ?? `response ${response.id}`)} `;
    const facts = [meta['api'] && `${String(meta['api'])} ${String(meta['endpoint'] ?? '')}`, meta['completion_tokens'] != null && `${String(meta['completion_tokens'])} tokens`, meta['total_ms'] != null && `${String(meta['total_ms'])} ms`, meta['finish_reason'] && String(meta['finish_reason'])].filter(Boolean).join(' · ');
    process.stdout.write(`\n${bold(title.padEnd(72, '─'))}\n${dim(facts)}\n`);
    if (response.prompt !== null) process.stdout.write(`${dim('prompt:')}\n${response.prompt}\n`);
    process.stdout.write(`${dim('response:')}\n${response.content ?? ''}\n`);
  }
}
