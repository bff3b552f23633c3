import { DeployArgs, Field, MerkleTree, MerkleWitness, Poseidon, PublicKey, Signature, SmartContract, State, UInt32, method, state } from 'o1js';
import { BackfillCommitment, DesignatedProducerProof, DesignationStatement } from './DesignatedProducer.js';
import { PoolDac } from './PoolDac.js';
import { INCLUSION_SLACK, PoolParams, SLOTS_PER_EPOCH, deployAsPoolContract, poolTagOf } from './types.js';

export const BackfillRegistryErrors = {
  badSignature: 'Commitment is not signed by the pool oracle',
  overlaps: 'Commitment starts before the end of the previous one',
  emptyRange: 'Commitment range is empty (from > to)',
  notOneEpoch: 'Commitment range is not within its epoch',
  notPassed: 'Commitment covers slots that have not passed yet',
  window: 'Commitment window is not the pool\'s backfill window',
  noCommitment: 'No commitment has been posted',
  stale: 'Proof is not against the current commitment',
  ownVrf: 'A slot\'s own VRF winner is not a designated producer: nothing to record',
  recordWitness: 'Record witness is not for this slot in the current records',
  taken: 'Slot already has another designated producer',
} as const;

/** Records of one commitment: leaf at S mod 7140 = hash(producer) once S's designation is recorded. */
export const RECORD_TREE_HEIGHT = 14;
export class RecordWitness extends MerkleWitness(RECORD_TREE_HEIGHT) {}
export const EMPTY_RECORDS_ROOT = new MerkleTree(RECORD_TREE_HEIGHT).getRoot();

/** A record leaf. */
export function recordLeaf(producer: PublicKey): Field {
  return Poseidon.hash(producer.toFields());
}

export interface BackfillRegistryInit {
  dac: PublicKey;
}

/**
 * The backfill waitlist on chain: the oracle's signed commitment for a slot range that has
 * passed (stake ledgers and designations, see `DesignatedProducer.ts`), and the designated
 * producer of each slot, recorded once from a `DesignatedProducer` proof against that
 * commitment. A new commitment starts after the previous one's range and replaces it, so a
 * proof against an older commitment is refused, and no slot is in two commitments.
 *
 * Recording pays nothing by itself: `RewardPool.payBackfill` records (through `record`) and
 * pays the compensation once per slot. Recording the same designation again changes nothing,
 * so recording it directly cannot keep its producer from being paid.
 */
export class BackfillRegistry extends SmartContract {
  @state(PublicKey) dac = State<PublicKey>();
  /** `BackfillCommitment.hash()` of the current commitment (0 before the first). */
  @state(Field) commitment = State<Field>();
  /** Root of the current commitment's records. */
  @state(Field) records = State<Field>();
  /** The first slot a new commitment may cover. */
  @state(UInt32) nextFrom = State<UInt32>();

  readonly events = {
    committed: BackfillCommitment,
    recorded: DesignationStatement,
  };

  async deploy(args: DeployArgs & { init: BackfillRegistryInit }): Promise<void> {
    await super.deploy(args);
    deployAsPoolContract(this.self);
    this.dac.set(args.init.dac);
    this.commitment.set(Field(0));
    this.records.set(EMPTY_RECORDS_ROOT);
    this.nextFrom.set(UInt32.zero);
  }

  /**
   * Posts the oracle's signed commitment for slots `from`–`to` of one epoch, once they have
   * passed (`to` < `now`, the inclusion slot within the slack). Anyone may submit it.
   */
  @method async commit(c: BackfillCommitment, signature: Signature, oracle: PublicKey, params: PoolParams, now: UInt32) {
    const E = BackfillRegistryErrors;
    this.currentSlot.requireBetween(now, now.add(INCLUSION_SLACK));
    const dacAddress = this.dac.getAndRequireEquals();
    await new PoolDac(dacAddress).reportAuthority(oracle, params);
    signature.verify(oracle, c.message(poolTagOf(dacAddress))).assertTrue(E.badSignature);
    c.from.assertGreaterThanOrEqual(this.nextFrom.getAndRequireEquals(), E.overlaps);
    c.from.assertLessThanOrEqual(c.to, E.emptyRange);
    const start = c.epoch.mul(SLOTS_PER_EPOCH);
    c.from.assertGreaterThanOrEqual(start, E.notOneEpoch);
    c.to.assertLessThan(start.add(SLOTS_PER_EPOCH), E.notOneEpoch);
    c.to.assertLessThan(now, E.notPassed);
    c.window.equals(params.backfillWindow).assertTrue(E.window);
    this.commitment.set(c.hash());
    this.records.set(EMPTY_RECORDS_ROOT);
    this.nextFrom.set(c.to.add(1));
    this.emitEvent('committed', c);
  }

  /**
   * Records the designated producer of a slot from its proof against the current commitment.
   * The same designation again is accepted and changes nothing; another producer is refused.
   */
  @method.returns(DesignationStatement)
  async record(proof: DesignatedProducerProof, witness: RecordWitness) {
    const E = BackfillRegistryErrors;
    proof.verify();
    const s = proof.publicInput;
    const current = this.commitment.getAndRequireEquals();
    current.equals(Field(0)).assertFalse(E.noCommitment);
    s.commitment.assertEquals(current, E.stale);
    s.viaWaitlist.assertTrue(E.ownVrf);
    witness.calculateIndex().assertEquals(s.slot.mod(SLOTS_PER_EPOCH).value, E.recordWitness);
    const root = this.records.getAndRequireEquals();
    const after = witness.calculateRoot(recordLeaf(s.producer));
    // Either S is free, or it already holds this producer (then the root stays); anything else is taken.
    witness.calculateRoot(Field(0)).equals(root).or(after.equals(root)).assertTrue(E.taken);
    this.records.set(after);
    this.emitEvent('recorded', s);
    return s;
  }
}
