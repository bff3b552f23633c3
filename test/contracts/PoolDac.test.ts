import { beforeAll, describe, expect, it } from '@jest/globals';
import { Bool, Field, PrivateKey, PublicKey, UInt32 } from 'o1js';
import { PoolDacErrors } from '../../contracts/PoolDac.js';
import { INCLUSION_SLACK, PoolParams, ProposalKind, ProposalPayload, ProposalRecord, Tally, memberKey } from '../../contracts/types.js';
import { paramsFromJson } from '../../oracle/pool/params.js';
import { advanceTo, expectRefused, rawTransaction, run, simulatedPool, type SimulatedPool } from '../helpers/simulated-pool.js';

const keyPayload = (key: PublicKey) => new ProposalPayload({ ...ProposalPayload.empty(), key });
const hashPayload = (hash: number) => new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(hash) });

/** Proposes with the first member and returns the proposal's number. */
async function propose(env: SimulatedPool, kind: Parameters<SimulatedPool['client']['propose']>[1], payload: ProposalPayload, by = env.members[0]!) {
  return (await run(env, () => env.client.propose(by, kind, payload))).number;
}

/** Proposes, gets `voters` votes for, waits out the timelock and executes. */
async function pass(env: SimulatedPool, kind: Parameters<SimulatedPool['client']['propose']>[1], payload: ProposalPayload, voters = 3) {
  const n = await propose(env, kind, payload);
  for (const m of env.members.slice(0, voters)) await run(env, () => env.client.vote(m, n, 'for'));
  await advanceTo(env, Number(env.client.proposal(n).record.opensAt.toBigint()));
  await run(env, () => env.client.execute(env.outsider, n));
  return n;
}

/** The raw execute call an attacker would send, skipping the client's checks. */
function rawExecute(env: SimulatedPool, n: number, tally?: Tally) {
  const p = env.client.proposal(n);
  return async () => {
    const t = tally ?? (await env.client.tally(n)).tally;
    const map = env.client.mirror.currentMap();
    await rawTransaction(env, env.outsider, () => env.dac.execute(p.record, p.payload, t, map.clone()));
  };
}

