import { beforeAll, describe, expect, it } from '@jest/globals';
import { Bool, PrivateKey, Provable, UInt32, UInt64 } from 'o1js';
import { DesignatedProducer, DesignatedProducerErrors as E, DesignationStatement, EligibilityWitness, checkEligibility } from '../../contracts/DesignatedProducer.js';
import { designationsOf } from '../../oracle/backfill/commitment.js';
import { exampleNetwork as backfillScenario } from '../../oracle/backfill/example.js';

/**
 * The designated-producer statement, checked two ways: `DesignatedProducer.prove` with proofs
 * off (the method runs on the values, every assertion active), and the circuit itself under
 * `Provable.runAndCheck` (inputs witnessed, every constraint checked). Real proofs: test/proofs.
 */
const net = backfillScenario();
const { a, b, start, window } = net;
const [n1, own] = net.wins(a, net.current, start + 5, 2) as [number, number];
const s1 = n1 + 3;
// A lost slot in the previous epoch, designated in this epoch's first slots.
const [nPrev] = net.wins(a, net.previous, start - 6, 1) as [number];
const sPrev = start + 1;
// A designation past the window: the oracle's mistake, refused by the proof anyway.
const [nOld] = net.wins(a, net.current, s1 + 1, 1) as [number];
const sLate = nOld + window + 1;
const plan = net.plan([
  { slot: s1, producer: a.toPublicKey().toBase58(), lostSlot: n1 },
  { slot: sPrev, producer: a.toPublicKey().toBase58(), lostSlot: nPrev },
  { slot: sLate, producer: a.toPublicKey().toBase58(), lostSlot: nOld },
]);

async function prove(statement: DesignationStatement, witness: EligibilityWitness, sk: PrivateKey) {
  return DesignatedProducer.prove(statement, witness, sk);
}

describe('DesignatedProducer: the disjunction', () => {
  beforeAll(() => DesignatedProducer.setProofsEnabled(false));

  it('proves the designated producer of an empty slot (its lost slot won, within the window)', async () => {
    const { statement, witness } = plan.eligibility(a, s1);
    expect(statement.viaWaitlist.toBoolean()).toBe(true);
    expect(Number(witness.vrfSlot.toBigint())).toBe(n1);
    const { proof } = await prove(statement, witness, a);
    expect(proof.publicInput.slot.toBigint()).toBe(BigInt(s1));
  });

  it('proves a producer whose own VRF wins the slot', async () => {
    expect(plan.designation(own)).toBeUndefined();
    const { statement, witness } = plan.eligibility(a, own);
    expect(statement.viaWaitlist.toBoolean()).toBe(false);
    await prove(statement, witness, a);
  });

  it('reads the previous epoch\'s ledger and seed for a lost slot before the epoch', async () => {
    expect(nPrev).toBeLessThan(start);
    const { statement, witness } = plan.eligibility(a, sPrev);
    await prove(statement, witness, a);
    // The same lost slot checked against this epoch's ledger: the seed differs, the VRF loses or the leaf mismatches.
    const forged = new EligibilityWitness({ ...witness, ledger: plan.eligibility(a, s1).witness.ledger });
    await expect(prove(statement, forged, a)).rejects.toThrow();
  });

  it('refuses the wrong key', async () => {
    const { statement, witness } = plan.eligibility(a, s1);
    await expect(prove(statement, witness, b)).rejects.toThrow(E.wrongKey);
  });

  it('refuses a producer that is not the head (the designation names another)', async () => {
    const { witness } = plan.eligibility(a, s1);
    const statement = new DesignationStatement({ commitment: plan.commitment.hash(), slot: UInt32.from(s1), producer: b.toPublicKey(), viaWaitlist: Bool(true) });
    await expect(prove(statement, witness, b)).rejects.toThrow(E.notDesignated);
    expect(() => plan.eligibility(b, s1)).toThrow(/is not designated for slot/);
  });

  it('refuses a losing output claimed as winning', async () => {
    const lost = net.loses(a, net.current, start + 50);
    expect(plan.designation(lost)).toBeUndefined();
    const { statement, witness } = plan.eligibility(a, own);
    const claim = new DesignationStatement({ ...statement, slot: UInt32.from(lost) });
    await expect(prove(claim, new EligibilityWitness({ ...witness, vrfSlot: UInt32.from(lost) }), a)).rejects.toThrow(E.loses);
    expect(() => plan.eligibility(a, lost)).toThrow(/none of its accounts wins it/);
  });

  it('refuses an own-VRF claim evaluated for another slot', async () => {
    const { statement, witness } = plan.eligibility(a, own);
    const other = new DesignationStatement({ ...statement, slot: UInt32.from(own + 1) });
    await expect(prove(other, witness, a)).rejects.toThrow(E.notThisSlot);
  });

  it('refuses an expired entry even when the commitment designates it', async () => {
    const { statement, witness } = plan.eligibility(a, sLate);
    await expect(prove(statement, witness, a)).rejects.toThrow(E.outsideWindow);
  });

  it('refuses a stake the ledger does not hold, and a statement against another commitment', async () => {
    const { statement, witness } = plan.eligibility(a, s1);
    const richer = new EligibilityWitness({ ...witness, balance: witness.balance.add(UInt64.from(1)) });
    await expect(prove(statement, richer, a)).rejects.toThrow(E.notInLedger);
    const other = net.plan([], { to: net.range.to - 1 });
    await expect(prove(new DesignationStatement({ ...statement, commitment: other.commitment.hash() }), witness, a)).rejects.toThrow(E.commitment);
  });

  it('checks the same in circuit: the honest witness satisfies every constraint, a forged designation does not', async () => {
    const run = (statement: DesignationStatement, witness: EligibilityWitness, sk: PrivateKey) =>
      Provable.runAndCheck(() => {
        const s = Provable.witness(DesignationStatement, () => statement);
        const w = Provable.witness(EligibilityWitness, () => witness);
        const k = Provable.witness(PrivateKey, () => sk);
        checkEligibility(s, w, k);
      });
    const { statement, witness } = plan.eligibility(a, s1);
    await run(statement, witness, a);
    const statementB = new DesignationStatement({ ...statement, producer: b.toPublicKey() });
    await expect(run(statementB, witness, b)).rejects.toThrow();
    const { rows } = (await DesignatedProducer.analyzeMethods()).prove;
    expect(rows).toBeGreaterThan(953);
  }, 600_000);
});

describe('designations from the waitlist rules', () => {
  it('names each backfilled slot\'s producer with the slot it lost', () => {
    const [p, q] = ['B62qP', 'B62qQ'];
    const blocks = [
      { slot: 10, creator: 'B62qX', canonical: true },
      { slot: 10, creator: p, canonical: false, vrfOutput: 5n },
      { slot: 11, creator: 'B62qY', canonical: true },
      { slot: 11, creator: q, canonical: false },
      { slot: 13, creator: 'B62qZ', canonical: true },
    ];
    // Slot 12 empty → P (lost 10); 14 empty → Q (lost 11); 15 empty, waitlist empty.
    expect(designationsOf(blocks, { from: 10, to: 15, window: 47 })).toEqual([
      { slot: 12, producer: p, lostSlot: 10 },
      { slot: 14, producer: q, lostSlot: 11 },
    ]);
    // Window 2: P expires after slot 12 (12 ≤ 10 + 2 still holds), Q after 13.
    expect(designationsOf(blocks, { from: 10, to: 15, window: 2 })).toEqual([{ slot: 12, producer: p, lostSlot: 10 }]);
  });
});
