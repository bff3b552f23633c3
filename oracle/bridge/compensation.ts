import { join } from 'node:path';
import type { JsonProof, PrivateKey } from 'o1js';
import { z } from 'zod';
import { DesignatedProducerProof } from '../../contracts/DesignatedProducer.js';
import type { BackfillPlan } from '../backfill/commitment.js';
import type { Log } from '../chain/poster.js';
import type { EventLog } from '../emitter/event-log.js';
import { readJsonFileIfExists, writeJsonAtomic } from '../json-file.js';
import { PoolActionError, type PoolClient } from '../pool/client.js';
import { Serial } from '../serial.js';

/**
 * Compensation of designated producers, posted by the oracle on their behalf. A designated
 * producer's block for slot S comes to the intake with its `DesignatedProducer` proof, checked
 * there against S's live commitment. Once S has passed and that block was emitted (and, when a
 * chain watcher runs, ended on the best chain), the oracle posts S's commitment to the
 * `BackfillRegistry` and then `RewardPool.payBackfill` with the producer's own proof, through
 * the pool's one poster. The registry takes commitments in slot order, each replacing the one
 * before, so slots are paid in order, one at a time.
 *
 * Idempotent: each slot's outcome is kept in a file (`backfill-<slot>.json` beside the reports),
 * written after each transaction; a rerun finds the commitment on chain and does not post it
 * again, and a payment already made is refused by the chain and recorded as such.
 */

export interface CompensationDeps {
  log: EventLog;
  client: PoolClient;
  /** Signs the commitments; pays the fees unless `sender` is given. */
  oracle: PrivateKey;
  sender?: PrivateKey;
  /** Where the slot files go (the reports' directory). */
  dir: string;
  /** The live commitment fixed for a slot (the one the intake checked the proof against). */
  planOf(slot: number): BackfillPlan | undefined;
  /** Pay for canonical blocks (when a chain watcher runs) or for emitted ones. */
  basis: 'canonical' | 'emitted';
  progress?: Log;
}

const outcomeSchema = z.strictObject({
  slot: z.number().int(),
  status: z.enum(['paid', 'already-paid', 'skipped']),
  producer: z.string().optional(),
  commitment: z.string().optional(),
  committed: z.string().optional(),
  paid: z.string().optional(),
  amount: z.string().optional(),
  reason: z.string().optional(),
});

/** A slot's outcome: paid (now or before), skipped with the reason, or still waiting for the chain watcher. */
export type CompensationOutcome = z.infer<typeof outcomeSchema> | { slot: number; status: 'waiting'; reason: string };

/** A designated producer's emitted block: its slot, producer and proof (as delivered). */
export interface DesignatedBlock {
  slot: number;
  member: string;
  blockHash: string;
  designation: unknown;
}

export class Compensations {
  private readonly serial = new Serial();
  /** Outcomes read or written by this instance (a slot's file is read once). */
  private readonly known = new Map<number, CompensationOutcome>();

  constructor(private readonly deps: CompensationDeps) {}

  static fileName(slot: number): string {
    return `backfill-${String(slot).padStart(10, '0')}.json`;
  }

  /** The designated producers' blocks emitted in `fromSlot`–`toSlot`, in slot order. */
  designatedBlocks(fromSlot: number, toSlot: number): DesignatedBlock[] {
    const { log } = this.deps;
    return log.eventsOfSlots(fromSlot, toSlot).flatMap((e) => {
      if (e.type !== 'emitted' || e.member === undefined || e.blockHash === undefined) return [];
      const designation = log.proposal(e.slot, e.member, e.blockHash)?.proposal.designation;
      return designation === undefined ? [] : [{ slot: e.slot, member: e.member, blockHash: e.blockHash, designation }];
    });
  }

