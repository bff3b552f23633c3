import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { PoolSession } from '../oracle/pool/session.js';
import { startPoolEmitter, STRATEGY_NAMES } from '../oracle/emitter/pool-emitter.js';
import type { StrategyName } from '../oracle/emitter/selector.js';
import { designationProofVerifier } from '../oracle/emitter/designation.js';
import { readBackfillLedgers } from '../oracle/backfill/slot-commitment.js';
import { UsageError } from '../oracle/errors.js';
import { EtcdAgreement, type Agreement } from '../oracle/emitter/agreement.js';
import { poolTagOf } from '../contracts/types.js';
import { command, minaAmount, oneOf, progress, urlOption, wholeNumber } from './cli.js';

interface EmitterOptions {
  alias: string;
  port: number;
  host: string;
  data?: string;
  genesis?: number;
  slotSeconds: number;
  strategy?: StrategyName;
  earlyMs?: number;
  cutoffMs?: number;
  operator: string;
  oracle: string;
  bridge: boolean;
  coinbase: bigint;
  reportDelay: number;
  daemon?: string;
  confirmations: number;
  relay?: string;
  threads: number;
  waitlist: boolean;
  waitlistPeer?: string[];
  waitlistSettle: number;
  backfillEpoch?: number;
  backfillLedger?: string;
  backfillSeed?: string;
  backfillPreviousLedger?: string;
  backfillPreviousSeed?: string;
  replica?: string;
  etcd?: string[];
  advertise?: string;
}

/** etcd client URLs, comma-separated (or the option given again). */
function etcdEndpoints(value: string, all: string[] = []): string[] {
  return [...all, ...value.split(',').map((v) => urlOption()(v.trim()))];
}

/** A replica's name: letters, digits and dashes. */
function replicaName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/.test(value)) throw new InvalidArgumentError(`a replica's name is 1 to 32 letters, digits or dashes, got "${value}"`);
  return value;
}

/** A genesis time: an ISO date or milliseconds since the Unix epoch. */
function genesisTime(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`expected an ISO date (2024-06-05T00:00:00Z) or milliseconds, got "${value}"`);
  return ms;
}

/** The epoch's ledgers and the designated-producer verifier (compiled once, then from the cache; none for a chain that takes mock proofs). */
async function backfillChecks(root: string, o: EmitterOptions, proofsEnabled: boolean) {
  progress(`reading the staking ledger of epoch ${o.backfillEpoch}…`);
  const ledgers = await readBackfillLedgers({
    epoch: o.backfillEpoch!,
    ledger: resolve(root, o.backfillLedger!),
    seed: o.backfillSeed!,
    ...(o.backfillPreviousLedger !== undefined ? { previousLedger: resolve(root, o.backfillPreviousLedger) } : {}),
    ...(o.backfillPreviousSeed !== undefined ? { previousSeed: o.backfillPreviousSeed } : {}),
  });
  if (!proofsEnabled) {
    // The chain takes mock proofs, so the intake does too: the statement is still checked (slot, member, commitment).
    progress("the chain does not check proofs: designated producers' proofs are checked for their statement only");
    return { ledgers, verifyProof: async () => true };
  }
  progress('compiling the DesignatedProducer verifier (about a minute the first time, then from cache/)…');
  return { ledgers, verifyProof: await designationProofVerifier(join(root, 'cache')) };
}

