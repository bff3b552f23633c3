import { compareForSelection } from '../chain/selection.js';
import { parseVrfOutput } from '../vrf/output.js';
import type { AcceptedProposal, Decision, DecideOutcome, DecideRule, EventLog } from './event-log.js';
import type { Sink } from './sink.js';
import type { SlotClock } from './slot-clock.js';

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
}

/**
 * Decides slots and hands winners to the sink. The intake applies {@link Selector.onArrival} in
 * the commit that logs a proposal and hands a decision made there to `emitArrivalDecision`; `run` follows the slot clock to apply cut-offs, close
 * windows (a slot without a decision is logged `missed`) and retry deliveries.
 */
export class Selector {
  private readonly inFlight = new Map<number, Promise<void>>();

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
    const outcome = this.decideSlot(slot, final);
    if (outcome?.winner) await this.emit(outcome.decision, outcome.winner.proposal.payload);
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
  emit(decision: Decision, payload?: unknown): Promise<void> {
    const running = this.inFlight.get(decision.slot);
    if (running) return running;
    const job = (async () => {
      try {
        const block = payload ?? this.deps.log.proposal(decision.slot, decision.member, decision.blockHash)?.proposal.payload;
        if (block === undefined) throw new Error(`slot ${decision.slot}: the decided block ${decision.blockHash} is not among its accepted proposals`);
        let handedAt: number | undefined;
        await this.deps.sink.deliver({ slot: decision.slot, member: decision.member, blockHash: decision.blockHash, payload: block }, () => (handedAt = this.deps.clock.now()));
        const at = this.deps.clock.now();
        if (this.deps.log.markEmitted(decision.slot, at, this.deps.sink.name, handedAt)) this.deps.onEmitted?.({ ...decision, emittedAt: at, handedAt: handedAt ?? at });
      } catch (e) {
        this.deps.onError?.('delivery to the sink failed; it will be retried', { slot: decision.slot, error: e instanceof Error ? e.message : String(e) });
      } finally {
        this.inFlight.delete(decision.slot);
      }
    })();
    this.inFlight.set(decision.slot, job);
    return job;
  }

  /** Deliveries recorded but not confirmed (after a restart or a sink failure). */
  async retryPending(): Promise<void> {
    for (const d of this.deps.log.pendingEmissions()) await this.emit(d);
  }

  /**
   * Follows the clock until `signal` aborts: at each slot's cut-off the strategy must
   * choose; at each window's close the slot is closed (missed if undecided). Starts with
   * the deliveries a previous run left unconfirmed.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, window, log } = this.deps;
    await this.retryPending();
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
      if (log.closeSlot(slot, clock.now()) && !log.decision(slot)) this.deps.onMissed?.(slot);
      await this.retryPending();
      slot++;
    }
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
