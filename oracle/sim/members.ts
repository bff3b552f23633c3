import { PrivateKey } from 'o1js';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { fieldToStateHash } from '../chain/base58.js';
import type { Emission, Sink } from '../emitter/sink.js';
import type { SlotClock } from '../emitter/slot-clock.js';
import { Deliverer, type DeliveryOutcome, type PoolInfo } from '../member/deliver.js';
import { vrfOutputToBase64Url } from '../vrf/output.js';
import { daemonBlock, type DaemonBlockJson, type SimulatedDaemon } from './daemon.js';
import { Rng } from './random.js';

/**
 * Simulated member nodes for `npm start`: each slot, each member "wins" it with some
 * probability and delivers a block over real HTTP through the member command's own
 * delivery code, after a realistic delay (log-normal around a few hundred ms); now and then
 * one delivers late (after the window) or equivocates (a second block for the slot). The
 * blocks are made up (a precomputed-block-shaped JSON marked simulated); everything around
 * them — signatures, HTTP, the emitter — is the real path.
 */

export interface SimulatedMembersOptions {
  emitter: string;
  info: PoolInfo;
  clock: SlotClock;
  members: { name: string; key: PrivateKey }[];
  /** Chance that a member wins a given slot (default 0.35). */
  winChance?: number;
  /** Chance that a winner delivers after the window closed (default 0.03). */
  lateChance?: number;
  /** Chance that a winner also sends a second block for the slot (default 0.02). */
  equivocationChance?: number;
  seed?: string;
  onDelivery?: (d: { slot: number; name: string; outcome: DeliveryOutcome; kind: 'block' | 'late' | 'equivocation' }) => void;
}

export class SimulatedMembers {
  private readonly rng: Rng;
  private readonly deliverers: { name: string; deliverer: Deliverer }[];

  constructor(private readonly o: SimulatedMembersOptions) {
    this.rng = new Rng(o.seed ?? 'npm start');
    this.deliverers = o.members.map((m) => ({ name: m.name, deliverer: new Deliverer({ emitter: o.emitter, info: o.info, key: m.key, retryMs: 200 }) }));
  }

  /** A made-up block of `slot` by member `i` (`variant` 1 for an equivocating second block). */
  static block(slot: number, i: number, variant = 0): { stateHash: string; payload: unknown; vrfOutput: string } {
    const stateHash = fieldToStateHash(BigInt(slot) * 1_000_003n + BigInt(i) * 17n + BigInt(variant) * 7n + 1n);
    const vrf = (BigInt(slot) * 6_364_136_223_846_793_005n + BigInt(i) * 1_442_695_040_888_963_407n) % (1n << 253n);
    return {
      stateHash,
      vrfOutput: vrfOutputToBase64Url(vrf),
      payload: { simulated: true, version: 3, data: { protocol_state: { body: { consensus_state: { curr_global_slot_since_hard_fork: { slot_number: String(slot), slots_per_epoch: String(SLOTS_PER_EPOCH) } } } }, note: `simulated block ${variant ? 'variant ' : ''}of member ${i}` } },
    };
  }

  /** Delivers the blocks of `slot` (call at the slot's start); resolves when every delivery ended. */
  async playSlot(slot: number): Promise<void> {
    const { clock } = this.o;
    const start = clock.slotStart(slot);
    const jobs: Promise<void>[] = [];
    this.deliverers.forEach(({ name, deliverer }, i) => {
      if (this.rng.float() >= (this.o.winChance ?? 0.35)) return;
      const late = this.rng.float() < (this.o.lateChance ?? 0.03);
      const equivocate = this.rng.float() < (this.o.equivocationChance ?? 0.02);
      // Log-normal delay: median ~250 ms, a long tail of slow nodes.
      const delay = late ? this.o.info.window.closeMs + 100 : Math.min(Math.exp(Math.log(250) + 0.8 * this.gaussian()), this.o.info.window.closeMs / 2);
      const send = async (variant: number, kind: 'block' | 'late' | 'equivocation') => {
        const at = start + delay + variant * 150;
        await new Promise((r) => setTimeout(r, Math.max(0, at - clock.now())));
        const b = SimulatedMembers.block(slot, i, variant);
        const outcome = await deliverer.deliver({ slot, height: 0, creator: '', stateHash: b.stateHash, vrfOutput: b.vrfOutput, payload: b.payload });
        this.o.onDelivery?.({ slot, name, outcome, kind });
      };
      jobs.push(send(0, late ? 'late' : 'block'));
      if (equivocate && !late) jobs.push(send(1, 'equivocation'));
    });
    await Promise.all(jobs);
  }

  private gaussian(): number {
    const u = Math.max(this.rng.float(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.float());
  }
}

/** The producer outside the pool whose blocks win over the pool's now and then. */
export const OUTSIDE_PRODUCER = PrivateKey.fromBigInt(1_000_003n).toPublicKey().toBase58();

/**
 * The pool's gateway node, simulated for `npm start`: the emitter's sink hands it each
 * winner (after the spool keeps it), and it puts the block on its best chain, served by a
 * simulated daemon — except now and then (`orphanChance`) when another producer's block
 * for that slot wins the network, leaving the pool's block orphaned. The emitter's chain
 * watcher and the live waitlist read that daemon as they would read a real one (every block
 * is announced on `newBlock`, the losing ones too).
 */
export class SimulatedGateway implements Sink {
  readonly name: string;
  private height = 1;
  private previous = fieldToStateHash(1n);
  private readonly rng: Rng;

  constructor(
    private readonly spool: Sink,
    private readonly daemon: SimulatedDaemon,
    private readonly o: { orphanChance?: number; producerOf: (member: string) => string; seed?: string },
  ) {
    this.name = `${spool.name} → simulated gateway`;
    this.rng = new Rng(o.seed ?? 'gateway');
  }

  async deliver(e: Emission, handedOver?: () => void): Promise<void> {
    await this.spool.deliver(e, handedOver);
    const ours = this.block(e.blockHash, e.slot, this.o.producerOf(e.member));
    this.daemon.add(ours);
    this.daemon.announce(ours);
    if (this.rng.float() < (this.o.orphanChance ?? 0.1)) {
      const other = this.block(fieldToStateHash(BigInt(e.slot) * 31n + 999_983n), e.slot, OUTSIDE_PRODUCER);
      this.daemon.add(other);
      this.daemon.announce(other);
      this.daemon.extend(other.stateHash);
      this.previous = other.stateHash;
    } else {
      this.daemon.extend(ours.stateHash);
      this.previous = ours.stateHash;
    }
    this.height++;
  }

  private block(stateHash: string, slot: number, creator: string): DaemonBlockJson {
    return daemonBlock({ stateHash, previousStateHash: this.previous, height: this.height, slot, creator });
  }
}
