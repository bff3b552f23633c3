import { describe, expect, it } from '@jest/globals';
import { Mina, PrivateKey } from 'o1js';
import { shareOf } from '../../contracts/RewardPool.js';
import { walkthrough } from '../../oracle/chain/walkthrough.js';
import { MINA, simulatedPool } from '../helpers/local-pool.js';

describe('walkthrough (mock proofs)', () => {
  it('runs every method of both contracts once, in an order the rules allow', async () => {
    const env = await simulatedPool(2);
    const newcomer = PrivateKey.random();
    const before = Mina.getBalance(env.members[0]!.toPublicKey()).toBigInt();
    const steps = await walkthrough({
      client: env.client,
      alice: env.members[0]!,
      bob: env.members[1]!,
      newcomer,
      oracle: env.oracle,
      operator: env.deployer,
      advanceTo: (slot) => env.local.setGlobalSlot(slot),
    });
    const methods = new Set(steps.flatMap((s) => [`${s.contract}.${s.method}`, ...s.calls]));
    expect([...methods].sort()).toEqual([
      'PoolDac.assertMember', 'PoolDac.assertReportAuthority', 'PoolDac.assertRulingExecuted', 'PoolDac.cancel', 'PoolDac.execute', 'PoolDac.propose', 'PoolDac.vote',
      'RewardPool.applyRuling', 'RewardPool.claim', 'RewardPool.deposit', 'RewardPool.dispute', 'RewardPool.postEpochReport', 'RewardPool.slash',
    ]);
    const epoch = env.mirror.lastEpoch()!;
    const record = env.mirror.report(epoch)!.record;
    expect(record.slashedCount.toString()).toBe('1');
    expect(shareOf(record).share.toBigInt()).toBe(15n * MINA); // 30 MINA between the two that did not equivocate
    expect(env.client.hasClaimed(epoch, env.members[0]!.toPublicKey())).toBe(true);
    expect(Mina.getBalance(env.members[0]!.toPublicKey()).toBigInt() > before - 50n * MINA).toBe(true);
  }, 300_000);
});
