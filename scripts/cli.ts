import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { minaToNano } from '../oracle/amount.js';
import { PoolError } from '../oracle/errors.js';

/** Exit codes of every command: 0 done, 1 refused or failed (network, chain, a pool rule), 2 bad input or usage. */
const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** Progress goes to stderr, so that stdout holds only the result (text or `--json`). */
export const progress = (message: string) => process.stderr.write(`${message}\n`);

/** An argument or option parser for a whole number within bounds; negative numbers are numbers, not options. */
export function wholeNumber(min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}, got ${value}` : `must be from ${min} to ${max}, got ${value}`);
    return n;
  };
}

/** A number between 0 and 1. */
export function fraction(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new InvalidArgumentError(`expected a number between 0 and 1, got "${value}"`);
  return x;
}

/** An amount of MINA (decimal, up to 9 places) → nanomina; more than zero unless `allowZero`. */
export function minaAmount(options: { allowZero?: boolean } = {}): (value: string) => bigint {
  return (value) => {
    if (/^\s*-/.test(value)) throw new InvalidArgumentError(`an amount of MINA must be positive, got ${value}`);
    const nano = minaToNano(value);
    if (nano === undefined) throw new InvalidArgumentError(`expected an amount of MINA such as 12.5, got "${value}"`);
    if (nano === 0n && !options.allowZero) throw new InvalidArgumentError('an amount of MINA must be more than 0');
    return nano;
  };
}

/** A URL with one of the given schemes (`http`, `https` by default). */
export function urlOption(schemes: string[] = ['http', 'https']): (value: string) => string {
  return (value) => {
    let scheme: string | undefined;
    try {
      scheme = new URL(value).protocol.replace(/:$/, '');
    } catch {
      // not a URL at all
    }
    if (scheme === undefined || !schemes.includes(scheme)) throw new InvalidArgumentError(`expected a URL (${schemes.join(', ')}) such as http://127.0.0.1:3085/graphql, got "${value}"`);
    return value;
  };
}

/** An option that may be given again: collects every value, each checked by `parse`. */
export function repeatable<T = string>(parse: (value: string) => T = (v) => v as T): (value: string, all?: T[]) => T[] {
  return (value, all = []) => [...all, parse(value)];
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(...values: T[]): (value: string) => T {
  return (value) => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`expected ${values.join(', ')}; got "${value}"`);
    return value as T;
  };
}

/** A command with the house settings: errors as `error: …` lines, exit codes decided by {@link run}. */
export function command(name: string, description: string): Command {
  return new Command(name).description(description).showHelpAfterError('(add --help for usage)').showSuggestionAfterError(true).exitOverride().configureHelp({ showGlobalOptions: true });
}

/** Prints the result: text, or one JSON object with `--json`. */
export function output(json: boolean | undefined, text: string, value: unknown): void {
  process.stdout.write((json ? JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) : text) + '\n');
}

/**
 * Runs a program: known errors print one line (`error: …`) and exit 2 (bad input, bad
 * usage) or 1 (refused, failed); anything else prints its stack and exits 1.
 */
export async function run(program: Command, argv = process.argv): Promise<void> {
  // A reader that stops early (`| head`) closes stdout: end quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    process.exitCode ??= EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander printed its message (or the help) already.
      process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.badInput;
    } else if (e instanceof PoolError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = e.code === 'BAD_INPUT' || e.code === 'BAD_USAGE' ? EXIT.badInput : EXIT.failed;
    } else {
      process.stderr.write(`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.failed;
    }
  }
}
