/**
 * Regular expressions written in checks: flags checked, compiled, shown as `/pattern/flags`.
 */
import type { RegexArgs } from './args.js';

const FLAGS = 'gimsuy';

/** Why the flags are not acceptable, or undefined. */
export function flagsProblem(flags: string): string | undefined {
  const bad = [...flags].find((flag, i) => !FLAGS.includes(flag) || flags.indexOf(flag) !== i);
  return bad === undefined ? undefined : `must be letters from "${FLAGS}", each at most once (got "${flags}")`;
}

/** The compiled expression, or the engine's complaint without its `Invalid regular expression: /x/:` prefix. */
export function compileRegex(args: RegexArgs): RegExp | { error: string } {
  try {
    return new RegExp(args.pattern, args.flags);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') };
  }
}

/**
 * Whether `text` matches. `g` and `y` make a RegExp remember where it stopped
 * (lastIndex), so every test starts from the beginning.
 */
export function matches(regex: RegExp, text: string): boolean {
  regex.lastIndex = 0;
  return regex.test(text);
}

export function showRegex(args: RegexArgs): string {
  return `/${args.pattern}/${args.flags}`;
}
