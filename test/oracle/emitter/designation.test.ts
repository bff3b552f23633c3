import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, PrivateKey, PublicKey, Signature, type JsonProof } from 'o1js';
import { DesignatedProducer, type DesignatedProducerProof } from '../../../contracts/DesignatedProducer.js';
import { exampleNetwork } from '../../../oracle/backfill/example.js';
import { fieldToStateHash, stateHashToField } from '../../../oracle/chain/base58.js';
import type { DesignationChecks } from '../../../oracle/emitter/designation.js';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import { Intake } from '../../../oracle/emitter/intake.js';
import { ReceiptSigner } from '../../../oracle/emitter/receipt.js';
import { Selector } from '../../../oracle/emitter/selector.js';
import { SpoolSink } from '../../../oracle/emitter/sink.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import type { ProposalRejected } from '../../../oracle/emitter/types.js';
import { until } from '../../helpers/wait.js';

/**
 * The forum's acceptance rule at the intake, with the slot clock driven across its boundaries:
 * a designated producer's block is taken only from a third into its slot, only during that
 * slot, only with a proof whose statement is that slot, that member and the commitment in
 * force. The proofs here are the program's with proofs off (its checks run on the values);
 * the cryptographic check is the one stand-in (`verifyProof`), and the proving suite runs the
 * real verifier on a real proof (test/proofs/contracts.test.ts).
 */

const SLOT_MS = 9_000;
const POOL_TAG = '4242';
const net = exampleNetwork();
const { a, b } = net;
const [lost] = net.wins(a, net.current, net.start + 5, 1) as [number];
const slot = lost + 2;
const plan = net.plan([{ slot, producer: a.toPublicKey().toBase58(), lostSlot: lost }]);
const operator = PrivateKey.random();
const block = (n: number) => fieldToStateHash(BigInt(n) * 7919n + 11n);

function propose(key: PrivateKey, s: number, blockHash: string, designation?: unknown) {
  const signature = Signature.create(key, [Field(POOL_TAG), Field(s), Field(stateHashToField(blockHash)!)]).toBase58();
  return { slot: s, member: key.toPublicKey().toBase58(), blockHash, payload: { s }, signature, ...(designation !== undefined ? { designation } : {}) };
}

