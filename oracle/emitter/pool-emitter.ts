import { join } from 'node:path';
import type { PrivateKey } from 'o1js';
import { EmitterStrategy, poolTagOf } from '../../contracts/types.js';
import { Bridge } from '../bridge/bridge.js';
import { Compensations } from '../bridge/compensation.js';
import type { Log } from '../chain/poster.js';
import { UsageError } from '../errors.js';
import type { PoolSession } from '../pool/session.js';
import type { StrategyName, Window } from './selector.js';
import { EmitterService, type EmitterServiceOptions, type MemberSource } from './service.js';
import { HttpSink, type Sink } from './sink.js';
import { SlotClock, type TimeSource } from './slot-clock.js';

/**
 * The emitter of a deployed pool: members from the pool's registry on chain (read again
 * every few slots), the strategy and reward policy from its parameters, the operator's key
 * for receipts, the oracle's key for the bridge.
 */

/** Mainnet's genesis since the Berkeley hard fork (its genesis block's `genesis_state_timestamp`). */
export const MAINNET_GENESIS_MS = 1_717_545_600_000;

export const STRATEGY_NAMES: Record<number, StrategyName> = {
  [EmitterStrategy.firstDelivered]: 'first-delivered',
  [EmitterStrategy.bestVrf]: 'best-vrf',
  [EmitterStrategy.priority]: 'priority',
};

/** The production window for a slot duration: 2 s early allowance, cut-off at a third, close at the slot's end. */
export function defaultWindow(slotMs: number): Window {
  return { earlyMs: Math.min(2_000, Math.floor(slotMs / 10)), closeMs: slotMs, cutoffMs: Math.floor(slotMs / 3) };
}

export interface PoolEmitterOptions {
  session: PoolSession;
  dataDir: string;
  operator: PrivateKey;
  /** Signs reports and backfill commitments; no bridge (and no compensation of designated producers) without it. */
  oracle?: PrivateKey;
  /** Start of slot 0 (ms); for the local chain, derived from its current slot when left out. */
  genesisMs?: number;
  slotMs: number;
  time?: TimeSource;
  strategy?: StrategyName;
  window?: Partial<Window>;
  relayUrl?: string;
  /** Another sink (the simulated gateway of npm start); wins over `relayUrl`. */
  sink?: Sink;
  daemonUrl?: string;
  confirmations?: number;
  watchIntervalMs?: number;
  /** Keep the live backfill waitlist from the daemon at `daemonUrl` (the window is the pool's). */
  waitlist?: { peers?: readonly string[]; settleSlots?: number; intervalMs?: number };
  /** Run as one of several replicas agreeing through etcd (the service closes it when it stops). */
  agreement?: EmitterServiceOptions['agreement'];
  /** With `waitlist`: each slot's live commitment from these ledgers, and designated producers' proofs checked at the intake. */
  backfill?: EmitterServiceOptions['backfill'];
  /** Reward per counted block, nanomina. */
  perBlock: bigint;
  reportDelaySlots: number;
  threads?: number;
  progress: Log;
}

/** The slot clock's genesis: given, mainnet's, or (local chain) the one that makes now the chain's current slot. */
async function genesisOf(o: PoolEmitterOptions): Promise<number> {
  if (o.genesisMs !== undefined) return o.genesisMs;
  const { chain, alias, aliasName } = o.session;
  if (chain.kind === 'local') return (o.time?.now() ?? Date.now()) - (await chain.slot()) * o.slotMs;
  if (alias.networkId === 'mainnet') return MAINNET_GENESIS_MS;
  throw new UsageError(`give the genesis time of alias '${aliasName}' with --genesis (ISO date or ms): only mainnet's and the local chain's are known`, { field: 'genesis' });
}

function waitlistDaemon(o: PoolEmitterOptions): string {
  if (!o.daemonUrl) throw new UsageError("the live waitlist follows a daemon's blocks: give its GraphQL with --daemon", { field: 'daemon' });
  return o.daemonUrl;
}

export async function startPoolEmitter(o: PoolEmitterOptions): Promise<{ service: EmitterService; clock: SlotClock; strategy: StrategyName }> {
  const client = o.session.client();
  const params = client.mirror.params;
  const operatorKey = o.operator.toPublicKey().toBase58();
  if (operatorKey !== params.operator) throw new UsageError(`the operator key given (${operatorKey}) is not the pool's operator (${params.operator}); receipts must be signed by the operator in the parameters`, { field: 'operator' });
  const strategy = o.strategy ?? STRATEGY_NAMES[params.emitterStrategy];
  if (!strategy) throw new UsageError(`the pool's emitter strategy ${params.emitterStrategy} is not known to this emitter`, { field: 'strategy' });
  const clock = new SlotClock({ genesisMs: await genesisOf(o), slotMs: o.slotMs, ...(o.time ? { time: o.time } : {}) });
  const membership: MemberSource = {
    isMember: (k) => client.mirror.isMember(k),
    members: () => client.mirror.activeMembers(),
    refresh: async () => void (await client.sync()),
  };
  const oracle = o.oracle;
  const agreement = o.agreement;
  // What the bridge and the compensations share: where their files go, what a block counts as, the log.
  const posting = { dir: join(o.dataDir, 'reports'), basis: o.daemonUrl ? ('canonical' as const) : ('emitted' as const), progress: o.progress };
  const service = await EmitterService.start({
    dataDir: o.dataDir,
    clock,
    strategy,
    window: { ...defaultWindow(o.slotMs), ...o.window },
    poolTag: poolTagOf(client.dac.address).toString(),
    operator: { publicKey: operatorKey, privateKey: o.operator.toBase58() },
    membership,
    names: o.session.names,
    ...(o.sink ? { sink: o.sink } : o.relayUrl ? { sink: new HttpSink(o.relayUrl) } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
    ...(o.daemonUrl ? { watch: { url: o.daemonUrl, ...(o.confirmations !== undefined ? { confirmations: o.confirmations } : {}), ...(o.watchIntervalMs ? { intervalMs: o.watchIntervalMs } : {}) } } : {}),
    ...(o.waitlist ? { waitlist: { url: waitlistDaemon(o), window: params.backfillWindow, ...o.waitlist } } : {}),
    ...(o.backfill ? { backfill: o.backfill } : {}),
    ...(agreement ? { agreement } : {}),
    ...(oracle
      ? {
          bridge: {
            create: (log) => new Bridge({ log, client, oracle, ...posting, perBlock: o.perBlock, ...(agreement ? { replicas: { self: agreement.replica, peers: () => agreement.health().replicas } } : {}) }),
            delaySlots: o.reportDelaySlots,
          },
        }
      : {}),
    ...(oracle && o.backfill ? { compensation: { create: (log, planOf) => new Compensations({ log, client, oracle, ...posting, planOf }) } } : {}),
    progress: o.progress,
  });
  return { service, clock, strategy };
}
