/**
 * The starter workspace (repo root) and every example workspace stay valid, and every
 * workflow in them renders.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWorkspaceReader } from '../src/adapters/fs/workspace-reader.js';
import { inspectWorkspace } from '../src/app/load.js';
import { renderTarget } from '../src/app/render.js';
import { createAppContext } from '../src/cli/context.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const examples = readdirSync(new URL('../examples/', import.meta.url)).map((name) => `examples/${name}`);

describe.each(['.', ...examples])('workspace %s', (dir) => {
  const root = `${repo}/${dir}`;
  it('validates with no problems', () => {
    const { problems, workspace } = inspectWorkspace(createWorkspaceReader(root));
    expect(problems).toEqual([]);
    expect(workspace.workflows.size).toBeGreaterThan(0);
  });
  it('renders every workflow', async () => {
    const { workspace } = inspectWorkspace(createWorkspaceReader(root));
    const app = createAppContext({ root, dbPath: `${root}/data/does-not-exist.db` });
    try {
      for (const name of workspace.workflows.keys()) {
        const result = renderTarget(app, name, {});
        expect(result.steps.length).toBe(workspace.workflows.get(name)!.steps.length);
        for (const step of result.steps) expect(step.prompt.text.length).toBeGreaterThan(0);
      }
    } finally {
      await app.close();
    }
  });
});
