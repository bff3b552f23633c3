import { AccountUpdate, Field, PrivateKey, UInt32, UInt64, VerificationKey } from 'o1js';
import { Bitmap } from '../../contracts/Bitmap.js';
import { DesignatedProducer, type DesignatedProducerProof } from '../../contracts/DesignatedProducer.js';
import { ProposalPayload, Ruling, RulingPayload, SLOTS_PER_EPOCH, UpgradeTarget } from '../../contracts/types.js';
import { exampleNetwork } from '../backfill/example.js';
import type { Action, PoolClient } from './client.js';
import { signBlockProposal } from './operations.js';

/** One transaction of the walkthrough: which method it proves and how long building and proving took. */
export interface WalkthroughStep {
  contract: 'PoolDac' | 'RewardPool' | 'PoolVault' | 'BackfillRegistry';
  method: string;
  /** Methods of other contracts called (and proved) inside it. */
  calls: string[];
  proveMs: number;
  sendMs: number;
}

export interface WalkthroughContext {
  client: PoolClient;
  /** Two funded members; `newcomer` is added by the walkthrough and then equivocates. */
  alice: PrivateKey;
  bob: PrivateKey;
  newcomer: PrivateKey;
  oracle: PrivateKey;
  /** Pays for the report and opens the claims (the oracle operator). */
  operator: PrivateKey;
  /** Lets the chain reach a later slot. */
  advanceTo: (slot: number) => Promise<unknown>;
  onStep?: (step: WalkthroughStep) => void;
  /** Called after a ZkProgram proof made on the way (the designated producer's), with its time and the proof. */
  onProgram?: (name: string, ms: number, proof: DesignatedProducerProof) => void;
}

/**
 * Runs every method of the three contracts once, in an order the rules allow: deposit,
 * a vault sweep, propose, vote, cancel, execute (adding a member, a spend, upgrades of both
 * contracts to the code they already run), spend, upgrade, a backfill commitment and a
 * designated producer's compensation (with its DesignatedProducer proof), report (checks the oracle on
 * PoolDac), slash an equivocation, dispute, rule on it, open the claims and claim. With
 * proofs enabled, each step is a real proof. Needs a quorum of at most 50 % and a chain
 * past the end of an epoch.
 */
