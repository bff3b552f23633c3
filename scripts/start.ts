import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DEFAULT_WINDOW, formatSummary, prepareRange, summarise, sweepWindows } from '../oracle/backfill/index.js';
import { NetworkChain } from '../oracle/chain/network.js';
import { startChainProcess, type ChildChain } from '../oracle/localnet/process.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { deployAlias } from '../oracle/pool/deploy-alias.js';
import { loadAlias, PoolSession } from '../oracle/pool/session.js';
import { poolStatus } from '../oracle/pool/status.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch, SLOTS_PER_EPOCH } from '../oracle/sim/index.js';
import { command, progress } from './cli.js';

/**
 * `npm start`: the local chain (started if it is not running), the example pool of
 * `pool.json` on it (deployed if it is not), its status, and the backfill analysis of a
 * simulated mainnet-like epoch. The chain it started keeps serving until Ctrl-C.
 */
export function startCommand(): Command {
  return command('start', 'the local chain with the example pool on it, and the backfill analysis of a simulated epoch')
    .option('--alias <name>', 'the local chain\'s alias', 'local')
    .option('--exit', 'stop the chain this started once the job is done, instead of serving it until Ctrl-C')
    .action(async (o: { alias: string; exit?: boolean }) => {
      const root = process.cwd();
      const { alias } = await loadAlias(root, o.alias);
      let child: ChildChain | undefined;
      try {
        await NetworkChain.connect({ url: alias.url, networkId: alias.networkId });
        progress(`using the local chain already running at ${alias.url}`);
      } catch {
        progress(`starting the local chain at ${alias.url} (state in state/chain)`);
        child = await startChainProcess({ bin: fileURLToPath(new URL('./mina-pool.js', import.meta.url)), args: ['--alias', o.alias], url: alias.url, cwd: root });
      }
      try {
        const session = await PoolSession.connect({ root, alias: o.alias, log: progress });
        const deployed = alias.addresses && (await session.chain.account((await import('o1js')).PublicKey.fromBase58(alias.addresses.PoolDac)))?.zkapp;
        if (!deployed) {
          progress('deploying the example pool of pool.json');
          await deployAlias({ root, alias: o.alias, poolFile: 'pool.json', log: progress });
        }
        const pool = await PoolSession.open({ root, alias: o.alias, log: progress });
        process.stdout.write((await poolStatus(pool.client(), o.alias)).text + '\n\n');
        process.stdout.write((await backfillDemo()) + '\n');
        process.stdout.write(`\nThe pool's commands: npm run pool -- --help (e.g. npm run pool -- vote 0 for --as alice)\n`);
        if (child && !o.exit) {
          progress(`the local chain keeps running at ${alias.url}; Ctrl-C to stop it`);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', () => resolve());
            process.once('SIGTERM', () => resolve());
          });
        }
      } finally {
        await child?.stop();
      }
    });
}

/** The backfill analysis of one simulated mainnet-like epoch from the real staking ledger. */
async function backfillDemo(): Promise<string> {
  const ledger = await readLedger(defaultLedgerPath(), DEFAULT_LEDGER_HINT);
  progress(`simulating one epoch (${DEFAULT_SIMULATION.slots} slots, seed ${DEFAULT_SIMULATION.seed}) from the real staking ledger`);
  const { blocks, stats } = simulateEpoch(ledger, DEFAULT_SIMULATION);
  const from = DEFAULT_SIMULATION.epoch * SLOTS_PER_EPOCH;
  const prepared = prepareRange(blocks, { from, to: from + DEFAULT_SIMULATION.slots - 1 });
  const sweep = sweepWindows(prepared, { first: 1, last: 200 });
  const at = (w: number) => sweep.rows[w - 1]!;
  return [
    `Simulated epoch: ${stats.onlineProducers} of ${stats.producers} producers online, ${stats.blocks} blocks, ${stats.nonCanonicalBlocks} non-canonical, ${stats.emptySlots} empty slots`,
    '',
    formatSummary(summarise(prepared, DEFAULT_WINDOW), `Backfill of the simulated epoch: slots ${prepared.from}-${prepared.to}`),
    '',
    'Window sweep 1–200:',
    ...[1, 10, 25, 47, 100, 200].map((w) => `  window ${String(w).padStart(3)}: ${at(w).emptyPercent.toFixed(2).padStart(6)} % empty`),
    `  suggested window: ${sweep.suggestedWindow} (${at(sweep.suggestedWindow).emptyPercent.toFixed(2)} % empty; best ${sweep.best.emptyPercent.toFixed(2)} % at ${sweep.best.window})`,
    '',
    'Rerun with other data: npm run simulate -- --out epoch.json && npm run -s backfill -- --input epoch.json --sweep 1:500',
  ].join('\n');
}