describe('PoolDac', () => {
  let env: SimulatedPool;
  beforeAll(async () => {
    env = await simulatedPool(4);
  }, 120_000);

  it('is deployed with its members, parameters, oracle and constitution, and its events rebuild them', () => {
    const m = env.client.mirror;
    expect(env.client.dac.memberCount.get()).toEqual(UInt32.from(4));
    expect(env.client.dac.membersRoot.get()).toEqual(m.members.root);
    expect(env.client.dac.paramsHash.get()).toEqual(paramsFromJson(env.params).hash());
    expect(env.client.dac.oracleKeyHash.get()).toEqual(memberKey(env.oracle.toPublicKey()));
    expect(env.client.dac.constitutionHash.get()).toEqual(Field(12345));
    expect(m.registry).toEqual(env.members.map((k) => k.toPublicKey().toBase58()));
    expect(m.params).toEqual(env.params);
  });

  it('refuses a proposal from a non-member, on chain', async () => {
    await expectRefused(() => env.client.propose(env.outsider, 'amendConstitution', hashPayload(1)), /is not a pool member: only members propose/);
    const now = UInt32.from(await env.client.now());
    const params = paramsFromJson(env.params);
    // With the real member map: not in it. With a map that includes the outsider: not the members root.
    await expectRefused(() => rawTransaction(env, env.outsider, () => env.dac.propose(UInt32.from(2), hashPayload(1), params, env.client.mirror.currentMap(), now), { newAccounts: 1 }), PoolDacErrors.notMember);
    const forged = env.client.mirror.currentMap();
    forged.insert(memberKey(env.outsider.toPublicKey()), Field(2 * 9 + 1));
    await expectRefused(() => rawTransaction(env, env.outsider, () => env.dac.propose(UInt32.from(2), hashPayload(1), params, forged, now), { newAccounts: 1 }), PoolDacErrors.membersMismatch);
  });

  it('refuses an unknown kind and out-of-range parameters when they are proposed', async () => {
    const m = env.members[0]!;
    const now = UInt32.from(await env.client.now());
    const params = paramsFromJson(env.params);
    const raw = (kind: number, payload: ProposalPayload) => () => rawTransaction(env, m, () => env.dac.propose(UInt32.from(kind), payload, params, env.client.mirror.currentMap(), now), { newAccounts: 1 });
    await expectRefused(raw(8, ProposalPayload.empty()), PoolDacErrors.badKind);
    for (const bad of [{ quorumPercent: 0 }, { approvalPercent: 101 }, { approvalPercent: 40 }, { votingPeriod: 1_000_000 }, { challengeWindow: 7140 }, { operatorFeePercent: 101 }, { emitterStrategy: 3 }]) {
      const payload = new ProposalPayload({ ...ProposalPayload.empty(), params: paramsFromJson({ ...env.params, ...bad }) });
      await expectRefused(raw(ProposalKind.setParameters, payload), PoolDacErrors.badParams);
      await expectRefused(() => env.client.propose(m, 'setParameters', payload), /the new parameters are out of range/);
    }
    // The operator must be a key that can receive its fee: an x with no curve point is refused.
    const badKey = PublicKey.from({ x: Field(2), isOdd: Bool(false) });
    expect(() => badKey.toGroup()).toThrow();
    const payload = new ProposalPayload({ ...ProposalPayload.empty(), params: new PoolParams({ ...paramsFromJson(env.params), operator: badKey }) });
    await expect(raw(ProposalKind.setParameters, payload)()).rejects.toThrow();
  });

  it('refuses a proposal that could never execute: adding a member, removing a non-member', async () => {
    const existing = env.members[1]!.toPublicKey();
    await expectRefused(() => env.client.propose(env.members[0]!, 'addMember', keyPayload(existing)), /is already a member: there is nothing to add/);
    const now = UInt32.from(await env.client.now());
    await expectRefused(() => rawTransaction(env, env.members[0]!, () => env.dac.propose(UInt32.from(ProposalKind.addMember), keyPayload(existing), paramsFromJson(env.params), env.client.mirror.currentMap(), now), { newAccounts: 1 }), PoolDacErrors.alreadyMember);
    const stranger = PrivateKey.random().toPublicKey();
    await expectRefused(() => rawTransaction(env, env.members[0]!, () => env.dac.propose(UInt32.from(ProposalKind.removeMember), keyPayload(stranger), paramsFromJson(env.params), env.client.mirror.currentMap(), now), { newAccounts: 1 }), PoolDacErrors.keyNotMember);
  });

  it('anchors a proposal to the slot that includes it: a back-dated or future `now` is refused', async () => {
    const m = env.members[0]!;
    const slot = await env.client.now();
    const params = paramsFromJson(env.params);
    // Back-dating `now` by the voting period (plus the slack) would close voting when the proposal lands.
    for (const now of [slot - INCLUSION_SLACK - env.params.votingPeriod, slot - INCLUSION_SLACK - 1, slot + 1]) {
      await expectRefused(() => rawTransaction(env, m, () => env.dac.propose(UInt32.from(2), hashPayload(77), params, env.client.mirror.currentMap(), UInt32.from(now)), { newAccounts: 1 }), /Valid_while_precondition_unsatisfied/);
    }
    // Within the slack it lands, and voting still lasts at least the voting period after inclusion.
    const n = await propose(env, 'amendConstitution', hashPayload(77));
    const { record } = env.client.proposal(n);
    expect(Number(record.voteEnd.toBigint()) - slot).toBeGreaterThanOrEqual(env.params.votingPeriod);
    expect(Number(record.voteEnd.toBigint()) - slot).toBeLessThanOrEqual(env.params.votingPeriod + INCLUSION_SLACK);
    await run(env, () => env.client.cancel(m, n));
  });

  describe("a proposal's life: propose, vote, timelock, execute once", () => {
    const newcomer = PrivateKey.random();
    let n: number;

    it('a member proposes; it gets a tally account and voting opens', async () => {
      n = await propose(env, 'addMember', keyPayload(newcomer.toPublicKey()));
      const p = env.client.proposal(n);
      expect(p.record.memberCount).toEqual(UInt32.from(4));
      expect(p.record.quorumPercent).toEqual(UInt32.from(env.params.quorumPercent));
      expect((await env.client.tally(n)).status).toBe('active');
      expect(await env.client.proposalState(n)).toBe('active');
    });

    it('counts one vote per member; a second vote is refused on chain', async () => {
      await run(env, () => env.client.vote(env.members[0]!, n, 'for'));
      await run(env, () => env.client.vote(env.members[1]!, n, 'against'));
      const { tally } = await env.client.tally(n);
      expect([tally.for, tally.against, tally.abstain].map((x) => Number(x.toBigint()))).toEqual([1, 1, 0]);
      await expectRefused(() => env.client.vote(env.members[0]!, n, 'against'), /already voted on proposal/);
      const p = env.client.proposal(n);
      const again = (newAccounts: number) => () => rawTransaction(env, env.members[0]!, () => env.dac.vote(p.record, env.client.mirror.mapAt(p.record.membersRoot), UInt32.from(0)), { newAccounts });
      await expectRefused(again(1), /Invalid fee excess|Account_is_new/);
      await expectRefused(again(0), /Account_is_new_precondition_unsatisfied/);
      expect(Number((await env.client.tally(n)).tally.against.toBigint())).toBe(1);
    });

    it('refuses a vote from a non-member, a choice outside 0..2 and a forged record, on chain', async () => {
      const p = env.client.proposal(n);
      const o = env.outsider;
      // Not in the proposal's member map at all: the map's inclusion proof fails (o1js's message).
      await expectRefused(() => rawTransaction(env, o, () => env.dac.vote(p.record, env.client.mirror.mapAt(p.record.membersRoot), UInt32.from(1)), { newAccounts: 1 }), 'Key does not exist in the tree');
      const m = env.members[2]!;
      await expectRefused(() => rawTransaction(env, m, () => env.dac.vote(p.record, env.client.mirror.mapAt(p.record.membersRoot), UInt32.from(3)), { newAccounts: 1 }), PoolDacErrors.badChoice);
      // A record with a later vote end (or a lower quorum) has no tally account: the vote cannot land.
      const forged = new ProposalRecord({ ...p.record, voteEnd: p.record.voteEnd.add(1000), quorumPercent: UInt32.one });
      await expectRefused(() => rawTransaction(env, m, () => env.dac.vote(forged, env.client.mirror.mapAt(p.record.membersRoot), UInt32.from(1)), { newAccounts: 2 }), /Account_is_new_precondition_unsatisfied|Account_balance_precondition_unsatisfied/);
    });

    it('refuses execution before voting ends and during the timelock, saying when it opens', async () => {
      await run(env, () => env.client.vote(env.members[2]!, n, 'for'));
      await expectRefused(() => env.client.execute(env.members[3]!, n), /voting is open until slot \d+ \(in \d+ slots\)/);
      await expectRefused(rawExecute(env, n), /Valid_while_precondition_unsatisfied/);
      const p = env.client.proposal(n);
      await advanceTo(env, Number(p.record.voteEnd.toBigint()) + 1);
      await expectRefused(() => env.client.execute(env.members[3]!, n), new RegExp(`its timelock ends at slot ${p.record.opensAt.toString()} \\(in \\d+ slots?\\): execute it then`));
      await expectRefused(rawExecute(env, n), /Valid_while_precondition_unsatisfied/);
    });

    it('refuses execution with forged tallies', async () => {
      await advanceTo(env, Number(env.client.proposal(n).record.opensAt.toBigint()));
      const { tally } = await env.client.tally(n);
      await expectRefused(rawExecute(env, n, new Tally({ ...tally, for: tally.for.add(2) })), /Account_balance_precondition_unsatisfied/);
    });

    it('lets anyone execute it once; the new member counts', async () => {
      expect(await env.client.proposalState(n)).toBe('executable');
      await run(env, () => env.client.execute(env.outsider, n));
      expect(env.client.dac.memberCount.get()).toEqual(UInt32.from(5));
      expect(env.client.mirror.isMember(newcomer.toPublicKey().toBase58())).toBe(true);
      expect(await env.client.proposalState(n)).toBe('executed');
      await expectRefused(() => env.client.execute(env.outsider, n), /already executed/);
      await expectRefused(rawExecute(env, n, new Tally({ for: UInt32.from(2), against: UInt32.from(1), abstain: UInt32.zero })), /Account_balance_precondition_unsatisfied|already a pool member/);
      env.chain.local.addAccount(newcomer.toPublicKey(), '100000000000');
      env.members.push(newcomer);
    });
  });

  it('refuses execution of a defeated proposal, and says why', async () => {
    // 5 members, quorum 50 %: 3 votes; approval 60 % of for + against.
    const noQuorum = await propose(env, 'amendConstitution', hashPayload(1));
    await run(env, () => env.client.vote(env.members[0]!, noQuorum, 'for'));
    await run(env, () => env.client.vote(env.members[1]!, noQuorum, 'for'));
    const rejected = await propose(env, 'amendConstitution', hashPayload(2));
    await run(env, () => env.client.vote(env.members[0]!, rejected, 'for'));
    await run(env, () => env.client.vote(env.members[1]!, rejected, 'against'));
    await run(env, () => env.client.vote(env.members[2]!, rejected, 'abstain'));
    await advanceTo(env, Number(env.client.proposal(rejected).record.opensAt.toBigint()));
    await expectRefused(() => env.client.execute(env.outsider, noQuorum), /defeated: 2 votes cast of the 3 its quorum needed \(50 % of 5 members\)/);
    await expectRefused(() => env.client.execute(env.outsider, rejected), /defeated: 1 for and 1 against do not reach the 60 % approval/);
    await expectRefused(rawExecute(env, noQuorum), PoolDacErrors.quorum);
    await expectRefused(rawExecute(env, rejected), PoolDacErrors.approval);
  });

  it('refuses a vote after voting closes and execution after the proposal expires', async () => {
    const n = await propose(env, 'amendConstitution', hashPayload(3), env.members[1]);
    for (const m of env.members.slice(0, 3)) await run(env, () => env.client.vote(m, n, 'for'));
    const p = env.client.proposal(n);
    await advanceTo(env, Number(p.record.voteEnd.toBigint()) + 1);
    await expectRefused(() => env.client.vote(env.members[3]!, n, 'for'), /voting on proposal #\d+ is closed/);
    const m = env.members[3]!;
    await expectRefused(() => rawTransaction(env, m, () => env.dac.vote(p.record, env.client.mirror.mapAt(p.record.membersRoot), UInt32.from(1)), { newAccounts: 1 }), /Valid_while_precondition_unsatisfied/);
    await advanceTo(env, Number(p.record.closesAt.toBigint()) + 1);
    expect(await env.client.proposalState(n)).toBe('expired');
    await expectRefused(() => env.client.execute(env.outsider, n), /its execution window closed at slot \d+: propose it again/);
    await expectRefused(rawExecute(env, n), /Valid_while_precondition_unsatisfied/);
  });

  it('lets the proposer cancel while voting is open, nobody else, and not after; votes on it are refused', async () => {
    const n = await propose(env, 'amendConstitution', hashPayload(4), env.members[2]);
    const p = env.client.proposal(n);
    await expectRefused(() => env.client.cancel(env.members[1]!, n), /only the proposer \(member2\) can cancel/);
    await expectRefused(() => rawTransaction(env, env.members[1]!, () => env.dac.cancel(p.record)), PoolDacErrors.notProposer);
    await run(env, () => env.client.cancel(env.members[2]!, n));
    expect(await env.client.proposalState(n)).toBe('canceled');
    await expectRefused(() => env.client.vote(env.members[0]!, n, 'for'), /closed \(canceled/);
    const m = env.members[0]!;
    await expectRefused(() => rawTransaction(env, m, () => env.dac.vote(p.record, env.client.mirror.mapAt(p.record.membersRoot), UInt32.from(1)), { newAccounts: 1 }), /Account_balance_precondition_unsatisfied/);
    const late = await propose(env, 'amendConstitution', hashPayload(5), env.members[2]);
    await advanceTo(env, Number(env.client.proposal(late).record.voteEnd.toBigint()) + 1);
    await expectRefused(() => env.client.cancel(env.members[2]!, late), /can no longer be canceled/);
    await expectRefused(() => rawTransaction(env, env.members[2]!, () => env.dac.cancel(env.client.proposal(late).record)), /Valid_while_precondition_unsatisfied/);
  });

  it('executes remove member, amend constitution, set parameters and set oracle; a new client rebuilds it all from events', async () => {
    const leaving = env.members[4]!.toPublicKey();
    await pass(env, 'removeMember', keyPayload(leaving));
    expect(env.client.dac.memberCount.get()).toEqual(UInt32.from(4));
    expect(env.client.mirror.isMember(leaving.toBase58())).toBe(false);
    await pass(env, 'amendConstitution', hashPayload(999));
    expect(env.client.dac.constitutionHash.get()).toEqual(Field(999));
    const newParams = { ...env.params, votingPeriod: 12, operatorFeePercent: 5 };
    await pass(env, 'setParameters', new ProposalPayload({ ...ProposalPayload.empty(), params: paramsFromJson(newParams) }));
    expect(env.client.dac.paramsHash.get()).toEqual(paramsFromJson(newParams).hash());
    expect(env.client.mirror.params).toEqual(newParams);
    const newOracle = PrivateKey.random().toPublicKey();
    await pass(env, 'setOracle', keyPayload(newOracle));
    expect(env.client.dac.oracleKeyHash.get()).toEqual(memberKey(newOracle));
    // A member whose machine never saw any of this rebuilds the same pool from the events alone.
    const { PoolClient } = await import('../../oracle/pool/client.js');
    const fresh = await PoolClient.open({ chain: env.chain, poster: env.poster, addresses: env.addresses });
    expect(fresh.mirror.params).toEqual(newParams);
    expect(fresh.mirror.members.root).toEqual(env.client.mirror.members.root);
    expect(fresh.mirror.proposals.map((p) => p.status)).toEqual(env.client.mirror.proposals.map((p) => p.status));
    // The removed member can come back: it keeps its registry index.
    const before = env.client.mirror.indexOf(leaving.toBase58());
    await pass(env, 'addMember', keyPayload(leaving));
    expect(env.client.mirror.indexOf(leaving.toBase58())).toBe(before);
    expect(env.client.mirror.memberCount).toBe(5);
  });
});

describe('PoolDac: rules at the time of the vote', () => {
  it('a defeated proposal stays defeated when quorum is lowered later; a passed one keeps its timelock', async () => {
    const env = await simulatedPool(4, { params: { timelock: 30 } });
    const defeated = await propose(env, 'amendConstitution', hashPayload(10));
    await run(env, () => env.client.vote(env.members[0]!, defeated, 'for')); // 1 of 4: below 50 %
    const kept = await propose(env, 'amendConstitution', hashPayload(11));
    for (const m of env.members.slice(0, 3)) await run(env, () => env.client.vote(m, kept, 'for'));
    // Meanwhile the members lower the quorum to 1 % and lengthen the timelock to 200 slots.
    const lower = await propose(env, 'setParameters', new ProposalPayload({ ...ProposalPayload.empty(), params: paramsFromJson({ ...env.params, quorumPercent: 1, timelock: 200 }) }));
    for (const m of env.members.slice(0, 3)) await run(env, () => env.client.vote(m, lower, 'for'));
    await advanceTo(env, Number(env.client.proposal(lower).record.opensAt.toBigint()));
    await run(env, () => env.client.execute(env.outsider, lower));
    expect(env.client.mirror.params.quorumPercent).toBe(1);
    // Judged by its own rules (50 %), the first is still defeated; the chain refuses it.
    await expectRefused(() => env.client.execute(env.outsider, defeated), /defeated/);
    await expectRefused(rawExecute(env, defeated), PoolDacErrors.quorum);
    // The second executes at the end of its own 30-slot timelock, not 200.
    const p = env.client.proposal(kept);
    expect(Number(p.record.opensAt.toBigint() - p.record.voteEnd.toBigint())).toBe(31);
    await advanceTo(env, Number(p.record.opensAt.toBigint()));
    await run(env, () => env.client.execute(env.outsider, kept));
    expect(env.client.dac.constitutionHash.get()).toEqual(Field(11));
  }, 300_000);

  it('members of the moment vote: a member removed later still votes on an earlier proposal, not on a later one', async () => {
    const env = await simulatedPool(3, { params: { quorumPercent: 30, votingPeriod: 60 } });
    const leaving = env.members[2]!;
    const removal = await propose(env, 'removeMember', keyPayload(leaving.toPublicKey()));
    await run(env, () => env.client.vote(env.members[0]!, removal, 'for'));
    await advanceTo(env, (await env.client.now()) + 50);
    const before = await propose(env, 'amendConstitution', hashPayload(22));
    await advanceTo(env, Number(env.client.proposal(removal).record.opensAt.toBigint()));
    await run(env, () => env.client.execute(env.outsider, removal));
    expect(env.client.mirror.isMember(leaving.toPublicKey().toBase58())).toBe(false);
    // It was a member when `before` was proposed: its vote counts.
    await run(env, () => env.client.vote(leaving, before, 'for'));
    expect(Number((await env.client.tally(before)).tally.for.toBigint())).toBe(1);
    // It was not when `after` was proposed: refused, on chain too.
    const after = await propose(env, 'amendConstitution', hashPayload(23));
    await expectRefused(() => env.client.vote(leaving, after, 'for'), /was not a member when proposal #\d+ was made/);
    const p = env.client.proposal(after);
    await expectRefused(() => rawTransaction(env, leaving, () => env.dac.vote(p.record, env.client.mirror.mapAt(p.record.membersRoot), UInt32.from(1)), { newAccounts: 1 }), PoolDacErrors.notMember);
  }, 300_000);
});

describe('PoolDac: concurrency under load', () => {
  it('N votes and M proposals built against the same state all apply, with a cancel and an execution in between', async () => {
    const env = await simulatedPool(29, { params: { quorumPercent: 10, votingPeriod: 40, timelock: 1 } });
    const toExecute = await propose(env, 'amendConstitution', hashPayload(32), env.members[2]);
    for (const m of env.members.slice(0, 3)) await run(env, () => env.client.vote(m, toExecute, 'for'));
    await advanceTo(env, (await env.client.now()) + 45);
    const target = await propose(env, 'amendConstitution', hashPayload(30));
    const toCancel = await propose(env, 'amendConstitution', hashPayload(31), env.members[1]);
    await advanceTo(env, Number(env.client.proposal(toExecute).record.opensAt.toBigint()));
    expect(await env.client.proposalState(target)).toBe('active');
    // Build everything against one state before sending anything (each member pays its own fee).
    const choices = ['for', 'against', 'abstain'] as const;
    const votes = [];
    for (const [i, m] of env.members.slice(8).entries()) votes.push(await env.poster.prepare((await env.client.vote(m, target, choices[i % 3]!)).request));
    const proposals = [];
    for (const [i, m] of env.members.slice(3, 8).entries()) proposals.push(await env.poster.prepare((await env.client.propose(m, 'amendConstitution', hashPayload(100 + i))).request));
    const cancel = await env.poster.prepare((await env.client.cancel(env.members[1]!, toCancel)).request);
    const execute = await env.poster.prepare((await env.client.execute(env.outsider, toExecute)).request);
    const order = [proposals[0]!, cancel, ...votes.slice(0, 7), proposals[1]!, execute, ...votes.slice(7, 14), proposals[2]!, proposals[3]!, ...votes.slice(14), proposals[4]!];
    for (const tx of order) await env.poster.send(tx);
    await env.client.sync();
    const { tally } = await env.client.tally(target);
    expect([tally.for, tally.against, tally.abstain].map((x) => Number(x.toBigint()))).toEqual([7, 7, 7]);
    expect(env.client.mirror.proposals).toHaveLength(3 + 5);
    expect(await env.client.proposalState(toCancel)).toBe('canceled');
    expect(await env.client.proposalState(toExecute)).toBe('executed');
    expect(env.client.dac.constitutionHash.get()).toEqual(Field(32));
  }, 600_000);
});
