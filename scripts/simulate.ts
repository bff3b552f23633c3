import { extname } from 'node:path';
import { writeBlocksFile } from '../oracle/chain/readers/index.js';
import { UsageError } from '../oracle/errors.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch, type SimulationParams } from '../oracle/sim/index.js';
import { intOption, parseCommandLine, runCli } from './cli.js';

const d = DEFAULT_SIMULATION;
const HELP = `Simulates Mina-like epochs from a real staking ledger, in the block schema the analysis reads.

Usage:
  npm run simulate -- --out FILE.json|FILE.csv [options]

Options:
  --out FILE            where to write the blocks (.json or .csv); without it, only the summary
  --ledger FILE         staking ledger in the explorer's export format
                        (default: ../shared/data/ledgers/mainnet-staking-ledger-epoch0-2021.json)
  --seed S              seed of every random choice (default ${d.seed})
  --epoch N             epoch number; slots are numbered N·7140 + i (default ${d.epoch})
  --slots N             slots to simulate (default ${d.slots})
  --online-stake X      share of stake whose producers are online (default ${d.onlineStake})
  --multi-node X        share of online producers running several nodes of one key (default ${d.multiNodeShare})
  --max-nodes N         most nodes of one multi-node producer (default ${d.maxNodes})
  --uptime X            chance a node is up in a slot (default ${d.nodeUptime})
  --late X              chance a block arrives late (default ${d.lateRate})
  --json                print the summary as JSON
  -h, --help            this help`;

function fraction(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) {
    throw new UsageError(`--${name}: expected a number between 0 and 1, got ${JSON.stringify(value)}`, { field: name });
  }
  return x;
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(process.argv.slice(2), {
    out: { type: 'string' },
    ledger: { type: 'string' },
    seed: { type: 'string' },
    epoch: { type: 'string' },
    slots: { type: 'string' },
    'online-stake': { type: 'string' },
    'multi-node': { type: 'string' },
    'max-nodes': { type: 'string' },
    uptime: { type: 'string' },
    late: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (values.out !== undefined && !['.json', '.csv'].includes(extname(values.out).toLowerCase())) {
    throw new UsageError(`--out: expected a .json or .csv file, got ${JSON.stringify(values.out)}`, { field: 'out' });
  }
  const params: SimulationParams = {
    seed: values.seed ?? d.seed,
    epoch: intOption('epoch', values.epoch) ?? d.epoch,
    slots: intOption('slots', values.slots, 1) ?? d.slots,
    onlineStake: fraction('online-stake', values['online-stake'], d.onlineStake),
    multiNodeShare: fraction('multi-node', values['multi-node'], d.multiNodeShare),
    maxNodes: intOption('max-nodes', values['max-nodes'], 1) ?? d.maxNodes,
    nodeUptime: fraction('uptime', values.uptime, d.nodeUptime),
    lateRate: fraction('late', values.late, d.lateRate),
  };
  const ledgerFile = values.ledger ?? defaultLedgerPath();
  const ledger = await readLedger(ledgerFile, values.ledger === undefined ? DEFAULT_LEDGER_HINT : '');
  process.stderr.write(`simulating ${params.slots} slots of epoch ${params.epoch} from ${ledger.accounts.length} accounts (seed ${params.seed})…\n`);
  const result = simulateEpoch(ledger, params);
  if (values.out !== undefined) {
    await writeBlocksFile(values.out, result.blocks);
    process.stderr.write(`wrote ${result.blocks.length} blocks to ${values.out}\n`);
  }
  const s = result.stats;
  if (values.json) {
    process.stdout.write(JSON.stringify({ params, ledger: ledgerFile, stats: s }) + '\n');
  } else {
    process.stdout.write(
      [
        `Simulated epoch ${params.epoch}: ${s.slots} slots, seed ${params.seed}`,
        `producers online:       ${s.onlineProducers} of ${s.producers} (${(s.onlineStakeFraction * 100).toFixed(1)} % of stake), ${s.multiNodeProducers} with several nodes`,
        `slots won:              ${s.wonSlots}`,
        `blocks:                 ${s.blocks} (${s.canonicalBlocks} canonical, ${s.nonCanonicalBlocks} not, ${s.lateBlocks} late)`,
        `empty slots:            ${s.emptySlots} (${((s.emptySlots * 100) / s.slots).toFixed(2)} %)`,
        `non-canonical per slot: ${(s.nonCanonicalBlocks / s.slots).toFixed(2)}`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}

await runCli(main);
