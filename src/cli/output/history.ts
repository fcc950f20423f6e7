import { isPostgresUrl } from '../../core/store-location.js';
import type { ResponseRecord, RunRecord, RunSummary } from '../../core/history.js';
import type { CommandContext } from '../context.js';
import { bold, dim, printJson } from '../report.js';

export function printRuns(context: CommandContext, runs: RunSummary[]): void {
  if (context.json) {
    printJson({ ok: true, runs: runs.map((r) => ({ id: r.id, workflow: r.workflow, status: r.status, started_at: r.startedAt, completed_at: r.completedAt, steps: r.steps, error: r.metadata.error ?? null, user: authorOf(r)?.user ?? null, host: authorOf(r)?.host ?? null })) });
    return;
  }
  if (runs.length === 0) {
    process.stdout.write('no runs yet\n');
    return;
  }
  // Who ran each run, when that tells something: a shared store, or runs of several people or machines.
  const authors = new Set(runs.map((r) => { const a = authorOf(r); return a ? `${a.user}@${a.host}` : ''; }));
  const by = isPostgresUrl(context.dbPath) || authors.size > 1;
  const rows = runs.map((r) => {
    const a = authorOf(r);
    return [`#${r.id}`, r.workflow ?? '(deleted)', r.status, r.startedAt, ...(by ? [a ? `${a.user}@${a.host}` : ''] : []), String(r.steps), typeof r.metadata.error === 'string' ? r.metadata.error.slice(0, 60) : ''];
  });
  const header = ['run', 'workflow', 'status', 'started (UTC)', ...(by ? ['by'] : []), 'steps', 'error'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${bold(line(header))}\n${rows.map(line).join('\n')}\n`);
}

export function printRun(context: CommandContext, { run, responses }: { run: RunRecord; responses: ResponseRecord[] }): void {
  if (context.json) {
    printJson({
      ok: true,
      run: { id: run.id, workflow_id: run.workflowId, status: run.status, started_at: run.startedAt, completed_at: run.completedAt, metadata: run.metadata, workflow: run.workflow },
      responses: responses.map((r) => ({ id: r.id, payload: r.payload, payload_id: r.payloadId, prompt: r.prompt, content: r.content, metadata: r.metadata, created_at: r.createdAt })),
    });
    return;
  }
  const m = run.metadata;
  process.stdout.write(`${bold(`run #${run.id}`)} · ${run.workflow ?? '(deleted workflow)'} · ${run.status}\n`);
  process.stdout.write(dim(`started ${run.startedAt} UTC${run.completedAt ? ` · finished ${run.completedAt} UTC` : ''}\n`));
  if (m.git_commit) process.stdout.write(dim(`git ${String(m.git_commit).slice(0, 12)}${m.git_dirty ? ' (uncommitted changes)' : ''}\n`));
  if (m.inputs && Object.keys(m.inputs).length) process.stdout.write(dim(`inputs ${JSON.stringify(m.inputs)}\n`));
  if (m.error) process.stdout.write(`error: ${m.error}\n`);
  for (const response of responses) {
    const meta = response.metadata;
    const title = `── ${String(meta.step ?? response.payload ?? `response ${response.id}`)} `;
    const facts = [meta.api && `${meta.api} ${String(meta.endpoint ?? '')}`, meta.completion_tokens != null && `${meta.completion_tokens} tokens`, meta.total_ms != null && `${meta.total_ms} ms`, meta.finish_reason].filter(Boolean).join(' · ');
    process.stdout.write(`\n${bold(title.padEnd(72, '─'))}\n${dim(facts)}\n`);
    if (response.prompt !== null) process.stdout.write(`${dim('prompt:')}\n${response.prompt}\n`);
    process.stdout.write(`${dim('response:')}\n${response.content ?? ''}\n`);
  }
}

/** runs.metadata's user and host, when recorded (older runs and rows of the original system have none). */
function authorOf(run: RunRecord): { user: string; host: string } | undefined {
  const { user, host } = run.metadata;
  return typeof user === 'string' && typeof host === 'string' ? { user, host } : undefined;
}
