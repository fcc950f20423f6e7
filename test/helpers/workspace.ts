/**
 * Real temp workspaces for tests: write a `{ path: content }` map into a fresh folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempWorkspace {
  root: string;
  dbPath: string;
  write(path: string, content: string | Uint8Array): void;
  cleanup(): void;
}

export function makeWorkspace(files: Record<string, string | Uint8Array> = {}): TempWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'quire-test-'));
  const write = (path: string, content: string | Uint8Array) => {
    const absolute = join(root, path);
    mkdirSync(dirname(absolute), { recursive: true });
    writeFileSync(absolute, content);
  };
  for (const [path, content] of Object.entries(files)) write(path, content);
  return { root, dbPath: join(root, 'data', 'quire.db'), write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A small valid workspace: two blocks (one tagged), one payload, one workflow. */
export const MINIMAL_WORKSPACE: Record<string, string> = {
  'blocks/style/concise.md': '---\ntags: [style]\n---\nBe concise.\n',
  'blocks/tasks/summarize.md': '---\ntitle: Summarize\n---\nSummarize in {{input.words}} words.\n\n{{tag "style"}}\n',
  'workflows/summarize.payload.yaml': 'name: summarize\nmodel_format: chatml\nblocks:\n  - tasks/summarize\n  - text: "Text: {{input.text}}"\n',
  'workflows/research.workflow.yaml': 'name: research\ninputs:\n  text: { type: string }\n  words: { type: integer, default: 20 }\npayloads:\n  - summarize\n',
};
