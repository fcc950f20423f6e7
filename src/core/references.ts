/**
 * Cross-file checks: every reference resolves, names are unique, includes do not loop.
 */
import type { CheckSpec } from './checks/types.js';
import { AppError, type Problem, type SourceLocation } from './errors.js';
import { resolveInputs } from './inputs.js';
import { BUILTIN_FORMATS } from './formats/index.js';
import { RENDER_LIMITS } from './render.js';
import { didYouMean as suggest } from './suggest.js';
import type { Block, BlockRef, Workspace } from './types.js';

/** A block key must be a plain path under blocks/: no `..`, no absolute path, no backslashes. */
export function badBlockKeyReason(key: string): string | undefined {
  if (key.startsWith('/') || /^[A-Za-z]:[\\/]/.test(key)) return 'is an absolute path; block keys are paths under blocks/ without .md';
  if (key.includes('\\')) return 'uses "\\"; block keys use "/" between folders';
  if (key.split('/').some((part) => part === '..' || part === '.')) return 'contains "." or ".." segments; block keys are paths under blocks/ without .md';
  if (/\.md$/i.test(key)) return 'ends in .md; write the key without the extension';
  return undefined;
}

/** Names whose files failed to parse: their problems are already reported. */
export interface BrokenNames {
  blocks: Set<string>;
  payloads: Set<string>;
  /** Some block failed, so a tag may be missing only because of it. */
  anyBlock: boolean;
  /** Some workflow file failed (its name may differ from its file's), so a workflow may be missing only because of it. */
  anyWorkflow?: boolean;
}

const NONE_BROKEN: BrokenNames = { blocks: new Set(), payloads: new Set(), anyBlock: false };

/** Checks payload references, step references, formats and block includes. */
export function checkReferences(workspace: Workspace, broken: BrokenNames = NONE_BROKEN, options: { includeGraph?: boolean } = {}): Problem[] {
  const builtinFormats = new Set(Object.keys(BUILTIN_FORMATS));
  const problems: Problem[] = [];
  const problem = (at: SourceLocation, code: Problem['code'], message: string) => problems.push({ ...at, code, message });

  /** A reference by block key or by tag, wherever it is written (payload entry or include). */
  const checkTarget = (kind: 'block' | 'tag', name: string, at: SourceLocation) => {
    if (kind === 'block') {
      const bad = badBlockKeyReason(name);
      if (bad) problem(at, 'BAD_PATH', `block key "${name}" ${bad}`);
      else if (!workspace.blocks.has(name) && !broken.blocks.has(name)) problem(at, 'MISSING_BLOCK', `unknown block "${name}"${suggest(name, workspace.blocks.keys())}`);
    } else if (!workspace.tags.has(name) && !broken.anyBlock) {
      problem(at, 'MISSING_TAG', `no block has the tag "${name}"${suggest(name, workspace.tags.keys())}`);
    }
  };

  /** A `judge` check names a payload of the workspace. */
  const checkJudges = (checks: readonly CheckSpec[]) => {
    for (const check of checks) {
      if (check.name !== 'judge') continue;
      const name = (check.args as { payload: string }).payload;
      if (!workspace.payloads.has(name) && !broken.payloads.has(name)) problem(check.at, 'MISSING_PAYLOAD', `judge: unknown payload "${name}"${suggest(name, workspace.payloads.keys())}`);
    }
  };

  const checkRef = (ref: BlockRef) => {
    if (ref.kind === 'block') checkTarget('block', ref.key, ref.at);
    else if (ref.kind === 'tag') checkTarget('tag', ref.tag, ref.at);
    else for (const include of ref.includes) checkTarget(include.kind, include.name, ref.at);
  };

  for (const payload of workspace.payloads.values()) {
    payload.system.forEach(checkRef);
    payload.blocks.forEach(checkRef);
    if (!builtinFormats.has(payload.modelFormat) && !workspace.formats.has(payload.modelFormat)) {
      const known = [...builtinFormats, ...workspace.formats.keys()].sort();
      problem(payload.formatAt ?? payload.at, 'UNKNOWN_FORMAT', `unknown model_format "${payload.modelFormat}"${suggest(payload.modelFormat, known)} (known: ${known.join(', ')}; or add formats/${payload.modelFormat}.yaml)`);
    }
  }

  for (const workflow of workspace.workflows.values()) {
    for (const step of workflow.steps) {
      if (!workspace.payloads.has(step.payload) && !broken.payloads.has(step.payload)) {
        problem(step.at, 'MISSING_PAYLOAD', `unknown payload "${step.payload}"${suggest(step.payload, workspace.payloads.keys())}`);
      }
      checkJudges(step.expect);
    }
  }
  for (const suite of workspace.tests.values()) for (const testCase of suite.cases) for (const checks of Object.values(testCase.expect)) checkJudges(checks);

  problems.push(...checkTestSuites(workspace, broken));

  for (const block of workspace.blocks.values()) {
    for (const include of block.includes) checkTarget(include.kind, include.name, { file: block.sourcePath, line: include.line, col: include.col });
  }

  // The include graph's checks walk every block: a caller that knows no block's key, tags or includes changed skips them.
  if (options.includeGraph !== false) {
    problems.push(...findIncludeCycles(workspace));
    problems.push(...findDeepIncludes(workspace));
  }
  return problems;
}

