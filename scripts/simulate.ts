import { extname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { writeBlocksFile } from '../oracle/chain/readers/index.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch, type SimulationParams } from '../oracle/sim/index.js';
import { command, fraction, output, progress, wholeNumber } from './cli.js';

const d = DEFAULT_SIMULATION;

function outFile(value: string): string {
  if (!['.json', '.csv'].includes(extname(value).toLowerCase())) throw new InvalidArgumentError(`expected a .json or .csv file, got "${value}"`);
  return value;
}

/** `mina-pool simulate`: Mina-like epochs from a real staking ledger, in the block schema the analysis reads. */
export function simulateCommand(): Command {
  return command('simulate', 'simulate Mina-like epochs from a real staking ledger, in the block schema the analysis reads')
    .option('--out <file>', 'where to write the blocks (.json or .csv); without it, only the summary', outFile)
    .option('--ledger <file>', 'staking ledger in the explorer\'s export format (default: ../shared/data/ledgers/mainnet-staking-ledger-epoch0-2021.json)')
    .option('--seed <s>', 'seed of every random choice', String(d.seed))
    .option('--epoch <n>', 'epoch number; slots are numbered N·7140 + i', wholeNumber(), d.epoch)
    .option('--slots <n>', 'slots to simulate', wholeNumber(1), d.slots)
    .option('--online-stake <x>', 'share of stake whose producers are online', fraction, d.onlineStake)
    .option('--multi-node <x>', 'share of online producers running several nodes of one key', fraction, d.multiNodeShare)
    .option('--max-nodes <n>', 'most nodes of one multi-node producer', wholeNumber(1), d.maxNodes)
    .option('--uptime <x>', 'chance a node is up in a slot', fraction, d.nodeUptime)
    .option('--late <x>', 'chance a block arrives late', fraction, d.lateRate)
    .option('--json', 'print the summary as JSON')
    .action(async (o: { out?: string; ledger?: string; seed: string; epoch: number; slots: number; onlineStake: number; multiNode: number; maxNodes: number; uptime: number; late: number; json?: boolean }) => {
      const params: SimulationParams = { seed: o.seed, epoch: o.epoch, slots: o.slots, onlineStake: o.onlineStake, multiNodeShare: o.multiNode, maxNodes: o.maxNodes, nodeUptime: o.uptime, lateRate: o.late };
      const ledgerFile = o.ledger ?? defaultLedgerPath();
      const ledger = await readLedger(ledgerFile, o.ledger === undefined ? DEFAULT_LEDGER_HINT : '');
      progress(`simulating ${params.slots} slots of epoch ${params.epoch} from ${ledger.accounts.length} accounts (seed ${params.seed})…`);
      const result = simulateEpoch(ledger, params);
      if (o.out !== undefined) {
        await writeBlocksFile(o.out, result.blocks);
        progress(`wrote ${result.blocks.length} blocks to ${o.out}`);
      }
      const s = result.stats;
      const text = [
        `Simulated epoch ${params.epoch}: ${s.slots} slots, seed ${params.seed}`,
        `producers online:       ${s.onlineProducers} of ${s.producers} (${(s.onlineStakeFraction * 100).toFixed(1)} % of stake), ${s.multiNodeProducers} with several nodes`,
        `slots won:              ${s.wonSlots}`,
        `blocks:                 ${s.blocks} (${s.canonicalBlocks} canonical, ${s.nonCanonicalBlocks} not, ${s.lateBlocks} late)`,
        `empty slots:            ${s.emptySlots} (${((s.emptySlots * 100) / s.slots).toFixed(2)} %)`,
        `non-canonical per slot: ${(s.nonCanonicalBlocks / s.slots).toFixed(2)}`,
      ].join('\n');
      output(o.json, text, { params, ledger: ledgerFile, stats: s });
    });
}
