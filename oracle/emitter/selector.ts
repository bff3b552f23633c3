import { compareForSelection } from '../chain/selection.js';
import { parseVrfOutput } from '../vrf/output.js';
import { AgreementUnavailable, type Agreement, type SlotOutcome, type SlotState } from './agreement.js';
import type { AcceptedProposal, Decision, DecideOutcome, DecideRule, EventLog } from './event-log.js';
import type { Sink } from './sink.js';
import type { SlotClock } from './slot-clock.js';
import { FRONTIER_DEPTH } from '../member/blocks.js';

/**
 * Selection: one winner per slot by the pool's strategy, recorded in the event log before
 * it goes to the sink, so the decision — not timing — makes emission exactly once.
 */

export type StrategyName = 'first-delivered' | 'best-vrf' | 'priority';

export interface Window {
  /** How long before the slot's start a proposal is taken (clock skew between nodes). */
  earlyMs: number;
  /** How long after the slot's start proposals are taken. */
  closeMs: number;
  /** best-vrf and priority: when, after the slot's start, the strategy stops waiting. */
  cutoffMs: number;
}

/**
 * The winner among a slot's accepted proposals (in arrival order), or `undefined` to keep
 * waiting. `final` is true at the cut-off: a strategy must then choose if it can.
 * - first-delivered: the first valid proposal, at once (the EOS post's low-latency strategy);
 * - best-vrf: at the cut-off, Mina's tie-break (larger Blake2b of the VRF output, then the
 *   larger state hash); proposals without a VRF output rank last, by arrival;
 * - priority: the first member in `priority` order that proposed; at once if it is the
 *   first of all members, else at the cut-off.
 */