/**
 * Test cases: their workflow exists, the steps their checks name exist in it, and their
 * inputs fit it (a case with a dataset may leave required inputs to the records).
 */
function checkTestSuites(workspace: Workspace, broken: BrokenNames): Problem[] {
  const problems: Problem[] = [];
  for (const suite of workspace.tests.values()) {
    const workflow = workspace.workflows.get(suite.workflow);
    if (!workflow) {
      if (!broken.anyWorkflow) problems.push({ ...suite.at, code: 'MISSING_WORKFLOW', message: `unknown workflow "${suite.workflow}"${suggest(suite.workflow, workspace.workflows.keys())}` });
      continue;
    }
    const steps = workflow.steps.map((step) => step.name);
    for (const testCase of suite.cases) {
      for (const [step, checks] of Object.entries(testCase.expect)) {
        if (!steps.includes(step)) problems.push({ ...(checks[0]?.at ?? testCase.at), code: 'SCHEMA', message: `case "${testCase.name}": workflow "${workflow.name}" has no step "${step}"${suggest(step, steps)} (steps: ${steps.join(', ')})` });
      }
      try {
        resolveInputs(workflow, testCase.inputs, { placeholders: testCase.dataset !== undefined });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        problems.push({ ...testCase.at, code: 'INPUT', message: `case "${testCase.name}": ${error.message.replace(/^\d+ input problems:\n\s*/, '').replace(/\n\s*/g, '; ')}` });
      }
    }
  }
  return problems;
}

/**
 * Include chains longer than rendering allows (RENDER_LIMITS.includeDepth blocks), each
 * reported once, at the include that starts it in the chain's first block, with the chain.
 * Only literal includes are seen here (`{{block vars.x}}` is checked when it renders), and a
 * cycle is left to findIncludeCycles.
 *
 * Heights are computed once per block and once per included tag (the tallest of its blocks),
 * so a tag included by many blocks is not expanded again for each of them.
 */
