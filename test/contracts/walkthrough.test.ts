import { describe, expect, it } from '@jest/globals';
import { PrivateKey } from 'o1js';
import { PoolDac } from '../../contracts/PoolDac.js';
import { PoolVault } from '../../contracts/PoolVault.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import { walkthrough } from '../../oracle/pool/walkthrough.js';
import { advanceTo, MINA, simulatedPool } from '../helpers/simulated-pool.js';

describe('walkthrough (mock proofs)', () => {
  it('runs every method of the three contracts, in an order the rules allow', async () => {
    const env = await simulatedPool(2);
    const newcomer = PrivateKey.random();
    env.chain.local.addAccount(newcomer.toPublicKey(), (10n * MINA).toString());
    const steps = await walkthrough({ client: env.client, alice: env.members[0]!, bob: env.members[1]!, newcomer, oracle: env.oracle, operator: env.operator, advanceTo: (slot) => advanceTo(env, slot) });
    const covered = new Set(steps.flatMap((s) => [`${s.contract}.${s.method}`, ...s.calls]));
    for (const C of [PoolDac, RewardPool, PoolVault]) {
      for (const method of Object.keys(await C.analyzeMethods())) {
        if (`${C.name}.${method}` === 'RewardPool.openCounter') continue; // part of the deploy transaction
        expect(covered).toContain(`${C.name}.${method}`);
      }
    }
    const epoch = env.client.mirror.lastEpoch()!;
    const record = env.client.report(epoch).record;
    expect(Number(record.sharers.toBigint())).toBe(2); // the newcomer equivocated
    expect(await env.client.hasClaimed(epoch, env.members[0]!.toPublicKey())).toBe(true);
  }, 300_000);
});
