import { beforeAll, describe, expect, it } from '@jest/globals';
import { Field, Mina, PrivateKey, PublicKey, Signature, UInt32, UInt64 } from 'o1js';
import { Bitmap } from '../../contracts/Bitmap.js';
import { PoolDacErrors } from '../../contracts/PoolDac.js';
import { RewardPoolErrors } from '../../contracts/RewardPool.js';
import { BlockProposal, EpochReport, ProposalPayload, ReportRecord, Ruling, RulingPayload, SLOTS_PER_EPOCH, SignedBlockProposal } from '../../contracts/types.js';
import { paramsFromJson } from '../../oracle/pool/params.js';
import { advanceTo, expectRefused, fundPool, MINA, rawTransaction, run, signedReport, simulatedPool, type SimulatedPool } from '../helpers/simulated-pool.js';

const balance = (key: PublicKey) => Mina.getBalance(key).toBigInt();
/** o1js's refusal when a key is not in a member map (`IndexedMerkleMap.get`). */
const NOT_IN_MAP = 'Key does not exist in the tree';
const FEE = 100_000_000n;
/** Slot 12·7140 + 100: epochs up to 11 have ended. */
const START = 12 * SLOTS_PER_EPOCH + 100;

function signedProposal(env: SimulatedPool, signer: PrivateKey, slot: number, blockHash: bigint, tag = env.poolTag): SignedBlockProposal {
  const p = new BlockProposal({ slot: UInt32.from(slot), blockHash: Field(blockHash) });
  return new SignedBlockProposal({ proposal: p, signature: Signature.create(signer, p.message(tag)) });
}

/** Raw report posting (skips the client's checks). */
function rawPost(env: SimulatedPool, r: ReturnType<typeof signedReport>, options: { now?: number; oracle?: PublicKey; previousEpoch?: number } = {}) {
  return async () => {
    const m = env.client.mirror;
    const last = options.previousEpoch ?? m.lastEpoch();
    const previous = last === undefined ? emptyRecord() : m.report(last)!.record;
    const now = options.now ?? (await env.client.now());
    const paid = await env.client.paid();
    const epoch = Number(r.report.epoch.toBigint());
    await rawTransaction(env, env.operator, () =>
      env.pool.postEpochReport(r.report, r.signature, options.oracle ?? env.oracle.toPublicKey(), paramsFromJson(m.params), m.reportWitness(epoch), previous, m.reportWitness(last ?? 0), UInt64.from(paid), UInt32.from(now)),
    );
  };
}

function emptyRecord(): ReportRecord {
  return new ReportRecord(ReportRecord.fromFields(Array.from({ length: ReportRecord.sizeInFields() }, () => Field(0))));
}

/** Raw claim with a given record (the attacker chooses it). */
function rawClaim(env: SimulatedPool, who: PrivateKey, record: ReportRecord, newAccounts = 1) {
  return () => rawTransaction(env, who, () => env.pool.claim(record, env.client.mirror.mapAt(record.registryRoot)), { newAccounts });
}

async function openClaimsAt(env: SimulatedPool, epoch: number) {
  await advanceTo(env, Number(env.client.report(epoch).record.claimsOpenAt.toBigint()));
  await run(env, () => env.client.openClaims(env.operator, epoch));
}

/** Proposes a ruling, gets three votes for, executes it (which applies it when it answers the open dispute). */
async function rule(env: SimulatedPool, ruling: RulingPayload) {
  const payload = new ProposalPayload({ ...ProposalPayload.empty(), ruling });
  const { number } = await run(env, () => env.client.propose(env.members[0]!, 'arbitrationRuling', payload));
  for (const m of env.members.slice(0, 3)) await run(env, () => env.client.vote(m, number, 'for'));
  await advanceTo(env, Number(env.client.proposal(number).record.opensAt.toBigint()));
  return number;
}

