import { extname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { writeBlocksFile } from '../oracle/chain/readers/index.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch, type RealVrf, type SimulationParams, type SimulationResult } from '../oracle/sim/index.js';
import { UsageError } from '../oracle/errors.js';
import { writeJsonAtomic } from '../oracle/json-file.js';
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
    .option('--real-vrf', "draw each account's lottery with Mina's real VRF and a generated key per online producer (about 1 ms per account and slot: use --slots)")
    .option('--vrf-seed <seed>', 'with --real-vrf: the staking epoch seed, a decimal field element or base58 (2v…); default 0')
    .option('--keys-out <file>', 'with --real-vrf: write the generated keys, the seed and each producer\'s accounts here (secret keys: keep out of version control)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nWith --real-vrf the creators are the generated keys\' public keys, and each block\'s vrfOutput is the real output of one of its producer\'s accounts (--keys-out names them), so it can be re-evaluated and proven.')
    .action(async (o: { out?: string; ledger?: string; seed: string; epoch: number; slots: number; onlineStake: number; multiNode: number; maxNodes: number; uptime: number; late: number; realVrf?: boolean; vrfSeed?: string; keysOut?: string; json?: boolean }) => {
      if (!o.realVrf && (o.vrfSeed !== undefined || o.keysOut !== undefined)) throw new UsageError('--vrf-seed and --keys-out go with --real-vrf');
      const params: SimulationParams = { seed: o.seed, epoch: o.epoch, slots: o.slots, onlineStake: o.onlineStake, multiNodeShare: o.multiNode, maxNodes: o.maxNodes, nodeUptime: o.uptime, lateRate: o.late };
      const ledgerFile = o.ledger ?? defaultLedgerPath();
      const ledger = await readLedger(ledgerFile, o.ledger === undefined ? DEFAULT_LEDGER_HINT : '');
      progress(`simulating ${params.slots} slots of epoch ${params.epoch} from ${ledger.accounts.length} accounts (seed ${params.seed}${o.realVrf ? ', real VRF' : ''})…`);
      const vrf = o.realVrf ? await realVrf(o.vrfSeed ?? '0', params.slots) : undefined;
      const result = simulateEpoch(ledger, params, vrf);
      if (o.out !== undefined) {
        await writeBlocksFile(o.out, result.blocks);
        progress(`wrote ${result.blocks.length} blocks to ${o.out}`);
      }
      if (vrf && o.keysOut !== undefined) {
        await writeJsonAtomic(o.keysOut, await keysFile(vrf.seed, ledger.total, result), 0o600);
        progress(`wrote ${result.producers.length} producers' generated keys to ${o.keysOut}`);
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

/** The real VRF (loaded only when asked for), with progress every tenth of the range. */
async function realVrf(seedText: string, slots: number): Promise<RealVrf> {
  const { evaluateVrf, parseSeed } = await import('../oracle/vrf/evaluate.js');
  const { publicKeyOf } = await import('../oracle/crypto/keys.js');
  const step = Math.max(1, Math.floor(slots / 10));
  const started = Date.now();
  return {
    seed: parseSeed(seedText),
    evaluate: (sk, seed, slot, index) => evaluateVrf(sk, seed, slot, index).truncated,
    publicKey: (sk) => publicKeyOf(sk).base58,
    onSlot: (done, total) => {
      if (done % step === 0 || done === total) progress(`  real VRF: ${done} of ${total} slots (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    },
  };
}

/** What `--keys-out` writes: enough to re-evaluate and prove every simulated output. */
async function keysFile(seed: bigint, total: bigint, result: SimulationResult) {
  const { privateKeyToBase58 } = await import('../oracle/crypto/keys.js');
  return {
    note: 'Generated by mina-pool simulate --real-vrf: secret keys of simulated producers, for tests and demonstrations only.',
    seed: seed.toString(),
    totalCurrency: total.toString(),
    producers: result.producers.map((p) => ({
      publicKey: p.key,
      privateKey: privateKeyToBase58(p.vrfKey!),
      ledgerKey: p.ledgerKey,
      accounts: p.accounts!.map((a) => ({ index: a.index, balance: a.balance.toString() })),
    })),
  };
}

