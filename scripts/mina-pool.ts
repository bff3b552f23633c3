#!/usr/bin/env node
import type { Command } from 'commander';
import { command, run } from './cli.js';

/**
 * The commands, each loaded only when it runs: `backfill` or `simulate` never load o1js and
 * the contracts, and a bench task measures its own memory, not the whole program's.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.js')).startCommand(),
  chain: async () => (await import('./chain.js')).chainCommand(),
  deploy: async () => (await import('./deploy.js')).deployCommand(),
  pool: async () => (await import('./pool.js')).poolCommand(),
  backfill: async () => (await import('./backfill.js')).backfillCommand(),
  simulate: async () => (await import('./simulate.js')).simulateCommand(),
  vrf: async () => (await import('./vrf.js')).vrfCommand(),
  emitter: async () => (await import('./emitter.js')).emitterCommand(),
  member: async () => (await import('./member.js')).memberCommand(),
  relay: async () => (await import('./relay.js')).relayCommand(),
  report: async () => (await import('./report.js')).reportCommand(),
  bench: async () => (await import('./bench.js')).benchCommand(),
};

/** `mina-pool`: every command of the pool, as the npm scripts run them (`npm run pool -- …` = `mina-pool pool …`). */
const program = command('mina-pool', 'Mina block producer pools: the local chain, the pool DAC, the backfill analysis').addHelpText(
  'after',
  '\nEvery command answers --help. Exit codes: 0 done, 1 refused or failed, 2 bad input or usage.',
);
// The command asked for, or all of them (for the program's help and its unknown-command error).
const asked = process.argv[2];
const names = asked !== undefined && Object.hasOwn(COMMANDS, asked) ? [asked] : Object.keys(COMMANDS);
for (const name of names) program.addCommand(await COMMANDS[name]!());

await run(program);
