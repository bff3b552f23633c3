import { stateHashToField } from '../chain/base58.js';
import type { AcceptedProposal, DecideOutcome, DecideRule, EventLog } from './event-log.js';
import type { ReceiptSigner } from './receipt.js';
import type { SlotClock } from './slot-clock.js';
import type { Window } from './selector.js';
import { firstIssue } from '../errors.js';
import { checkDesignation, checkDesignationTime, type DesignationChecks } from './designation.js';
import { ProposalRejected, proposalSchema, type Proposal, type Receipt, type RejectionCode } from './types.js';

/** Who is a member right now (the pool mirror in service, a fixed set in tests). */
export interface Membership {
  isMember(key: string): boolean;
}

/** Checks a member's signature over `[poolTag, slot, blockHash]` (off the event loop). */
export type SignatureCheck = (member: string, fields: bigint[], signature: string) => Promise<boolean>;

export interface IntakeDeps {
  log: EventLog;
  clock: SlotClock;
  membership: Membership;
  verify: SignatureCheck;
  /**
   * The same check on this thread (about 1.3 ms), used for the first proposals of a slot not yet
   * decided, so the slot's winner is not queued behind a burst; at most `INLINE_PER_SLOT` per
   * slot, so bad signatures cannot make the event loop do this work without bound.
   */
  verifyInline?: (member: string, fields: bigint[], signature: string) => boolean;
  receipts: ReceiptSigner;
  /** `poolTagOf(PoolDac address)`, as a decimal string. */
  poolTag: string;
  window: Window;
  /** Largest accepted payload, in bytes of JSON. */
  maxPayloadBytes: number;
  /**
   * The selection rule to apply in the commit that logs an accepted proposal (the selector's
   * `onArrival`), so a slot first-delivered decides costs one disk write, not two.
   */
  decide?: DecideRule;
  /** After a proposal is durably logged, with the decision its commit made if it made one (the selector). */
  onAccepted?: (p: AcceptedProposal, decided?: DecideOutcome) => void;
  /** Checks a designated producer's proof (the forum's acceptance rule); without it such blocks are refused. */
  designation?: DesignationChecks;
  /** After every rejection (metrics). */
  onRejected?: (code: RejectionCode, member: string | undefined) => void;
  /**
   * Among replicas: a promise a slot's proposal waits for (a moment at most) before its checks
   * and commit, so the winner's path is served first: on the slot's first proposer, while the
   * slot's outcome is being agreed; on the others, until the slot's block has reached the sink
   * (the selector's `hold`). Its arrival time is taken before.
   */
  hold?: (slot: number, member: string) => Promise<void> | undefined;
  /**
   * Among replicas: whether this replica is on the slot's winner's path (it proposes the slot
   * first). The others check signatures on the workers only, which run below the event loop, so
   * on a shared machine their checks do not queue ahead of the winner's.
   */
  onWinnersPath?: (slot: number) => boolean;
}

/** Inline checks per undecided slot (see {@link IntakeDeps.verifyInline}). */
export const INLINE_PER_SLOT = 3;

/**
 * The emitter's intake: validates a delivered proposal (schema, size, the slot's window,
 * membership, signature), logs it durably and answers with a signed receipt; every refusal
 * is a {@link ProposalRejected} with a stable code, and is logged too.
 *
 * @example
 * const receipt = await intake.submit(body);
 */
export class Intake {
  /** Inline checks spent, by slot (recent slots only). */
  private readonly inlineSpent = new Map<number, number>();

  constructor(private readonly deps: IntakeDeps) {}

  /** Whether this proposal's signature is checked on this thread: an undecided slot with inline checks left. */
  private inline(slot: number): boolean {
    if (!this.deps.verifyInline || this.deps.log.decision(slot) || this.deps.onWinnersPath?.(slot) === false) return false;
    const spent = this.inlineSpent.get(slot) ?? 0;
    if (spent >= INLINE_PER_SLOT) return false;
    this.inlineSpent.set(slot, spent + 1);
    if (this.inlineSpent.size > 64) this.inlineSpent.delete(this.inlineSpent.keys().next().value!);
    return true;
  }

