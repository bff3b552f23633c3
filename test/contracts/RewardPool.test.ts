import { beforeAll, describe, expect, it } from '@jest/globals';
import { Field, Mina, PrivateKey, Signature, UInt32 } from 'o1js';
import { PoolDacErrors } from '../../contracts/PoolDac.js';
import { RewardPoolErrors, shareOf } from '../../contracts/RewardPool.js';
import { BlockProposal, ProposalPayload, SignedBlockProposal, SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { KeySet } from '../../oracle/chain/pool-mirror.js';
import { expectRejected, fundPool, MINA, rawTransaction, send, signedReport, simulatedPool, TEST_PARAMS, type SimulatedPool } from '../helpers/local-pool.js';

const P = TEST_PARAMS;
const balance = (key: PrivateKey) => Mina.getBalance(key.toPublicKey()).toBigInt();

function proposal(env: SimulatedPool, signer: PrivateKey, slot: number, blockHash: bigint): SignedBlockProposal {
  const p = new BlockProposal({ slot: UInt32.from(slot), blockHash: Field(blockHash) });
  return new SignedBlockProposal({ proposal: p, signature: Signature.create(signer, p.message(env.poolTag)) });
}

/** Moves the simulated chain past the challenge window of `epoch`. */
function openClaims(env: SimulatedPool, epoch: number) {
  env.local.setGlobalSlot(Number(env.mirror.report(epoch)!.record.claimsOpenAt.toBigint()));
}

describe('RewardPool', () => {
  let env: SimulatedPool;
  let m: PrivateKey[];
  const R10 = 100n * MINA + 1n; // three eligible members: share 33.333333333 MINA, 1 + … nanomina of dust

  beforeAll(async () => {
    env = await simulatedPool(5);
    m = env.members;
    await fundPool(env, 1000n * MINA);
  }, 120_000);

  const eligible3 = () => [m[0]!, m[1]!, m[2]!].map((k) => k.toPublicKey());
  const post = async (epoch: number, reward: bigint, eligible = eligible3(), signer = env.oracle) => {
    const r = signedReport(env, epoch, reward, eligible, signer);
    return send(env.client.postReport(env.deployer, r.report, r.signature, env.oracle.toPublicKey(), r.eligible));
  };

  it('rejects a report signed by another key', async () => {
    await expectRejected(() => post(10, R10, eligible3(), PrivateKey.random()), RewardPoolErrors.badSignature);
  });

  it('rejects a report whose signer is not the pool oracle', async () => {
    const impostor = PrivateKey.random();
    const r = signedReport(env, 10, R10, eligible3(), impostor);
    await expectRejected(() => env.client.postReport(env.deployer, r.report, r.signature, impostor.toPublicKey(), r.eligible), PoolDacErrors.wrongOracle);
  });

  it('rejects a reward the balance does not cover', async () => {
    await expectRejected(() => post(10, 2000n * MINA), /Account_balance_precondition_unsatisfied|does not hold enough/);
  });

  it('posts a signed report; epoch, reward and commitments are on chain', async () => {
    await post(10, R10);
    expect(env.pool.nextEpoch.get()).toEqual(UInt32.from(11));
    expect(env.pool.totalReported.get().toBigInt()).toBe(R10);
    expect(env.pool.reportsRoot.get()).toEqual(env.mirror.reportsRoot());
    const events = await env.pool.fetchEvents();
    expect(events.map((e) => e.type)).toContain('reportPosted');
  });

  it('rejects a replayed or older epoch', async () => {
    await expectRejected(() => post(10, MINA), /not after the last reported epoch 10/);
    for (const epoch of [10, 9]) {
      const r = signedReport(env, epoch, MINA, eligible3());
      const previous = env.mirror.report(10)!.record;
      await expectRejected(
        () =>
          rawTransaction(env.deployer, () =>
            env.pool.postEpochReport(r.report, r.signature, env.oracle.toPublicKey(), env.mirror.paramsStruct(), env.mirror.reportWitness(epoch), previous, env.mirror.reportWitness(10), env.client.paid(), UInt32.from(env.client.now())),
          ),
        RewardPoolErrors.epochNotIncreasing,
      );
    }
  });

  it('rejects a claim before the challenge window ends', async () => {
    await expectRejected(() => env.client.claim(m[0]!, 10), /claims for epoch 10 open at slot/);
    const r = env.mirror.report(10)!;
    const key = m[0]!.toPublicKey().toBase58();
    await expectRejected(
      () => rawTransaction(m[0]!, () => env.pool.claim(r.record, env.mirror.reportWitness(10), r.eligible.witness(key), r.slashed.witness(key), UInt32.from(env.client.now())), 1),
      RewardPoolErrors.claimsNotOpen,
    );
  });

  it('pays each eligible member reward ÷ eligible count, once', async () => {
    openClaims(env, 10);
    const share = R10 / 3n;
    const before = balance(m[0]!);
    const { amount } = await send(env.client.claim(m[0]!, 10));
    expect(amount).toBe(share);
    expect(balance(m[0]!) - before).toBe(share - 100_000_000n - MINA); // share − fee − receipt account
    expect(env.client.paid().toBigInt()).toBe(share);
    await expectRejected(() => env.client.claim(m[0]!, 10), /already claimed/);
    const r = env.mirror.report(10)!;
    const key = m[0]!.toPublicKey().toBase58();
    await expectRejected(
      () => rawTransaction(m[0]!, () => env.pool.claim(r.record, env.mirror.reportWitness(10), r.eligible.witness(key), r.slashed.witness(key), UInt32.from(env.client.now())), 0),
      /Account_is_new_precondition_unsatisfied/,
    );
    expect(env.client.paid().toBigInt()).toBe(share);
  });

  it('rejects a claim by a member that is not eligible, and by a non-member', async () => {
    await expectRejected(() => env.client.claim(m[3]!, 10), /not eligible in epoch 10/);
    const r = env.mirror.report(10)!;
    for (const who of [m[3]!, env.outsider]) {
      const key = who.toPublicKey().toBase58();
      await expectRejected(
        () => rawTransaction(who, () => env.pool.claim(r.record, env.mirror.reportWitness(10), r.eligible.witness(key), r.slashed.witness(key), UInt32.from(env.client.now())), 1),
        RewardPoolErrors.notEligible,
      );
    }
  });

  it('carries the integer remainder to the next epoch', async () => {
    await send(env.client.claim(m[1]!, 10));
    await send(env.client.claim(m[2]!, 10));
    const R11 = 10n * MINA;
    await post(11, R11, [m[0]!, m[1]!].map((k) => k.toPublicKey()));
    const record = env.mirror.report(11)!.record;
    expect(record.carryIn.toBigInt()).toBe(R10 % 3n);
    expect(env.pool.reportsRoot.get()).toEqual(env.mirror.reportsRoot());
    expect(shareOf(record).share.toBigInt()).toBe((R11 + (R10 % 3n)) / 2n);
    expect(env.client.paid().toBigInt()).toBe((R10 / 3n) * 3n);
  });

  it('rejects a dispute from a non-member and after the challenge window', async () => {
    await expectRejected(() => env.client.dispute(env.outsider, 11), /is not a pool member/);
    const r = env.mirror.report(11)!;
    const o = env.outsider;
    await expectRejected(
      () => rawTransaction(o, () => env.pool.dispute(r.record, env.mirror.reportWitness(11), env.mirror.members.witness(m[0]!.toPublicKey().toBase58()), UInt32.from(env.client.now()))),
      PoolDacErrors.memberWitness,
    );
    openClaims(env, 11);
    await expectRejected(() => env.client.dispute(m[0]!, 11), /challenge window of epoch 11 has ended/);
    await expectRejected(
      () => rawTransaction(m[0]!, () => env.pool.dispute(r.record, env.mirror.reportWitness(11), env.mirror.members.witness(m[0]!.toPublicKey().toBase58()), UInt32.from(env.client.now()))),
      RewardPoolErrors.windowClosed,
    );
    await send(env.client.claim(m[0]!, 11));
    await send(env.client.claim(m[1]!, 11));
  });

  describe('arbitration', () => {
    it('a disputed epoch cannot be claimed, nor the next posted, until a ruling passes', async () => {
      await post(12, 30n * MINA);
      await send(env.client.dispute(m[3]!, 12));
      expect(env.mirror.report(12)!.record.disputed.toBoolean()).toBe(true);
      expect(env.pool.reportsRoot.get()).toEqual(env.mirror.reportsRoot());
      await expectRejected(() => env.client.dispute(m[4]!, 12), /already disputed/);
      openClaims(env, 12);
      await expectRejected(() => env.client.claim(m[0]!, 12), /epoch 12 is disputed/);
      const r = env.mirror.report(12)!;
      const key = m[0]!.toPublicKey().toBase58();
      await expectRejected(
        () => rawTransaction(m[0]!, () => env.pool.claim(r.record, env.mirror.reportWitness(12), r.eligible.witness(key), r.slashed.witness(key), UInt32.from(env.client.now())), 1),
        RewardPoolErrors.disputed,
      );
      await expectRejected(() => post(13, MINA), /epoch 12 is disputed/);
    });

    it('a ruling that replaces the eligible members is applied once it is executed', async () => {
      const newEligible = new KeySet([m[0]!, m[1]!].map((k) => k.toPublicKey().toBase58()));
      const payload = new ProposalPayload({ ...ProposalPayload.empty(), epoch: UInt32.from(12), decision: UInt32.from(1), root: newEligible.root(), count: UInt32.from(2) });
      const { id } = await send(env.client.propose(m[0]!, 'arbitrationRuling', payload));
      // Not executed yet: the reward pool refuses it.
      const r = env.mirror.report(12)!;
      const { record } = env.mirror.proposal(id)!;
      await expectRejected(
        () => rawTransaction(m[0]!, () => env.pool.applyRuling(r.record, env.mirror.reportWitness(12), record, env.mirror.proposalWitness(id), payload)),
        PoolDacErrors.notExecuted,
      );
      for (const k of m.slice(0, 3)) await send(env.client.vote(k, id, 'for'));
      env.local.setGlobalSlot(Number(record.voteEnd.toBigint()) + P.timelock + 1);
      await send(env.client.execute(env.outsider, id));
      await send(env.client.applyRuling(env.outsider, 12, id, newEligible.keys));
      const ruled = env.mirror.report(12)!.record;
      expect(ruled.disputed.toBoolean()).toBe(false);
      expect(ruled.report.eligibleCount).toEqual(UInt32.from(2));
      expect(env.pool.reportsRoot.get()).toEqual(env.mirror.reportsRoot());
      const { amount } = await send(env.client.claim(m[0]!, 12));
      expect(amount).toBe((30n * MINA + ruled.carryIn.toBigInt()) / 2n);
      await expectRejected(() => env.client.claim(m[2]!, 12), /not eligible in epoch 12/);
      await expectRejected(() => env.client.applyRuling(env.outsider, 12, id, newEligible.keys), /not disputed/);
      await send(env.client.claim(m[1]!, 12));
    });

    it('an upheld report opens its claims unchanged', async () => {
      await post(13, 9n * MINA);
      await send(env.client.dispute(m[1]!, 13));
      const payload = new ProposalPayload({ ...ProposalPayload.empty(), epoch: UInt32.from(13), decision: UInt32.from(0) });
      const { id } = await send(env.client.propose(m[1]!, 'arbitrationRuling', payload));
      for (const k of m.slice(0, 3)) await send(env.client.vote(k, id, 'for'));
      env.local.setGlobalSlot(Number(env.mirror.proposal(id)!.record.voteEnd.toBigint()) + P.timelock + 1);
      await send(env.client.execute(env.outsider, id));
      await send(env.client.applyRuling(env.outsider, 13, id));
      openClaims(env, 13);
      for (const k of m.slice(0, 3)) await send(env.client.claim(k, 13));
    });

    describe('equivocation', () => {
      const epoch = 14;
      const slot = epoch * SLOTS_PER_EPOCH + 5;
      let cheat: PrivateKey;
      beforeAll(async () => {
        cheat = m[2]!;
        await post(epoch, 12n * MINA + 2n);
      });
      const slashRaw = (a: SignedBlockProposal, b: SignedBlockProposal) => {
        const r = env.mirror.report(epoch)!;
        const key = cheat.toPublicKey().toBase58();
        return () => rawTransaction(env.outsider, () => env.pool.slash(r.record, env.mirror.reportWitness(epoch), cheat.toPublicKey(), a, b, r.eligible.witness(key), r.slashed.witness(key), UInt32.from(env.client.now())));
      };

      it('rejects forged equivocation reports', async () => {
        const good = proposal(env, cheat, slot, 111n);
        await expectRejected(slashRaw(good, proposal(env, PrivateKey.random(), slot, 222n)), RewardPoolErrors.badProposalSignature);
        await expectRejected(slashRaw(good, proposal(env, cheat, slot, 111n)), RewardPoolErrors.sameBlock);
        await expectRejected(slashRaw(good, proposal(env, cheat, slot + 1, 222n)), RewardPoolErrors.differentSlots);
        const elsewhere = (epoch + 1) * SLOTS_PER_EPOCH;
        await expectRejected(slashRaw(proposal(env, cheat, elsewhere, 1n), proposal(env, cheat, elsewhere, 2n)), RewardPoolErrors.slotNotInEpoch);
        // A proposal signed for another pool is worthless here.
        const otherTag = Field(42);
        const p = new BlockProposal({ slot: UInt32.from(slot), blockHash: Field(222) });
        const foreign = new SignedBlockProposal({ proposal: p, signature: Signature.create(cheat, p.message(otherTag)) });
        await expectRejected(slashRaw(good, foreign), RewardPoolErrors.badProposalSignature);
      });

      it('forfeits the equivocating member\'s share to the others, without a vote', async () => {
        await send(env.client.slash(env.outsider, epoch, cheat.toPublicKey(), proposal(env, cheat, slot, 111n), proposal(env, cheat, slot, 222n)));
        const record = env.mirror.report(epoch)!.record;
        expect(record.slashedCount).toEqual(UInt32.from(1));
        expect(env.pool.reportsRoot.get()).toEqual(env.mirror.reportsRoot());
        await expectRejected(() => env.client.slash(env.outsider, epoch, cheat.toPublicKey(), proposal(env, cheat, slot, 1n), proposal(env, cheat, slot, 2n)), /already slashed/);
        openClaims(env, epoch);
        const total = 12n * MINA + 2n + record.carryIn.toBigInt();
        const { amount } = await send(env.client.claim(m[0]!, epoch));
        expect(amount).toBe(total / 2n);
        await send(env.client.claim(m[1]!, epoch));
        await expectRejected(() => env.client.claim(cheat, epoch), /equivocated in epoch 14/);
        const r = env.mirror.report(epoch)!;
        const key = cheat.toPublicKey().toBase58();
        await expectRejected(
          () => rawTransaction(cheat, () => env.pool.claim(r.record, env.mirror.reportWitness(epoch), r.eligible.witness(key), new KeySet().witness(key), UInt32.from(env.client.now())), 1),
          RewardPoolErrors.slashedMember,
        );
      });

      it('rejects slashing once claims are open', async () => {
        const other = m[1]!;
        const r = env.mirror.report(epoch)!;
        const key = other.toPublicKey().toBase58();
        const [a, b] = [proposal(env, other, slot, 1n), proposal(env, other, slot, 2n)];
        await expectRejected(() => env.client.slash(env.outsider, epoch, other.toPublicKey(), a, b), /too late to slash/);
        await expectRejected(
          () => rawTransaction(env.outsider, () => env.pool.slash(r.record, env.mirror.reportWitness(epoch), other.toPublicKey(), a, b, r.eligible.witness(key), r.slashed.witness(key), UInt32.from(env.client.now()))),
          RewardPoolErrors.tooLateToSlash,
        );
      });
    });
  });

  it('a zero share cannot be claimed; the whole reward carries to the next report', async () => {
    const fresh = await simulatedPool(2);
    await fundPool(fresh, 10n * MINA);
    // 1 nanomina among 2 members: share 0, everything carries.
    const r = signedReport(fresh, 3, 1n, fresh.members.map((k) => k.toPublicKey()));
    await send(fresh.client.postReport(fresh.deployer, r.report, r.signature, fresh.oracle.toPublicKey(), r.eligible));
    openClaims(fresh, 3);
    await expectRejected(() => fresh.client.claim(fresh.members[0]!, 3), /the share of epoch 3 is zero/);
    const rec = fresh.mirror.report(3)!;
    const key = fresh.members[0]!.toPublicKey().toBase58();
    await expectRejected(
      () => rawTransaction(fresh.members[0]!, () => fresh.pool.claim(rec.record, fresh.mirror.reportWitness(3), rec.eligible.witness(key), rec.slashed.witness(key), UInt32.from(fresh.client.now())), 1),
      RewardPoolErrors.nothingToClaim,
    );
    expect(shareOf(rec.record).carry.toBigInt()).toBe(1n);
  }, 120_000);
});

describe('RewardPool: many members claim in the same block', () => {
  it('40 claims built against the same state before any is sent are all paid, once each', async () => {
    const env = await simulatedPool(40);
    await fundPool(env, 500n * MINA);
    const reward = 400n * MINA + 39n;
    const r = signedReport(env, 0, reward, env.members.map((k) => k.toPublicKey()));
    await send(env.client.postReport(env.deployer, r.report, r.signature, env.oracle.toPublicKey(), r.eligible));
    openClaims(env, 0);
    const before = env.members.map(balance);
    const built = [];
    for (const k of env.members) built.push(await env.client.claim(k, 0));
    for (const b of built) expect((await b.tx.send()).status).toBe('pending');
    const share = reward / 40n;
    env.members.forEach((k, i) => expect(balance(k) - before[i]!).toBe(share - 100_000_000n - MINA));
    expect(env.client.paid().toBigInt()).toBe(share * 40n);
    // The same claims sent again are all refused: none is paid twice.
    for (const b of built.slice(0, 3)) await expect(b.tx.send()).rejects.toThrow();
    expect(env.client.paid().toBigInt()).toBe(share * 40n);
  }, 300_000);
});