describe('RewardPool', () => {
  let env: SimulatedPool;
  let m: PrivateKey[];
  const R10 = 100n * MINA + 1n;
  const eligible3 = () => [m[0]!, m[1]!, m[2]!].map((k) => k.toPublicKey());
  const post = (epoch: number, reward: bigint, eligible = eligible3(), signer?: PrivateKey) => {
    const r = signedReport(env, epoch, reward, eligible, signer ?? env.oracle);
    return run(env, () => env.client.postReport(env.operator, r.report, r.signature, env.oracle.toPublicKey()));
  };

  beforeAll(async () => {
    env = await simulatedPool(5, { slot: START, params: { operatorFeePercent: 10, votingPeriod: 10, challengeWindow: 100 } });
    m = env.members;
    await fundPool(env, 1000n * MINA);
  }, 120_000);

  it('refuses a report signed by another key, or whose signer is not the pool oracle', async () => {
    const forged = signedReport(env, 10, R10, eligible3(), PrivateKey.random());
    await expectRefused(() => env.client.postReport(env.operator, forged.report, forged.signature, env.oracle.toPublicKey()), /not signed by the oracle key/);
    await expectRefused(rawPost(env, forged), RewardPoolErrors.badSignature);
    const impostor = PrivateKey.random();
    const own = signedReport(env, 10, R10, eligible3(), impostor);
    await expectRefused(rawPost(env, own, { oracle: impostor.toPublicKey() }), PoolDacErrors.wrongOracle);
  });

  it('refuses a reward the balance does not cover, and says what the pool holds', async () => {
    const r = signedReport(env, 10, 2000n * MINA, eligible3());
    await expectRefused(() => env.client.postReport(env.operator, r.report, r.signature, env.oracle.toPublicKey()), /the pool holds 1000 MINA and owes 0 to members: a reward of 2000 MINA is not covered/);
    await expectRefused(rawPost(env, r), /Account_balance_precondition_unsatisfied/);
  });

  it('binds epochs to the chain: an epoch that has not ended, or far in the future, is refused and blocks nothing', async () => {
    const current = Math.floor((await env.client.now()) / SLOTS_PER_EPOCH);
    for (const epoch of [current, current + 1, 30_000]) {
      const r = signedReport(env, epoch, MINA, eligible3());
      await expectRefused(rawPost(env, r), RewardPoolErrors.epochNotEnded);
    }
    await expectRefused(async () => {
      const r = signedReport(env, current, MINA, eligible3());
      await env.client.postReport(env.operator, r.report, r.signature, env.oracle.toPublicKey());
    }, new RegExp(`epoch ${current} has not ended on chain: it ends at slot ${(current + 1) * SLOTS_PER_EPOCH - 1}`));
  });

  it('refuses eligibility for registry indexes that no key holds (their shares could never be claimed)', async () => {
    for (const indexes of [[0, 1, 5], [0, 63], [0, 64], [0, 511]]) {
      const report = new EpochReport({ ...signedReport(env, 10, R10, eligible3()).report, eligible: Bitmap.fromIndexes(indexes) });
      const r = { report, signature: env.client.signReport(env.oracle, report) };
      await expectRefused(rawPost(env, r), RewardPoolErrors.unregistered);
      await expectRefused(() => env.client.postReport(env.operator, r.report, r.signature, env.oracle.toPublicKey()), /which no key holds/);
    }
  });

  it('refuses a back-dated `now`: the challenge window starts at the inclusion slot', async () => {
    const r = signedReport(env, 10, R10, eligible3());
    const slot = await env.client.now();
    await expectRefused(rawPost(env, r, { now: slot - 100 }), /Valid_while_precondition_unsatisfied/);
  });

  it('posts a signed report of an ended epoch; its record and eligibility are on chain', async () => {
    await post(10, R10);
    expect(env.pool.nextEpoch.get()).toEqual(UInt32.from(11));
    expect(env.pool.totalReported.get().toBigInt()).toBe(R10);
    const r = env.client.report(10).record;
    expect(env.pool.reportsRoot.get()).toEqual(env.client.mirror.reportsRoot());
    expect(Number(r.sharers.toBigint())).toBe(3);
    expect(r.fee.toBigInt()).toBe(R10 / 10n);
    expect(env.client.mirror.keysOf(r.eligible)).toEqual(eligible3().map((k) => k.toBase58()));
  });

  it('refuses a replayed or older epoch', async () => {
    await expectRefused(() => post(10, MINA), /epoch 10 is not after the last reported epoch 10/);
    for (const epoch of [10, 9]) await expectRefused(rawPost(env, signedReport(env, epoch, MINA, eligible3()), { previousEpoch: 10 }), RewardPoolErrors.epochNotIncreasing);
  });

  it('opens claims only after the challenge window, once, paying the operator its fee', async () => {
    await expectRefused(() => env.client.openClaims(env.operator, 10), /claims for epoch 10 open at slot \d+ \(in \d+ slots\), after the challenge window/);
    const record = env.client.report(10).record;
    const witness = env.client.mirror.reportWitness(10);
    await expectRefused(() => rawTransaction(env, env.operator, () => env.pool.openClaims(record, witness), { newAccounts: 1 }), /Valid_while_precondition_unsatisfied/);
    // Nobody can claim before claims are opened: the claims account does not exist.
    await advanceTo(env, Number(record.claimsOpenAt.toBigint()));
    await expectRefused(() => env.client.claim(m[0]!, 10), /can open now but have not been opened/);
    await expectRefused(rawClaim(env, m[0]!, record, 2), /Account_is_new_precondition_unsatisfied/);
    const before = balance(env.operator.toPublicKey());
    await run(env, () => env.client.openClaims(env.operator, 10));
    expect(balance(env.operator.toPublicKey()) - before).toBe(R10 / 10n - FEE - MINA); // fee − tx fee − claims account
    await expectRefused(() => rawTransaction(env, env.operator, () => env.pool.openClaims(record, witness), { newAccounts: 1 }), /Account_is_new_precondition_unsatisfied|Invalid fee excess/);
  });

  it('pays each eligible member (reward − fee) ÷ eligible, once; a forged record pays nothing', async () => {
    const record = env.client.report(10).record;
    const share = (R10 - R10 / 10n) / 3n;
    const before = balance(m[0]!.toPublicKey());
    const { amount } = await run(env, () => env.client.claim(m[0]!, 10));
    expect(amount).toBe(share);
    expect(balance(m[0]!.toPublicKey()) - before).toBe(share - FEE - MINA); // share − fee − receipt account
    await expectRefused(() => env.client.claim(m[0]!, 10), /already claimed its share of epoch 10/);
    await expectRefused(rawClaim(env, m[0]!, record, 0), /Account_is_new_precondition_unsatisfied/);
    // A record claiming one sharer (the whole reward) hashes to no claims account.
    const greedy = new ReportRecord({ ...record, sharers: UInt32.one });
    await expectRefused(rawClaim(env, m[1]!, greedy, 2), /Account_is_new_precondition_unsatisfied/);
    expect(await env.client.paid()).toBe(R10 / 10n + share);
  });

  it('refuses a claim by a member that is not eligible, and by a non-member, on chain', async () => {
    await expectRefused(() => env.client.claim(m[3]!, 10), /member3 is not eligible in epoch 10: nothing to claim/);
    const record = env.client.report(10).record;
    await expectRefused(rawClaim(env, m[3]!, record), RewardPoolErrors.notEligible);
    // A key that is not in the report's member map at all fails the map's inclusion proof.
    await expectRefused(rawClaim(env, env.outsider, record), NOT_IN_MAP);
  });

  it('carries the integer remainder to the next epoch', async () => {
    await run(env, () => env.client.claim(m[1]!, 10));
    await run(env, () => env.client.claim(m[2]!, 10));
    const R11 = 10n * MINA;
    await post(11, R11, [m[0]!, m[1]!].map((k) => k.toPublicKey()));
    const record = env.client.report(11).record;
    expect(record.carryIn.toBigInt()).toBe((R10 - R10 / 10n) % 3n);
    expect(record.share().share.toBigInt()).toBe((R11 - R11 / 10n + record.carryIn.toBigInt()) / 2n);
  });

  it('refuses a dispute from a non-member and after the challenge window', async () => {
    await expectRefused(() => env.client.dispute(env.outsider, 11), /was not a member when epoch 11 was reported/);
    const record = env.client.report(11).record;
    const witness = env.client.mirror.reportWitness(11);
    await expectRefused(() => rawTransaction(env, env.outsider, () => env.pool.dispute(record, witness, env.client.mirror.mapAt(record.registryRoot))), RewardPoolErrors.notMember);
    await advanceTo(env, Number(record.claimsOpenAt.toBigint()));
    await expectRefused(() => env.client.dispute(m[0]!, 11), /challenge window of epoch 11 ended at slot/);
    await expectRefused(() => rawTransaction(env, m[0]!, () => env.pool.dispute(record, witness, env.client.mirror.mapAt(record.registryRoot))), /Valid_while_precondition_unsatisfied/);
    await run(env, () => env.client.openClaims(env.operator, 11));
  });

  describe('arbitration', () => {
    // Epoch 11 ended at slot 12·7140 − 1; report epochs from the current one onwards as the chain moves.
    let epoch: number;
    beforeAll(async () => {
      await advanceTo(env, 14 * SLOTS_PER_EPOCH + 10);
      epoch = 13;
    });

    it('a disputed epoch cannot be opened, nor the next one posted, until a ruling is applied', async () => {
      await post(epoch, 30n * MINA);
      await run(env, () => env.client.dispute(m[3]!, epoch));
      expect(env.client.report(epoch).record.disputed.toBoolean()).toBe(true);
      await expectRefused(() => env.client.dispute(m[4]!, epoch), /already disputed/);
      await advanceTo(env, Number(env.client.report(epoch).record.claimsOpenAt.toBigint()));
      await expectRefused(() => env.client.openClaims(env.operator, epoch), /is disputed: claims wait for a ruling/);
      const record = env.client.report(epoch).record;
      await expectRefused(() => rawTransaction(env, env.operator, () => env.pool.openClaims(record, env.client.mirror.reportWitness(epoch)), { newAccounts: 1 }), RewardPoolErrors.disputed);
      await advanceTo(env, 15 * SLOTS_PER_EPOCH + 10);
      await expectRefused(() => post(14, MINA), /epoch 13 is disputed: a ruling must be applied/);
    });

    it('an executed ruling replacing the eligible members applies once, to the dispute it answers', async () => {
      const ruling = new RulingPayload({ epoch: UInt32.from(epoch), dispute: UInt32.one, decision: UInt32.from(Ruling.replace), eligible: Bitmap.fromIndexes([0, 1]) });
      const n = await rule(env, ruling);
      // Not executed yet: RewardPool refuses it.
      const p = env.client.proposal(n);
      const record = env.client.report(epoch).record;
      await expectRefused(() => rawTransaction(env, env.outsider, () => env.pool.applyRuling(record, env.client.mirror.reportWitness(epoch), p.record, p.payload)), /Account_balance_precondition_unsatisfied/);
      await run(env, () => env.client.execute(env.outsider, n));
      await run(env, () => env.client.applyExecuted(env.outsider, n));
      const ruled = env.client.report(epoch).record;
      expect(ruled.disputed.toBoolean()).toBe(false);
      expect(Number(ruled.sharers.toBigint())).toBe(2);
      expect(env.pool.reportsRoot.get()).toEqual(env.client.mirror.reportsRoot());
      await expectRefused(() => env.client.applyRuling(env.outsider, epoch, n), /not disputed/);
      await expectRefused(() => rawTransaction(env, env.outsider, () => env.pool.applyRuling(ruled, env.client.mirror.reportWitness(epoch), p.record, p.payload)), RewardPoolErrors.notDisputed);
      await run(env, () => env.client.openClaims(env.operator, epoch));
      const { amount } = await run(env, () => env.client.claim(m[0]!, epoch));
      expect(amount).toBe((30n * MINA - 3n * MINA + ruled.carryIn.toBigInt()) / 2n);
      await expectRefused(() => env.client.claim(m[2]!, epoch), /not eligible in epoch 13/);
      await run(env, () => env.client.claim(m[1]!, epoch));
    });

    it('a second dispute needs a new vote: the first ruling does not apply to it', async () => {
      await post(14, 9n * MINA);
      await run(env, () => env.client.dispute(m[1]!, 14));
      const first = await rule(env, new RulingPayload({ epoch: UInt32.from(14), dispute: UInt32.one, decision: UInt32.from(Ruling.uphold), eligible: Bitmap.empty() }));
      await run(env, () => env.client.execute(env.outsider, first));
      await run(env, () => env.client.applyExecuted(env.outsider, first));
      expect(env.client.report(14).record.disputed.toBoolean()).toBe(false);
      // Still inside the challenge window: a member disputes again.
      const record = env.client.report(14).record;
      expect(await env.client.now()).toBeLessThan(Number(record.claimsOpenAt.toBigint()));
      await run(env, () => env.client.dispute(m[2]!, 14));
      await expectRefused(() => env.client.applyRuling(env.outsider, 14, first), /answers dispute 1 of epoch 14; the open dispute is number 2: it needs a new ruling/);
      const p = env.client.proposal(first);
      await expectRefused(() => rawTransaction(env, env.outsider, () => env.pool.applyRuling(env.client.report(14).record, env.client.mirror.reportWitness(14), p.record, p.payload)), RewardPoolErrors.rulingDispute);
      const second = await rule(env, new RulingPayload({ epoch: UInt32.from(14), dispute: UInt32.from(2), decision: UInt32.from(Ruling.uphold), eligible: Bitmap.empty() }));
      await run(env, () => env.client.execute(env.outsider, second));
      await run(env, () => env.client.applyExecuted(env.outsider, second));
      await openClaimsAt(env, 14);
      for (const k of m.slice(0, 3)) await run(env, () => env.client.claim(k, 14));
    });

    describe('equivocation', () => {
      const e = 15;
      const slot = e * SLOTS_PER_EPOCH + 5;
      let cheat: PrivateKey;
      beforeAll(async () => {
        cheat = m[2]!;
        await advanceTo(env, 16 * SLOTS_PER_EPOCH + 10);
        await post(e, 12n * MINA + 2n, [m[0]!, m[1]!, m[2]!, m[3]!].map((k) => k.toPublicKey()));
      });
      const slashRaw = (a: SignedBlockProposal, b: SignedBlockProposal, who = cheat) => {
        const r = env.client.report(e).record;
        return () => rawTransaction(env, env.outsider, () => env.pool.slash(r, env.client.mirror.reportWitness(e), who.toPublicKey(), a, b, env.client.mirror.mapAt(r.registryRoot)));
      };

      it('refuses forged equivocation evidence', async () => {
        const good = signedProposal(env, cheat, slot, 111n);
        await expectRefused(slashRaw(good, signedProposal(env, PrivateKey.random(), slot, 222n)), RewardPoolErrors.badProposalSignature);
        await expectRefused(slashRaw(good, signedProposal(env, cheat, slot, 111n)), RewardPoolErrors.sameBlock);
        await expectRefused(slashRaw(good, signedProposal(env, cheat, slot + 1, 222n)), RewardPoolErrors.differentSlots);
        const elsewhere = (e + 1) * SLOTS_PER_EPOCH;
        await expectRefused(slashRaw(signedProposal(env, cheat, elsewhere, 1n), signedProposal(env, cheat, elsewhere, 2n)), RewardPoolErrors.slotNotInEpoch);
        await expectRefused(slashRaw(good, signedProposal(env, cheat, slot, 222n, Field(42))), RewardPoolErrors.badProposalSignature);
        const outsider = env.outsider;
        await expectRefused(slashRaw(signedProposal(env, outsider, slot, 1n), signedProposal(env, outsider, slot, 2n), outsider), RewardPoolErrors.memberNotEligible);
      });

      it("forfeits the equivocating member's share to the others, without a vote, once", async () => {
        await run(env, () => env.client.slash(env.outsider, e, cheat.toPublicKey(), signedProposal(env, cheat, slot, 111n), signedProposal(env, cheat, slot, 222n)));
        const record = env.client.report(e).record;
        expect(Number(record.sharers.toBigint())).toBe(3);
        await expectRefused(() => env.client.slash(env.outsider, e, cheat.toPublicKey(), signedProposal(env, cheat, slot, 1n), signedProposal(env, cheat, slot, 2n)), /already slashed/);
        await expectRefused(slashRaw(signedProposal(env, cheat, slot, 1n), signedProposal(env, cheat, slot, 2n)), RewardPoolErrors.memberNotEligible);
      });

      it('a ruling that replaces the eligible members cannot bring a slashed member back, and keeps the count right', async () => {
        await run(env, () => env.client.dispute(m[0]!, e));
        // The ruling names the cheat (index 2) among four: it stays out, and three share.
        const n = await rule(env, new RulingPayload({ epoch: UInt32.from(e), dispute: UInt32.one, decision: UInt32.from(Ruling.replace), eligible: Bitmap.fromIndexes([0, 1, 2, 4]) }));
        await run(env, () => env.client.execute(env.outsider, n));
        await run(env, () => env.client.applyExecuted(env.outsider, n));
        const record = env.client.report(e).record;
        expect(env.client.mirror.keysOf(record.eligible)).toEqual([0, 1, 4].map((i) => m[i]!.toPublicKey().toBase58()));
        expect(Number(record.sharers.toBigint())).toBe(3);
        await openClaimsAt(env, e);
        await expectRefused(() => env.client.claim(cheat, e), /equivocated in epoch 15: its share was forfeited/);
        await expectRefused(rawClaim(env, cheat, record), RewardPoolErrors.notEligible);
        const total = record.total().toBigInt();
        for (const i of [0, 1, 4]) expect((await run(env, () => env.client.claim(m[i]!, e))).amount).toBe(total / 3n);
      });

      it('refuses slashing once claims are open', async () => {
        const other = m[1]!;
        const [a, b] = [signedProposal(env, other, slot, 1n), signedProposal(env, other, slot, 2n)];
        await expectRefused(() => env.client.slash(env.outsider, e, other.toPublicKey(), a, b), /too late to slash/);
        await expectRefused(slashRaw(a, b, other), /Valid_while_precondition_unsatisfied/);
      });
    });
  });

  it('a zero share cannot be claimed; the whole reward carries to the next report', async () => {
    const fresh = await simulatedPool(2, { slot: START });
    await fundPool(fresh, 10n * MINA);
    const r = signedReport(fresh, 3, 1n, fresh.members.map((k) => k.toPublicKey()));
    await run(fresh, () => fresh.client.postReport(fresh.operator, r.report, r.signature, fresh.oracle.toPublicKey()));
    await openClaimsAt(fresh, 3);
    await expectRefused(() => fresh.client.claim(fresh.members[0]!, 3), /the share of epoch 3 is zero/);
    await expectRefused(rawClaim(fresh, fresh.members[0]!, fresh.client.report(3).record), RewardPoolErrors.nothingToClaim);
    expect(fresh.client.report(3).record.share().carry.toBigInt()).toBe(1n);
  }, 120_000);
});

