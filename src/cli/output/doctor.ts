/**
 * `quire doctor` output: a checklist (✓/✗ per check, details dimmed, a fix under each
 * failure), or with --json the one document README's `--json` table describes.
 */
import { isPostgresUrl } from '../../core/store-location.js';
import { relative, isAbsolute } from 'node:path';
import type { DatabaseReport, DoctorFailure, DoctorReport, EndpointReport, MemberReport } from '../../app/doctor.js';
import { formatProblem } from '../../core/errors.js';
import type { CommandContext } from '../context.js';
import { bold, dim, oneLine, printJson, red } from '../report.js';

export function printDoctor(context: CommandContext, report: DoctorReport): void {
  if (context.json) {
    printJson(doctorJson(report));
    return;
  }
  const out = checklist(report, context.quiet);
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
}

/** The `--json` document (snake_case, every field always present, null when unknown). */
export function doctorJson(report: DoctorReport) {
  const failure = (error: DoctorFailure | null) => error && { code: error.code, message: error.message, hint: error.hint };
  const member = (m: MemberReport) => ({
    url: m.url,
    ok: m.ok,
    reachable: m.reachable,
    api: m.api,
    model: m.model,
    context_length: m.contextLength,
    generation: m.generation && {
      ok: m.generation.ok,
      time_to_first_token_ms: m.generation.timeToFirstTokenMs,
      total_ms: m.generation.totalMs,
      completion_tokens: m.generation.completionTokens,
      finish_reason: m.generation.finishReason,
    },
    error: failure(m.error),
  });
  const { workspace, database } = report;
  return {
    ok: report.ok,
    endpoints: report.endpoints.map((e) => ({
      port: e.port,
      ok: e.ok,
      payloads: e.payloads,
      api: e.api,
      model: e.model,
      source: e.source,
      api_key_env: e.apiKeyEnv,
      members: e.members.map(member),
      error: failure(e.error),
    })),
    workspace: { ok: workspace.ok, root: workspace.root, files: workspace.files, counts: workspace.counts, problems: workspace.problems },
    database: {
      ok: database.ok,
      path: database.path,
      exists: database.exists,
      size_bytes: database.sizeBytes,
      migrations: database.migrations,
      runs: database.runsByStatus,
      error: failure(database.error),
    },
  };
}

// --- Internal helpers ---

const PASS = '✓';
const FAIL = red('✗');
const INFO = dim('·');
/** Width of the check names, so the details line up. */
const LABEL = 12;

/** The lines to print; with `quiet`, only the failures (nothing when all is well). */
function checklist(report: DoctorReport, quiet: boolean): string[] {
  const lines: string[] = [];
  const section = (title: string, detail: string, body: string[]) => {
    if (quiet && !body.some((line) => line.includes(FAIL))) return;
    const shown = quiet ? body.filter((line) => !line.trimStart().startsWith(PASS) && !line.trimStart().startsWith(INFO)) : body;
    lines.push(`${bold(title)}${detail ? ` ${dim(detail)}` : ''}`, ...shown);
  };

  if (report.endpoints.length === 0) {
    if (!quiet) lines.push(`${bold('endpoints')} ${dim('none: no payload yet')}`);
  }
  for (const endpoint of report.endpoints) {
    const pooled = endpoint.members.length > 1;
    const working = endpoint.members.filter((m) => m.ok).length;
    const title = `port ${endpoint.port}`;
    const detail = [`used by ${endpoint.payloads.join(', ')}`, pooled ? `pool: ${working} of ${endpoint.members.length} members work` : ''].filter(Boolean).join(' · ');
    const body: string[] = [];
    if (endpoint.apiKeyEnv) {
      body.push(endpoint.error ? failLine('api key', endpoint.error) : passLine('api key', `from ${endpoint.apiKeyEnv.name}`));
    } else if (endpoint.error) body.push(failLine('endpoint', endpoint.error));
    for (const member of endpoint.members) {
      if (pooled) body.push(`  ${member.ok ? PASS : FAIL} ${member.url}`);
      body.push(...memberLines(endpoint, member, pooled ? '    ' : '  '));
    }
    section(title, detail, body);
  }

  const ws = report.workspace;
  const counts = `${plural(ws.files, 'file')}: ${plural(ws.counts.blocks, 'block')}, ${plural(ws.counts.payloads, 'payload')}, ${plural(ws.counts.workflows, 'workflow')}, ${plural(ws.counts.formats, 'format')}`;
  section('workspace', ws.root, ws.ok
    ? [passLine('valid', counts)]
    : [`  ${FAIL} ${plural(ws.problems.length, 'problem')} ${dim(`(${counts})`)}`, ...ws.problems.map((p) => `      ${formatProblem({ ...p, file: oneLine(p.file), message: oneLine(p.message) })}`)]);

  section('database', displayPath(report.database.path, ws.root), databaseLines(report.database));

  if (!quiet) lines.push(report.ok ? 'all good' : red(`${failures(report)} to fix (✗ above)`));
  return lines;
}

