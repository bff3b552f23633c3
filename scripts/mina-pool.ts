#!/usr/bin/env node
import { backfillCommand } from './backfill.js';
import { benchCommand } from './bench.js';
import { chainCommand } from './chain.js';
import { command, run } from './cli.js';
import { deployCommand } from './deploy.js';
import { poolCommand } from './pool.js';
import { simulateCommand } from './simulate.js';
import { startCommand } from './start.js';

/** `mina-pool`: every command of the pool, as the npm scripts run them (`npm run pool -- …` = `mina-pool pool …`). */
const program = command('mina-pool', 'Mina block producer pools: the local chain, the pool DAC, the backfill analysis')
  .addCommand(startCommand())
  .addCommand(chainCommand())
  .addCommand(deployCommand())
  .addCommand(poolCommand())
  .addCommand(backfillCommand())
  .addCommand(simulateCommand())
  .addCommand(benchCommand())
  .addHelpText('after', '\nEvery command answers --help. Exit codes: 0 done, 1 refused or failed, 2 bad input or usage.');

await run(program);
