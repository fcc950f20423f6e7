/**
 * The sync benchmark's workload: a large, deterministic, valid workspace
 * (10,000 blocks in 200 folders, 1,000 payload files, 100 workflows by default),
 * plus a manifest of the rows a sync must write (used by the baseline).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRandom } from './lib.mjs';

export const DEFAULT_SIZE = { blocks: 10_000, folders: 200, tags: 300, payloads: 1_000, workflows: 100 };

const FORMATS = ['chatml', 'llama3', 'mistral', 'default'];

const WORDS = (
  'the a an of to in for on with by from as at into over under about after before between through during without within ' +
  'model prompt answer question summary context detail example reader writer editor analyst customer support ticket ' +
  'report draft outline section paragraph sentence word style tone voice format list table step plan goal task result ' +
  'review critique improve rewrite explain clarify compare contrast evaluate measure estimate verify check confirm cite ' +
  'source evidence claim argument reason assumption risk benefit cost trade-off option decision priority deadline scope ' +
  'concise precise neutral formal friendly warm direct careful honest brief thorough structured numbered plain simple ' +
  'user assistant system instruction constraint rule policy guideline requirement exception edge case failure retry ' +
  'data record field value schema column row query filter sort group join index cache hash file folder path key tag ' +
  'always never only must should may avoid prefer keep drop add remove include exclude mention ignore focus highlight ' +
  'first second third next then finally also however therefore because although unless while when where which that ' +
  'café naïve résumé Zürich façade 東京 データ 🙂 ✓ — … « » ' +
  'quickly slowly clearly briefly fully partly mostly rarely often usually sometimes again together apart'
).split(/\s+/).filter(Boolean);

const TOP_FOLDERS = [
  'Phase 1', 'Phase 2', 'Phase 3', 'Style Guides', 'personas', 'Customer Support', 'research', 'legal',
  'Marketing Copy', 'engineering', 'eval', 'shared', 'Data Extraction', 'translation', 'summaries', 'qa',
  'onboarding', 'Sales Emails', 'misc', 'archive 2024',
];
const SUB_FOLDERS = [
  'Instructions', 'examples', 'Few Shot', 'rules', 'tone', 'Output Formats', 'drafts', 'v2', 'edge cases',
  'checks', 'snippets', 'Long Form', 'short', 'templates', 'context', 'Personas', 'system', 'fragments',
];
const PAYLOAD_GROUPS = ['payloads', 'payloads/Customer Support', 'payloads/research', 'payloads/eval', 'payloads/Phase 1', 'payloads/extraction', 'payloads/writing', 'payloads/misc'];

/**
 * Writes the workspace under `root` (which must not exist or is replaced) and returns
 * a manifest: the file list and the rows a sync into an empty database writes.
 */
