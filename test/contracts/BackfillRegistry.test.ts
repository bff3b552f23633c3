import { beforeAll, describe, expect, it } from '@jest/globals';
import { AccountUpdate, Bool, PrivateKey, UInt32, UInt64 } from 'o1js';
import { BackfillRegistry, BackfillRegistryErrors as E } from '../../contracts/BackfillRegistry.js';
import { DesignatedProducer, DesignatedProducerProof, DesignationStatement } from '../../contracts/DesignatedProducer.js';
import { RewardPoolErrors } from '../../contracts/RewardPool.js';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import type { BackfillPlan } from '../../oracle/backfill/commitment.js';
import { BackfillRecords } from '../../oracle/backfill/records.js';
import { paramsFromJson } from '../../oracle/pool/params.js';
import { exampleNetwork as backfillScenario } from '../../oracle/backfill/example.js';
import { expectRefused, fundPool, MINA, rawTransaction, run, simulatedPool, type SimulatedPool } from '../helpers/simulated-pool.js';

/**
 * The registry's and the payment's rules on a simulated chain (o1js LocalBlockchain, mock
 * proofs). Proofs come from `DesignatedProducer.prove` with proofs off, which runs every check
 * of the statement; a forged statement (a dummy proof) is used only to reach a contract rule
 * behind the proof, since mock mode does not verify proofs: that a forged proof itself is
 * refused is shown with real proofs in test/proofs.
 */
const net = backfillScenario(3, 47);
const { a, b, start } = net;
const [n1, n2] = net.wins(a, net.current, start + 2, 2) as [number, number];
const [s1, s2] = [n1 + 3, n2 + 4];
// B's lost slot, designated a few slots later on a slot of its own.
const m1 = net.wins(b, net.current, start + 2, 20).find((m) => ![s1, s2].includes(m + 5))!;
const s3 = m1 + 5;
const designations = [
  { slot: s1, producer: a.toPublicKey().toBase58(), lostSlot: n1 },
  { slot: s2, producer: a.toPublicKey().toBase58(), lostSlot: n2 },
  { slot: s3, producer: b.toPublicKey().toBase58(), lostSlot: m1 },
];

const paramsOf = (env: SimulatedPool) => paramsFromJson(env.client.mirror.params);

async function proveFor(plan: BackfillPlan, key: PrivateKey, slot: number): Promise<DesignatedProducerProof> {
  const { statement, witness } = plan.eligibility(key, slot);
  return (await DesignatedProducer.prove(statement, witness, key)).proof;
}