describe("the intake's rule for designated producers", () => {
  let dir: string;
  let log: EventLog;
  let intake: Intake;
  let plain: Intake;
  let proof: JsonProof;
  const time = new ManualTime(0);
  const clock = new SlotClock({ genesisMs: 0, slotMs: SLOT_MS, time });
  const verified: DesignatedProducerProof[] = [];
  let verdict = true;
  let onChain: string | undefined;
  const checks: DesignationChecks = {
    verifyProof: async (p) => (verified.push(p), verdict),
    commitment: () => onChain,
  };
  const refusal = async (i: Intake, body: unknown) => {
    const e = (await i.submit(body).then(() => undefined, (x: unknown) => x)) as ProposalRejected | undefined;
    if (!e) throw new Error('accepted');
    return { code: e.code, status: e.status, message: e.message };
  };

  beforeAll(async () => {
    DesignatedProducer.setProofsEnabled(false);
    const { statement, witness } = plan.eligibility(a, slot);
    proof = (await DesignatedProducer.prove(statement, witness, a)).proof.toJSON();
    onChain = statement.commitment.toString();
    dir = await mkdtemp(join(tmpdir(), 'designation-'));
    log = EventLog.open(join(dir, 'events.sqlite'));
    const window = { earlyMs: 1_000, closeMs: SLOT_MS, cutoffMs: 3_000 };
    const receipts = await ReceiptSigner.create({ operator: operator.toPublicKey().toBase58(), poolTag: POOL_TAG, certify: async (f) => Signature.create(operator, f.map((x) => Field(x))).toBase58() });
    const selector = new Selector({ log, clock, sink: new SpoolSink(join(dir, 'spool')), strategy: 'first-delivered', window });
    const members = new Set([a, b].map((k) => k.toPublicKey().toBase58()));
    const deps = {
      log,
      clock,
      membership: { isMember: (k: string) => members.has(k) },
      verify: async (k: string, f: bigint[], s: string) => Signature.fromBase58(s).verify(PublicKey.fromBase58(k), f.map((x) => Field(x))).toBoolean(),
      receipts,
      poolTag: POOL_TAG,
      window,
      maxPayloadBytes: 4096,
      decide: selector.onArrival,
      onAccepted: (_: unknown, decided: Parameters<typeof selector.emitArrivalDecision>[0]) => void selector.emitArrivalDecision(decided),
    };
    intake = new Intake({ ...deps, designation: checks });
    plain = new Intake(deps);
  }, 120_000);

  afterAll(async () => {
    log.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the block before a third of the slot, takes it at a third, and forwards it', async () => {
    const third = clock.slotStart(slot) + SLOT_MS / 3;
    await time.set(third - 1);
    expect(await refusal(intake, propose(a, slot, block(1), proof))).toMatchObject({ code: 'DESIGNATION_TOO_EARLY', status: 422, message: expect.stringMatching(/a third into the slot \(1 ms from now\)/) });
    await time.set(third);
    const receipt = await intake.submit(propose(a, slot, block(1), proof));
    expect(receipt).toMatchObject({ slot, member: a.toPublicKey().toBase58(), blockHash: block(1), receivedAt: third });
    expect(verified).toHaveLength(1);
    expect(verified[0]!.publicInput.slot.toBigint()).toBe(BigInt(slot));
    // First delivered: the designated block is the slot's, and it goes to the sink.
    expect(log.decision(slot)).toMatchObject({ member: a.toPublicKey().toBase58(), blockHash: block(1) });
    // The spool makes its directory with its first block.
    await until(async () => (await readdir(join(dir, 'spool')).catch(() => [])).length > 0, 'the block in the spool');
    expect((await readdir(join(dir, 'spool'))).length).toBe(1);
  });

  it('takes only a proof for that very slot, that member and the commitment in force, that verifies', async () => {
    await time.set(clock.slotStart(slot) + SLOT_MS / 2);
    const calls = verified.length;
    // Another member delivering a's proof, for a's slot.
    expect(await refusal(intake, propose(b, slot, block(4), proof))).toMatchObject({ code: 'BAD_DESIGNATION', message: expect.stringMatching(/the proof is for producer B62\w+, not for B62/) });
    // A proof against another commitment than the one in force.
    const held = onChain;
    onChain = '12345';
    expect(await refusal(intake, propose(a, slot, block(5), proof))).toMatchObject({ code: 'BAD_DESIGNATION', message: expect.stringMatching(new RegExp(`not slot ${slot}'s \\(12345…\\)`)) });
    onChain = held;
    // Statement right, proof wrong.
    verdict = false;
    expect(await refusal(intake, propose(a, slot, block(6), proof))).toMatchObject({ code: 'BAD_DESIGNATION', message: expect.stringMatching(new RegExp(`proof for slot ${slot} does not verify`)) });
    verdict = true;
    expect(verified.length).toBe(calls + 1);
    // Not a proof at all.
    expect(await refusal(intake, propose(a, slot, block(7), { proof: 'x' }))).toMatchObject({ code: 'BAD_DESIGNATION', message: expect.stringMatching(/the designation is not a proof \(publicInput: /) });
    expect(await refusal(intake, propose(a, slot, block(8), { ...proof, publicInput: ['1', '2'] }))).toMatchObject({ code: 'BAD_DESIGNATION', message: expect.stringMatching(/does not decode as a DesignatedProducer proof/) });
  });

  it('never takes it for an outdated slot, nor the proof of one slot for the next', async () => {
    const next = slot + 1;
    await time.set(clock.slotStart(next));
    expect(await refusal(intake, propose(a, slot, block(2), proof))).toMatchObject({ code: 'DESIGNATION_OUTDATED', message: expect.stringMatching(new RegExp(`slot ${slot} ended at`)) });
    await time.set(clock.slotStart(next) + SLOT_MS / 2);
    expect(await refusal(intake, propose(a, next, block(3), proof))).toMatchObject({ code: 'BAD_DESIGNATION', message: expect.stringMatching(new RegExp(`the proof is for slot ${slot}, not for slot ${next}`)) });
    // Each refusal is in the log with its code.
    const codes = log.eventsOfSlot(slot).filter((e) => e.type === 'rejected').map((e) => e.code);
    expect(codes).toEqual(['DESIGNATION_TOO_EARLY', 'BAD_DESIGNATION', 'BAD_DESIGNATION', 'BAD_DESIGNATION', 'BAD_DESIGNATION', 'BAD_DESIGNATION', 'DESIGNATION_OUTDATED']);
  });

  it('an emitter without the backfill refuses designated blocks and still takes plain ones', async () => {
    const s = slot + 5;
    await time.set(clock.slotStart(s) + SLOT_MS / 2);
    expect(await refusal(plain, propose(a, s, block(9), proof))).toMatchObject({ code: 'NO_BACKFILL', status: 422 });
    await expect(plain.submit(propose(b, s, block(10)))).resolves.toMatchObject({ slot: s });
  });
});