export function generateWorkspace(root, size = DEFAULT_SIZE, seed = 20240607) {
  const rnd = createRandom(seed);
  rmSync(root, { recursive: true, force: true });
  const files = [];
  const write = (rel, text) => {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
    files.push(rel);
  };

  write('quire.yaml', '# yaml-language-server: $schema=./schemas/config.schema.json\nllm:\n  host: 127.0.0.1\n  api: auto\n  timeout_ms: 300000\n  retries: 2\n');

  // --- Folders: 20 top-level, the rest nested (depth up to 4), some with spaces.
  const folders = [...TOP_FOLDERS.slice(0, Math.min(TOP_FOLDERS.length, size.folders))];
  const taken = new Set(folders);
  while (folders.length < size.folders) {
    const parent = rnd.pick(folders);
    if (parent.split('/').length >= 4) continue;
    const child = `${parent}/${rnd.pick(SUB_FOLDERS)}${rnd.chance(0.3) ? ` ${rnd.int(1, 9)}` : ''}`;
    if (taken.has(child)) continue;
    taken.add(child);
    folders.push(child);
  }
  folders.push(''); // a few blocks at the root of blocks/

  // --- Tags: the first 10% are "leaf" tags, whose blocks include nothing, so {{tag}} includes never loop.
  const tags = Array.from({ length: size.tags }, (_, i) => (i % 7 === 0 ? `Topic ${i}` : `${rnd.pick(WORDS.slice(40, 120))}-${i}`).replace(/[^\p{L}\p{N} -]/gu, 'x'));
  const leafCount = Math.max(1, Math.floor(size.tags / 10));
  const leafTags = new Set(tags.slice(0, leafCount));

  // --- Blocks
  const blocks = [];
  for (let i = 0; i < size.blocks; i++) {
    const folder = i < 20 ? '' : folders[Math.floor(rnd.next() * (folders.length - 1))];
    const fileName = `${rnd.chance(0.15) ? 'note ' : 'b'}${String(i).padStart(5, '0')}-${rnd.pick(WORDS.slice(20, 60))}`;
    const key = folder ? `${folder}/${fileName}` : fileName;
    const blockTags = [tags[i % tags.length], ...rnd.sample(tags, 4)].filter((t, k, all) => all.indexOf(t) === k).slice(0, 3);
    const hasLeafTag = blockTags.some((t) => leafTags.has(t));
    const includes = [];
    if (!hasLeafTag && i >= 50 && rnd.chance(0.2)) {
      // Only blocks with a lower index: the include graph is a DAG.
      for (let k = rnd.int(1, 2); k > 0; k--) includes.push({ block: blocks[rnd.int(0, i - 1)].key });
      if (rnd.chance(0.25)) includes.push({ tag: tags[rnd.int(0, leafCount - 1)] });
    }
    const title = rnd.chance(0.7) ? `${capitalize(rnd.pick(WORDS.slice(20, 120)))} ${rnd.pick(WORDS.slice(20, 120))} ${i}` : undefined;
    const frontmatter = [
      '---',
      ...(title ? [`title: ${JSON.stringify(title)}`] : []),
      rnd.chance(0.6) ? `tags: [${blockTags.map((t) => JSON.stringify(t)).join(', ')}]` : `tags: ${JSON.stringify(blockTags.join(', '))}`,
      '---',
    ].join('\n');
    const body = blockBody(rnd, [...includes]);
    const path = `blocks/${key}.md`;
    write(path, `${frontmatter}\n${body}`);
    blocks.push({ key, path, title: title ?? fileName, tags: blockTags, folder, includes });
  }
  const blockIndex = new Map(blocks.map((b, i) => [b.key, i]));
  const tagIndex = new Map();
  for (const block of blocks) for (const tag of block.tags) (tagIndex.get(tag) ?? tagIndex.set(tag, []).get(tag)).push(block.key);
  for (const keys of tagIndex.values()) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  /** Block ids (as indexes) a payload links to, as the mirror computes them. */
  const linksOf = (system, entries) => {
    const keys = [];
    for (const ref of [...system, ...entries]) {
      if (typeof ref === 'string') keys.push(ref);
      else if (ref.block) keys.push(ref.block);
      else if (ref.tag) keys.push(...tagIndex.get(ref.tag));
    }
    return keys.map((k) => blockIndex.get(k));
  };

  // --- Payload files
  const payloads = [];
  const blockRef = () => {
    const r = rnd.next();
    const key = rnd.pick(blocks).key;
    if (r < 0.5) return key;
    if (r < 0.65) return { block: key };
    if (r < 0.8) return { tag: rnd.pick([...tagIndex.keys()]) };
    return { text: inlineText(rnd) };
  };
  for (let i = 0; i < size.payloads; i++) {
    const name = `p${String(i).padStart(4, '0')}-${rnd.pick(['summarize', 'critique', 'extract', 'classify', 'translate', 'rewrite', 'answer', 'plan'])}`;
    const group = rnd.pick(PAYLOAD_GROUPS);
    const path = `workflows/${group}/${name}.payload.yaml`;
    const system = Array.from({ length: rnd.int(1, 2) }, () => rnd.pick(blocks).key);
    const entries = Array.from({ length: rnd.int(3, 8) }, blockRef);
    const format = i % 5 === 4 ? undefined : FORMATS[i % FORMATS.length];
    const temperature = rnd.chance(0.5) ? round2(rnd.next() * 1.5) : undefined;
    const responseLength = rnd.chance(0.5) ? rnd.pick([200, 500, 1000, 2000]) : undefined;
    const port = rnd.chance(0.3) ? rnd.pick([5001, 5002, 11434]) : undefined;
    const params = rnd.chance(0.5) ? { top_p: 0.9, stop: ['###'], seed: rnd.int(1, 9999) } : undefined;
    const depth = path.split('/').length - 1;
    const lines = [
      `# yaml-language-server: $schema=${'../'.repeat(depth)}schemas/payload.schema.json`,
      ...(rnd.chance(0.2) ? [`name: ${name}`] : []),
      ...(rnd.chance(0.3) ? [`description: ${JSON.stringify(sentence(rnd, 8))}`] : []),
      ...(temperature !== undefined ? [`temperature: ${temperature}`] : []),
      ...(responseLength !== undefined ? [`response_length: ${responseLength}`] : []),
      ...(port !== undefined ? [`llm_port: ${port}`] : []),
      ...(format ? [`model_format: ${format}`] : []),
      'system:',
      ...system.map((key) => `  - ${JSON.stringify(key)}`),
      'blocks:',
      ...entries.map((ref) => `  - ${yamlRef(ref)}`),
      ...(params ? [`params: { top_p: 0.9, stop: ["###"], seed: ${params.seed} }`] : []),
    ];
    write(path, `${lines.join('\n')}\n`);
    payloads.push({ name, path, links: linksOf(system, entries) });
  }

  // --- Workflow files (some steps are inline payloads, synced as "<workflow>/<name>")
  const workflows = [];
  for (let i = 0; i < size.workflows; i++) {
    const name = `w${String(i).padStart(3, '0')}-${rnd.pick(['research', 'triage', 'draft', 'review', 'extract', 'pipeline'])}`;
    const path = `workflows/${rnd.chance(0.5) ? 'flows' : 'flows/team a'}/${name}.workflow.yaml`;
    const stepNames = new Set();
    const steps = [];
    const lines = [
      '# yaml-language-server: $schema=../../schemas/workflow.schema.json',
      ...(rnd.chance(0.5) ? [`name: ${name}`] : []),
      `description: ${JSON.stringify(sentence(rnd, 10))}`,
      'inputs:',
      '  text: { type: string }',
      '  words: { type: integer, default: 50 }',
      ...(rnd.chance(0.3) ? ['  tone: { type: string, default: neutral, description: "How the answer sounds" }'] : []),
      'payloads:',
    ];
    const count = rnd.int(3, 10);
    for (let s = 0; s < count; s++) {
      const r = rnd.next();
      if (r < 0.15) {
        const local = `step-${s}`;
        stepNames.add(local);
        const fullName = `${name}/${local}`;
        const entries = Array.from({ length: rnd.int(1, 3) }, () => (rnd.chance(0.5) ? { text: `Improve: {{previous.output}} ${sentence(rnd, 6)}` } : rnd.pick(blocks).key));
        lines.push(`  - name: ${local}`, `    model_format: ${rnd.pick(FORMATS)}`, '    blocks:', ...entries.map((ref) => `      - ${yamlRef(ref)}`));
        payloads.push({ name: fullName, path, inline: true, links: linksOf([], entries) });
        steps.push(fullName);
        continue;
      }
      const payload = payloads[rnd.int(0, size.payloads - 1)].name;
      if (r < 0.4 || stepNames.has(payload)) {
        let as = `${payload.slice(6)}-${s}`;
        stepNames.add(as);
        lines.push(`  - payload: ${payload}`, `    as: ${as}`, ...(rnd.chance(0.6) ? [`    vars: { tone: ${rnd.pick(['blunt', 'warm', 'neutral'])}, limit: ${rnd.int(1, 9)} }`] : []));
      } else {
        stepNames.add(payload);
        lines.push(`  - ${payload}`);
      }
      steps.push(payload);
    }
    write(path, `${lines.join('\n')}\n`);
    workflows.push({ name, path, steps });
  }

  const payloadIndex = new Map(payloads.map((p, i) => [p.name, i]));
  for (const workflow of workflows) workflow.stepIndexes = workflow.steps.map((n) => payloadIndex.get(n));

  return {
    root,
    files,
    blocks,
    payloads,
    workflows,
    counts: {
      files: files.length,
      blocks: blocks.length,
      payloads: payloads.length,
      inlinePayloads: payloads.filter((p) => p.inline).length,
      payloadBlocks: payloads.reduce((n, p) => n + p.links.length, 0),
      workflows: workflows.length,
      workflowPayloads: workflows.reduce((n, w) => n + w.steps.length, 0),
      folders: folders.length - 1,
      tags: tagIndex.size,
      blocksWithIncludes: blocks.filter((b) => b.includes.length > 0).length,
      bytes: files.reduce((n, rel) => n + readFileSync(join(root, rel)).length, 0),
    },
  };
}

