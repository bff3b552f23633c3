import { beforeAll, describe, expect, it } from '@jest/globals';
import { Field, MerkleMap, PrivateKey, PublicKey, UInt32 } from 'o1js';
import { PoolDacErrors } from '../../contracts/PoolDac.js';
import { ProposalPayload, ProposalRecord, memberKey } from '../../contracts/types.js';
import { paramsFromJson } from '../../oracle/chain/pool-mirror.js';
import { expectRejected, rawTransaction, send, simulatedPool, TEST_PARAMS, type SimulatedPool } from '../helpers/local-pool.js';

const P = TEST_PARAMS;
const addMember = (key: PublicKey) => new ProposalPayload({ ...ProposalPayload.empty(), key });

/** Moves the simulated chain to `slots` after the proposal's vote end. */
function afterVoteEnd(env: SimulatedPool, id: number, slots: number) {
  env.local.setGlobalSlot(Number(env.mirror.proposal(id)!.record.voteEnd.toBigint()) + slots);
}

describe('PoolDac', () => {
  let env: SimulatedPool;
  beforeAll(async () => {
    env = await simulatedPool(4);
  }, 120_000);

  it('is deployed with its members, parameters, oracle and constitution', () => {
    expect(env.dac.memberCount.get()).toEqual(UInt32.from(4));
    expect(env.dac.membersRoot.get()).toEqual(env.mirror.members.root());
    expect(env.dac.paramsHash.get()).toEqual(paramsFromJson(P).hash());
    expect(env.dac.oracleKeyHash.get()).toEqual(memberKey(env.oracle.toPublicKey()));
    expect(env.dac.constitutionHash.get()).toEqual(Field(12345));
  });

  it('rejects a proposal from a non-member', async () => {
    // The outsider forges a witness of an empty leaf: the computed root is not the members root.
    await expectRejected(
      () => rawTransaction(env.outsider, () => env.dac.propose(UInt32.from(0), addMember(env.outsider.toPublicKey()), env.mirror.paramsStruct(), new MerkleMap().getWitness(memberKey(env.outsider.toPublicKey())), env.mirror.proposalWitness(0), UInt32.from(env.client.now())), 3),
      PoolDacErrors.notMember,
    );
    await expectRejected(() => env.client.propose(env.outsider, 'addMember', addMember(env.outsider.toPublicKey())), /is not a pool member/);
  });

  it('rejects an unknown proposal kind', async () => {
    const m = env.members[0]!;
    await expectRejected(
      () => rawTransaction(m, () => env.dac.propose(UInt32.from(6), ProposalPayload.empty(), env.mirror.paramsStruct(), env.mirror.members.witness(m.toPublicKey().toBase58()), env.mirror.proposalWitness(0), UInt32.from(env.client.now())), 3),
      PoolDacErrors.badKind,
    );
  });

  describe('a proposal\'s life: propose, vote, timelock, execute once', () => {
    const newcomer = PrivateKey.random();
    it('a member proposes; voting opens now and closes after the voting period', async () => {
      const now = env.client.now();
      const { id } = await send(env.client.propose(env.members[0]!, 'addMember', addMember(newcomer.toPublicKey())));
      expect(id).toBe(0);
      const { record } = env.mirror.proposal(0)!;
      expect(record.voteStart.toBigint()).toBe(BigInt(now));
      expect(record.voteEnd.toBigint()).toBe(BigInt(now + P.votingPeriod));
      expect(env.dac.proposalsRoot.get()).toEqual(env.mirror.proposalsRoot());
      expect(env.dac.proposalCount.get()).toEqual(UInt32.from(1));
      expect(env.client.tally(0).for.toBigInt()).toBe(0n);
      const events = await env.dac.fetchEvents();
      expect(events.some((e) => e.type === 'proposed')).toBe(true);
    });

    it('counts one vote per member', async () => {
      await send(env.client.vote(env.members[0]!, 0, 'for'));
      await send(env.client.vote(env.members[1]!, 0, 'against'));
      const t = env.client.tally(0);
      expect([t.for.toBigInt(), t.against.toBigInt(), t.abstain.toBigInt()]).toEqual([1n, 1n, 0n]);
    });

    it('rejects a second vote by the same member, on chain', async () => {
      await expectRejected(() => env.client.vote(env.members[0]!, 0, 'against'), /already voted/);
      const m = env.members[0]!;
      const { record } = env.mirror.proposal(0)!;
      const again = (newAccounts: number) => () =>
        rawTransaction(m, () => env.dac.vote(record, env.mirror.proposalWitness(0), env.mirror.members.witness(m.toPublicKey().toBase58()), UInt32.from(0), UInt32.from(env.client.now())), newAccounts);
      // Paying for the receipt again: the receipt exists, so the fee does not add up.
      await expectRejected(again(1), /Invalid fee excess/);
      // Not paying: the receipt's must-be-new precondition fails.
      await expectRejected(again(0), /Account_is_new_precondition_unsatisfied/);
      expect(env.client.tally(0).against.toBigInt()).toBe(1n);
    });

    it('rejects a vote from a non-member and a choice outside 0..2', async () => {
      const { record } = env.mirror.proposal(0)!;
      const o = env.outsider;
      await expectRejected(
        () => rawTransaction(o, () => env.dac.vote(record, env.mirror.proposalWitness(0), new MerkleMap().getWitness(memberKey(o.toPublicKey())), UInt32.from(1), UInt32.from(env.client.now())), 1),
        PoolDacErrors.notMember,
      );
      const m = env.members[2]!;
      await expectRejected(
        () => rawTransaction(m, () => env.dac.vote(record, env.mirror.proposalWitness(0), env.mirror.members.witness(m.toPublicKey().toBase58()), UInt32.from(3), UInt32.from(env.client.now())), 1),
        PoolDacErrors.badChoice,
      );
    });

    it('rejects a vote with a forged proposal record', async () => {
      const { record } = env.mirror.proposal(0)!;
      const forged = new ProposalRecord({ ...record, voteEnd: record.voteEnd.add(1000) });
      const m = env.members[2]!;
      await expectRejected(
        () => rawTransaction(m, () => env.dac.vote(forged, env.mirror.proposalWitness(0), env.mirror.members.witness(m.toPublicKey().toBase58()), UInt32.from(1), UInt32.from(env.client.now())), 1),
        PoolDacErrors.unknownProposal,
      );
    });

    it('rejects execution before voting ends and during the timelock', async () => {
      await send(env.client.vote(env.members[2]!, 0, 'for'));
      await expectRejected(() => env.client.execute(env.members[3]!, 0), /voting is still open/);
      const { record, payload } = env.mirror.proposal(0)!;
      const exec = () =>
        rawTransaction(env.members[3]!, () =>
          env.dac.execute(record, env.mirror.proposalWitness(0), payload, env.mirror.paramsStruct(), env.client.tally(0), env.mirror.members.witness(newcomer.toPublicKey().toBase58()), UInt32.from(env.client.now())),
        );
      await expectRejected(exec, PoolDacErrors.timelock);
      afterVoteEnd(env, 0, P.timelock);
      await expectRejected(() => env.client.execute(env.members[3]!, 0), /the timelock has not passed/);
      await expectRejected(exec, PoolDacErrors.timelock);
    });

    it('rejects execution with forged tallies', async () => {
      afterVoteEnd(env, 0, P.timelock + 1);
      const { record, payload } = env.mirror.proposal(0)!;
      const real = env.client.tally(0);
      const forged = { ...real, for: real.for.add(5) };
      await expectRejected(
        () =>
          rawTransaction(env.members[3]!, () =>
            env.dac.execute(record, env.mirror.proposalWitness(0), payload, env.mirror.paramsStruct(), forged as typeof real, env.mirror.members.witness(newcomer.toPublicKey().toBase58()), UInt32.from(env.client.now())),
          ),
        /Account_balance_precondition_unsatisfied/,
      );
    });

    it('lets anyone execute it after the timelock, once; the new member counts', async () => {
      expect(env.client.proposalState(0)).toBe('executable');
      await send(env.client.execute(env.outsider, 0));
      expect(env.dac.memberCount.get()).toEqual(UInt32.from(5));
      expect(env.dac.membersRoot.get()).toEqual(env.mirror.members.root());
      expect(env.client.proposalState(0)).toBe('executed');
      await expectRejected(() => env.client.execute(env.outsider, 0), /already executed/);
      const { record, payload } = env.mirror.proposal(0)!;
      const stale = record.withStatus(0);
      await expectRejected(
        () =>
          rawTransaction(env.outsider, () =>
            env.dac.execute(stale, env.mirror.proposalWitness(0), payload, env.mirror.paramsStruct(), env.client.tally(0), env.mirror.members.witness(newcomer.toPublicKey().toBase58()), UInt32.from(env.client.now())),
          ),
        PoolDacErrors.unknownProposal,
      );
      env.local.addAccount(newcomer.toPublicKey(), '100000000000');
      env.members.push(newcomer);
    });
  });

  it('rejects execution of a defeated proposal (no quorum, or not approved)', async () => {
    // 5 members, quorum 50 %: 3 votes needed. Approval 60 % of for + against.
    const { id: noQuorum } = await send(env.client.propose(env.members[0]!, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(1) })));
    await send(env.client.vote(env.members[0]!, noQuorum, 'for'));
    await send(env.client.vote(env.members[1]!, noQuorum, 'for'));
    const { id: rejected } = await send(env.client.propose(env.members[0]!, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(2) })));
    await send(env.client.vote(env.members[0]!, rejected, 'for'));
    await send(env.client.vote(env.members[1]!, rejected, 'against'));
    await send(env.client.vote(env.members[2]!, rejected, 'abstain'));
    afterVoteEnd(env, rejected, P.timelock + 1);
    expect(env.client.proposalState(noQuorum)).toBe('defeated');
    expect(env.client.proposalState(rejected)).toBe('defeated');
    for (const [id, error] of [[noQuorum, PoolDacErrors.quorum], [rejected, PoolDacErrors.approval]] as const) {
      const { record, payload } = env.mirror.proposal(id)!;
      await expectRejected(
        () => rawTransaction(env.outsider, () => env.dac.execute(record, env.mirror.proposalWitness(id), payload, env.mirror.paramsStruct(), env.client.tally(id), env.mirror.members.unusedWitness(), UInt32.from(env.client.now()))),
        error,
      );
    }
  });

  it('rejects a vote after voting closes, and execution after the proposal expires', async () => {
    const { id } = await send(env.client.propose(env.members[1]!, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(3) })));
    for (const m of env.members.slice(0, 3)) await send(env.client.vote(m, id, 'for'));
    afterVoteEnd(env, id, 1);
    await expectRejected(() => env.client.vote(env.members[3]!, id, 'for'), /voting on proposal \d+ is closed/);
    const m = env.members[3]!;
    const { record, payload } = env.mirror.proposal(id)!;
    await expectRejected(
      () => rawTransaction(m, () => env.dac.vote(record, env.mirror.proposalWitness(id), env.mirror.members.witness(m.toPublicKey().toBase58()), UInt32.from(1), UInt32.from(env.client.now())), 1),
      PoolDacErrors.votingClosed,
    );
    // A vote built while open but included after the close is refused by the slot precondition.
    await expectRejected(
      () => rawTransaction(m, () => env.dac.vote(record, env.mirror.proposalWitness(id), env.mirror.members.witness(m.toPublicKey().toBase58()), UInt32.from(1), record.voteEnd), 1),
      /Protocol_state_precondition_unsatisfied/,
    );
    afterVoteEnd(env, id, P.timelock + 1 + P.executionWindow + 1);
    expect(env.client.proposalState(id)).toBe('expired');
    await expectRejected(
      () => rawTransaction(env.outsider, () => env.dac.execute(record, env.mirror.proposalWitness(id), payload, env.mirror.paramsStruct(), env.client.tally(id), env.mirror.members.unusedWitness(), UInt32.from(env.client.now()))),
      PoolDacErrors.expired,
    );
  });

  it('lets the proposer cancel before voting ends, nobody else, and not after', async () => {
    const payload = new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(4) });
    const { id } = await send(env.client.propose(env.members[2]!, 'amendConstitution', payload));
    await expectRejected(() => env.client.cancel(env.members[1]!, id), /only the proposer/);
    const { record } = env.mirror.proposal(id)!;
    await expectRejected(() => rawTransaction(env.members[1]!, () => env.dac.cancel(record, env.mirror.proposalWitness(id), UInt32.from(env.client.now()))), PoolDacErrors.notProposer);
    await send(env.client.cancel(env.members[2]!, id));
    expect(env.client.proposalState(id)).toBe('canceled');
    await expectRejected(() => env.client.vote(env.members[0]!, id, 'for'), /closed \(canceled\)/);
    const { record: canceled } = env.mirror.proposal(id)!;
    const m = env.members[0]!;
    await expectRejected(
      () => rawTransaction(m, () => env.dac.vote(canceled, env.mirror.proposalWitness(id), env.mirror.members.witness(m.toPublicKey().toBase58()), UInt32.from(1), UInt32.from(env.client.now())), 1),
      PoolDacErrors.notActive,
    );
    const { id: late } = await send(env.client.propose(env.members[2]!, 'amendConstitution', payload));
    afterVoteEnd(env, late, 1);
    await expectRejected(() => env.client.cancel(env.members[2]!, late), /can no longer be canceled/);
    const { record: lateRecord } = env.mirror.proposal(late)!;
    await expectRejected(() => rawTransaction(env.members[2]!, () => env.dac.cancel(lateRecord, env.mirror.proposalWitness(late), UInt32.from(env.client.now()))), PoolDacErrors.tooLateToCancel);
  });

  /** Proposes, gets 3 votes for, waits the timelock and executes. */
  async function pass(kind: Parameters<SimulatedPool['client']['propose']>[1], payload: ProposalPayload, newParams?: typeof P) {
    const { id } = await send(env.client.propose(env.members[0]!, kind, payload));
    for (const m of env.members.slice(0, 3)) await send(env.client.vote(m, id, 'for'));
    afterVoteEnd(env, id, P.timelock + 1);
    await send(env.client.execute(env.outsider, id, newParams));
    return id;
  }

  it('executes remove member, amend constitution, set parameters and set oracle', async () => {
    const leaving = env.members[4]!.toPublicKey();
    await pass('removeMember', new ProposalPayload({ ...ProposalPayload.empty(), key: leaving }));
    expect(env.dac.memberCount.get()).toEqual(UInt32.from(4));
    expect(env.dac.membersRoot.get()).toEqual(env.mirror.members.root());
    expect(env.mirror.members.has(leaving.toBase58())).toBe(false);

    await pass('amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(999) }));
    expect(env.dac.constitutionHash.get()).toEqual(Field(999));

    const newParams = { ...P, votingPeriod: 12 };
    await pass('setParameters', new ProposalPayload({ ...ProposalPayload.empty(), hash: paramsFromJson(newParams).hash() }), newParams);
    expect(env.dac.paramsHash.get()).toEqual(paramsFromJson(newParams).hash());
    expect(env.mirror.params.votingPeriod).toBe(12);

    const newOracle = PrivateKey.random().toPublicKey();
    await pass('setOracle', new ProposalPayload({ ...ProposalPayload.empty(), key: newOracle }));
    expect(env.dac.oracleKeyHash.get()).toEqual(memberKey(newOracle));
  });

  it('rejects adding an existing member', async () => {
    const existing = env.members[0]!.toPublicKey();
    const { id } = await send(env.client.propose(env.members[0]!, 'addMember', addMember(existing)));
    for (const m of env.members.slice(0, 3)) await send(env.client.vote(m, id, 'for'));
    afterVoteEnd(env, id, P.timelock + 1);
    await expectRejected(() => env.client.execute(env.outsider, id), /already a member/);
    const { record, payload } = env.mirror.proposal(id)!;
    await expectRejected(
      () => rawTransaction(env.outsider, () => env.dac.execute(record, env.mirror.proposalWitness(id), payload, env.mirror.paramsStruct(), env.client.tally(id), env.mirror.members.witness(existing.toBase58()), UInt32.from(env.client.now()))),
      PoolDacErrors.alreadyMember,
    );
  });
});

describe('PoolDac: many members vote in the same block', () => {
  it('40 vote transactions built against the same state before any is sent all count', async () => {
    const env = await simulatedPool(40);
    const { id } = await send(env.client.propose(env.members[0]!, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(5) })));
    const choices = ['for', 'against', 'abstain'] as const;
    const built = [];
    for (const [i, m] of env.members.entries()) built.push(await env.client.vote(m, id, choices[i % 3]!));
    const statesBefore = env.dac.proposalsRoot.get();
    for (const b of built) {
      const sent = await b.tx.send();
      expect(sent.status).toBe('pending');
    }
    const t = env.client.tally(id);
    expect([t.for.toBigInt(), t.against.toBigInt(), t.abstain.toBigInt()]).toEqual([14n, 13n, 13n]);
    expect(env.dac.proposalsRoot.get()).toEqual(statesBefore); // votes change no PoolDac state
    // A second vote built by a member in the same batch is the one that fails, alone.
    const again = await env.client.vote(env.members[0]!, id, 'against').catch((e: Error) => e);
    expect(again).toBeInstanceOf(Error);
  }, 300_000);
});
