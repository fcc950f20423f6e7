/**
 * Turning rows that exist only in the database (typed into the original system) into
 * workspace files. Pure: rows in, `{ path, text }` out. The paths and names come from
 * export-names.ts, which sync also uses to adopt the rows once the files exist.
 */
import { stringify } from 'yaml';
import { findIncludes } from './includes.js';
import { exportBlockKeys, exportNames } from './export-names.js';

export interface ExportBlockRow {
  id: number;
  title: string;
  content: string | null;
  tags: string | null;
  folder_path: string | null;
}

export interface ExportPayloadRow {
  id: number;
  name: string;
  temperature: number | null;
  response_length: number | null;
  llm_port: number | null;
  model_format: string | null;
  /** Block ids in order_index order. */
  blockIds: number[];
}

export interface ExportWorkflowRow {
  id: number;
  name: string;
  /** Payload ids in order_index order. */
  payloadIds: number[];
}

export interface ExportInput {
  blocks: ExportBlockRow[];
  payloads: ExportPayloadRow[];
  workflows: ExportWorkflowRow[];
  /** Keys and names of rows that came from files, by id (references to them use these). */
  fileBlockKeys: Map<number, string>;
  filePayloadNames: Map<number, string>;
  /** Names already used by files, so exported names never collide with them. */
  takenBlockKeys: Set<string>;
  takenPayloadNames: Set<string>;
  takenWorkflowNames: Set<string>;
}

export interface ExportedFile {
  path: string;
  text: string;
  kind: 'block' | 'payload' | 'workflow';
  id: number;
}

export interface ExportPlan {
  files: ExportedFile[];
  warnings: string[];
}

/** Plans the files for every database-only row. */
export function planExport(input: ExportInput, knownFormats: ReadonlySet<string>): ExportPlan {
  const files: ExportedFile[] = [];
  const warnings: string[] = [];
  const blockKeys = exportBlockKeys(input.blocks, input.takenBlockKeys);
  const payloadNames = exportNames(input.payloads, input.takenPayloadNames);
  const workflowNames = exportNames(input.workflows, input.takenWorkflowNames);

  for (const block of input.blocks) {
    const key = blockKeys.get(block.id)!;
    const meta: Record<string, unknown> = {};
    const baseName = key.slice(key.lastIndexOf('/') + 1);
    if (block.title !== baseName) meta['title'] = block.title;
    const tags = (block.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) meta['tags'] = tags;
    const header = Object.keys(meta).length ? `---\n${stringify(meta, { lineWidth: 0 })}---\n` : '---\n---\n';
    const path = `blocks/${key}.md`;
    files.push({ path, text: header + (block.content ?? ''), kind: 'block', id: block.id });
    // Text typed into the original system was never a template: say now what sync will refuse.
    const scan = findIncludes(path, block.content ?? '', 1 + header.split('\n').length - 1);
    if (!scan.ok) warnings.push(`${path}:${scan.problem.line}: ${scan.problem.message}; fix it (or escape literal braces as \\{{) before syncing`);
  }

  const blockKey = (id: number) => blockKeys.get(id) ?? input.fileBlockKeys.get(id);
  for (const payload of input.payloads) {
    const name = payloadNames.get(payload.id)!;
    const keys = payload.blockIds.map(blockKey).filter((key): key is string => key !== undefined);
    if (keys.length < payload.blockIds.length) warnings.push(`payload "${name}": ${payload.blockIds.length - keys.length} linked block(s) no longer exist and were left out`);
    const body: Record<string, unknown> = { name };
    if (payload.temperature !== null) body['temperature'] = payload.temperature;
    if (payload.response_length !== null) body['response_length'] = payload.response_length;
    if (payload.llm_port !== null) body['llm_port'] = payload.llm_port;
    if (payload.model_format !== null) {
      body['model_format'] = payload.model_format;
      if (!knownFormats.has(payload.model_format)) {
        warnings.push(`payload "${name}": model_format "${payload.model_format}" is not a quire format; edit it to a built-in or add formats/${payload.model_format}.yaml`);
      }
    }
    body['blocks'] = keys;
    files.push({ path: `workflows/exported/${name}.payload.yaml`, text: modeline('payload') + stringify(body, { lineWidth: 0 }), kind: 'payload', id: payload.id });
  }

  const payloadName = (id: number) => payloadNames.get(id) ?? input.filePayloadNames.get(id);
  for (const workflow of input.workflows) {
    const name = workflowNames.get(workflow.id)!;
    const steps = workflow.payloadIds.map(payloadName).filter((n): n is string => n !== undefined);
    if (steps.length === 0) {
      warnings.push(`workflow "${name}" has no payloads left; not exported`);
      continue;
    }
    files.push({ path: `workflows/exported/${name}.workflow.yaml`, text: modeline('workflow') + stringify({ name, payloads: steps }, { lineWidth: 0 }), kind: 'workflow', id: workflow.id });
  }
  return { files, warnings };
}

function modeline(kind: 'payload' | 'workflow'): string {
  return `# yaml-language-server: $schema=../../schemas/${kind}.schema.json\n`;
}