export async function walkthrough(ctx: WalkthroughContext): Promise<WalkthroughStep[]> {
  const { client, alice, bob, newcomer, operator } = ctx;
  const steps: WalkthroughStep[] = [];
  const run = async <T>(contract: WalkthroughStep['contract'], method: string, calls: string[], build: () => Promise<Action<T>>): Promise<T> => {
    const t0 = performance.now();
    const action = await build();
    const prepared = await client.poster.prepare(action.request);
    const t1 = performance.now();
    await client.poster.send(prepared);
    const result = action.result(await client.sync());
    const step = { contract, method, calls, proveMs: t1 - t0, sendMs: performance.now() - t1 };
    steps.push(step);
    ctx.onStep?.(step);
    return result;
  };
  const number = async (kind: Parameters<PoolClient['propose']>[1], payload: ProposalPayload, by = alice) => (await run('PoolDac', 'propose', [], () => client.propose(by, kind, payload))).number;
  const opensAt = (n: number) => Number(client.proposal(n).record.opensAt.toBigint());
  const currentVk = async (address: typeof client.dac.address) => {
    const vk = (await client.chain.account(address))!.zkapp!.verificationKey!;
    return new VerificationKey({ data: vk.data, hash: vk.hash });
  };

  await run('RewardPool', 'deposit', [], () => client.deposit(alice, 50_000_000_000n));
  await client.poster.post({ label: 'pay the vault', sender: bob, build: async () => void AccountUpdate.createSigned(bob.toPublicKey()).send({ to: client.vault.address, amount: UInt64.from(2_000_000_000n) }) });
  await run('PoolVault', 'sweep', ['RewardPool.deposit'], () => client.sweep(bob));

  const add = await number('addMember', new ProposalPayload({ ...ProposalPayload.empty(), key: newcomer.toPublicKey() }));
  await run('PoolDac', 'vote', [], () => client.vote(alice, add, 'for'));
  const dropped = await number('amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(1) }), bob);
  await run('PoolDac', 'cancel', [], () => client.cancel(bob, dropped));
  const spend = await number('treasurySpend', new ProposalPayload({ ...ProposalPayload.empty(), key: operator.toPublicKey(), amount: UInt64.from(1_000_000_000n) }));
  const [dacVk, poolVk] = [await currentVk(client.dac.address), await currentVk(client.pool.address)];
  const upDac = await number('upgrade', new ProposalPayload({ ...ProposalPayload.empty(), target: UInt32.from(UpgradeTarget.PoolDac), hash: dacVk.hash }));
  const upPool = await number('upgrade', new ProposalPayload({ ...ProposalPayload.empty(), target: UInt32.from(UpgradeTarget.RewardPool), hash: poolVk.hash }));
  for (const n of [spend, upDac, upPool]) await client.submit(await client.vote(alice, n, 'for'));
  await ctx.advanceTo(Math.max(opensAt(add), opensAt(upPool)));
  await run('PoolDac', 'execute', [], () => client.execute(bob, add));
  await client.submit(await client.execute(bob, spend));
  await run('RewardPool', 'spend', ['PoolDac.assertExecuted'], () => client.applyExecuted(bob, spend));
  await run('PoolDac', 'upgrade', [], () => client.execute(bob, upDac, { vk: dacVk }));
  await client.submit(await client.execute(bob, upPool));
  await run('RewardPool', 'upgrade', ['PoolDac.assertExecuted'], () => client.applyExecuted(bob, upPool, { vk: poolVk }));

  // Backfill: the oracle commits the first slots of the last epoch, where the example network's
  // producer A lost slot N and was designated for N + 1; its proof records it and it is paid.
  const last = Math.floor((await client.now()) / SLOTS_PER_EPOCH) - 1;
  const net = exampleNetwork(last, client.mirror.params.backfillWindow);
  const [lost] = net.wins(net.a, net.current, net.start, 1) as [number];
  const plan = net.plan([{ slot: lost + 1, producer: net.a.toPublicKey().toBase58(), lostSlot: lost }], { to: lost + 1 });
  await run('BackfillRegistry', 'commit', ['PoolDac.reportAuthority'], () => client.commitBackfill(operator, plan.commitment, plan.sign(ctx.oracle, client.dac.address), ctx.oracle.toPublicKey()));
  const { statement, witness } = plan.eligibility(net.a, lost + 1);
  DesignatedProducer.setProofsEnabled(client.chain.proofsEnabled);
  const t0 = performance.now();
  const { proof } = await DesignatedProducer.prove(statement, witness, net.a);
  ctx.onProgram?.('DesignatedProducer.prove', performance.now() - t0, proof);
  await run('RewardPool', 'payBackfill', ['BackfillRegistry.record', 'PoolDac.reportAuthority'], () => client.payBackfill(operator, proof));

  const epoch = Math.floor((await client.now()) / SLOTS_PER_EPOCH) - 1;
  const eligible = [alice, bob, newcomer].map((k) => k.toPublicKey().toBase58());
  const report = client.reportOf(epoch, 30_000_000_000n, eligible, { metricsRoot: Field(1), eventLogHash: Field(2) });
  await run('RewardPool', 'postEpochReport', ['PoolDac.reportAuthority'], () => client.postReport(operator, report, client.signReport(ctx.oracle, report), ctx.oracle.toPublicKey()));

  const slot = epoch * SLOTS_PER_EPOCH + 1;
  const signed = (blockHash: bigint) => signBlockProposal(client.dac.address, newcomer, slot, blockHash);
  await run('RewardPool', 'slash', [], () => client.slash(bob, epoch, newcomer.toPublicKey(), signed(1n), signed(2n)));
  await run('RewardPool', 'dispute', [], () => client.dispute(bob, epoch));

  const uphold = new RulingPayload({ epoch: UInt32.from(epoch), dispute: UInt32.one, decision: UInt32.from(Ruling.uphold), eligible: Bitmap.empty() });
  const ruling = await number('arbitrationRuling', new ProposalPayload({ ...ProposalPayload.empty(), ruling: uphold }));
  await client.submit(await client.vote(alice, ruling, 'for'));
  await client.submit(await client.vote(bob, ruling, 'for'));
  await ctx.advanceTo(opensAt(ruling));
  await client.submit(await client.execute(alice, ruling));
  await run('RewardPool', 'applyRuling', ['PoolDac.assertExecuted'], () => client.applyExecuted(bob, ruling));

  await ctx.advanceTo(Math.max(await client.now(), Number(client.report(epoch).record.claimsOpenAt.toBigint())));
  await run('RewardPool', 'openClaims', [], () => client.openClaims(operator, epoch));
  await run('RewardPool', 'claim', [], () => client.claim(alice, epoch));
  return steps;
}
