import type { Field } from 'o1js';
import { z } from 'zod';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { b62 } from '../config.js';
import { FetchError, firstIssue, InputError, PoolError } from '../errors.js';
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

const field = z.string().regex(/^\d{1,80}$/, 'expected a field element (decimal)');
const ledgerView = z.object({ seed: field, ledgerRoot: field, total: field });

/** `GET /v1/backfill/:slot` as a client reads it. */
export const slotCommitmentViewSchema = z.object({
  slot: z.number().int().min(0),
  producer: b62,
  lostSlot: z.number().int().min(0),
  epoch: z.number().int().min(0),
  window: z.number().int().min(1),
  commitment: field,
  current: ledgerView,
  previous: ledgerView.optional(),
});

/**
 * Asks an emitter for a slot's live commitment (`GET /v1/backfill/:slot`). While the emitter
 * says to ask again (it has not read the best chain since the slot began), asks again every
 * two seconds for up to `waitMs`; any other refusal is a {@link PoolError} with the emitter's words.
 */
export async function fetchSlotCommitment(emitter: string, slot: number, o: { waitMs?: number; onWait?: (message: string) => void } = {}): Promise<SlotCommitmentView> {
  const url = `${emitter.replace(/\/+$/, '')}/v1/backfill/${slot}`;
  const until = Date.now() + (o.waitMs ?? 60_000);
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (cause) {
      throw new FetchError(`the emitter at ${emitter} did not answer: ${cause instanceof Error ? cause.message : String(cause)}`, { url }, { cause });
    }
    const body = (await response.json().catch(() => undefined)) as { message?: unknown } | undefined;
    if (response.ok) {
      const parsed = slotCommitmentViewSchema.safeParse(body);
      if (!parsed.success) throw new FetchError(`the emitter at ${emitter} answered slot ${slot}'s commitment in another shape (${firstIssue(parsed.error.issues).field}: ${firstIssue(parsed.error.issues).message})`, { url });
      return parsed.data as SlotCommitmentView;
    }
    const message = typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`;
    if (response.status === 404 && /ask again/.test(message) && Date.now() < until) {
      o.onWait?.(`slot ${slot}: ${message}`);
      await new Promise((r) => setTimeout(r, 2_000));
      continue;
    }
    throw new PoolError('NO_DESIGNATION', `the emitter at ${emitter} has no commitment for slot ${slot}: ${message}`, { slot });
  }
}

/**
 * Rebuilds a served slot commitment from one's own copy of the staking ledgers and seeds, and
 * checks it is the one served: a mismatch names the part that differs (the seed, the ledger's
 * root or total, the epoch or the window), so nobody proves against, or posts, a commitment it
 * did not check.
 */
export function rebuildSlotCommitment(view: SlotCommitmentView, ledgers: BackfillLedgers): BackfillPlan {
  if (ledgers.epoch !== view.epoch) throw new InputError(`slot ${view.slot} is in epoch ${view.epoch}; the ledgers given are for epoch ${ledgers.epoch}`);
  const plan = new SlotCommitments(ledgers, view.window).plan(view);
  const c = plan.commitment;
  const compare = (which: string, mine: { seed: Field; ledgerRoot: Field; total: { toString(): string } }, served: { seed: string; ledgerRoot: string; total: string }) => {
    if (mine.seed.toString() !== served.seed) throw new InputError(`the ${which} epoch's seed differs from the emitter's (${mine.seed.toString()} here, ${served.seed} served)`);
    if (mine.ledgerRoot.toString() !== served.ledgerRoot) throw new InputError(`the ${which} epoch's staking ledger differs from the emitter's (root ${mine.ledgerRoot.toString().slice(0, 12)}… here, ${served.ledgerRoot.slice(0, 12)}… served)`);
    if (mine.total.toString() !== served.total) throw new InputError(`the ${which} epoch's total stake differs from the emitter's (${mine.total.toString()} here, ${served.total} served)`);
  };
  compare('current', c.current, view.current);
  if (view.previous) compare('previous', c.previous, view.previous);
  if (c.hash().toString() !== view.commitment) throw new InputError(`slot ${view.slot}'s commitment rebuilt here (${c.hash().toString().slice(0, 12)}…) is not the one served (${view.commitment.slice(0, 12)}…)`);
  return plan;
}