  /** Validates, logs and answers; throws {@link ProposalRejected}. */
  async submit(body: unknown): Promise<Receipt> {
    const { clock, log } = this.deps;
    const at = clock.now();
    let member: string | undefined;
    let slot = clock.slotAt(at);
    try {
      const parsed = proposalSchema.safeParse(body);
      if (!parsed.success) {
        const issue = firstIssue(parsed.error.issues);
        const field = issue.field || '(body)';
        throw new ProposalRejected('MALFORMED', `field '${field}': ${issue.message}`, { field });
      }
      const p = parsed.data;
      member = p.member;
      slot = p.slot;
      this.checkSize(p);
      // A designated producer's block has its own window: from a third into the slot to its end.
      if (p.designation !== undefined) checkDesignationTime(p.slot, { at, slotStart: clock.slotStart(p.slot), slotMs: clock.slotMs });
      else this.checkWindow(p, at);
      if (!this.deps.membership.isMember(p.member)) throw new ProposalRejected('NOT_MEMBER', `${p.member} is not a member of this pool`, { member: p.member });
      const held = this.deps.hold?.(p.slot, p.member);
      if (held) await held;
      const earlier = log.proposal(p.slot, p.member, p.blockHash);
      if (earlier) throw duplicate(earlier);
      const fields = [BigInt(this.deps.poolTag), BigInt(p.slot), stateHashToField(p.blockHash)!];
      const ok = this.inline(p.slot) ? safely(() => this.deps.verifyInline!(p.member, fields, p.signature)) : await this.deps.verify(p.member, fields, p.signature);
      if (!ok) throw new ProposalRejected('BAD_SIGNATURE', `the signature is not ${p.member}'s over [poolTag, ${p.slot}, ${p.blockHash}]`, { member: p.member, slot: p.slot });
      if (p.designation !== undefined) {
        if (!this.deps.designation) throw new ProposalRejected('NO_BACKFILL', 'deliver the block without a designation, or to an emitter that keeps the backfill', { slot: p.slot });
        await checkDesignation(p.designation, p, this.deps.designation);
      }
      return this.record(p, at);
    } catch (e) {
      // Equivocation is logged as its own event, with the evidence.
      if (e instanceof ProposalRejected) this.logRejection(e.code as RejectionCode, e.message, at, slot, member, e.code !== 'EQUIVOCATION');
      throw e;
    }
  }

  /** Logs a refusal that never reached {@link submit} (a body the HTTP layer could not read). */
  rejectUnread(code: RejectionCode, reason: string): void {
    const at = this.deps.clock.now();
    this.logRejection(code, reason, at, this.deps.clock.slotAt(at), undefined, true);
  }

  private logRejection(code: RejectionCode, reason: string, at: number, slot: number, member: string | undefined, logged: boolean): void {
    if (logged) this.deps.log.append({ type: 'rejected', slot: Math.max(0, slot), ...(member ? { member } : {}), code, at, data: { reason } });
    this.deps.onRejected?.(code, member);
  }

  /** The block's own size (the HTTP layer caps the whole body at this plus `BODY_ALLOWANCE`). */
  private checkSize(p: Proposal): void {
    const payloadBytes = Buffer.byteLength(JSON.stringify(p.payload));
    if (payloadBytes > this.deps.maxPayloadBytes) {
      throw new ProposalRejected('TOO_LARGE', `the block is ${payloadBytes} bytes; at most ${this.deps.maxPayloadBytes} are accepted`, { bytes: payloadBytes });
    }
  }

  private checkWindow(p: Proposal, at: number): void {
    const { clock, window } = this.deps;
    const start = clock.slotStart(p.slot);
    if (at < start - window.earlyMs) throw new ProposalRejected('TOO_EARLY', `slot ${p.slot} opens at ${new Date(start - window.earlyMs).toISOString()}`, { slot: p.slot });
    if (at >= start + window.closeMs) throw new ProposalRejected('WINDOW_CLOSED', `slot ${p.slot} closed at ${new Date(start + window.closeMs).toISOString()}`, { slot: p.slot });
  }

  private record(p: Proposal, at: number): Receipt {
    const { log, clock } = this.deps;
    const receipt = this.deps.receipts.sign({ slot: p.slot, member: p.member, blockHash: p.blockHash, receivedAt: at });
    const accepted: AcceptedProposal = { slot: p.slot, member: p.member, blockHash: p.blockHash, receivedAt: at, proposal: p, receipt };
    const outcome = log.accept(accepted, at - clock.slotStart(p.slot), this.deps.decide, clock.now());
    if (outcome.outcome === 'duplicate') throw duplicate(outcome.earlier);
    if (outcome.outcome === 'equivocation') {
      throw new ProposalRejected('EQUIVOCATION', `${p.member} already proposed block ${outcome.earlier.blockHash} for slot ${p.slot}; both signed proposals are kept`, { slot: p.slot, member: p.member });
    }
    this.deps.onAccepted?.(accepted, outcome.decided);
    return receipt;
  }
}

function duplicate(earlier: AcceptedProposal): ProposalRejected {
  return new ProposalRejected('DUPLICATE', `slot ${earlier.slot}, block ${earlier.blockHash}, accepted at ${new Date(earlier.receivedAt).toISOString()}`, { slot: earlier.slot, member: earlier.member }, earlier.receipt);
}

/** A check that throws (a key or signature that does not decode) does not verify. */
function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
