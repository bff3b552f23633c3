import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey } from 'o1js';
import { fieldToStateHash } from '../../oracle/chain/base58.js';
import { EmitterService, fixedMembers, type EmitterServiceOptions } from '../../oracle/emitter/service.js';
import type { SlotClock } from '../../oracle/emitter/slot-clock.js';
import { daemonBlock, SimulatedDaemon } from '../../oracle/sim/daemon.js';
import { until } from './wait.js';

/** A distinct, valid state hash for block number `n`. */
export const hashOf = (n: number): string => fieldToStateHash(BigInt(n) * 7919n + 11n);

export interface WaitlistEmitter {
  service: EmitterService;
  daemon: SimulatedDaemon;
  /** The service's base URL. */
  base: string;
  /** What the service logged. */
  lines: string[];
  /** A block of `slot` on the best chain (canonical) or beside it: announced, heard, then the best chain moves. */
  add(n: number, slot: number, creator: string, onBest: boolean): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An emitter service keeping the live waitlist (window 10 unless given, settled one slot behind the tip, the
 * best chain read every 50 ms) over a simulated daemon (a real HTTP and WebSocket server in the
 * daemon's schema), listening on a free port, its subscription up.
 */
export async function startWaitlistEmitter(o: { clock: SlotClock; poolTag: string; members: string[]; names?: ReadonlyMap<string, string>; backfill?: EmitterServiceOptions['backfill']; compensation?: EmitterServiceOptions['compensation']; window?: number }): Promise<WaitlistEmitter> {
  const dir = await mkdtemp(join(tmpdir(), 'waitlist-emitter-'));
  const daemon = await SimulatedDaemon.start();
  const operator = PrivateKey.random();
  const lines: string[] = [];
  const service = await EmitterService.start({
    dataDir: dir,
    clock: o.clock,
    strategy: 'first-delivered',
    window: { earlyMs: 1_000, closeMs: o.clock.slotMs, cutoffMs: 3_000 },
    poolTag: o.poolTag,
    operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() },
    membership: fixedMembers(o.members),
    ...(o.names ? { names: o.names } : {}),
    threads: 1,
    waitlist: { url: daemon.url, window: o.window ?? 10, settleSlots: 1, intervalMs: 50 },
    ...(o.backfill ? { backfill: o.backfill } : {}),
    ...(o.compensation ? { compensation: o.compensation } : {}),
    progress: (m) => lines.push(m),
  });
  const base = await service.listen(0);
  await until(() => daemon.subscriberCount === 1, 'the subscription');
  const best: string[] = [];
  return {
    service,
    daemon,
    base,
    lines,
    async add(n, slot, creator, onBest) {
      const block = daemonBlock({ stateHash: hashOf(n), previousStateHash: best.at(-1) ?? hashOf(0), height: 1000 + best.length, slot, creator });
      daemon.announce(block);
      await until(() => service.waitlist!.heard(Number.MAX_SAFE_INTEGER).some((h) => h.stateHash === block.stateHash) || service.waitlist!.lastSlot >= slot, `block ${n} heard`);
      if (onBest) best.push(block.stateHash);
      daemon.setBestChain([...best]);
    },
    async stop() {
      await service.stop();
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
