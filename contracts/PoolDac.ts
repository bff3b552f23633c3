import {
  AccountUpdateForest,
  Bool,
  DeployArgs,
  Field,
  MerkleMapWitness,
  Provable,
  PublicKey,
  State,
  Struct,
  TokenContract,
  UInt32,
  UInt64,
  method,
  state,
} from 'o1js';
import {
  AccountTag,
  PoolParams,
  ProposalKind,
  ProposalPayload,
  ProposalRecord,
  ProposalStatus,
  ProposalWitness,
  VoteChoice,
  derivedAddress,
  poolContractPermissions,
  memberKey,
} from './types.js';

export const PoolDacErrors = {
  notMember: 'Sender is not a pool member',
  keyNotMember: 'Key is not a pool member',
  alreadyMember: 'Key is already a pool member',
  lastMember: 'The last member cannot be removed',
  memberWitness: 'Member witness does not match the members root',
  paramsMismatch: 'Parameters do not match the pool parameters hash',
  badKind: 'Unknown proposal kind',
  proposalSlotTaken: 'Proposal id is already used',
  unknownProposal: 'Proposal does not match the proposals tree',
  notActive: 'Proposal is not active: it was canceled or executed',
  votingNotOpen: 'Voting has not opened yet',
  votingClosed: 'Voting is closed',
  badChoice: 'Vote choice must be 0 (against), 1 (for) or 2 (abstain)',
  votingNotEnded: 'Voting has not ended yet',
  timelock: 'Timelock has not passed',
  expired: 'Proposal expired without being executed',
  quorum: 'Quorum not reached',
  approval: 'Approval threshold not reached',
  payloadMismatch: 'Payload does not match the proposal',
  notProposer: 'Only the proposer can cancel a proposal',
  tooLateToCancel: 'Voting has ended: the proposal can no longer be canceled',
  wrongOracle: 'Key is not the pool oracle',
  notRuling: 'Proposal is not an arbitration ruling',
  notExecuted: 'Ruling proposal has not been executed',
  noTransfers: 'Pool receipts and tallies cannot be transferred',
} as const;

/** Initial state of a pool, set at deployment. */
export interface PoolDacInit {
  constitutionHash: Field;
  membersRoot: Field;
  memberCount: UInt32;
  paramsHash: Field;
  oracleKeyHash: Field;
  proposalsRoot: Field;
}

/** The three vote counts of a proposal, read from its tally accounts. */
export class Tally extends Struct({ against: UInt64, for: UInt64, abstain: UInt64 }) {}

/**
 * The pool's constitution, members, parameters, oracle and governance.
 *
 * Votes are concurrent: a vote changes no state of this account. It creates a receipt
 * account (the voter's nullifier for that proposal: it must be new) and adds 1 to a tally
 * account of its choice; both are accounts of this contract's token at derived addresses
 * nobody holds a key for. So any number of members can build votes against the same
 * state and all of them count.
 */
export class PoolDac extends TokenContract {
  /** Hash of CONSTITUTION.md (first 31 bytes of its SHA-256, as a field). */
  @state(Field) constitutionHash = State<Field>();
  /** Member map: `memberKey(pk) → 1`. */
  @state(Field) membersRoot = State<Field>();
  @state(UInt32) memberCount = State<UInt32>();
  /** `PoolParams.hash()` of the current parameters. */
  @state(Field) paramsHash = State<Field>();
  /** `memberKey(oracle)` of the oracle key that signs epoch reports. */
  @state(Field) oracleKeyHash = State<Field>();
  /** Proposals tree: leaf `id` = `ProposalRecord.hash()`. */
  @state(Field) proposalsRoot = State<Field>();
  @state(UInt32) proposalCount = State<UInt32>();

  readonly events = {
    proposed: ProposedEvent,
    voted: VotedEvent,
    executed: ExecutedEvent,
    canceled: CanceledEvent,
  };

