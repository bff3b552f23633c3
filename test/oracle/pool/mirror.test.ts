import { describe, expect, it } from '@jest/globals';
import { PrivateKey } from 'o1js';
import { ProposalPayload } from '../../../contracts/types.js';
import { decodeEvents } from '../../../oracle/pool/events.js';
import { MirrorMismatch, PoolMirror } from '../../../oracle/pool/mirror.js';
import { advanceTo, run, simulatedPool } from '../../helpers/simulated-pool.js';

describe('the mirror rebuilt from events', () => {
  it('matches the chain, and a missing event is a clear error naming what differs, before any transaction', async () => {
    const env = await simulatedPool(3);
    const { client } = env;
    const { number } = await run(env, () => client.propose(env.members[0]!, 'addMember', new ProposalPayload({ ...ProposalPayload.empty(), key: PrivateKey.random().toPublicKey() })));
    for (const m of env.members.slice(0, 2)) await run(env, () => client.vote(m, number, 'for'));
    await advanceTo(env, Number(client.proposal(number).record.opensAt.toBigint()));
    await run(env, () => client.execute(env.outsider, number));
    const dac = decodeEvents(client.dac.events, await env.chain.events(client.dac.address), 'PoolDac');
    const pool = decodeEvents(client.pool.events, await env.chain.events(client.pool.address), 'RewardPool');
    const state = {
      constitutionHash: client.dac.constitutionHash.get(),
      membersRoot: client.dac.membersRoot.get(),
      memberCount: client.dac.memberCount.get(),
      registered: client.dac.registered.get(),
      paramsHash: client.dac.paramsHash.get(),
      oracleKeyHash: client.dac.oracleKeyHash.get(),
      reportsRoot: client.pool.reportsRoot.get(),
      nextEpoch: client.pool.nextEpoch.get(),
      totalReported: client.pool.totalReported.get(),
    };
    expect(() => PoolMirror.fromEvents(env.addresses, dac, pool).verify(state)).not.toThrow();
    // An archive that lags behind (the execution is missing) rebuilds another member map.
    const lagging = dac.filter((e) => e.type !== 'executed');
    expect(() => PoolMirror.fromEvents(env.addresses, lagging, pool).verify(state)).toThrow(MirrorMismatch);
    expect(() => PoolMirror.fromEvents(env.addresses, lagging, pool).verify(state)).toThrow(/\(member map root, member count, registered keys differ\): the archive may be behind the chain/);
    // A proposal whose payload events are missing cannot be rebuilt at all.
    expect(() => PoolMirror.fromEvents(env.addresses, dac.filter((e) => e.type !== 'payloadB'), pool)).toThrow(/incomplete|never proposed/);
  }, 120_000);
});
