import { describe, expect, it } from '@jest/globals';
import { Field, PrivateKey, UInt32 } from 'o1js';
import { ProposalPayload, ProposalRecord } from '../../../contracts/types.js';
import { PoolMirror } from '../../../oracle/chain/pool-mirror.js';
import { TEST_PARAMS } from '../../helpers/local-pool.js';

describe('PoolMirror', () => {
  it('reads back what it saves, including payloads without a key', () => {
    const member = PrivateKey.random().toPublicKey();
    const mirror = new PoolMirror({ dac: PrivateKey.random().toPublicKey(), pool: PrivateKey.random().toPublicKey(), constitutionHash: Field(9), params: TEST_PARAMS, oracle: member.toBase58(), members: [member.toBase58()] });
    const record = (id: number, kind: number) =>
      new ProposalRecord({ id: UInt32.from(id), kind: UInt32.from(kind), payloadHash: Field(id), proposer: member, voteStart: UInt32.from(1), voteEnd: UInt32.from(2), memberCount: UInt32.from(1), status: UInt32.from(0) });
    mirror.setProposal({ record: record(0, 2), payload: new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(77) }) });
    mirror.setProposal({ record: record(1, 0), payload: new ProposalPayload({ ...ProposalPayload.empty(), key: member }) });
    const again = PoolMirror.fromJSON(JSON.parse(JSON.stringify(mirror.toJSON())));
    expect(again.proposalsRoot()).toEqual(mirror.proposalsRoot());
    expect(again.proposal(0)!.payload.hash).toEqual(Field(77));
    expect(again.proposal(1)!.payload.key.toBase58()).toBe(member.toBase58());
    expect(again.toJSON()).toEqual(mirror.toJSON());
  });
});
