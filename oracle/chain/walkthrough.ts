import { Field, PrivateKey, Signature, UInt32, UInt64 } from 'o1js';
import { BlockProposal, EpochReport, ProposalPayload, Ruling, SignedBlockProposal, SLOTS_PER_EPOCH, poolTagOf } from '../../contracts/types.js';
import type { BuiltTransaction, PoolClient } from './pool-client.js';
import { sendTransaction } from './pool-client.js';
import { KeySet } from './pool-mirror.js';

/** One transaction of the walkthrough: which method it proves and how long proving and sending took. */
export interface WalkthroughStep {
  contract: 'PoolDac' | 'RewardPool';
  method: string;
  /** Methods of the other contract called (and proved) inside it. */
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
  /** Pays for the report (the oracle operator). */
  operator: PrivateKey;
  /** Moves the chain to a later slot (a simulated chain) or waits for it (a network). */
  advanceTo: (slot: number) => Promise<void> | void;
  onStep?: (step: WalkthroughStep) => void;
}

/**
 * Runs every method of both contracts once, in an order the rules allow: deposit, propose,
 * vote, cancel, execute, post a report (checks the oracle on PoolDac), slash an
 * equivocation, dispute (checks membership on PoolDac), rule on the dispute (checks the
 * executed ruling on PoolDac) and claim. With proofs enabled, each step is a real proof.
 * Needs parameters with a quorum of at most 50 % (one vote of two members, two of three).
 */
export async function walkthrough(ctx: WalkthroughContext): Promise<WalkthroughStep[]> {
  const { client, alice, bob, newcomer } = ctx;
  const mirror = client.mirror;
  const steps: WalkthroughStep[] = [];
  const run = async <T>(contract: WalkthroughStep['contract'], method: string, calls: string[], build: () => Promise<BuiltTransaction<T>>): Promise<T> => {
    const t0 = performance.now();
    const built = await build();
    const t1 = performance.now();
    const result = await sendTransaction(built);
    const step = { contract, method, calls, proveMs: t1 - t0, sendMs: performance.now() - t1 };
    steps.push(step);
    ctx.onStep?.(step);
    return result;
  };
  const afterTimelock = (id: number) => Number(mirror.proposal(id)!.record.voteEnd.toBigint()) + mirror.params.timelock + 1;

  await run('RewardPool', 'deposit', [], () => client.deposit(alice, 50_000_000_000n));
  const { id: add } = await run('PoolDac', 'propose', [], () => client.propose(alice, 'addMember', new ProposalPayload({ ...ProposalPayload.empty(), key: newcomer.toPublicKey() })));
  await run('PoolDac', 'vote', [], () => client.vote(alice, add, 'for'));
  const { id: dropped } = await run('PoolDac', 'propose', [], () => client.propose(bob, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(1) })));
  await run('PoolDac', 'cancel', [], () => client.cancel(bob, dropped));
  await ctx.advanceTo(afterTimelock(add));
  await run('PoolDac', 'execute', [], () => client.execute(bob, add));

  const epoch = Math.floor(client.now() / SLOTS_PER_EPOCH);
  const eligible = new KeySet([alice, bob, newcomer].map((k) => k.toPublicKey().toBase58()));
  const report = new EpochReport({ epoch: UInt32.from(epoch), reward: UInt64.from(30_000_000_000n), eligibleRoot: eligible.root(), eligibleCount: UInt32.from(3), metricsRoot: Field(1), eventLogHash: Field(2) });
  const signature = Signature.create(ctx.oracle, report.message(poolTagOf(mirror.dac)));
  await run('RewardPool', 'postEpochReport', ['PoolDac.assertReportAuthority'], () => client.postReport(ctx.operator, report, signature, ctx.oracle.toPublicKey(), eligible.keys));

  const slot = epoch * SLOTS_PER_EPOCH + 1;
  const signed = (blockHash: bigint) => {
    const proposal = new BlockProposal({ slot: UInt32.from(slot), blockHash: Field(blockHash) });
    return new SignedBlockProposal({ proposal, signature: Signature.create(newcomer, proposal.message(poolTagOf(mirror.dac))) });
  };
  await run('RewardPool', 'slash', [], () => client.slash(bob, epoch, newcomer.toPublicKey(), signed(1n), signed(2n)));
  await run('RewardPool', 'dispute', ['PoolDac.assertMember'], () => client.dispute(bob, epoch));

  const uphold = new ProposalPayload({ ...ProposalPayload.empty(), epoch: UInt32.from(epoch), decision: UInt32.from(Ruling.uphold) });
  const { id: ruling } = await run('PoolDac', 'propose', [], () => client.propose(alice, 'arbitrationRuling', uphold));
  await run('PoolDac', 'vote', [], () => client.vote(alice, ruling, 'for'));
  await run('PoolDac', 'vote', [], () => client.vote(bob, ruling, 'for'));
  await ctx.advanceTo(afterTimelock(ruling));
  await run('PoolDac', 'execute', [], () => client.execute(alice, ruling));
  await run('RewardPool', 'applyRuling', ['PoolDac.assertRulingExecuted'], () => client.applyRuling(bob, epoch, ruling));

  await ctx.advanceTo(Math.max(client.now(), Number(mirror.report(epoch)!.record.claimsOpenAt.toBigint())));
  await run('RewardPool', 'claim', [], () => client.claim(alice, epoch));
  return steps;
}
