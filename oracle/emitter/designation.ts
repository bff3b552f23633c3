import { Cache, verify, type JsonProof } from 'o1js';
import { z } from 'zod';
import { DesignatedProducer, DesignatedProducerProof } from '../../contracts/DesignatedProducer.js';
import { ProposalRejected } from './types.js';

/**
 * The forum's acceptance rule at the pool's intake. A member that is the designated producer
 * of a slot (the head of the backfill waitlist, or a winner by its own VRF) delivers its block
 * with the `DesignatedProducer` proof for that slot. The intake takes it only
 * - after a third of the slot's time has passed (the slot's own winner had its chance),
 * - while the slot is still the current one (never for an outdated slot),
 * - when the proof's statement is for that very slot and that member's key, against the
 *   commitment in force (when the emitter is given one), and the proof verifies.
 *
 * The commitment in force for a live slot is the oracle's slot commitment
 * (`backfill/slot-commitment.ts`): the registry on chain only takes commitments of slots that
 * have passed, so the proof a producer brings at slot time is against the one-slot commitment
 * the oracle fixes when the slot comes and posts once it has passed.
 */

/** A proof as `proof.toJSON()` writes it; the proof string is a few tens of kB. */
export const designationSchema = z.strictObject({
  publicInput: z.array(z.string().regex(/^\d{1,80}$/)).max(16),
  publicOutput: z.array(z.string()).max(0),
  maxProofsVerified: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  proof: z.string().max(200_000),
});

export interface DesignationChecks {
  /** Whether the proof verifies (the cryptographic check). */
  verifyProof(proof: DesignatedProducerProof): Promise<boolean>;
  /**
   * The hash of the slot's live commitment (decimal). When given, a proof for a slot with no
   * commitment (nobody designated) is refused; without it, only the proof is checked.
   */
  commitment?(slot: number): string | undefined;
}

/** The real check: the program's verification key (compiled once, from the file cache when there is one). */
export async function designationProofVerifier(cacheDir?: string): Promise<DesignationChecks['verifyProof']> {
  const { verificationKey } = await DesignatedProducer.compile(cacheDir ? { cache: Cache.FileSystem(cacheDir) } : {});
  return (proof) => verify(proof, verificationKey).catch(() => false);
}

/** The earliest moment (ms) a designated producer's block for a slot is taken. */
export function designationOpensAt(slotStart: number, slotMs: number): number {
  return slotStart + Math.ceil(slotMs / 3);
}

/** The rule's time part: from a third into the slot until the slot ends; throws {@link ProposalRejected}. */
export function checkDesignationTime(slot: number, time: { at: number; slotStart: number; slotMs: number }): void {
  const opens = designationOpensAt(time.slotStart, time.slotMs);
  if (time.at >= time.slotStart + time.slotMs) throw new ProposalRejected('DESIGNATION_OUTDATED', `slot ${slot} ended at ${new Date(time.slotStart + time.slotMs).toISOString()}`, { slot });
  if (time.at < opens) throw new ProposalRejected('DESIGNATION_TOO_EARLY', `a designated producer's block for slot ${slot} is taken from ${new Date(opens).toISOString()}, a third into the slot (${opens - time.at} ms from now)`, { slot });
}

/**
 * The rule's proof part, after {@link checkDesignationTime}: the statement (slot, member,
 * commitment), then the proof; throws {@link ProposalRejected} naming the part that fails.
 */
export async function checkDesignation(json: unknown, p: { slot: number; member: string }, checks: DesignationChecks): Promise<void> {
  const parsed = designationSchema.safeParse(json);
  if (!parsed.success) throw new ProposalRejected('BAD_DESIGNATION', `the designation is not a proof (${parsed.error.issues[0]!.path.join('.') || 'designation'}: ${parsed.error.issues[0]!.message})`, { slot: p.slot });
  let proof: DesignatedProducerProof;
  try {
    proof = (await DesignatedProducerProof.fromJSON(parsed.data as JsonProof)) as DesignatedProducerProof;
  } catch (e) {
    throw new ProposalRejected('BAD_DESIGNATION', `the designation does not decode as a DesignatedProducer proof: ${e instanceof Error ? e.message : String(e)}`, { slot: p.slot });
  }
  const s = proof.publicInput;
  const slot = Number(s.slot.toBigint());
  if (slot !== p.slot) throw new ProposalRejected('BAD_DESIGNATION', `the proof is for slot ${slot}, not for slot ${p.slot}`, { slot: p.slot });
  const producer = s.producer.toBase58();
  if (producer !== p.member) throw new ProposalRejected('BAD_DESIGNATION', `the proof is for producer ${producer}, not for ${p.member}`, { slot: p.slot, member: p.member });
  if (checks.commitment) {
    const inForce = checks.commitment(p.slot);
    if (inForce === undefined) throw new ProposalRejected('BAD_DESIGNATION', `the oracle has no designated producer for slot ${p.slot} (GET /v1/backfill/${p.slot} says why)`, { slot: p.slot });
    if (s.commitment.toString() !== inForce) throw new ProposalRejected('BAD_DESIGNATION', `the proof is against commitment ${s.commitment.toString().slice(0, 12)}…, not slot ${p.slot}'s (${inForce.slice(0, 12)}…)`, { slot: p.slot });
  }
  if (!(await checks.verifyProof(proof))) throw new ProposalRejected('BAD_DESIGNATION', `the DesignatedProducer proof for slot ${p.slot} does not verify`, { slot: p.slot, member: p.member });
}
