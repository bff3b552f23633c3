import { Bool, Field, MerkleWitness, Poseidon, PrivateKey, Provable, PublicKey, Struct, UInt32, UInt64, ZkProgram } from 'o1js';
import { SLOTS_PER_EPOCH } from './types.js';
import { truncate, vrfOutput, wins } from './Vrf.js';

/**
 * Who may produce a block for slot S, as a proof: either the producer's own VRF output for S
 * wins (Mina's rule), or the producer is the waitlist's designated producer for S (the
 * forum's backfill extension): it won an earlier slot N of the window (its VRF output for N
 * wins, proven here), and the oracle's commitment names it for S with N.
 *
 * What the oracle commits, per slot range of one epoch (`BackfillCommitment`):
 * - the stake ledgers the VRF reads: for the range's epoch and the one before (a lost slot N
 *   may lie in the previous epoch), each a Merkle tree whose leaf at a delegator's ledger
 *   index is hash(delegate, balance), with the epoch seed and the ledger's total;
 * - the designations: a Merkle tree over the epoch's slots whose leaf at S mod 7140 is
 *   hash(producer, N) when the waitlist (`spec/BACKFILL.md`, a FIFO of unique producers)
 *   hands empty slot S to the producer that lost slot N, and 0 otherwise.
 *
 * The proof checks the VRF, the stake and the window (N < S ≤ N + window) itself. That the
 * block for N was not canonical and that no earlier entry was still waiting rests on the
 * oracle's computation, which anyone can repeat from the chain's blocks (`npm run backfill`).
 */

/** Height of a stake-ledger tree: leaves are ledger indexes, up to 2^20 accounts. */
export const LEDGER_TREE_HEIGHT = 21;
export class LedgerWitness extends MerkleWitness(LEDGER_TREE_HEIGHT) {}
/** Height of a designations tree: one leaf per slot of an epoch (2^13 = 8192 ≥ 7140). */
export const DESIGNATION_TREE_HEIGHT = 14;
export class DesignationWitness extends MerkleWitness(DESIGNATION_TREE_HEIGHT) {}

export const DesignatedProducerErrors = {
  commitment: 'The witness is not the statement\'s commitment',
  outsideRange: 'The slot is outside the commitment\'s slot range',
  notThisSlot: 'A producer\'s own VRF proves eligibility only for the slot it was evaluated for',
  outsideWindow: 'The lost slot is not within the waitlist window before the slot (N < S ≤ N + window)',
  tooOld: 'The lost slot is older than the previous epoch',
  notDesignated: 'The commitment does not designate this producer for this slot with this lost slot',
  notInLedger: 'The account (delegate, index, balance) is not in the committed stake ledger',
  loses: 'The VRF output does not win for this stake',
  wrongKey: 'The private key is not the producer\'s',
} as const;

/** A ledger leaf: the account's delegate (the key that evaluates the VRF) and its balance. */
export function ledgerLeaf(delegate: PublicKey, balance: UInt64): Field {
  return Poseidon.hash([...delegate.toFields(), balance.value]);
}

/** A designation leaf: `producer` gets the slot for having lost `lostSlot`. */
export function designationLeaf(producer: PublicKey, lostSlot: UInt32): Field {
  return Poseidon.hash([...producer.toFields(), lostSlot.value]);
}

/** One epoch's stake ledger as the VRF reads it. */
export class EpochLedger extends Struct({ seed: Field, ledgerRoot: Field, total: UInt64 }) {}

/** What the oracle commits for slots `from`–`to` (inclusive) of `epoch`, signed. */
export class BackfillCommitment extends Struct({
  epoch: UInt32,
  from: UInt32,
  to: UInt32,
  /** The waitlist window in force (the pool's `backfillWindow`). */
  window: UInt32,
  current: EpochLedger,
  /** The previous epoch's ledger (zeros for epoch 0). */
  previous: EpochLedger,
  designationsRoot: Field,
}) {
  hash(): Field {
    return Poseidon.hash(BackfillCommitment.toFields(this));
  }
  /** What the oracle signs: the pool's tag, then the commitment. */
  message(poolTag: Field): Field[] {
    return [poolTag, Field(COMMITMENT_DOMAIN), ...BackfillCommitment.toFields(this)];
  }
}
/** Separates a commitment's signed message from a report's. */
const COMMITMENT_DOMAIN = 0x62666c6cn; // 'bfll'