/** `mina-pool emitter`: the Block Emitter (and the metrics bridge) of a deployed pool, until Ctrl-C. */
export function emitterCommand(): Command {
  return command('emitter', "run the pool's Block Emitter: members deliver their blocks, one per slot goes on; the bridge reports each epoch")
    .option('--alias <name>', 'the pool deployed under this alias of deploy.config.json', 'local')
    .option('--port <n>', 'HTTP port', wholeNumber(0, 65535), 8480)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'event log, spool and reports (default state/emitter-<alias>)')
    .option('--genesis <time>', 'start of slot 0 (ISO date or ms; default: mainnet\'s, or the local chain\'s current slot)', genesisTime)
    .option('--slot-seconds <n>', 'slot duration: 180 on mainnet, 90 after Mesa', wholeNumber(1, 3600), 180)
    .option('--strategy <name>', `override the pool's strategy: ${Object.values(STRATEGY_NAMES).join(', ')}`, oneOf(...Object.values(STRATEGY_NAMES)))
    .option('--early-ms <n>', 'how early before its slot a proposal is taken (default a tenth of a slot, at most 2 s)', wholeNumber(0, 600_000))
    .option('--cutoff-ms <n>', 'best-vrf and priority: decide this long after the slot starts (default a third of the slot)', wholeNumber(0, 3_600_000))
    .option('--operator <name>', "the operator's key (a name or a key file): certifies receipts", 'operator')
    .option('--oracle <name>', "the oracle's key (a name or a key file): signs epoch reports and, with --backfill-ledger, the designated slots' commitments (it pays their producers)", 'oracle')
    .option('--no-bridge', 'do not report epochs (the emitter alone)')
    .addOption(new Option('--coinbase <mina>', 'reward counted per block in the report').argParser(minaAmount()).default(720_000_000_000n, '720'))
    .option('--report-delay <slots>', 'report an epoch this many slots after it ends', wholeNumber(0, 7140), 10)
    .option('--daemon <url>', "a Mina daemon's GraphQL: emitted blocks are marked canonical or orphaned", urlOption())
    .option('--confirmations <n>', 'blocks on top before a block counts as canonical', wholeNumber(1, 290), 3)
    .option('--relay <url>', "hand winners to a relay by HTTP POST (default: files in <data>/spool for the gateway node's helper)", urlOption())
    .option('--threads <n>', 'signature worker threads', wholeNumber(1, 64), 2)
    .option('--waitlist', "keep the live backfill waitlist from every block the daemon (--daemon) takes in; served at GET /v1/waitlist")
    .option('--waitlist-peer <url...>', "another oracle to bootstrap an empty waitlist from (up to three are asked)", (v: string, all: string[] = []) => {
      if (all.length === 3) throw new InvalidArgumentError('at most three peers are asked, as the forum describes');
      return [...all, urlOption()(v)];
    })
    .option('--waitlist-settle <slots>', 'slots behind the best tip before a slot counts as settled for the waitlist', wholeNumber(0, 290), 3)
    .option('--backfill-ledger <file>', "the epoch's staking ledger (explorer export): each slot's live commitment is served at GET /v1/backfill/:slot and designated producers' blocks are taken with their proofs")
    .option('--backfill-epoch <n>', 'the epoch of --backfill-ledger', wholeNumber(0, 2 ** 32 / 7140))
    .option('--backfill-seed <seed>', "that epoch's seed (decimal field or 2v…)")
    .option('--backfill-previous-ledger <file>', "the previous epoch's staking ledger (for slots lost before the epoch began)")
    .option('--backfill-previous-seed <seed>', "the previous epoch's seed")
    .option('--replica <name>', 'run as one replica of the emitter (with --etcd and --relay): replicas agree on each slot through etcd', replicaName)
    .option('--etcd <urls>', "the etcd cluster's client URLs, comma-separated, one per member (http://10.0.0.1:2379,…): the slots' decisions go to whichever is the leader", etcdEndpoints)
    .option('--advertise <url>', "this replica's URL as the other replicas reach it (default: the address it listens on)", urlOption())
    .addHelpText(
      'after',
      [
        '',
        'Members post signed proposals to POST /v1/proposals (npm run member does it beside a node).',
        'Reading: GET / (dashboard), /metrics (Prometheus), /v1/slots/:slot, /v1/events?from=&to=,',
        '/v1/members/:key/metrics?epoch=N, /v1/reports/:epoch, /v1/waitlist (with --waitlist), /v1/backfill/:slot (with --backfill-ledger),',
        '/v1/replicas (with --replica).',
        '',
        'Replicas: run one per machine, each with its own --replica name, the same --etcd cluster and the',
        "same --relay (the gateway's, npm run relay); members deliver to every replica (npm run member",
        '-- --emitter URL1 --emitter URL2 …). Exactly one block per slot is handed on, by the replica that',
        'decided it, or by another if that one dies first; the replica that leads posts the reports.',
      ].join('\n'),
    )
    .action(async (o: EmitterOptions) => {
      const root = process.cwd();
      if (o.backfillLedger !== undefined) {
        if (!o.waitlist) throw new UsageError('--backfill-ledger: designated producers are named by the live waitlist; add --waitlist (and --daemon)', { field: 'waitlist' });
        if (o.backfillEpoch === undefined || o.backfillSeed === undefined) throw new UsageError('--backfill-ledger needs --backfill-epoch and --backfill-seed', { field: 'backfill-epoch' });
        if ((o.backfillPreviousLedger === undefined) !== (o.backfillPreviousSeed === undefined)) throw new UsageError('the previous epoch needs both --backfill-previous-ledger and --backfill-previous-seed', { field: 'backfill-previous-ledger' });
      } else if (o.backfillEpoch !== undefined || o.backfillSeed !== undefined || o.backfillPreviousLedger !== undefined || o.backfillPreviousSeed !== undefined) {
        throw new UsageError('the --backfill-… options go with --backfill-ledger', { field: 'backfill-ledger' });
      }
      if (o.replica !== undefined) {
        if (!o.etcd) throw new UsageError('--replica: replicas agree through etcd; give its client URLs with --etcd', { field: 'etcd' });
        if (!o.relay) throw new UsageError("--replica: replicas hand winners to one place, the gateway's relay; give it with --relay (npm run relay runs one)", { field: 'relay' });
      } else if (o.etcd !== undefined || o.advertise !== undefined) {
        throw new UsageError('--etcd and --advertise go with --replica', { field: 'replica' });
      }
      const session = await PoolSession.open({ root, alias: o.alias, log: progress });
      const operator = await session.key(o.operator);
      const oracle = o.bridge ? await session.key(o.oracle) : undefined;
      const dataDir = resolve(root, o.data ?? `state/emitter-${o.alias}${o.replica ? `-${o.replica}` : ''}`);
      const backfill = o.backfillLedger !== undefined ? await backfillChecks(root, o, session.chain.proofsEnabled) : undefined;
      // Joined last before the service starts: no lease is held through the ledgers' reading and the verifier's compilation.
      let agreement: Agreement | undefined;
      if (o.replica !== undefined) {
        progress(`replica ${o.replica}: joining the etcd cluster at ${o.etcd!.join(', ')}…`);
        agreement = await EtcdAgreement.start({ endpoints: o.etcd!, replica: o.replica, ...(o.advertise ? { url: o.advertise } : {}), poolTag: poolTagOf(session.client().dac.address).toString(), onStatus: progress });
      }
      const { service, clock, strategy } = await startPoolEmitter({
        session,
        dataDir,
        operator,
        ...(oracle ? { oracle } : {}),
        ...(o.genesis !== undefined ? { genesisMs: o.genesis } : {}),
        slotMs: o.slotSeconds * 1000,
        ...(o.strategy ? { strategy: o.strategy } : {}),
        window: { ...(o.earlyMs !== undefined ? { earlyMs: o.earlyMs } : {}), ...(o.cutoffMs !== undefined ? { cutoffMs: o.cutoffMs } : {}) },
        ...(o.relay ? { relayUrl: o.relay } : {}),
        ...(o.daemon ? { daemonUrl: o.daemon } : {}),
        confirmations: o.confirmations,
        perBlock: o.coinbase,
        reportDelaySlots: o.reportDelay,
        threads: o.threads,
        ...(o.waitlist ? { waitlist: { ...(o.waitlistPeer ? { peers: o.waitlistPeer } : {}), settleSlots: o.waitlistSettle } } : {}),
        ...(backfill ? { backfill } : {}),
        ...(agreement ? { agreement } : {}),
        progress,
      });
      const url = await service.listen(o.port, o.host).catch(async (e: unknown) => {
        // Nothing serves: stop what started (the selector, the waitlist, the watcher) before saying why.
        await service.stop();
        throw e;
      });
      if (agreement && o.advertise === undefined) await agreement.advertise(url);
      progress(`dashboard: ${url}/`);
      progress(`emitter for the pool of alias '${o.alias}': strategy ${strategy}, slot ${clock.currentSlot()} (${o.slotSeconds} s slots), ${session.client().mirror.activeMembers().length} members, data in ${dataDir}${oracle ? `; the bridge reports each epoch${o.replica ? ' (from the replica that leads)' : ''}` : ''}${o.replica ? `; replica ${o.replica} of the emitter, agreeing through etcd, handing winners to ${o.relay}` : ''}`);
      progress('Ctrl-C to stop');
      await new Promise<void>((done) => {
        const stop = () => {
          progress('stopping: finishing deliveries under way');
          void service.stop().then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