export function choose(strategy: StrategyName, proposals: readonly AcceptedProposal[], final: boolean, priority: readonly string[] = []): AcceptedProposal | undefined {
  if (proposals.length === 0) return undefined;
  if (strategy === 'first-delivered') return proposals[0];
  if (strategy === 'best-vrf') {
    if (!final) return undefined;
    const withVrf = proposals.flatMap((p) => {
      const v = p.proposal.vrfOutput === undefined ? undefined : parseVrfOutput(p.proposal.vrfOutput);
      return v === undefined ? [] : [{ p, v }];
    });
    if (withVrf.length === 0) return proposals[0];
    return withVrf.reduce((best, c) => (compareForSelection({ vrfOutput: c.v, stateHash: c.p.blockHash }, { vrfOutput: best.v, stateHash: best.p.blockHash }) > 0 ? c : best)).p;
  }
  const rank = (member: string) => {
    const i = priority.indexOf(member);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const best = proposals.reduce((a, b) => (rank(b.member) < rank(a.member) ? b : a));
  if (final || rank(best.member) === 0) return best;
  return undefined;
}

export interface SelectorDeps {
  log: EventLog;
  clock: SlotClock;
  sink: Sink;
  strategy: StrategyName;
  window: Window;
  /** Members in priority order (strategy `priority`), read when a slot is decided. */
  priority?: () => readonly string[];
  /** Called after every emission and miss (metrics, dashboard). */
  onEmitted?: (d: Decision) => void;
  onMissed?: (slot: number) => void;
  onError?: (message: string, context: Record<string, unknown>) => void;
  /**
   * Among replicas: each slot's outcome is agreed through etcd before anything is handed on,
   * and a block is forwarded only by the replica holding the slot's forwarding.
   */
  agreement?: Agreement;
  /** Among replicas: a forwarding taken over, an agreement that failed (in words). */
  onStatus?: (message: string, context: Record<string, unknown>) => void;
  /** Among replicas: how often decisions held by other replicas are followed (default 250 ms). */
  followMs?: number;
  /** Among replicas: each proposal to etcd, with the time its answer took (ms). */
  onAgreed?: (ms: number) => void;
  /** Among replicas: a slot whose forwarding this replica took over. */
  onTakeover?: (slot: number) => void;
  /** Among replicas: the longest a replica whose turn it is not holds a proposal back (default `STANDBY_MS`; see {@link Selector.hold}). */
  standbyMs?: number;
}


/** Among replicas: the longest a proposal waits for its slot's agreement before its own checks go on. */
const HOLD_MS = 100;

/**
 * Among replicas: the longest a replica that is not the slot's first proposer waits for the slot
 * to settle before it checks and logs a proposal (first-delivered). A few times the winner's
 * path on a loaded machine; what it costs is the time to take over from a first proposer that
 * is gone.
 */
const STANDBY_MS = 100;

/**
 * Among replicas: the most proposals of one slot under one member's key that a replica whose
 * turn it is not holds back at once (a member proposes one block a slot); more are taken at
 * once. Members' keys are public, so this bounds what requests claiming one (their signatures
 * are checked after the wait) can keep waiting in memory: twice the members, per open slot.
 */
const STANDBY_PER_MEMBER = 2;

/**
 * Among replicas: how long a replica that is not the slot's first proposer waits (after a
 * proposal's arrival, or the slot's close) before it reads the slot's outcome (the first
 * proposer's usually stands by then) or, finding none, proposes.
 */
const DEFER_MS = 20;

/**
 * Decides slots and hands winners to the sink. The intake applies {@link Selector.onArrival} in
 * the commit that logs a proposal and hands a decision made there to `emitArrivalDecision`; `run` follows the slot clock to apply cut-offs, close
 * windows (a slot without a decision is logged `missed`) and retry deliveries.
 */
export class Selector {
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Among replicas: agreements under way, by slot. */
  private readonly agreeing = new Map<number, Promise<void>>();
  /** Among replicas: slots whose window closed while etcd did not answer (closed once it does). */
  private readonly unresolved = new Set<number>();
  /** Among replicas: emissions handed on here whose record etcd has not taken yet. */
  private readonly unrecorded = new Map<number, { blockHash: string; at: number }>();
  /** Among replicas: proposals held back here, by slot and member ({@link hold}). */
  private readonly standing = new Map<string, number>();

  constructor(private readonly deps: SelectorDeps) {}

  /**
   * The strategy before its cut-off, for the intake to apply in the commit that accepts a
   * proposal (first-delivered decides there; the others usually wait).
   */
  readonly onArrival: DecideRule = { strategy: this.deps.strategy, pick: (proposals) => this.pick(proposals, false) };

  private pick(proposals: readonly AcceptedProposal[], final: boolean): AcceptedProposal | undefined {
    return choose(this.deps.strategy, proposals, final, this.deps.priority?.() ?? []);
  }

  /** Emits the decision the intake's commit made with {@link onArrival}, if it made one. */
  async emitArrivalDecision(decided: DecideOutcome | undefined): Promise<void> {
    if (decided?.winner) return this.emit(decided.decision, decided.winner.proposal.payload);
  }

  /** Decides the slot if the strategy can (`final`: at the cut-off); emits a new decision. */
  private async tryDecide(slot: number, final: boolean): Promise<void> {
    if (this.deps.agreement) return this.agree(slot, final);
    const outcome = this.decideSlot(slot, final);
    if (outcome?.winner) await this.emit(outcome.decision, outcome.winner.proposal.payload);
  }

  /**
   * Among replicas: what a slot's proposal waits for before its checks and commit here, so that
   * the winner's path (the first proposer's check, commit, compare-and-create and handoff) does
   * not share the machine's cores and disk with the same work done twice more at that instant.
   * - On the slot's first proposer: while the slot's outcome is being agreed, its other
   *   proposals wait for that (at most `HOLD_MS`).
   * - On the others (first-delivered): until the slot has settled (its block reached the sink, or
   *   "missed" stands), at most `standbyMs`; then they take and log it as the first proposer
   *   did, and adopt the outcome that stands. If the first proposer is gone, they propose after
   *   this wait. The wait ends in time for their own proposal to come before the window's
   *   close (when the first proposer, holding nothing, proposes "missed"), and at most
   *   `STANDBY_PER_MEMBER` proposals of a slot under one member's key wait at once.
   */
  hold(slot: number, member: string): Promise<void> | undefined {
    const { agreement, strategy, log, clock, window } = this.deps;
    if (!agreement) return undefined;
    if (!agreement.proposesFirst(slot)) {
      // Only first-delivered decides at arrival; the other strategies decide at the cut-off.
      if (strategy !== 'first-delivered' || log.decision(slot)) return undefined;
      // Its check and `deferred`'s wait still fit before the close: a late proposal is taken at once.
      const left = clock.slotStart(slot) + window.closeMs - 2 * DEFER_MS - clock.now();
      const key = `${slot} ${member}`;
      const waiting = this.standing.get(key) ?? 0;
      if (left <= 0 || waiting >= STANDBY_PER_MEMBER) return undefined;
      this.standing.set(key, waiting + 1);
      return agreement.settled(slot, Math.min(this.deps.standbyMs ?? STANDBY_MS, left)).finally(() => {
        const n = (this.standing.get(key) ?? 1) - 1;
        if (n > 0) this.standing.set(key, n);
        else this.standing.delete(key);
      });
    }
    const running = this.agreeing.get(slot);
    if (!running) return undefined;
    return Promise.race([running, new Promise<void>((r) => setTimeout(r, HOLD_MS).unref())]);
  }

  /** Among replicas: a proposal was accepted here; the strategy may decide the slot now (first-delivered does). */
  arrived(slot: number): Promise<void> {
    return this.tryDecide(slot, false);
  }

  /**
   * Among replicas: proposes this replica's choice for the slot (if the strategy makes one) and
   * applies the outcome that stands, whichever replica's it is; forwards it if it is ours.
   */
  private agree(slot: number, final: boolean): Promise<void> {
    const running = this.agreeing.get(slot);
    if (running) return running;
    const { log, clock, agreement } = this.deps;
    const job = (async () => {
      if (log.decision(slot)) return;
      const proposals = log.proposals(slot);
      const pick = this.pick(proposals, final);
      if (!pick) return;
      const standing = await this.deferred(slot);
      if (standing) return this.apply(standing);
      const mine: SlotOutcome = { kind: 'decided', slot, member: pick.member, blockHash: pick.blockHash, replica: agreement!.replica, at: clock.now() };
      const t0 = performance.now();
      const agreed = await agreement!.propose(mine);
      this.deps.onAgreed?.(performance.now() - t0);
      // The forwarding came with the decision when the outcome that stands is the one just proposed.
      const won = agreed.kind === 'decided' && agreed.replica === mine.replica && agreed.at === mine.at;
      await this.apply(agreed, won ? { payload: pick.proposal.payload, firstArrival: proposals[0]!.receivedAt } : undefined);
    })()
      .catch((e: unknown) => this.agreementFailed(slot, e))
      .finally(() => this.agreeing.delete(slot));
    this.agreeing.set(slot, job);
    return job;
  }

  /**
   * Among replicas: for a replica that is not the slot's first proposer, the outcome that stands
   * `DEFER_MS` after `since` (the moment every replica turned to the slot; the first proposer's
   * outcome usually stands by then), read from the nearest etcd member with no raft round, rather
   * than a compare-and-create that can only fail. A read that fails or lags finds nothing, and
   * the caller's compare-and-create decides.
   */
  private async deferred(slot: number, since = this.deps.clock.now()): Promise<SlotOutcome | undefined> {
    const { agreement, clock } = this.deps;
    if (agreement!.proposesFirst(slot)) return undefined;
    // Cut short once the slot has settled here (the watch brought its emission, or "missed").
    const wait = since + DEFER_MS - clock.now();
    if (wait > 0) await agreement!.settled(slot, wait);
    return agreement!.outcome(slot).catch(() => undefined);
  }

  /**
   * Among replicas: records an agreed decision here; forwards it when the proposal that won was
   * just ours (`won`: its block and the slot's first arrival here). The decision is durable in
   * etcd already, so the block goes to the sink first and is recorded here right after (a crash
   * in between: the slot's close records it again from etcd, and the follower hands on the same
   * block).
   */
  private async apply(agreed: SlotOutcome, won?: { payload: unknown; firstArrival: number }): Promise<void> {
    if (agreed.kind !== 'decided') return;
    const { log, clock, strategy } = this.deps;
    const adopt = () => log.adopt({ ...agreed, strategy }, clock.now());
    if (won === undefined || log.decision(agreed.slot)) return void adopt();
    await this.emit({ slot: agreed.slot, member: agreed.member, blockHash: agreed.blockHash, decidedAt: clock.now(), firstArrival: won.firstArrival }, won.payload, adopt);
    // A delivery that failed: recorded all the same, so the follower retries it.
    if (!log.decision(agreed.slot)) adopt();
  }

  private agreementFailed(slot: number, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof AgreementUnavailable) this.deps.onStatus?.(`slot ${slot} is not decided here: ${message}`, { slot });
    else this.deps.onError?.('the agreement failed', { slot, error: message });
  }

  private decideSlot(slot: number, final: boolean) {
    const { log, clock, strategy } = this.deps;
    return log.decide(slot, { strategy, pick: (proposals) => this.pick(proposals, final) }, clock.now());
  }

  /**
   * Delivers a decision to the sink and records it once the sink has it durably; `payload` is
   * the winner's block (looked up when a restart or a failed delivery sends it again: the sink
   * is idempotent). The latency logged is the first arrival to the handoff.
   */
  emit(decision: Decision, payload?: unknown, record?: () => void): Promise<void> {
    const running = this.inFlight.get(decision.slot);
    if (running) return running;
    const job = (async () => {
      try {
        const block = payload ?? this.deps.log.proposal(decision.slot, decision.member, decision.blockHash)?.proposal.payload;
        if (block === undefined) throw new Error(`slot ${decision.slot}: the decided block ${decision.blockHash} is not among its accepted proposals`);
        let handedAt: number | undefined;
        await this.deps.sink.deliver({ slot: decision.slot, member: decision.member, blockHash: decision.blockHash, payload: block }, () => (handedAt = this.deps.clock.now()));
        const at = this.deps.clock.now();
        const replica = this.deps.agreement?.replica;
        record?.();
        if (this.deps.log.markEmitted(decision.slot, at, this.deps.sink.name, handedAt, replica)) this.deps.onEmitted?.({ ...decision, emittedAt: at, handedAt: handedAt ?? at, ...(replica !== undefined ? { forwardedBy: replica } : {}) });
        if (this.deps.agreement) {
          // The others stop waiting for this slot once etcd has the record (tried again until it does).
          this.unrecorded.set(decision.slot, { blockHash: decision.blockHash, at });
          await this.recordEmissions();
        }
      } catch (e) {
        this.deps.onError?.('delivery to the sink failed; it will be retried', { slot: decision.slot, error: e instanceof Error ? e.message : String(e) });
      } finally {
        this.inFlight.delete(decision.slot);
      }
    })();
    this.inFlight.set(decision.slot, job);
    return job;
  }

  /** Deliveries recorded but not confirmed (after a restart or a sink failure). Among replicas, {@link follow} does this. */
  async retryPending(): Promise<void> {
    if (this.deps.agreement) return;
    for (const d of this.deps.log.pendingEmissions()) await this.emit(d);
  }

  /** Among replicas: hands etcd the emission records it has not taken yet. */
  private async recordEmissions(): Promise<void> {
    const { agreement } = this.deps;
    for (const [slot, e] of [...this.unrecorded]) {
      try {
        await agreement!.markEmitted({ slot, blockHash: e.blockHash, replica: agreement!.replica, at: e.at });
        this.unrecorded.delete(slot);
      } catch (err) {
        this.agreementFailed(slot, err);
        return;
      }
    }
  }

  /**
   * Among replicas, once: closes the slots left open while etcd did not answer; records here
   * the emissions other replicas made; and takes over the forwarding of a decided slot whose
   * forwarder is gone (its lease expired: the replica died or lost etcd) when this replica
   * holds the block, handing on the same block.
   */
  async follow(): Promise<void> {
    const { log, clock, agreement } = this.deps;
    if (!agreement) return;
    await this.recordEmissions();
    for (const slot of [...this.unresolved].sort((a, b) => a - b)) if (await this.close(slot)) this.unresolved.delete(slot);
    // As far back as a daemon's frontier: older blocks no longer matter to the network.
    const oldest = clock.currentSlot() - FRONTIER_DEPTH;
    const pending = log.pendingEmissions().filter((d) => d.slot >= oldest && !this.inFlight.has(d.slot));
    if (pending.length === 0) return;
    // etcd is asked only about the slots whose emission this replica has not seen yet.
    const unseen = pending.filter((d) => !agreement.emitted(d.slot));
    const states = unseen.length > 0 ? await agreement.slots(unseen[0]!.slot, unseen.at(-1)!.slot) : new Map<number, SlotState>();
    for (const d of pending) {
      const e = agreement.emitted(d.slot) ?? states.get(d.slot)?.emitted;
      const holder = states.get(d.slot)?.forwarder;
      if (e) {
        if (e.blockHash !== d.blockHash) {
          this.deps.onError?.('etcd records another block emitted than the one agreed here', { slot: d.slot, agreed: d.blockHash, emitted: e.blockHash });
          continue;
        }
        if (log.markEmitted(d.slot, e.at, `replica ${e.replica}`, e.at, e.replica)) this.deps.onEmitted?.({ ...d, emittedAt: e.at, handedAt: e.at, forwardedBy: e.replica });
        continue;
      }
      if (holder !== undefined && holder !== agreement.replica) continue;
      // Only a replica that has the block can hand it on.
      if (!log.proposal(d.slot, d.member, d.blockHash)) continue;
      if (!(await agreement.claimForwarding(d.slot))) continue;
      if (holder === undefined) {
        this.deps.onStatus?.(`slot ${d.slot}: its forwarder is gone; replica ${agreement.replica} hands on the agreed block`, { slot: d.slot });
        this.deps.onTakeover?.(d.slot);
      }
      await this.emit(d);
    }
  }

  /**
   * Closes a slot's window: among replicas, the slot's outcome is agreed first (another
   * replica's decision is recorded here; else "missed" stands for all). Returns false when
   * etcd did not answer (the slot stays open and is closed later).
   */
  private async close(slot: number): Promise<boolean> {
    const { log, clock, agreement } = this.deps;
    if (agreement && !log.decision(slot)) {
      // A proposal taken here (perhaps while etcd did not answer) is proposed first; "missed" only without one.
      const held = log.proposals(slot).length > 0;
      if (held) await this.agree(slot, true);
      if (!log.decision(slot)) {
        if (held) return false;
        try {
          // Every replica closes the slot at the same moment: one proposes "missed", the others read what stands.
          await this.apply((await this.deferred(slot, clock.slotStart(slot) + this.deps.window.closeMs)) ?? (await agreement.propose({ kind: 'missed', slot, replica: agreement.replica, at: clock.now() })));
        } catch (e) {
          this.agreementFailed(slot, e);
          return false;
        }
      }
    }
    if (log.closeSlot(slot, clock.now()) && !log.decision(slot)) this.deps.onMissed?.(slot);
    return true;
  }

  /**
   * Follows the clock until `signal` aborts: at each slot's cut-off the strategy must
   * choose; at each window's close the slot is closed (missed if undecided). Starts with
   * the deliveries a previous run left unconfirmed.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, window, log } = this.deps;
    await this.retryPending();
    if (this.deps.agreement) await this.follow().catch(() => undefined); // the follower says why, and tries again
    const lastClosed = log.lastClosedSlot();
    // After downtime, the slots in between are closed too (missed unless decided).
    let slot = lastClosed === undefined ? clock.currentSlot() : lastClosed + 1;
    while (!signal.aborted) {
      const start = clock.slotStart(slot);
      try {
        if (this.deps.strategy !== 'first-delivered') {
          await clock.sleepUntil(start + window.cutoffMs, signal);
          await this.tryDecide(slot, true);
        }
        await clock.sleepUntil(start + window.closeMs, signal);
      } catch {
        if (signal.aborted) break;
        throw new Error('the slot clock failed');
      }
      await this.tryDecide(slot, true);
      if (!(await this.close(slot))) this.unresolved.add(slot);
      await this.retryPending();
      slot++;
    }
    await Promise.allSettled([...this.inFlight.values(), ...this.agreeing.values()]);
  }

  /** Among replicas: {@link follow}s, every `followMs` of real time (etcd's leases run on it), until `signal` aborts. */
  async runFollower(signal: AbortSignal): Promise<void> {
    let failing = false;
    // A watch event (a forwarding released, an emission recorded) or the stop cuts the wait short.
    let wake: (() => void) | undefined;
    signal.addEventListener('abort', () => wake?.(), { once: true });
    this.deps.agreement?.watch(() => wake?.());
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          wake = undefined;
          resolve();
        };
        const t = setTimeout(done, this.deps.followMs ?? 250);
        wake = done;
      });
      if (signal.aborted) break;
      try {
        await this.follow();
        if (failing) this.deps.onStatus?.("following the other replicas' decisions again", {});
        failing = false;
      } catch (e) {
        if (signal.aborted) break;
        const message = e instanceof Error ? e.message : String(e);
        // Said once per outage, not every pass.
        if (!failing) {
          if (e instanceof AgreementUnavailable) this.deps.onStatus?.(`not following the other replicas' decisions: ${message}`, {});
          else this.deps.onError?.('following the other replicas failed', { error: message });
        }
        failing = true;
      }
    }
  }
}
