import type { CAC } from 'cac';
import { UsageError } from '../../core/errors.js';
import type { GlobalOptions } from '../context.js';
import { toList } from './run.js';

interface TestFlags extends GlobalOptions {
  concurrency?: string | number;
  cache?: boolean;
  junit?: string;
  update?: boolean;
  endpoint?: string | string[];
}

export function registerTest(cli: CAC): void {
  cli
    .command('test [...workflows]', 'Run the test cases (workflows/**/*.tests.yaml) and their checks; exit 1 when any fails')
    .option('--concurrency <n>', 'Requests in flight per endpoint (default: quire.yaml, else KoboldCpp 1, others 4)')
    .option('--cache', 'Reuse answers of identical earlier requests (temperature 0 or a fixed seed)')
    .option('--junit <file>', 'Also write JUnit XML for CI')
    .option('--update', 'Approve the outputs of the cases whose checks pass (written beside the tests as <name>.approved.yaml)')
    .option('--endpoint <port=url>', 'Send a port\'s requests to this URL (repeatable)')
    .example('quire test --junit test-results.xml')
    .action(executeTest);
}

/** One app call (runTests), the progress line, the report and the JUnit file; Ctrl-C cancels. */
async function executeTest(workflows: string[], flags: TestFlags): Promise<void> {
  let concurrency: number | undefined;
  if (flags.concurrency !== undefined) {
    concurrency = Number(flags.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a positive whole number (got ${JSON.stringify(flags.concurrency)})`);
  }
  const { resolveContext, withAppContext } = await import('../context.js');
  const { runTests } = await import('../../app/test.js');
  const { createTestProgress, printTestReport } = await import('../output/test.js');
  const context = resolveContext(flags);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let progress: ReturnType<typeof createTestProgress> | undefined;
  try {
    const outcome = await withAppContext(context, (app) =>
      runTests(app, {
        workflows,
        endpointOverrides: toList(flags.endpoint),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(flags.cache ? { cache: true } : {}),
        ...(flags.update ? { update: true } : {}),
        signal: controller.signal,
        onStart: (total) => {
          progress = createTestProgress({ tty: Boolean(process.stderr.isTTY), quiet: context.quiet, json: context.json, err: process.stderr, total });
        },
        onCaseEnd: (result) => progress?.caseEnd(result),
      }),
    );
    progress?.close();
    const { report } = outcome;
    printTestReport(report, { json: context.json, quiet: context.quiet, color: Boolean(process.stdout.isTTY) && flags.color !== false && !process.env['NO_COLOR'], out: process.stdout });
    if (flags.junit) {
      const { writeFileSync } = await import('node:fs');
      const { toJUnitXml } = await import('../output/junit.js');
      writeFileSync(String(flags.junit), toJUnitXml(report, { timestamp: new Date(Date.now() - report.durationMs) }));
    }
    if (!context.json && !context.quiet) for (const file of outcome.approvedFiles) process.stderr.write(`approved outputs written to ${file}: review the diff and commit it\n`);
    if (controller.signal.aborted) process.exitCode = 130;
    else if (report.failed + report.errors > 0) process.exitCode = 1;
  } finally {
    progress?.close();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
