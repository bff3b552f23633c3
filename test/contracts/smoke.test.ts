import { describe, expect, it } from '@jest/globals';
import { PrivateKey, UInt32 } from 'o1js';
import { ProposalPayload } from '../../contracts/types.js';
import { send, simulatedPool } from '../helpers/local-pool.js';

describe('smoke', () => {
  it('deploys, proposes, votes, executes', async () => {
    const env = await simulatedPool(3);
    const newcomer = PrivateKey.random().toPublicKey();
    const payload = new ProposalPayload({ ...ProposalPayload.empty(), key: newcomer });
    const { id } = await send(env.client.propose(env.members[0]!, 'addMember', payload));
    expect(id).toBe(0);
    expect(env.dac.proposalsRoot.get()).toEqual(env.mirror.proposalsRoot());
    await send(env.client.vote(env.members[0]!, 0, 'for'));
    await send(env.client.vote(env.members[1]!, 0, 'for'));
    expect(env.client.tally(0).for.toBigInt()).toBe(2n);
    env.local.setGlobalSlot(1000 + 10 + 5 + 1);
    await send(env.client.execute(env.members[2]!, 0));
    expect(env.dac.memberCount.get()).toEqual(UInt32.from(4));
    expect(env.dac.membersRoot.get()).toEqual(env.mirror.members.root());
  }, 120000);
});