  /** Deploys the pool with its initial members, constitution, parameters and oracle. */
  async deploy(args: DeployArgs & { init: PoolDacInit }): Promise<void> {
    await super.deploy(args);
    this.account.permissions.set(poolContractPermissions());
    const init = args.init;
    this.constitutionHash.set(init.constitutionHash);
    this.membersRoot.set(init.membersRoot);
    this.memberCount.set(init.memberCount);
    this.paramsHash.set(init.paramsHash);
    this.oracleKeyHash.set(init.oracleKeyHash);
    this.proposalsRoot.set(init.proposalsRoot);
    this.proposalCount.set(UInt32.zero);
  }

  /** No token movement is ever approved: receipts and tallies only grow through pool methods. */
  async approveBase(_forest: AccountUpdateForest): Promise<void> {
    throw Error(PoolDacErrors.noTransfers);
  }

  /**
   * A member proposes. Voting opens now and closes `votingPeriod` slots later. The
   * proposer pays for the three tally accounts of the proposal.
   */
  @method async propose(kind: UInt32, payload: ProposalPayload, params: PoolParams, memberWitness: MerkleMapWitness, proposalWitness: ProposalWitness, now: UInt32) {
    const proposer = this.sender.getAndRequireSignature();
    this.requireMember(proposer, memberWitness, PoolDacErrors.notMember);
    this.requireParams(params);
    kind.assertLessThanOrEqual(UInt32.from(ProposalKind.arbitrationRuling), PoolDacErrors.badKind);

    const id = this.proposalCount.getAndRequireEquals();
    const root = this.proposalsRoot.getAndRequireEquals();
    proposalWitness.calculateIndex().assertEquals(id.value, PoolDacErrors.proposalSlotTaken);
    proposalWitness.calculateRoot(Field(0)).assertEquals(root, PoolDacErrors.proposalSlotTaken);

    const voteEnd = now.add(params.votingPeriod);
    this.network.globalSlotSinceGenesis.requireBetween(now, voteEnd);
    const record = new ProposalRecord({
      id,
      kind,
      payloadHash: payload.digest(),
      proposer,
      voteStart: now,
      voteEnd,
      memberCount: this.memberCount.getAndRequireEquals(),
      status: UInt32.from(ProposalStatus.active),
    });
    this.proposalsRoot.set(proposalWitness.calculateRoot(record.hash()));
    this.proposalCount.set(id.add(1));
    // Tally accounts start at 1, so a count is `balance − 1` and votes never create them.
    for (const choice of [VoteChoice.against, VoteChoice.for, VoteChoice.abstain]) {
      const tally = this.internal.mint({ address: tallyAddress(id, UInt32.from(choice)), amount: 1 });
      tally.account.isNew.requireEquals(Bool(true));
    }
    this.emitEvent('proposed', new ProposedEvent({ id, kind, proposer, payload, voteEnd }));
  }

  /** A member votes once on an active proposal: 0 against, 1 for, 2 abstain. */
  @method async vote(record: ProposalRecord, proposalWitness: ProposalWitness, memberWitness: MerkleMapWitness, choice: UInt32, now: UInt32) {
    const voter = this.sender.getAndRequireSignature();
    this.requireMember(voter, memberWitness, PoolDacErrors.notMember);
    this.requireProposal(record, proposalWitness);
    record.status.equals(UInt32.from(ProposalStatus.active)).assertTrue(PoolDacErrors.notActive);
    choice.assertLessThanOrEqual(UInt32.from(VoteChoice.abstain), PoolDacErrors.badChoice);
    now.assertGreaterThanOrEqual(record.voteStart, PoolDacErrors.votingNotOpen);
    now.assertLessThanOrEqual(record.voteEnd, PoolDacErrors.votingClosed);
    this.network.globalSlotSinceGenesis.requireBetween(now, record.voteEnd);

    const receipt = this.internal.mint({ address: voteReceiptAddress(record.id, voter), amount: 1 });
    receipt.account.isNew.requireEquals(Bool(true));
    this.internal.mint({ address: tallyAddress(record.id, choice), amount: 1 });
    this.emitEvent('voted', new VotedEvent({ id: record.id, voter, choice }));
  }

