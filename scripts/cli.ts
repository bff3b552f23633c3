import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PoolError, UsageError } from '../oracle/errors.js';

/** Exit codes of every command: 0 done, 1 failed (network, chain, bug), 2 bad input or usage. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

type Options = NonNullable<ParseArgsConfig['options']>;

/** `util.parseArgs`, with its errors turned into {@link UsageError}s that name the option. */
export function parseCommandLine<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** Parses an integer option; `undefined` stays `undefined`. */
export function intOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${name}: expected an integer, got ${JSON.stringify(value)}`, { field: name });
  }
  const n = Number(value);
  if (n < min) throw new UsageError(`--${name}: must be at least ${min}, got ${n}`, { field: name });
  return n;
}

/**
 * Runs a command's main function: known errors print one line (`error: …`) and exit 2
 * (bad input, bad usage) or 1; anything else prints its stack and exits 1.
 */
export async function runCli(main: () => Promise<number | void>): Promise<void> {
  // A reader that stops early (`| head`) closes stdout: end quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    process.exitCode = (await main()) ?? EXIT.ok;
  } catch (e) {
    if (e instanceof PoolError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = e.code === 'BAD_INPUT' || e.code === 'BAD_USAGE' ? EXIT.badInput : EXIT.failed;
    } else {
      process.stderr.write(`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.failed;
    }
  }
}
