/**
 * What the benchmarks of one `bench/run.mjs` invocation share, made on first use:
 * one temp dir, one snapshot of the build (the repo's dist/, or `dist`; so a rebuild of
 * dist/ halfway cannot change what is measured), and the 10k-block workspace (generated and validated once; the
 * sync and first-request benchmarks both use it).
 *
 * With `baseline` ({ ref } for a git ref built here, or { dist } for a built dist/ folder)
 * there is a second build, measured side by side with the first: builds() lists both.
 * Everything (the baseline's source tree and build included) lives in the one temp dir,
 * which cleanup() removes.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildGitRef, headInfo, round, runNode, snapshotBuild } from './lib.mjs';
import { DEFAULT_SIZE, generateWorkspace } from './sync-workload.mjs';

export function createBenchContext({ keep = false, log = () => {}, dist: fromDist, baseline } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'quire-bench-'));
  let build;
  let baseBuild;
  let large;
  let cleaned = false;
  return {
    dir,
    keep,
    log,
    /**
     * The builds to measure, each { key: 'baseline' | 'current', dist, cli }: the baseline
     * first when there is one (run 0 goes baseline, current; see buildOrder), then the
     * current build. Builds the baseline on first call.
     */
    builds() {
      const list = [{ key: 'current', ...this.build() }];
      if (baseline) list.unshift({ key: 'baseline', ...this.baselineBuild() });
      return list;
    },
    /** { dist, cli, info } of the baseline build (info: what it is, for the results). */
    baselineBuild() {
      if (!baseline) throw new Error('no baseline build');
      if (!baseBuild) {
        if (baseline.ref) {
          const built = buildGitRef(baseline.ref, join(dir, 'baseline-src'), { log });
          log(`  built in ${round(built.buildMs / 1000, 1)} s`);
          baseBuild = { dist: built.dist, cli: built.cli, info: { ref: baseline.ref, commit: built.commit, subject: built.subject, source: `git archive + tsc -p ${built.project}`, buildS: round(built.buildMs / 1000, 1) } };
        } else {
          // A dist/ inside a checkout: take that checkout's package.json and schemas, else the repo's.
          const parent = dirname(baseline.dist);
          const sourceRoot = basename(baseline.dist) === 'dist' && existsSync(join(parent, 'package.json')) ? parent : undefined;
          const snap = snapshotBuild(join(dir, 'baseline'), baseline.dist, sourceRoot ? { sourceRoot } : {});
          log(`baseline: the build ${baseline.dist} copied to ${snap.dist}`);
          baseBuild = { ...snap, info: { dist: baseline.dist, source: 'dist folder' } };
        }
      }
      return baseBuild;
    },
    /** What the results say about the two builds (null without a baseline). */
    baselineInfo() {
      if (!baseline) return null;
      return { ...this.baselineBuild().info, current: { dist: fromDist ?? 'dist/', head: headInfo() }, order: 'interleaved run by run, alternating which build goes first' };
    },
    /** { dist, cli } of the build snapshot. */
    build() {
      if (!build) {
        build = snapshotBuild(join(dir, 'quire'), fromDist);
        log(`measuring the build ${fromDist ? `${fromDist} ` : ''}copied to ${build.dist}`);
      }
      return build;
    },
    /**
     * The generated workspace: { root, manifest, manifestPath, generateMs, size }. Benchmarks
     * that change files in it must put them back (the sync benchmark checks counts against
     * the manifest), except the one-file target, whose content is rewritten freely.
     */
    largeWorkspace(size = DEFAULT_SIZE) {
      if (large) {
        if (JSON.stringify(large.size) !== JSON.stringify(size)) throw new Error('largeWorkspace: one size per run');
        return large;
      }
      const { cli } = this.build();
      const root = join(dir, 'workspace');
      log(`generating workspace in ${root}`);
      const genStart = performance.now();
      const manifest = generateWorkspace(root, size);
      const manifestPath = join(dir, 'manifest.json');
      writeFileSync(manifestPath, JSON.stringify(manifest));
      const generateMs = performance.now() - genStart;
      log(`  ${manifest.counts.files} files, ${(manifest.counts.bytes / 1e6).toFixed(1)} MB, ${manifest.counts.payloadBlocks} payload_blocks rows (${round(generateMs, 0)} ms)`);
      // Validity check, once, before anything is timed.
      const validate = runNode([cli, '-w', root, 'validate'], { allowFail: true, measureRss: false });
      if (validate.status !== 0) throw new Error(`generated workspace is invalid:\n${(validate.stdout + validate.stderr).slice(0, 3000)}`);
      log(`  validate: ${validate.stdout.trim().split('\n').at(-1)} (${round(validate.wallMs, 0)} ms)`);
      large = { root, manifest, manifestPath, generateMs, size };
      return large;
    },
    cleanup() {
      if (cleaned) return;
      cleaned = true;
      if (keep) log(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}