/** What a designated-producer proof states publicly. */
export class DesignationStatement extends Struct({
  /** `BackfillCommitment.hash()` of the commitment it was proved against. */
  commitment: Field,
  slot: UInt32,
  producer: PublicKey,
  /** Eligible as the waitlist's designated producer (true), or by its own VRF for the slot. */
  viaWaitlist: Bool,
}) {}

/** The prover's private inputs besides its key. */
export class EligibilityWitness extends Struct({
  commitment: BackfillCommitment,
  /** The slot whose VRF output wins: S itself, or the lost slot N. */
  vrfSlot: UInt32,
  /** The winning account's balance; its ledger index is the witness's position. */
  balance: UInt64,
  ledger: LedgerWitness,
  /** The designation of S (ignored for the own-VRF case). */
  designation: DesignationWitness,
}) {}

/** The statement's checks; `sk` is the producer's key, a private input. */
export function checkEligibility(s: DesignationStatement, w: EligibilityWitness, sk: PrivateKey): void {
  const E = DesignatedProducerErrors;
  const c = w.commitment;
  c.hash().assertEquals(s.commitment, E.commitment);
  s.slot.assertGreaterThanOrEqual(c.from, E.outsideRange);
  s.slot.assertLessThanOrEqual(c.to, E.outsideRange);
  const epochStart = c.epoch.mul(SLOTS_PER_EPOCH);
  const offset = s.slot.sub(epochStart);
  offset.assertLessThan(UInt32.from(SLOTS_PER_EPOCH), E.outsideRange);

  // Own VRF: N = S. Waitlist: N < S ≤ N + window, and the designation of S names (producer, N).
  const n = w.vrfSlot;
  n.equals(s.slot).or(s.viaWaitlist).assertTrue(E.notThisSlot);
  const windowOk = n.lessThan(s.slot).and(s.slot.lessThanOrEqual(n.add(c.window)));
  windowOk.or(s.viaWaitlist.not()).assertTrue(E.outsideWindow);
  const designated = w.designation.calculateIndex().equals(offset.value).and(w.designation.calculateRoot(designationLeaf(s.producer, n)).equals(c.designationsRoot));
  designated.or(s.viaWaitlist.not()).assertTrue(E.notDesignated);

  // The ledger of N's epoch: this one, or (N before the epoch's first slot) the previous one.
  const inPrevious = n.lessThan(epochStart);
  n.add(SLOTS_PER_EPOCH).assertGreaterThanOrEqual(epochStart, E.tooOld);
  const ledger = Provable.if(inPrevious, EpochLedger, c.previous, c.current);
  w.ledger.calculateRoot(ledgerLeaf(s.producer, w.balance)).assertEquals(ledger.ledgerRoot, E.notInLedger);
  const index = w.ledger.calculateIndex();

  sk.toPublicKey().equals(s.producer).assertTrue(E.wrongKey);
  const output = truncate(vrfOutput(sk, ledger.seed, n, index));
  wins(output, w.balance, ledger.total).assertTrue(E.loses);
}

/** The designated-producer program: one method, the disjunction above. */
export const DesignatedProducer = ZkProgram({
  name: 'designated-producer',
  publicInput: DesignationStatement,
  methods: {
    prove: {
      privateInputs: [EligibilityWitness, PrivateKey],
      async method(s: DesignationStatement, w: EligibilityWitness, sk: PrivateKey) {
        checkEligibility(s, w, sk);
      },
    },
  },
});

export class DesignatedProducerProof extends ZkProgram.Proof(DesignatedProducer) {}
