import type { GraphQLClient } from 'graphql-request';
import { daemonClient, describeDaemonError, FRONTIER_DEPTH, pollDaemon, readBestChain, type ProducedBlock } from '../member/blocks.js';
import { subscribeNewBlocks } from '../member/daemon.js';
import { parseVrfOutput } from '../vrf/output.js';
import { fetchPeerSnapshots, type LiveEntry, type LiveWaitlist, type WaitlistSnapshot } from './live.js';
import type { Designation } from './commitment.js';
import type { BackfillBlock } from './types.js';

/**
 * The forum's waitlist daemon: follows every block of the network through a Mina daemon's
 * GraphQL and keeps the {@link LiveWaitlist} as slots pass.
 *
 * - Every block the daemon takes into its frontier, on the best chain or on a fork, arrives by
 *   the `newBlock` subscription without a key; it is saved at once ({@link LiveWaitlist.hear}).
 * - `bestChain` says which of them are canonical. A slot counts as settled once the best tip is
 *   `settleSlots` slots past it; settled slots are run through the rules in one step, with every
 *   block heard for them (canonical: on the best chain; otherwise orphaned).
 * - After a restart the waitlist continues from its database. If the feed was down longer than
 *   the daemon's frontier reaches back, the slots nothing is known of are passed without joins
 *   or designations ({@link LiveWaitlist.skipUnknown}), and the operator is told.
 * - A waitlist that starts with nothing asks up to three peers (`GET /v1/waitlist`) first.
 */
export interface FollowerOptions {
  waitlist: LiveWaitlist;
  /** The daemon's GraphQL (`http://host:3085/graphql`). */
  url: string;
  /** Slots behind the best tip that count as settled (default 10). */
  settleSlots?: number;
  /** Blocks of `bestChain` read (default 290, the frontier's depth). */
  maxLength?: number;
  /** How often `bestChain` is read (default 10 s). */
  intervalMs?: number;
  /** Other oracles' base URLs to bootstrap from when the waitlist is empty (at most three are asked). */
  peers?: readonly string[];
  onDesignated?: (d: WaitlistSnapshot['designations'][number]) => void;
  /** After each step the rules ran (the head may have changed). */
  onStep?: (step: FollowStep) => void;
  onStatus?: (message: string) => void;
  /** The clock the best chain's reads are timed with (default `Date.now`; the emitter's slot clock). */
  now?: () => number;
}

/** A block of the best chain as the follower uses it. */
type ChainBlock = Pick<ProducedBlock, 'slot' | 'creator'> & { stateHash: string };

/** How far past the settled waitlist a head is projected (the daemon's frontier). */
export const MAX_PROJECTION = FRONTIER_DEPTH;

/** A projected head, or why there is none now. */
export type Projection = { head: Designation; problem?: undefined } | { head?: undefined; problem: string };

export interface FollowStep {
  /** The settled slot the waitlist is now at. */
  slot: number;
  /** Blocks run through the rules in this step (canonical and not). */
  blocks: number;
  designations: WaitlistSnapshot['designations'];
  /** Slots passed without information (a gap longer than the frontier). */
  skipped: number;
}

export class NetworkFollower {
  private readonly client: GraphQLClient;
  private readonly settleSlots: number;

  constructor(private readonly o: FollowerOptions) {
    this.client = daemonClient(o.url);
    this.settleSlots = o.settleSlots ?? 10;
    if (!Number.isSafeInteger(this.settleSlots) || this.settleSlots < 0) throw new RangeError(`settleSlots must be a whole number ≥ 0, got ${o.settleSlots}`);
  }

  /** The best chain as last read, and when that read began (`now`; −∞ before the first). */
  private bestChain: readonly ChainBlock[] = [];
  private readAt = -Infinity;

  /**
   * The producer `slot` goes to if it is empty, as known now: the settled waitlist, with the
   * slots after it run provisionally over the blocks heard for them and the best chain (a block
   * on it is canonical, any other lost). It answers only from a best chain read since
   * `notBefore` (the slot's start), when no block heard since that read is missing from it, and
   * when the waitlist is at most {@link MAX_PROJECTION} slots behind; otherwise `problem` says
   * why and the caller asks again later.
   */
  projectHead(slot: number, notBefore: number): Projection {
    const { waitlist } = this.o;
    if (waitlist.lastSlot < 0) return { problem: 'the waitlist has not settled a slot yet' };
    if (slot <= waitlist.lastSlot) return { problem: `slot ${slot} is already settled` };
    if (this.readAt < notBefore) return { problem: `the best chain has not been read since slot ${slot} began; ask again in a few seconds` };
    if (slot - waitlist.lastSlot > MAX_PROJECTION) return { problem: `the waitlist is ${slot - waitlist.lastSlot} slots behind slot ${slot} (catching up)` };
    // Bounded work: at most MAX_PROJECTION slots, over the blocks heard for them.
    const blocks = this.rulesInput(slot - 1, this.bestChain);
    const tip = this.bestChain.at(-1)?.slot ?? -1;
    const late = blocks.find((b) => b.slot > tip && !b.canonical);
    if (late) return { problem: `a block of slot ${late.slot} was heard after the best chain was read; ask again in a few seconds` };
    const head = waitlist.projectHead(slot, blocks);
    return head ? { head } : { problem: `nobody is waiting for slot ${slot}` };
  }

