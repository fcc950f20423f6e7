import { cac } from 'cac';
import { UsageError } from '../core/errors.js';
import { COMMANDS } from './commands/index.js';
import { QUIRE_VERSION } from './version.js';

/** Options whose value may be `-` (stdin). */
const STDIN_OPTIONS = new Set(['--batch']);

/**
 * `--batch -` as `--batch=-`: the parser (mri) takes a lone `-` for a flag of its own and
 * reports the value missing, though `-` for stdin is what people type.
 */
function stdinValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (STDIN_OPTIONS.has(arg) && argv[i + 1] === '-') {
      out.push(`${arg}=-`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Builds the cac instance with the global flags and every command, then runs the matched one. */
export async function main(argv: string[]): Promise<void> {
  const cli = cac('quire');
  cli
    .option('-w, --workspace <dir>', 'Workspace folder (default: nearest folder upward with quire.yaml, blocks/ or workflows/)')
    .option('--db <file|url>', 'Database file or postgres://user@host/db (default: QUIRE_DB, else quire.yaml store:, else <workspace>/data/quire.db)')
    .option('--json', 'Machine-readable output')
    .option('--no-color', 'No colours (also NO_COLOR)')
    .option('--quiet', 'Print only what was asked for');

  for (const register of COMMANDS) register(cli);
  // cac prints "(default: true)" after every --no-x flag, which reads as if the flag were on;
  // the commands treat "not given" as the default themselves.
  for (const command of [cli.globalCommand, ...cli.commands]) {
    for (const option of command.options) if (option.negated) option.config.default = undefined;
  }

  cli.help();
  cli.version(QUIRE_VERSION);

  const parsed = cli.parse(stdinValues(argv), { run: false });
  if (!cli.matchedCommand) {
    if (parsed.options['help'] || parsed.options['version']) return;
    const name = parsed.args[0];
    if (name === undefined) {
      cli.outputHelp();
      return;
    }
    throw new UsageError(`unknown command \`${String(name)}\``, { hint: 'run `quire --help` for the list of commands' });
  }
  await cli.runMatchedCommand();
}