export function findDeepIncludes(workspace: Workspace): Problem[] {
  const limit = RENDER_LIMITS.includeDepth;
  type Include = Block['includes'][number];
  // A node is a block (by key) or an included tag ('\0' + name: no block key starts with NUL).
  const TAG = '\u0000';
  const children = (node: string): string[] => {
    if (node.startsWith(TAG)) return (workspace.tags.get(node.slice(1)) ?? []).filter((key) => workspace.blocks.has(key));
    const block = workspace.blocks.get(node)!;
    return block.includes.flatMap((include) => (include.kind === 'tag' ? [TAG + include.name] : workspace.blocks.has(include.name) ? [include.name] : []));
  };
  // height: blocks in the longest chain starting at a node (a tag adds no block of its own);
  // next: the child that chain continues with.
  const height = new Map<string, number>();
  const next = new Map<string, string>();
  const active = new Set<string>();
  const keys = [...workspace.blocks.keys()].sort();
  for (const root of keys) {
    if (height.has(root)) continue;
    if (workspace.blocks.get(root)!.includes.length === 0) {
      height.set(root, 1); // most blocks include nothing: no walk
      continue;
    }
    // Iterative depth-first walk: a chain of thousands of blocks must not overflow the stack.
    const stack: { node: string; edges: string[]; index: number }[] = [{ node: root, edges: children(root), index: 0 }];
    active.add(root);
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      const child = frame.edges[frame.index++];
      if (child !== undefined) {
        if (!height.has(child) && !active.has(child)) {
          active.add(child);
          const leaf = !child.startsWith(TAG) && workspace.blocks.get(child)!.includes.length === 0;
          if (leaf) {
            height.set(child, 1);
            active.delete(child);
          } else stack.push({ node: child, edges: children(child), index: 0 });
        }
        continue;
      }
      let best = 0;
      for (const candidate of frame.edges) {
        const below = height.get(candidate);
        if (below !== undefined && below > best) {
          best = below;
          next.set(frame.node, candidate);
        }
      }
      height.set(frame.node, frame.node.startsWith(TAG) ? best : best + 1);
      active.delete(frame.node);
      stack.pop();
    }
  }

  /** The next block of the chain from a block, and the include that leads there. */
  const step = (key: string): { target: string; include: Include } | undefined => {
    const child = next.get(key);
    if (child === undefined) return undefined;
    const block = workspace.blocks.get(key)!;
    if (!child.startsWith(TAG)) return { target: child, include: block.includes.find((i) => i.kind === 'block' && i.name === child)! };
    const target = next.get(child);
    return target === undefined ? undefined : { target, include: block.includes.find((i) => i.kind === 'tag' && i.name === child.slice(1))! };
  };
  const tooDeep = (key: string) => (height.get(key) ?? 0) > limit;
  const includedByTooDeep = new Set<string>();
  for (const key of keys) {
    if (!tooDeep(key)) continue;
    for (const child of children(key)) for (const target of child.startsWith(TAG) ? children(child) : [child]) includedByTooDeep.add(target);
  }
  const problems: Problem[] = [];
  for (const key of keys) {
    if (!tooDeep(key) || includedByTooDeep.has(key)) continue;
    const chain = [key];
    for (let link = step(key); link && chain.length <= height.get(key)!; link = step(link.target)) chain.push(link.target);
    const first = step(key)!.include;
    const block = workspace.blocks.get(key)!;
    problems.push({
      file: block.sourcePath,
      line: first.line,
      col: first.col,
      code: 'TEMPLATE',
      message: `includes nest ${height.get(key)} blocks deep, more than the ${limit} rendering allows: ${chain.join(' -> ')}`,
    });
  }
  return problems;
}

/**
 * Include cycles between blocks, each reported once at the include that closes it,
 * printed as `a -> b -> a`. Tag includes count as including every block with the tag.
 */
export function findIncludeCycles(workspace: Workspace): Problem[] {
  const problems: Problem[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();

  const edges = (block: Block) =>
    block.includes.flatMap((include) =>
      (include.kind === 'block' ? [include.name] : (workspace.tags.get(include.name) ?? [])).map((target) => ({ target, include })),
    );

  const visit = (key: string) => {
    state.set(key, 'active');
    stack.push(key);
    const block = workspace.blocks.get(key)!;
    for (const { target, include } of edges(block)) {
      if (!workspace.blocks.has(target)) continue;
      const targetState = state.get(target);
      if (targetState === 'active') {
        const cycle = [...stack.slice(stack.indexOf(target)), target];
        const id = [...cycle.slice(0, -1)].sort().join('\u0000');
        if (!reported.has(id)) {
          reported.add(id);
          const how = include.kind === 'tag' ? ` (through {{tag "${include.name}"}})` : '';
          problems.push({ file: block.sourcePath, line: include.line, col: include.col, code: 'INCLUDE_CYCLE', message: `include cycle: ${cycle.join(' -> ')}${how}` });
        }
      } else if (targetState === undefined) {
        visit(target);
      }
    }
    stack.pop();
    state.set(key, 'done');
  };

  for (const key of [...workspace.blocks.keys()].sort()) if (!state.has(key)) visit(key);
  return problems;
}
