import { DEFAULT_WINDOW, formatSummary, prepareRange, summarise, sweepWindows } from '../oracle/backfill/index.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch, SLOTS_PER_EPOCH } from '../oracle/sim/index.js';
import { runCli } from './cli.js';

/**
 * The main job on the embedded default. Until the Block Emitter lands, it simulates one
 * mainnet-like epoch from the real staking ledger and runs the backfill analysis on it.
 */
async function main(): Promise<number> {
  const ledgerFile = defaultLedgerPath();
  process.stderr.write(`reading the staking ledger ${ledgerFile}\n`);
  const ledger = await readLedger(ledgerFile, DEFAULT_LEDGER_HINT);
  process.stderr.write(`simulating one epoch (${DEFAULT_SIMULATION.slots} slots, seed ${DEFAULT_SIMULATION.seed})…\n`);
  const { blocks, stats } = simulateEpoch(ledger, DEFAULT_SIMULATION);
  process.stdout.write(
    `Simulated epoch: ${stats.onlineProducers} of ${stats.producers} producers online, ${stats.blocks} blocks, ` +
      `${stats.nonCanonicalBlocks} non-canonical, ${stats.emptySlots} empty slots\n\n`,
  );
  const from = DEFAULT_SIMULATION.epoch * SLOTS_PER_EPOCH;
  const prepared = prepareRange(blocks, { from, to: from + DEFAULT_SIMULATION.slots - 1 });
  process.stdout.write(formatSummary(summarise(prepared, DEFAULT_WINDOW), `Backfill of the simulated epoch: slots ${prepared.from}-${prepared.to}`) + '\n\n');
  const sweep = sweepWindows(prepared, { first: 1, last: 200 });
  const at = (w: number) => sweep.rows[w - 1]!;
  process.stdout.write(
    [
      'Window sweep 1–200:',
      ...[1, 10, 25, 47, 100, 200].map((w) => `  window ${String(w).padStart(3)}: ${at(w).emptyPercent.toFixed(2).padStart(6)} % empty`),
      `  suggested window: ${sweep.suggestedWindow} (${at(sweep.suggestedWindow).emptyPercent.toFixed(2)} % empty; best ${sweep.best.emptyPercent.toFixed(2)} % at ${sweep.best.window})`,
      '',
      'Rerun with other data: npm run simulate -- --out epoch.json && npm run -s backfill -- --input epoch.json --sweep 1:500',
    ].join('\n') + '\n',
  );
  return 0;
}

await runCli(main);