describe('RewardPool: treasury spending by vote', () => {
  it('pays a passed spend once, only from what is not owed to members', async () => {
    const env = await simulatedPool(4, { slot: START });
    await fundPool(env, 100n * MINA);
    const r = signedReport(env, 10, 80n * MINA, env.members.map((k) => k.toPublicKey()));
    await run(env, () => env.client.postReport(env.operator, r.report, r.signature, env.oracle.toPublicKey()));
    const hosting = PrivateKey.random().toPublicKey();
    const spend = async (amount: bigint) => {
      const payload = new ProposalPayload({ ...ProposalPayload.empty(), key: hosting, amount: UInt64.from(amount) });
      const { number } = await run(env, () => env.client.propose(env.members[0]!, 'treasurySpend', payload));
      for (const k of env.members.slice(0, 3)) await run(env, () => env.client.vote(k, number, 'for'));
      return number;
    };
    const tooMuch = await spend(30n * MINA);
    const fair = await spend(15n * MINA);
    // Before execution the reward pool refuses to pay.
    const p = env.client.proposal(fair);
    await expectRefused(() => rawTransaction(env, env.outsider, () => env.pool.spend(p.record, p.payload, UInt64.zero), { newAccounts: 2 }), /Account_balance_precondition_unsatisfied/);
    await advanceTo(env, Number(env.client.proposal(fair).record.opensAt.toBigint()));
    // 100 MINA held, 80 owed: 30 is refused, by the client in words and by the chain.
    await run(env, () => env.client.execute(env.outsider, tooMuch));
    await expectRefused(() => env.client.applyExecuted(env.outsider, tooMuch), /the pool can spend 20 MINA \(balance 100 less 80 owed to members\); proposal #0 pays 30/);
    const big = env.client.proposal(tooMuch);
    await expectRefused(() => rawTransaction(env, env.outsider, () => env.pool.spend(big.record, big.payload, UInt64.zero), { newAccounts: 2 }), /Account_balance_precondition_unsatisfied/);
    await run(env, () => env.client.execute(env.outsider, fair));
    await run(env, () => env.client.applyExecuted(env.outsider, fair));
    await expectRefused(() => env.client.applyExecuted(env.outsider, fair), /has nothing left to apply/);
    expect(balance(hosting)).toBe(15n * MINA); // the executor paid for the new account
    // Once only.
    await expectRefused(() => rawTransaction(env, env.outsider, () => env.pool.spend(p.record, p.payload, UInt64.zero), { newAccounts: 1 }), /Account_is_new_precondition_unsatisfied|Invalid fee excess/);
    const { pool, owed } = await env.client.funds();
    expect(owed).toBe(80n * MINA);
    expect(pool).toBe(85n * MINA);
  }, 300_000);
});

describe('RewardPool: many members claim in the same block', () => {
  it('claims built against one state all apply while a new report, a dispute and a slash land among them', async () => {
    const env = await simulatedPool(30, { slot: START, params: { challengeWindow: 20 } });
    await fundPool(env, 900n * MINA);
    const reward = 300n * MINA + 29n;
    const all = env.members.map((k) => k.toPublicKey());
    const r = signedReport(env, 10, reward, all);
    await run(env, () => env.client.postReport(env.operator, r.report, r.signature, env.oracle.toPublicKey()));
    await openClaimsAt(env, 10);
    const before = env.members.map((k) => balance(k.toPublicKey()));
    const claims = [];
    for (const k of env.members.slice(0, 28)) claims.push(await env.poster.prepare((await env.client.claim(k, 10)).request));
    // Between the claims, the next epoch is reported and disputed, and the chain moves on.
    const next = signedReport(env, 11, 100n * MINA, all.slice(0, 10));
    for (const c of claims.slice(0, 10)) await env.poster.send(c);
    await run(env, () => env.client.postReport(env.operator, next.report, next.signature, env.oracle.toPublicKey()));
    for (const c of claims.slice(10, 20)) await env.poster.send(c);
    await run(env, () => env.client.dispute(env.members[29]!, 11));
    for (const c of claims.slice(20)) await env.poster.send(c);
    const share = reward / 30n;
    env.members.slice(0, 28).forEach((k, i) => expect(balance(k.toPublicKey()) - before[i]!).toBe(share - FEE - MINA));
    expect(await env.client.paid()).toBe(share * 28n);
    // The same claims sent again are all refused: none is paid twice.
    for (const c of claims.slice(0, 3)) await expect(env.poster.send(c)).rejects.toThrow(/nonce|Account_is_new/);
  }, 600_000);
});