  /**
   * Anyone executes a succeeded proposal once, after the timelock and before it expires.
   * `params` are the current parameters; `memberWitness` is used by add/remove member.
   */
  @method async execute(record: ProposalRecord, proposalWitness: ProposalWitness, payload: ProposalPayload, params: PoolParams, tally: Tally, memberWitness: MerkleMapWitness, now: UInt32) {
    this.requireParams(params);
    this.requireProposal(record, proposalWitness);
    record.status.equals(UInt32.from(ProposalStatus.active)).assertTrue(PoolDacErrors.notActive);
    payload.digest().assertEquals(record.payloadHash, PoolDacErrors.payloadMismatch);

    const opensAt = record.voteEnd.add(params.timelock).add(1);
    const closesAt = opensAt.add(params.executionWindow);
    now.assertGreaterThanOrEqual(opensAt, PoolDacErrors.timelock);
    now.assertLessThanOrEqual(closesAt, PoolDacErrors.expired);
    this.network.globalSlotSinceGenesis.requireBetween(now, closesAt);

    // Read the tallies from their accounts (balance = count + 1).
    this.requireTally(record.id, VoteChoice.against, tally.against);
    this.requireTally(record.id, VoteChoice.for, tally.for);
    this.requireTally(record.id, VoteChoice.abstain, tally.abstain);
    const cast = tally.against.add(tally.for).add(tally.abstain);
    cast.mul(100).assertGreaterThanOrEqual(record.memberCount.toUInt64().mul(params.quorumPercent.toUInt64()), PoolDacErrors.quorum);
    tally.for.assertGreaterThan(UInt64.zero, PoolDacErrors.approval);
    tally.for.mul(100).assertGreaterThanOrEqual(tally.for.add(tally.against).mul(params.approvalPercent.toUInt64()), PoolDacErrors.approval);

    this.applyPayload(record.kind, payload, memberWitness);
    this.proposalsRoot.set(proposalWitness.calculateRoot(record.withStatus(ProposalStatus.executed).hash()));
    this.emitEvent('executed', new ExecutedEvent({ id: record.id, kind: record.kind }));
  }

  /** The proposer cancels its proposal while voting is still open. */
  @method async cancel(record: ProposalRecord, proposalWitness: ProposalWitness, now: UInt32) {
    const sender = this.sender.getAndRequireSignature();
    this.requireProposal(record, proposalWitness);
    sender.equals(record.proposer).assertTrue(PoolDacErrors.notProposer);
    record.status.equals(UInt32.from(ProposalStatus.active)).assertTrue(PoolDacErrors.notActive);
    now.assertLessThanOrEqual(record.voteEnd, PoolDacErrors.tooLateToCancel);
    this.network.globalSlotSinceGenesis.requireBetween(now, record.voteEnd);
    this.proposalsRoot.set(proposalWitness.calculateRoot(record.withStatus(ProposalStatus.canceled).hash()));
    this.emitEvent('canceled', new CanceledEvent({ id: record.id }));
  }

  /** For the reward pool: proves `member` is a member (changes nothing). */
  @method async assertMember(member: PublicKey, memberWitness: MerkleMapWitness) {
    this.requireMember(member, memberWitness, PoolDacErrors.keyNotMember);
  }

  /** For the reward pool: proves `oracle` is the pool oracle and `params` the current parameters. */
  @method async assertReportAuthority(oracle: PublicKey, params: PoolParams) {
    this.oracleKeyHash.getAndRequireEquals().assertEquals(memberKey(oracle), PoolDacErrors.wrongOracle);
    this.requireParams(params);
  }

  /** For the reward pool: proves an arbitration ruling with this payload was executed. */
  @method async assertRulingExecuted(record: ProposalRecord, proposalWitness: ProposalWitness, payload: ProposalPayload) {
    this.requireProposal(record, proposalWitness);
    record.kind.equals(UInt32.from(ProposalKind.arbitrationRuling)).assertTrue(PoolDacErrors.notRuling);
    record.status.equals(UInt32.from(ProposalStatus.executed)).assertTrue(PoolDacErrors.notExecuted);
    payload.digest().assertEquals(record.payloadHash, PoolDacErrors.payloadMismatch);
  }