describe('BackfillRegistry and RewardPool.payBackfill', () => {
  let env: SimulatedPool;
  let plan: BackfillPlan;
  const submitter = PrivateKey.random();

  beforeAll(async () => {
    DesignatedProducer.setProofsEnabled(false);
    env = await simulatedPool(3, { slot: start + 100 });
    env.chain.local.addAccount(submitter.toPublicKey(), (100n * MINA).toString());
    await fundPool(env, 200n * MINA);
    plan = net.plan(designations, { to: start + 90 });
  }, 300_000);

  const commit = (p: BackfillPlan, signer = env.oracle) => env.client.commitBackfill(submitter, p.commitment, p.sign(signer, env.addresses.dac), env.oracle.toPublicKey());

  it('refuses commitments that are not the oracle\'s, not passed, or not in the pool\'s window', async () => {
    await expect(commit(plan, env.members[0]!)).rejects.toThrow(/not signed by the oracle/);
    // The same, straight to the chain.
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.registry.commit(plan.commitment, plan.sign(env.members[0]!, env.addresses.dac), env.oracle.toPublicKey(), paramsOf(env), UInt32.from(start + 100));
    }), E.badSignature);
    const future = net.plan([], { to: start + 150 });
    await expect(commit(future)).rejects.toThrow(/commit it after/);
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.registry.commit(future.commitment, future.sign(env.oracle, env.addresses.dac), env.oracle.toPublicKey(), paramsOf(env), UInt32.from(start + 100));
    }), E.notPassed);
    const otherWindow = backfillScenario(3, 12).plan([], { to: start + 90 });
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.registry.commit(otherWindow.commitment, otherWindow.sign(env.oracle, env.addresses.dac), env.oracle.toPublicKey(), paramsOf(env), UInt32.from(start + 100));
    }), E.window);
  }, 300_000);

  it('pays a designated producer once per slot; a replayed proof is refused', async () => {
    await run(env, () => commit(plan));
    expect((await env.client.backfill()).commitment?.hash().toBigInt()).toBe(plan.commitment.hash().toBigInt());
    const proof = await proveFor(plan, a, s1);
    const before = (await env.chain.account(a.toPublicKey()))?.balance.toBigInt() ?? 0n;
    const { amount } = await run(env, () => env.client.payBackfill(submitter, proof));
    expect(amount).toBe(10n * MINA);
    expect(((await env.chain.account(a.toPublicKey()))?.balance.toBigInt() ?? 0n) - before).toBe(10n * MINA);
    expect((await env.client.backfill()).recorded.get(s1)).toBe(a.toPublicKey().toBase58());
    await expect(env.client.payBackfill(submitter, proof)).rejects.toThrow(/already compensated/);
    const w1 = (await env.client.backfill()).witness(s1);
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.pool.payBackfill(env.addresses.registry, proof, w1, env.oracle.toPublicKey(), paramsOf(env), UInt64.zero);
    }, { newAccounts: 1 }), /Account_is_new_precondition_unsatisfied|already compensated/);
    expect(((await env.chain.account(a.toPublicKey()))?.balance.toBigInt() ?? 0n) - before).toBe(10n * MINA);
  }, 300_000);

  it('recording directly (without payment) cannot keep the producer from being paid', async () => {
    const proof = await proveFor(plan, b, s3);
    const w3 = (await env.client.backfill()).witness(s3);
    await rawTransaction(env, submitter, async () => {
      await env.client.registry.record(proof, w3);
    });
    expect((await env.client.backfill()).recorded.get(s3)).toBe(b.toPublicKey().toBase58());
    const before = (await env.chain.account(b.toPublicKey()))?.balance.toBigInt() ?? 0n;
    await run(env, () => env.client.payBackfill(submitter, proof));
    expect(((await env.chain.account(b.toPublicKey()))?.balance.toBigInt() ?? 0n) - before).toBe(10n * MINA);
  }, 300_000);

  it('refuses a second designation for a slot, an own-VRF claim, and a registry that is not the pool\'s', async () => {
    // A statement naming B for A's slot: the proof would not verify; behind it, the registry's rule.
    const forged = await DesignatedProducerProof.dummy(new DesignationStatement({ commitment: plan.commitment.hash(), slot: UInt32.from(s1), producer: b.toPublicKey(), viaWaitlist: Bool(true) }), undefined, 0);
    await expect(env.client.payBackfill(submitter, forged)).rejects.toThrow(/already has a designated producer/);
    const w1 = (await env.client.backfill()).witness(s1);
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.registry.record(forged, w1);
    }), E.taken);
    const [own] = net.wins(a, net.current, start + 2, 5).filter((s) => plan.designation(s) === undefined) as [number];
    const ownProof = await proveFor(plan, a, own);
    expect(ownProof.publicInput.viaWaitlist.toBoolean()).toBe(false);
    await expect(env.client.payBackfill(submitter, ownProof)).rejects.toThrow(/only a designated producer is compensated/);
    const wOwn = (await env.client.backfill()).witness(own);
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.registry.record(ownProof, wOwn);
    }), E.ownVrf);
    // The attacker's own registry, deployed for the same DAC: RewardPool pays only through its own.
    const fakeKey = PrivateKey.random();
    await rawTransaction(env, submitter, async () => {
      const clone = new BackfillRegistry(fakeKey.toPublicKey());
      await clone.deploy({ init: { dac: env.addresses.dac } });
      AccountUpdate.createSigned(submitter.toPublicKey()).send({ to: clone.self, amount: MINA });
    }, { signers: [fakeKey] });
    const fake = fakeKey.toPublicKey();
    // It replays the oracle's signed commitment (public in the events), so its records are fresh.
    const nowSlot = await env.client.now();
    await rawTransaction(env, submitter, async () => {
      await new BackfillRegistry(fake).commit(plan.commitment, plan.sign(env.oracle, env.addresses.dac), env.oracle.toPublicKey(), paramsOf(env), UInt32.from(nowSlot));
    });
    const proof = await proveFor(plan, a, s2);
    const w2 = BackfillRecords.fromEvents([]).witness(s2);
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.pool.payBackfill(fake, proof, w2, env.oracle.toPublicKey(), paramsOf(env), UInt64.zero);
    }, { newAccounts: 1 }), RewardPoolErrors.wrongRegistry);
  }, 300_000);

  it('refuses a proof against an old commitment and an overlapping commitment', async () => {
    const proof = await proveFor(plan, a, s2);
    const next = net.plan([], { from: start + 91, to: start + 95 });
    await run(env, () => commit(next));
    await expect(env.client.payBackfill(submitter, proof)).rejects.toThrow(/older commitment/);
    const w2 = (await env.client.backfill()).witness(s2);
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.registry.record(proof, w2);
    }), E.stale);
    // The old commitment again (a replay of the oracle's signed message): it overlaps.
    await expect(commit(plan)).rejects.toThrow(/before the end of the previous one/);
    const now = await env.client.now();
    await expectRefused(() => rawTransaction(env, submitter, async () => {
      await env.client.registry.commit(plan.commitment, plan.sign(env.oracle, env.addresses.dac), env.oracle.toPublicKey(), paramsOf(env), UInt32.from(now));
    }), E.overlaps);
    expect(start % SLOTS_PER_EPOCH).toBe(0);
  }, 300_000);
});