/** The block the one-file resync rewrites: a mid-workspace block that other blocks may include. */
export function oneFileTarget(manifest) {
  return join(manifest.root, manifest.blocks[Math.floor(manifest.blocks.length / 2)].path);
}

const originals = new Map();

/** Rewrites `file` with new body text (front matter kept), different on every call. */
export function mutateFile(file, revision) {
  if (!originals.has(file)) originals.set(file, readFileSync(file, 'utf8'));
  writeFileSync(file, `${originals.get(file)}\nRevision ${revision} at ${process.hrtime.bigint()}: ${'x'.repeat(revision % 17)}\n`);
}

// --- Text helpers ---

function blockBody(rnd, includes) {
  const parts = [];
  if (rnd.chance(0.3)) parts.push(`# ${capitalize(sentence(rnd, rnd.int(2, 5)))}`);
  let length = 0;
  const target = rnd.int(650, 1000);
  const insertAt = new Set(includes.map(() => rnd.int(0, 4)));
  let paragraph = 0;
  while (length < target) {
    const r = rnd.next();
    let piece;
    if (r < 0.55) piece = Array.from({ length: rnd.int(2, 5) }, () => capitalize(sentence(rnd, rnd.int(6, 16))) + '.').join(' ');
    else if (r < 0.8) piece = Array.from({ length: rnd.int(2, 5) }, () => `- ${sentence(rnd, rnd.int(3, 9))}`).join('\n');
    else if (r < 0.88) piece = `${capitalize(sentence(rnd, 5))}: {{input.text}}`;
    else if (r < 0.94) piece = `{{#if vars.tone}}Use a {{vars.tone}} tone.{{else}}Stay ${rnd.pick(['neutral', 'formal', 'friendly'])}.{{/if}}`;
    else piece = `1. ${sentence(rnd, 5)}\n2. ${sentence(rnd, 6)}\n3. Answer in {{input.words}} words.`;
    parts.push(piece);
    length += piece.length;
    if (insertAt.has(paragraph)) {
      for (const include of includes.splice(0)) parts.push(include.block ? `{{block ${JSON.stringify(include.block)}}}` : `{{tag ${JSON.stringify(include.tag)}}}`);
    }
    paragraph++;
  }
  for (const include of includes) parts.push(include.block ? `{{block ${JSON.stringify(include.block)}}}` : `{{tag ${JSON.stringify(include.tag)}}}`);
  return `${parts.join('\n\n')}\n`;
}

function sentence(rnd, words) {
  return Array.from({ length: words }, () => rnd.pick(WORDS)).join(' ');
}

function inlineText(rnd) {
  return rnd.pick([`Text: {{input.text}}`, `Answer in {{input.words}} words. ${sentence(rnd, 5)}`, `Previous: {{previous.output}}`, capitalize(sentence(rnd, 12)) + '.']);
}

function yamlRef(ref) {
  if (typeof ref === 'string') return JSON.stringify(ref);
  if (ref.block) return `{ block: ${JSON.stringify(ref.block)} }`;
  if (ref.tag) return `{ tag: ${JSON.stringify(ref.tag)} }`;
  return `{ text: ${JSON.stringify(ref.text)} }`;
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function round2(value) {
  return Math.round(value * 100) / 100;
}
