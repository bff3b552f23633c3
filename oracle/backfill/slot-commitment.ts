import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { InputError } from '../errors.js';
import { readLedger, type StakingLedger } from '../sim/ledger.js';
import { parseSeed } from '../vrf/evaluate.js';
import { BackfillPlan, CommittedLedger, type Designation } from './commitment.js';

/**
 * The live commitment of one slot. The registry on chain only takes commitments of slots that
 * have passed, but a designated producer proves at slot time. So the oracle fixes the slot's
 * designation when the slot comes (the waitlist's head, projected over the slots not yet
 * settled), and the commitment of that one slot — range S–S, the epoch's ledgers and seeds,
 * the window, a designation tree with one leaf — is what the producer proves against, what
 * the intake checks, and what the oracle posts once the slot has passed. It is rebuilt from
 * public data alone (the staking ledgers, the seeds, the slot, the producer, its lost slot),
 * so the producer checks the served hash against its own copy before it proves.
 */

/** An epoch's staking ledger as the commitment holds it: accounts by ledger index, delegate and balance. */
export function committedLedgerOf(ledger: StakingLedger, seed: bigint): CommittedLedger {
  return new CommittedLedger(seed, ledger.accounts, ledger.total);
}

/** The ledgers a slot commitment of `epoch` holds (the previous epoch's for a slot lost before the epoch began). */
export interface BackfillLedgers {
  epoch: number;
  current: CommittedLedger;
  previous?: CommittedLedger;
}

/** Reads the staking ledger files and seeds of `epoch` (and of the one before, when given). */
export async function readBackfillLedgers(o: { epoch: number; ledger: string; seed: string; previousLedger?: string; previousSeed?: string }): Promise<BackfillLedgers> {
  if (!Number.isSafeInteger(o.epoch) || o.epoch < 0) throw new InputError(`the backfill epoch must be a whole number ≥ 0, got ${o.epoch}`);
  if ((o.previousLedger === undefined) !== (o.previousSeed === undefined)) throw new InputError('the previous epoch needs both its staking ledger and its seed');
  if (o.previousLedger !== undefined && o.epoch === 0) throw new InputError('epoch 0 has no previous epoch');
  const current = committedLedgerOf(await readLedger(o.ledger), parseSeed(o.seed));
  const previous = o.previousLedger !== undefined ? committedLedgerOf(await readLedger(o.previousLedger), parseSeed(o.previousSeed!)) : undefined;
  return { epoch: o.epoch, current, ...(previous ? { previous } : {}) };
}

/** What `GET /v1/backfill/:slot` answers: the slot's designation and the hash of its commitment. */
export interface SlotCommitmentView extends Designation {
  epoch: number;
  window: number;
  /** `BackfillCommitment.hash()`, decimal: the statement's `commitment`. */
  commitment: string;
  /** The seeds and ledger roots it holds (decimal), to check against one's own copy. */
  current: { seed: string; ledgerRoot: string; total: string };
  previous?: { seed: string; ledgerRoot: string; total: string };
}

/** Builds (and keeps) the one-slot commitments of an epoch. */
export class SlotCommitments {
  /** By `slot:producer:lostSlot`, the most recent last. */
  private readonly plans = new Map<string, BackfillPlan>();

  constructor(
    readonly ledgers: BackfillLedgers,
    readonly window: number,
  ) {}

  /** Whether `slot` is in the epoch these ledgers are for. */
  covers(slot: number): boolean {
    return Math.floor(slot / SLOTS_PER_EPOCH) === this.ledgers.epoch;
  }

  /** The commitment of a designation's slot; throws when the slot is in another epoch or the lost slot has no ledger here. */
  plan(d: Designation): BackfillPlan {
    const key = `${d.slot}:${d.producer}:${d.lostSlot}`;
    const kept = this.plans.get(key);
    if (kept) return kept;
    if (!this.covers(d.slot)) throw new InputError(`slot ${d.slot} is in epoch ${Math.floor(d.slot / SLOTS_PER_EPOCH)}; the backfill ledgers are for epoch ${this.ledgers.epoch}`);
    if (d.lostSlot < this.ledgers.epoch * SLOTS_PER_EPOCH && !this.ledgers.previous) throw new InputError(`slot ${d.lostSlot} was lost in epoch ${this.ledgers.epoch - 1}, whose staking ledger was not given`);
    const plan = new BackfillPlan({ epoch: this.ledgers.epoch, from: d.slot, to: d.slot, window: this.window }, this.ledgers.current, this.ledgers.previous, [d]);
    this.plans.set(key, plan);
    if (this.plans.size > 64) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }

  view(d: Designation): SlotCommitmentView {
    const c = this.plan(d).commitment;
    const ledger = (l: typeof c.current) => ({ seed: l.seed.toString(), ledgerRoot: l.ledgerRoot.toString(), total: l.total.toString() });
    return { ...d, epoch: this.ledgers.epoch, window: this.window, commitment: c.hash().toString(), current: ledger(c.current), ...(this.ledgers.previous ? { previous: ledger(c.previous) } : {}) };
  }
}
