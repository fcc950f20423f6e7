/**
 * What the benchmarks of one `bench/run.mjs` invocation share, made on first use:
 * one temp dir, one snapshot of the build (the repo's dist/, or `dist`; so a rebuild of
 * dist/ halfway cannot change what is measured), and the 10k-block workspace (generated and validated once; the
 * sync and first-request benchmarks both use it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { round, runNode, snapshotBuild } from './lib.mjs';
import { DEFAULT_SIZE, generateWorkspace } from './sync-workload.mjs';

export function createBenchContext({ keep = false, log = () => {}, dist: fromDist } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'quire-bench-'));
  let build;
  let large;
  return {
    dir,
    keep,
    log,
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
      if (keep) log(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}