  private requireMember(member: PublicKey, witness: MerkleMapWitness, error: string) {
    const [root, key] = witness.computeRootAndKey(Field(1)) as [Field, Field];
    key.assertEquals(memberKey(member), PoolDacErrors.memberWitness);
    root.assertEquals(this.membersRoot.getAndRequireEquals(), error);
  }

  private requireParams(params: PoolParams) {
    params.hash().assertEquals(this.paramsHash.getAndRequireEquals(), PoolDacErrors.paramsMismatch);
  }

  private requireProposal(record: ProposalRecord, witness: ProposalWitness) {
    witness.calculateIndex().assertEquals(record.id.value, PoolDacErrors.unknownProposal);
    witness.calculateRoot(record.hash()).assertEquals(this.proposalsRoot.getAndRequireEquals(), PoolDacErrors.unknownProposal);
  }

  private requireTally(id: UInt32, choice: number, count: UInt64) {
    const account = this.internal.mint({ address: tallyAddress(id, UInt32.from(choice)), amount: 0 });
    account.account.balance.requireEquals(count.add(1));
  }

  /** Applies an executed proposal's payload; every kind is computed, the right one kept. */
  private applyPayload(kind: UInt32, payload: ProposalPayload, memberWitness: MerkleMapWitness) {
    const is = (k: number) => kind.equals(UInt32.from(k));
    const adding = is(ProposalKind.addMember);
    const removing = is(ProposalKind.removeMember);
    const changesMembers = adding.or(removing);

    const membersRoot = this.membersRoot.getAndRequireEquals();
    const count = this.memberCount.getAndRequireEquals();
    const before = Provable.if(adding, Field(0), Field(1));
    const after = Provable.if(adding, Field(1), Field(0));
    const [rootBefore, key] = memberWitness.computeRootAndKey(before) as [Field, Field];
    const [rootAfter] = memberWitness.computeRootAndKey(after) as [Field, Field];
    key.equals(memberKey(payload.key)).or(changesMembers.not()).assertTrue(PoolDacErrors.memberWitness);
    rootBefore.equals(membersRoot).or(adding.not()).assertTrue(PoolDacErrors.alreadyMember);
    rootBefore.equals(membersRoot).or(removing.not()).assertTrue(PoolDacErrors.keyNotMember);
    count.greaterThan(UInt32.from(1)).or(removing.not()).assertTrue(PoolDacErrors.lastMember);
    this.membersRoot.set(Provable.if(changesMembers, rootAfter, membersRoot));
    this.memberCount.set(Provable.if(adding, count.add(1), Provable.if(removing, count.sub(1), count)));

    const constitution = this.constitutionHash.getAndRequireEquals();
    this.constitutionHash.set(Provable.if(is(ProposalKind.amendConstitution), payload.hash, constitution));
    const paramsHash = this.paramsHash.getAndRequireEquals();
    this.paramsHash.set(Provable.if(is(ProposalKind.setParameters), payload.hash, paramsHash));
    const oracle = this.oracleKeyHash.getAndRequireEquals();
    this.oracleKeyHash.set(Provable.if(is(ProposalKind.setOracle), memberKey(payload.key), oracle));
    // An arbitration ruling changes nothing here: the reward pool applies it (applyRuling).
  }
}

/** Address of the tally account counting `choice` votes on proposal `id`. */
export function tallyAddress(id: UInt32, choice: UInt32): PublicKey {
  return derivedAddress([AccountTag.tally, id.value, choice.value]);
}

/** Address of `voter`'s receipt for proposal `id`: it exists once the member has voted. */
export function voteReceiptAddress(id: UInt32, voter: PublicKey): PublicKey {
  return derivedAddress([AccountTag.voteReceipt, id.value, ...voter.toFields()]);
}

export class ProposedEvent extends Struct({ id: UInt32, kind: UInt32, proposer: PublicKey, payload: ProposalPayload, voteEnd: UInt32 }) {}
export class VotedEvent extends Struct({ id: UInt32, voter: PublicKey, choice: UInt32 }) {}
export class ExecutedEvent extends Struct({ id: UInt32, kind: UInt32 }) {}
export class CanceledEvent extends Struct({ id: UInt32 }) {}