function memberLines(endpoint: EndpointReport, member: MemberReport, indent: string): string[] {
  const lines: string[] = [];
  // A pool member's URL is on the line above.
  const url = endpoint.members.length > 1 ? undefined : member.url;
  const api = member.api ? `${member.api}${endpoint.api === 'auto' ? ' (detected)' : ''}` : '';
  if (!member.reachable) {
    lines.push(failLine('reachable', member.error!, indent, url));
    return lines;
  }
  if (member.api === null) {
    lines.push(failLine('api', member.error!, indent, url));
    return lines;
  }
  lines.push(passLine('reachable', url ? `${url} · ${api}` : api, indent));
  lines.push(member.contextLength !== null ? passLine('context', `${member.contextLength} tokens`, indent) : `${indent}${INFO} ${'context'.padEnd(LABEL)}${dim('not reported by the server')}`);
  const g = member.generation;
  if (g?.ok) {
    const facts = [
      g.timeToFirstTokenMs !== null ? `first token after ${g.timeToFirstTokenMs} ms` : '',
      `${g.completionTokens ?? '?'} tokens in ${g.totalMs} ms`,
      member.model ? `model ${member.model}` : '',
    ].filter(Boolean).join(' · ');
    lines.push(passLine('generation', facts, indent));
  } else if (member.error) lines.push(failLine('generation', member.error, indent));
  return lines;
}

function databaseLines(db: DatabaseReport): string[] {
  if (db.error) return [failLine('database', db.error)];
  if (!db.exists) return [passLine('database', 'not created yet: the first sync or run creates it')];
  const m = db.migrations!;
  const schema = `${m.applied} of ${m.known} migrations${m.pending.length > 0 ? ` (the next sync or run applies ${m.pending.join(', ')})` : ''} · ${size(db.sizeBytes ?? 0)}`;
  const runs = Object.entries(db.runsByStatus).map(([status, n]) => `${n} ${status}`).join(', ') || 'none yet';
  return [passLine('schema', schema), passLine('runs', runs)];
}

function passLine(label: string, detail: string, indent = '  '): string {
  return `${indent}${PASS} ${label.padEnd(LABEL)}${dim(oneLine(detail))}`;
}

function failLine(label: string, error: DoctorFailure, indent = '  ', subject?: string): string {
  const message = subject && !error.message.includes(subject) ? `${subject}: ${error.message}` : error.message;
  return `${indent}${FAIL} ${label.padEnd(LABEL)}${oneLine(message)}\n${indent}  ${' '.repeat(LABEL)}fix: ${oneLine(error.hint)}`;
}

function failures(report: DoctorReport): string {
  return plural(report.endpoints.filter((e) => !e.ok).length + (report.workspace.ok ? 0 : 1) + (report.database.ok ? 0 : 1), 'thing');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A path under the workspace as a relative one. */
function displayPath(path: string, root: string): string {
  if (isPostgresUrl(path)) return path;
  const rel = relative(root, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