  /** What was recorded for a slot, if it is done (paid or skipped). */
  async outcome(slot: number): Promise<CompensationOutcome | undefined> {
    const known = this.known.get(slot);
    if (known) return known;
    const read = await readJsonFileIfExists(join(this.deps.dir, Compensations.fileName(slot)), outcomeSchema, `backfill outcome of slot ${slot}`);
    if (read) this.known.set(slot, read);
    return read;
  }

  /** Posts the slot's commitment and compensation, once; one slot at a time. */
  post(block: DesignatedBlock): Promise<CompensationOutcome> {
    return this.serial.run(() => this.postNow(block));
  }

  private async postNow(block: DesignatedBlock): Promise<CompensationOutcome> {
    const { slot } = block;
    const done = await this.outcome(slot);
    if (done) return done;
    if (this.deps.basis === 'canonical') {
      const status = this.deps.log.eventsOfSlot(slot).find((e) => e.type === 'canonical' || e.type === 'orphaned')?.type;
      if (status === undefined) return { slot, status: 'waiting', reason: 'the chain watcher has not seen the block settle yet' };
      if (status === 'orphaned') return this.keep({ slot, status: 'skipped', producer: block.member, reason: 'the block was orphaned: only a block on the best chain filled the slot' });
    }
    let proof: DesignatedProducerProof;
    try {
      proof = (await DesignatedProducerProof.fromJSON(block.designation as JsonProof)) as DesignatedProducerProof;
    } catch (e) {
      return this.keep({ slot, status: 'skipped', producer: block.member, reason: `the delivered designation does not decode: ${e instanceof Error ? e.message : String(e)}` });
    }
    const commitment = proof.publicInput.commitment.toString();
    const plan = this.deps.planOf(slot);
    if (!plan) return this.keep({ slot, status: 'skipped', producer: block.member, commitment, reason: `this emitter holds no live commitment for slot ${slot}` });
    if (plan.commitment.hash().toString() !== commitment) return this.keep({ slot, status: 'skipped', producer: block.member, commitment, reason: `the proof is against another commitment than slot ${slot}'s` });

    const { client, oracle } = this.deps;
    const progress = this.deps.progress ?? (() => {});
    const sender = this.deps.sender ?? oracle;
    const base = { slot, producer: block.member, commitment };
    await client.sync();
    const records = await client.backfill();
    let committed: string | undefined;
    if (records.commitment?.hash().toString() !== commitment) {
      const next = records.nextFrom();
      if (next > slot) return this.keep({ ...base, status: 'skipped', reason: `the registry has moved past slot ${slot} (its next free slot is ${next}): the commitment can no longer be posted` });
      progress(`backfill: committing slot ${slot} (designated producer ${client.who(block.member)})`);
      committed = (await client.submit(() => client.commitBackfill(sender, plan.commitment, plan.sign(oracle, client.dac.address), oracle.toPublicKey()))).hash;
    }
    try {
      progress(`backfill: compensating ${client.who(block.member)} for slot ${slot}`);
      const paid = await client.submit(() => client.payBackfill(sender, proof));
      return this.keep({ ...base, status: 'paid', ...(committed ? { committed } : {}), paid: paid.hash, amount: paid.amount.toString() });
    } catch (e) {
      if (e instanceof PoolActionError && e.code === 'ALREADY_COMPENSATED') return this.keep({ ...base, status: 'already-paid', ...(committed ? { committed } : {}) });
      throw e;
    }
  }

  /** Records a slot as skipped (the chain watcher never saw its block settle, say), so it is not tried again. */
  skip(block: DesignatedBlock, reason: string): Promise<CompensationOutcome> {
    return this.keep({ slot: block.slot, status: 'skipped', producer: block.member, reason });
  }

  private async keep(outcome: z.infer<typeof outcomeSchema>): Promise<CompensationOutcome> {
    await writeJsonAtomic(join(this.deps.dir, Compensations.fileName(outcome.slot)), outcome);
    this.known.set(outcome.slot, outcome);
    return outcome;
  }
}
