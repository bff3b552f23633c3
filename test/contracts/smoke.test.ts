import { describe, expect, it } from '@jest/globals';
import { Field, PrivateKey } from 'o1js';
import { ProposalPayload } from '../../contracts/types.js';
import { advanceTo, fundPool, MINA, run, signedReport, simulatedPool } from '../helpers/simulated-pool.js';

describe('smoke', () => {
  it('deploys, proposes, votes, executes, reports, claims', async () => {
    const env = await simulatedPool(3);
    const { client, members } = env;
    expect(client.mirror.memberCount).toBe(3);
    const newcomer = PrivateKey.random().toPublicKey();
    const { number } = await run(env, () => client.propose(members[0]!, 'addMember', new ProposalPayload({ ...ProposalPayload.empty(), key: newcomer })));
    expect(number).toBe(0);
    await run(env, () => client.vote(members[0]!, 0, 'for'));
    await run(env, () => client.vote(members[1]!, 0, 'for'));
    const p = client.proposal(0);
    await advanceTo(env, Number(p.record.opensAt.toBigint()));
    await run(env, () => client.execute(members[2]!, 0));
    expect(client.mirror.memberCount).toBe(4);
    await fundPool(env, 100n * MINA);
    const epoch = Math.floor((await client.now()) / 7140) - 1;
    const r = signedReport(env, epoch, 30n * MINA, members.map((m) => m.toPublicKey()));
    await run(env, () => client.postReport(env.operator, r.report, r.signature, env.oracle.toPublicKey()));
    await advanceTo(env, Number(client.report(epoch).record.claimsOpenAt.toBigint()));
    await run(env, () => client.openClaims(env.operator, epoch));
    const { amount } = await run(env, () => client.claim(members[0]!, epoch));
    expect(amount).toBe(10n * MINA);
    void Field;
  }, 300_000);
});