  /**
   * The blocks of the slots after the waitlist's last one up to `through`, as the rules read
   * them: every block heard (canonical when on `chain`), and the blocks of `chain` not heard.
   */
  private rulesInput(through: number, chain: readonly ChainBlock[]): BackfillBlock[] {
    const { waitlist } = this.o;
    const onChain = new Set(chain.map((b) => b.stateHash));
    const blocks = new Map<string, BackfillBlock>();
    for (const b of waitlist.heard(through)) blocks.set(b.stateHash, { slot: b.slot, creator: b.creator, canonical: onChain.has(b.stateHash), ...(b.vrfOutput !== undefined ? { vrfOutput: b.vrfOutput } : {}) });
    for (const b of chain) {
      if (b.slot <= waitlist.lastSlot || b.slot > through || blocks.has(b.stateHash)) continue;
      blocks.set(b.stateHash, { slot: b.slot, creator: b.creator, canonical: true });
    }
    return [...blocks.values()];
  }

  /** Keeps a block the daemon announced; returns whether it was new. */
  hear(block: ProducedBlock): boolean {
    if (!block.stateHash) return false;
    const vrfOutput = block.vrfOutput !== undefined ? parseVrfOutput(block.vrfOutput) : undefined;
    return this.o.waitlist.hear({ stateHash: block.stateHash, slot: block.slot, creator: block.creator, ...(vrfOutput !== undefined ? { vrfOutput } : {}) });
  }

  /** Bootstraps an empty waitlist from the configured peers; returns how many answered (0: nothing done). */
  async bootstrap(signal?: AbortSignal): Promise<number> {
    const { waitlist, peers } = this.o;
    if (waitlist.lastSlot >= 0 || !peers?.length) return 0;
    // A peer cannot be ahead of the network: one that claims a slot past our daemon's best tip
    // (or another window) would stall the waitlist or fill it wrongly, so it is left out.
    const chain = await readBestChain(this.client, 1, signal);
    const tip = chain.at(-1)?.slot;
    const answered = await fetchPeerSnapshots(peers, { onError: (m) => this.o.onStatus?.(m) });
    const snapshots = answered.filter((p) => {
      const fits = tip !== undefined && p.slot <= tip && p.window === waitlist.window;
      if (!fits) this.o.onStatus?.(`waitlist: a peer at slot ${p.slot} with window ${p.window} is left out (${tip === undefined ? 'the daemon has no best tip yet' : `the best tip is slot ${tip}, the window ${waitlist.window}`})`);
      return fits;
    });
    if (snapshots.length === 0) {
      this.o.onStatus?.(`waitlist: no usable answer from ${peers.length} peer(s); starting from an empty waitlist`);
      return 0;
    }
    waitlist.bootstrap(snapshots);
    this.o.onStatus?.(`waitlist: bootstrapped from ${snapshots.length} peer(s) at slot ${waitlist.lastSlot}: ${waitlist.entries().length} entries`);
    return snapshots.length;
  }

  /** Reads the best chain once and runs the rules over the slots it has settled. */
  async check(signal?: AbortSignal): Promise<FollowStep | undefined> {
    const { waitlist } = this.o;
    const started = (this.o.now ?? Date.now)();
    const chain = await readBestChain(this.client, this.o.maxLength ?? FRONTIER_DEPTH, signal);
    if (chain.length === 0) return undefined;
    this.bestChain = chain;
    this.readAt = started;
    const settled = chain.at(-1)!.slot - this.settleSlots;
    if (settled <= waitlist.lastSlot) return undefined;
    let skipped = 0;
    const oldest = chain[0]!.slot;
    if (waitlist.lastSlot >= 0 && waitlist.lastSlot + 1 < oldest) {
      skipped = waitlist.skipUnknown(oldest - 1);
      this.o.onStatus?.(`waitlist: slots ${oldest - skipped}–${oldest - 1} are older than the daemon's frontier; passed without joins or designations`);
    }
    const blocks = this.rulesInput(settled, chain);
    const designations = waitlist.advance(settled, blocks);
    for (const d of designations) this.o.onDesignated?.(d);
    const step = { slot: settled, blocks: blocks.length, designations, skipped };
    this.o.onStep?.(step);
    return step;
  }

  /** Bootstraps if needed, then follows the subscription and the best chain until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.bootstrap(signal);
    } catch (e) {
      this.o.onStatus?.(`waitlist: bootstrap failed: ${describeDaemonError(e)}`);
    }
    const feed = subscribeNewBlocks({ url: this.o.url, signal, onBlock: (b) => void this.hear(b), ...(this.o.onStatus ? { onStatus: this.o.onStatus } : {}) });
    await pollDaemon({
      everyMs: this.o.intervalMs ?? 10_000,
      signal,
      step: () => this.check(signal),
      onError: (e) => this.o.onStatus?.(`waitlist: cannot read the best chain at ${this.o.url}: ${e}`),
    });
    await feed;
  }

}

/** What `GET /v1/waitlist` answers: the snapshot, the designated producer of the next slot if it is empty, and the pool's notice. */
export interface WaitlistView extends WaitlistSnapshot {
  next?: LiveEntry & { slot: number; pool: boolean };
  /** Set when one of the pool's own producers is at the head. */
  notice?: string;
}

/** The view of a waitlist for the service; `ours` says whether a producer key is one of the pool's. */
export function waitlistView(waitlist: LiveWaitlist, ours: (key: string) => boolean, name: (key: string) => string = (k) => k): WaitlistView {
  const snapshot = waitlist.snapshot();
  const head = waitlist.nextDesignated();
  if (!head) return snapshot;
  const slot = waitlist.lastSlot + 1;
  const pool = ours(head.producer);
  return {
    ...snapshot,
    next: { ...head, slot, pool },
    ...(pool ? { notice: `the pool's producer ${name(head.producer)} is at the head of the waitlist: if slot ${slot} has no canonical block, it is designated (it lost slot ${head.addedSlot}; the entry expires after slot ${head.expiresAfter})` } : {}),
  };
}
