import { Field, MerkleTree, UInt32, type PublicKey } from 'o1js';
import { EMPTY_RECORDS_ROOT, RECORD_TREE_HEIGHT, RecordWitness, recordLeaf } from '../../contracts/BackfillRegistry.js';
import type { BackfillCommitment, DesignationStatement } from '../../contracts/DesignatedProducer.js';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { PoolError } from '../errors.js';
import type { DecodedEvent } from '../pool/events.js';

/**
 * The BackfillRegistry as its events tell it: the current commitment and the designations
 * recorded under it (the records tree the contract holds the root of).
 */
export class BackfillRecords {
  commitment: BackfillCommitment | undefined;
  tree = new MerkleTree(RECORD_TREE_HEIGHT);
  /** Slot → producer (B62), under the current commitment. */
  readonly recorded = new Map<number, string>();

  static fromEvents(events: readonly DecodedEvent[]): BackfillRecords {
    const r = new BackfillRecords();
    for (const { type, event } of events) {
      if (type === 'committed') r.commit(event as BackfillCommitment);
      else if (type === 'recorded') r.record(event as DesignationStatement);
    }
    return r;
  }

  private commit(c: BackfillCommitment) {
    this.commitment = c;
    this.recorded.clear();
    this.tree = new MerkleTree(RECORD_TREE_HEIGHT);
  }

  private record(s: DesignationStatement) {
    const slot = Number(s.slot.toBigint());
    this.tree.setLeaf(BigInt(slot % SLOTS_PER_EPOCH), recordLeaf(s.producer));
    this.recorded.set(slot, s.producer.toBase58());
  }

  /** The witness of `slot` in the records tree. */
  witness(slot: UInt32 | number): RecordWitness {
    const n = typeof slot === 'number' ? slot : Number(slot.toBigint());
    return new RecordWitness(this.tree.getWitness(BigInt(n % SLOTS_PER_EPOCH)));
  }

  /** The first slot a new commitment may cover. */
  nextFrom(): number {
    return this.commitment ? Number(this.commitment.to.toBigint()) + 1 : 0;
  }

  /** Checks the rebuilt records against the contract's state. */
  verify(state: { commitment: Field; records: Field; nextFrom: UInt32 }, registry: PublicKey): void {
    const expected = this.commitment?.hash() ?? Field(0);
    const root = this.commitment ? this.tree.getRoot() : EMPTY_RECORDS_ROOT;
    if (!expected.equals(state.commitment).toBoolean() || !root.equals(state.records).toBoolean() || BigInt(this.nextFrom()) !== state.nextFrom.toBigint()) {
      throw new PoolError('MIRROR_MISMATCH', `the BackfillRegistry at ${registry.toBase58()} does not match its events (commitment, records or next slot)`);
    }
  }
}
