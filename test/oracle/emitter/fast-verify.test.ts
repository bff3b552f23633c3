import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Field, Poseidon, PrivateKey, Scalar, Signature } from 'o1js';
import { hashWithSignaturePrefix, verifyFields, warmKeys } from '../../../oracle/emitter/fast-verify.js';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import { Intake, INLINE_PER_SLOT, type IntakeDeps } from '../../../oracle/emitter/intake.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import type { ReceiptSigner } from '../../../oracle/emitter/receipt.js';
import { fieldToStateHash } from '../../../oracle/chain/base58.js';

/** The emitter's signature check gives o1js's answers, and its inline use is bounded per slot. */
describe('fast signature check', () => {
  const keys = Array.from({ length: 4 }, () => PrivateKey.random());

  it('hashes as o1js Poseidon.hashWithPrefix with the signature prefix, for every input length', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: Field.ORDER - 1n }), { maxLength: 9 }), (input) => {
        expect(hashWithSignaturePrefix(input)).toBe(Poseidon.hashWithPrefix('CodaSignature*******', input.map((f) => Field(f))).toBigInt());
      }),
      { numRuns: 60, seed: 9 },
    );
  });

  it('answers as o1js Signature.verify on valid, altered and foreign signatures', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: Field.ORDER - 1n }), { minLength: 1, maxLength: 5 }), fc.nat(3), fc.nat(3), fc.nat(2), (msg, signer, checker, alter) => {
        const sig = Signature.create(keys[signer]!, msg.map((f) => Field(f)));
        const checked = alter === 1 ? [(msg[0]! + 1n) % Field.ORDER, ...msg.slice(1)] : msg;
        const key = keys[checker]!.toPublicKey();
        const expected = sig.verify(key, checked.map((f) => Field(f))).toBoolean();
        expect(verifyFields(key.toBase58(), checked, sig.toBase58())).toBe(expected);
      }),
      { numRuns: 120, seed: 8 },
    );
    // A signature with s or r changed does not verify.
    const sig = Signature.create(keys[0]!, [Field(5)]);
    const key = keys[0]!.toPublicKey().toBase58();
    expect(verifyFields(key, [5n], sig.toBase58())).toBe(true);
    const s2 = Signature.fromObject({ r: sig.r, s: sig.s.add(Scalar.from(1)) }).toBase58();
    const r2 = Signature.fromObject({ r: sig.r.add(1), s: sig.s }).toBase58();
    expect(verifyFields(key, [5n], s2)).toBe(false);
    expect(verifyFields(key, [5n], r2)).toBe(false);
    // Out-of-range message fields are reduced as o1js's Field reduces them.
    const wrapped = Signature.create(keys[0]!, [Field(Field.ORDER - 2n)]).toBase58();
    expect(verifyFields(key, [-2n], wrapped)).toBe(Signature.fromBase58(wrapped).verify(keys[0]!.toPublicKey(), [Field(-2n)]).toBoolean());
    warmKeys(['not a key', key]);
    expect(verifyFields(key, [5n], sig.toBase58())).toBe(true);
  }, 120_000);

  /** An intake with the given checks (both refuse), and a proposal for a slot with a signature that is not the member's. */
  function intakeWith(checks: Pick<IntakeDeps, 'verify' | 'verifyInline' | 'onWinnersPath'>, earlyMs: number) {
    const clock = new SlotClock({ genesisMs: 0, slotMs: 10_000, time: new ManualTime(10_000) });
    const log = EventLog.open(':memory:');
    const member = keys[0]!.toPublicKey().toBase58();
    const receipts = { sign: (r: object) => ({ ...r }) } as unknown as ReceiptSigner;
    const intake = new Intake({ log, clock, membership: { isMember: () => true }, ...checks, receipts, poolTag: '1', window: { earlyMs, closeMs: 10_000, cutoffMs: 3_000 }, maxPayloadBytes: 1000 });
    const bad = (slot: number, n: number) => ({ slot, member, blockHash: fieldToStateHash(BigInt(slot + n) + 9n), payload: {}, signature: Signature.create(keys[1]!, [Field(1)]).toBase58() });
    return { intake, log, bad };
  }

  it('checks at most a few proposals of an undecided slot on the event loop, then the workers', async () => {
    const calls = { inline: 0, worker: 0 };
    const { intake, log, bad } = intakeWith({ verify: async () => (calls.worker++, false), verifyInline: () => (calls.inline++, false) }, 0);
    for (let n = 0; n < 10; n++) await expect(intake.submit(bad(1, n))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(calls).toEqual({ inline: INLINE_PER_SLOT, worker: 10 - INLINE_PER_SLOT });
    log.close();
  });

  it('among replicas, checks on the event loop only the slots this replica proposes first', async () => {
    const calls: string[] = [];
    const { intake, log, bad } = intakeWith(
      { verify: async (_k, f) => (calls.push(`worker ${f[1]}`), false), verifyInline: (_k, f) => (calls.push(`inline ${f[1]}`), false), onWinnersPath: (slot) => slot % 2 === 0 },
      20_000,
    );
    for (const slot of [1, 2, 3]) await expect(intake.submit(bad(slot, 0))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(calls).toEqual(['worker 1', 'inline 2', 'worker 3']);
    log.close();
  });
});
