import {
  AccountUpdateForest,
  Bool,
  DeployArgs,
  Field,
  Provable,
  PublicKey,
  State,
  Struct,
  TokenContract,
  UInt32,
  UInt64,
  VerificationKey,
  method,
  state,
} from 'o1js';
import {
  AccountTag,
  INCLUSION_SLACK,
  LAST_KIND,
  MAX_REGISTERED,
  MemberMap,
  PAYLOAD_EVENT_FIELDS,
  payloadEventFields,
  PoolParams,
  ProposalKind,
  ProposalPayload,
  ProposalRecord,
  RegistrySnapshot,
  Ruling,
  Tally,
  TallyUnits,
  UpgradeTarget,
  VoteChoice,
  appliedReceiptAddress,
  memberEntry,
  memberEntryIn,
  memberEntryOf,
  memberKey,
  deployAsPoolContract,
  tallyAddress,
  voteReceiptAddress,
} from './types.js';

export const PoolDacErrors = {
  notMember: 'Sender is not a pool member',
  membersMismatch: 'Member map does not match the members root',
  paramsMismatch: 'Parameters do not match the pool parameters hash',
  badKind: 'Unknown proposal kind',
  alreadyMember: 'Key is already a pool member',
  keyNotMember: 'Key is not a pool member',
  registryFull: 'The member registry is full',
  lastMember: 'The last member cannot be removed',
  badParams: 'Parameters out of range',
  badKey: 'Key is not a valid public key',
  badDecision: 'Ruling decision must be 0 (uphold) or 1 (replace)',
  badDispute: 'A ruling answers a dispute numbered from 1',
  badAmount: 'A spend must be of a positive amount',
  badTarget: 'Upgrade target must be 0 (PoolDac) or 1 (RewardPool)',
  notActive: 'Proposal is not open: unknown, canceled or executed',
  badChoice: 'Vote choice must be 0 (against), 1 (for) or 2 (abstain)',
  notProposer: 'Only the proposer can cancel a proposal',
  tallyMismatch: 'Tally does not match the tally account',
  quorum: 'Quorum not reached',
  approval: 'Approval threshold not reached',
  payloadMismatch: 'Payload does not match the proposal',
  notExecuted: 'Proposal has not been executed',
  notUpgrade: 'Proposal is not an upgrade of this contract',
  vkMismatch: 'Verification key does not match the proposal',
  wrongOracle: 'Key is not the pool oracle',
  noTransfers: 'Pool tallies and receipts cannot be transferred',
} as const;

/** Initial state of a pool, set at deployment. */
export interface PoolDacInit {
  constitutionHash: Field;
  members: MemberMap;
  memberCount: UInt32;
  params: PoolParams;
  oracle: PublicKey;
}

/** At most this many initial members fit in the deploy transaction's events (7 per event). */
export const MAX_INITIAL_MEMBERS = 35;
const KEYS_PER_EVENT = 7;

/**
 * The pool's constitution, members, parameters, oracle and governance.
 *
 * A proposal is an account of this contract's token (its tally) at an address derived
 * from the proposal's record; the record carries the rules in force when it was made and
 * the member map of that moment. Votes read no state of this account: a vote creates the
 * voter's receipt (a new account: one vote per member) and adds to the tally, whose balance
 * only grows while the proposal is open. So any number of votes, and of proposals, built
 * against the same state all apply, whatever else lands in the same block.
 */
export class PoolDac extends TokenContract {
  /** Hash of CONSTITUTION.md (first 31 bytes of its SHA-256, as a field). */
  @state(Field) constitutionHash = State<Field>();
  /** Root of the member map (`MemberMap`). */
  @state(Field) membersRoot = State<Field>();
  /** Active members. */
  @state(UInt32) memberCount = State<UInt32>();
  /** Keys ever registered (the next registry index). */
  @state(UInt32) registered = State<UInt32>();
  /** `PoolParams.hash()` of the current parameters. */
  @state(Field) paramsHash = State<Field>();
  /** `memberKey(oracle)` of the oracle key that signs epoch reports. */
  @state(Field) oracleKeyHash = State<Field>();

  readonly events = {
    configured: ConfiguredEvent,
    parameters: ParametersEvent,
    members: MembersEvent,
    proposed: ProposedEvent,
    payloadA: PayloadEvent,
    payloadB: PayloadEvent,
    payloadC: PayloadEvent,
    voted: VotedEvent,
    executed: ExecutedEvent,
    canceled: CanceledEvent,
    upgraded: UpgradedEvent,
  };

  /**
   * Deploys the pool with its initial members, constitution, parameters and oracle, and
   * publishes them as events. The account may already exist (anyone can send MINA to an
   * address): the deploy does not require it to be new.
   */
  async deploy(args: DeployArgs & { init: PoolDacInit; initialMembers: PublicKey[] }): Promise<void> {
    await super.deploy(args);
    deployAsPoolContract(this.self);
    const { init } = args;
    this.constitutionHash.set(init.constitutionHash);
    this.membersRoot.set(init.members.root);
    this.memberCount.set(init.memberCount);
    this.registered.set(init.memberCount);
    this.paramsHash.set(init.params.hash());
    this.oracleKeyHash.set(memberKey(init.oracle));
    this.emitEvent('configured', new ConfiguredEvent({ constitutionHash: init.constitutionHash, oracle: init.oracle, memberCount: init.memberCount }));
    this.emitEvent('parameters', new ParametersEvent({ id: Field(0), params: init.params }));
    for (let i = 0; i < args.initialMembers.length; i += KEYS_PER_EVENT) {
      const keys = args.initialMembers.slice(i, i + KEYS_PER_EVENT);
      while (keys.length < KEYS_PER_EVENT) keys.push(PublicKey.empty());
      this.emitEvent('members', new MembersEvent({ first: UInt32.from(i), keys }));
    }
  }

  /** No token movement is ever approved: tallies and receipts change only through pool methods. */
  async approveBase(_forest: AccountUpdateForest): Promise<void> {
    throw Error(PoolDacErrors.noTransfers);
  }

  /**
   * A member proposes. The payload is checked now (a proposal that could never execute
   * is refused); voting opens at `now` and lasts `votingPeriod` slots after inclusion
   * (plus at most the slack). The proposer pays for the tally account.
   */
  @method async propose(kind: UInt32, payload: ProposalPayload, params: PoolParams, members: MemberMap, now: UInt32) {
    const proposer = this.sender.getAndRequireSignature();
    this.currentSlot.requireBetween(now, now.add(INCLUSION_SLACK));
    this.requireParams(params);
    this.requireMembers(members);
    memberEntryIn(members, proposer, PoolDacErrors.notMember).active.assertTrue(PoolDacErrors.notMember);
    kind.assertLessThanOrEqual(UInt32.from(LAST_KIND), PoolDacErrors.badKind);
    this.checkPayload(kind, payload, members);

    const voteEnd = now.add(INCLUSION_SLACK).add(params.votingPeriod);
    const opensAt = voteEnd.add(params.timelock).add(1);
    const record = new ProposalRecord({
      kind,
      payloadHash: payload.digest(),
      proposer,
      voteStart: now,
      voteEnd,
      opensAt,
      closesAt: opensAt.add(params.executionWindow),
      membersRoot: members.root,
      memberCount: this.memberCount.getAndRequireEquals(),
      quorumPercent: params.quorumPercent,
      approvalPercent: params.approvalPercent,
    });
    const id = record.id();
    const tally = this.internal.mint({ address: tallyAddress(id), amount: UInt64.from(TallyUnits.active) });
    tally.account.isNew.requireEquals(Bool(true));
    this.emitEvent('proposed', new ProposedEvent({ id, record: { ...record, payloadHash: Field(0) } as ProposalRecord }));
    const [a, b, c] = payloadEventFields(payload) as [Field[], Field[], Field[]];
    this.emitEvent('payloadA', new PayloadEvent({ id, fields: a }));
    this.emitEvent('payloadB', new PayloadEvent({ id, fields: b }));
    this.emitEvent('payloadC', new PayloadEvent({ id, fields: c }));
  }

  /**
   * A member of the proposal's member map votes once, while voting is open: 0 against,
   * 1 for, 2 abstain. Reads no state: the record is genuine if its tally account exists.
   */
  @method async vote(record: ProposalRecord, members: MemberMap, choice: UInt32) {
    const voter = this.sender.getAndRequireSignature();
    members.root.assertEquals(record.membersRoot, PoolDacErrors.membersMismatch);
    memberEntryOf(members, voter).active.assertTrue(PoolDacErrors.notMember);
    choice.assertLessThanOrEqual(UInt32.from(VoteChoice.abstain), PoolDacErrors.badChoice);
    this.currentSlot.requireBetween(record.voteStart, record.voteEnd);

    const id = record.id();
    const receipt = this.internal.mint({ address: voteReceiptAddress(id, voter), amount: UInt64.one });
    receipt.account.isNew.requireEquals(Bool(true));
    const units = Provable.switch(
      [choice.equals(UInt32.from(VoteChoice.against)), choice.equals(UInt32.from(VoteChoice.for)), choice.equals(UInt32.from(VoteChoice.abstain))],
      UInt64,
      [UInt64.from(TallyUnits.against), UInt64.from(TallyUnits.for), UInt64.from(TallyUnits.abstain)],
    );
    this.requireOpen(this.internal.mint({ address: tallyAddress(id), amount: units }));
    this.emitEvent('voted', new VotedEvent({ id, voter, choice }));
  }

  /** The proposer cancels its proposal while voting is open. */
  @method async cancel(record: ProposalRecord) {
    const sender = this.sender.getAndRequireSignature();
    sender.equals(record.proposer).assertTrue(PoolDacErrors.notProposer);
    this.currentSlot.requireBetween(UInt32.zero, record.voteEnd);
    const id = record.id();
    this.requireOpen(this.internal.mint({ address: tallyAddress(id), amount: UInt64.from(TallyUnits.canceled) }));
    this.emitEvent('canceled', new CanceledEvent({ id }));
  }

  /**
   * Anyone executes a passed proposal once, between the end of its timelock and its
   * expiry, judged by the rules in its record. Member, constitution, parameter and oracle
   * changes apply here; rulings, spends and RewardPool upgrades are then applied once by
   * the contract they concern. `members` is the current member map (used by add/remove).
   */
  @method async execute(record: ProposalRecord, payload: ProposalPayload, tally: Tally, members: MemberMap) {
    payload.digest().assertEquals(record.payloadHash, PoolDacErrors.payloadMismatch);
    this.currentSlot.requireBetween(record.opensAt, record.closesAt);
    for (const count of [tally.for, tally.against, tally.abstain]) count.assertLessThan(UInt32.from(TallyUnits.countLimit), PoolDacErrors.tallyMismatch);
    const account = this.internal.mint({ address: tallyAddress(record.id()), amount: UInt64.from(TallyUnits.executed) });
    account.account.isNew.requireEquals(Bool(false));
    account.account.balance.requireEquals(tally.balance());

    const cast = tally.for.toUInt64().add(tally.against.toUInt64()).add(tally.abstain.toUInt64());
    cast.mul(100).assertGreaterThanOrEqual(record.memberCount.toUInt64().mul(record.quorumPercent.toUInt64()), PoolDacErrors.quorum);
    tally.for.assertGreaterThan(UInt32.zero, PoolDacErrors.approval);
    tally.for.toUInt64().mul(100).assertGreaterThanOrEqual(tally.for.toUInt64().add(tally.against.toUInt64()).mul(record.approvalPercent.toUInt64()), PoolDacErrors.approval);

    this.applyPayload(record.kind, payload, members);
    this.emitEvent('executed', new ExecutedEvent({ id: record.id(), kind: record.kind }));
  }

  /**
   * Applies a passed upgrade of this contract, once: sets the verification key that was
   * voted for. Nobody can change the code otherwise.
   */
  @method async upgrade(record: ProposalRecord, payload: ProposalPayload, vk: VerificationKey) {
    const id = this.requireExecuted(record, payload.digest());
    record.kind.equals(UInt32.from(ProposalKind.upgrade)).assertTrue(PoolDacErrors.notUpgrade);
    payload.target.equals(UInt32.from(UpgradeTarget.PoolDac)).assertTrue(PoolDacErrors.notUpgrade);
    vk.hash.assertEquals(payload.hash, PoolDacErrors.vkMismatch);
    const receipt = this.internal.mint({ address: appliedReceiptAddress(AccountTag.upgradeReceipt, id), amount: UInt64.one });
    receipt.account.isNew.requireEquals(Bool(true));
    this.account.verificationKey.set(vk);
    this.emitEvent('upgraded', new UpgradedEvent({ id, vkHash: vk.hash }));
  }

  /** For RewardPool: proves a proposal with this payload digest was executed (changes nothing). */
  @method async assertExecuted(record: ProposalRecord, payloadDigest: Field) {
    this.requireExecuted(record, payloadDigest);
  }

  /**
   * For RewardPool: proves `oracle` is the pool oracle and `params` the current
   * parameters, and returns the member map and its registered count (the report's registry).
   */
  @method.returns(RegistrySnapshot)
  async reportAuthority(oracle: PublicKey, params: PoolParams): Promise<RegistrySnapshot> {
    this.oracleKeyHash.getAndRequireEquals().assertEquals(memberKey(oracle), PoolDacErrors.wrongOracle);
    this.requireParams(params);
    return new RegistrySnapshot({ root: this.membersRoot.getAndRequireEquals(), registered: this.registered.getAndRequireEquals() });
  }

  private requireParams(params: PoolParams) {
    params.hash().assertEquals(this.paramsHash.getAndRequireEquals(), PoolDacErrors.paramsMismatch);
  }

  private requireMembers(members: MemberMap) {
    members.root.assertEquals(this.membersRoot.getAndRequireEquals(), PoolDacErrors.membersMismatch);
  }

  /** The tally account must hold an open proposal: created, neither canceled nor executed. */
  private requireOpen(tally: ReturnType<PoolDac['internal']['mint']>) {
    tally.account.isNew.requireEquals(Bool(false));
    tally.account.balance.requireBetween(UInt64.from(TallyUnits.active), UInt64.from(TallyUnits.active + TallyUnits.canceled - 1n));
  }

  /** Requires the proposal executed (its tally in the executed range); returns its id. */
  private requireExecuted(record: ProposalRecord, payloadDigest: Field): Field {
    payloadDigest.assertEquals(record.payloadHash, PoolDacErrors.payloadMismatch);
    const id = record.id();
    const tally = this.internal.mint({ address: tallyAddress(id), amount: UInt64.zero });
    tally.account.isNew.requireEquals(Bool(false));
    const executed = TallyUnits.active + TallyUnits.executed;
    tally.account.balance.requireBetween(UInt64.from(executed), UInt64.from(executed + TallyUnits.canceled - 1n));
    return id;
  }

  /** Checks at proposal time that the payload can execute, whatever its kind. */
  private checkPayload(kind: UInt32, payload: ProposalPayload, members: MemberMap) {
    const is = (k: number) => kind.equals(UInt32.from(k));
    const entry = members.getOption(memberKey(payload.key));
    const active = entry.isSome.and(memberEntry(entry.orElse(Field(0))).active);
    is(ProposalKind.addMember).not().or(active.not()).assertTrue(PoolDacErrors.alreadyMember);
    const registering = is(ProposalKind.addMember).and(entry.isSome.not());
    registering.not().or(this.registered.getAndRequireEquals().lessThan(UInt32.from(MAX_REGISTERED))).assertTrue(PoolDacErrors.registryFull);
    is(ProposalKind.removeMember).not().or(active).assertTrue(PoolDacErrors.keyNotMember);
    is(ProposalKind.removeMember).not().or(this.memberCount.getAndRequireEquals().greaterThan(UInt32.one)).assertTrue(PoolDacErrors.lastMember);
    const setParams = is(ProposalKind.setParameters);
    setParams.not().or(payload.params.inBounds()).assertTrue(PoolDacErrors.badParams);
    // A key that will receive MINA or sign must be a curve point (the operator, the oracle, a spend's receiver, a member).
    const usesKey = is(ProposalKind.setOracle).or(is(ProposalKind.treasurySpend)).or(is(ProposalKind.addMember));
    Provable.if(usesKey, payload.key, this.address).toGroup();
    Provable.if(setParams, payload.params.operator, this.address).toGroup();
    const ruling = is(ProposalKind.arbitrationRuling);
    ruling.not().or(payload.ruling.decision.lessThanOrEqual(UInt32.from(Ruling.replace))).assertTrue(PoolDacErrors.badDecision);
    ruling.not().or(payload.ruling.dispute.greaterThan(UInt32.zero)).assertTrue(PoolDacErrors.badDispute);
    is(ProposalKind.treasurySpend).not().or(payload.amount.greaterThan(UInt64.zero)).assertTrue(PoolDacErrors.badAmount);
    is(ProposalKind.upgrade).not().or(payload.target.lessThanOrEqual(UInt32.from(UpgradeTarget.RewardPool))).assertTrue(PoolDacErrors.badTarget);
  }

  /** Applies an executed proposal's effect on this contract's state; every kind is computed, the right one kept. */
  private applyPayload(kind: UInt32, payload: ProposalPayload, members: MemberMap) {
    const is = (k: number) => kind.equals(UInt32.from(k));
    const adding = is(ProposalKind.addMember);
    const removing = is(ProposalKind.removeMember);
    const changesMembers = adding.or(removing);

    const membersRoot = this.membersRoot.getAndRequireEquals();
    members.root.equals(membersRoot).or(changesMembers.not()).assertTrue(PoolDacErrors.membersMismatch);
    const count = this.memberCount.getAndRequireEquals();
    const registered = this.registered.getAndRequireEquals();
    const key = memberKey(payload.key);
    const entry = members.getOption(key);
    const value = entry.orElse(Field(0));
    const active = entry.isSome.and(memberEntry(value).active);
    adding.not().or(active.not()).assertTrue(PoolDacErrors.alreadyMember);
    const registering = adding.and(entry.isSome.not());
    registering.not().or(registered.lessThan(UInt32.from(MAX_REGISTERED))).assertTrue(PoolDacErrors.registryFull);
    removing.not().or(active).assertTrue(PoolDacErrors.keyNotMember);
    removing.not().or(count.greaterThan(UInt32.one)).assertTrue(PoolDacErrors.lastMember);
    // Add: a new key gets the next registry index; a returning one keeps its index.
    const newValue = Provable.if(registering, registered.value.mul(2).add(1), Provable.if(adding, value.add(1), value.sub(1)));
    members.setIf(changesMembers, key, newValue);
    this.membersRoot.set(Provable.if(changesMembers, members.root, membersRoot));
    this.memberCount.set(Provable.if(adding, count.add(1), Provable.if(removing, count.sub(Provable.if(removing, UInt32.one, UInt32.zero)), count)));
    this.registered.set(Provable.if(registering, registered.add(1), registered));

    const constitution = this.constitutionHash.getAndRequireEquals();
    this.constitutionHash.set(Provable.if(is(ProposalKind.amendConstitution), payload.hash, constitution));
    const paramsHash = this.paramsHash.getAndRequireEquals();
    this.paramsHash.set(Provable.if(is(ProposalKind.setParameters), payload.params.hash(), paramsHash));
    const oracle = this.oracleKeyHash.getAndRequireEquals();
    this.oracleKeyHash.set(Provable.if(is(ProposalKind.setOracle), key, oracle));
    // Rulings, spends and RewardPool upgrades change nothing here: RewardPool applies them once.
  }
}

export class ConfiguredEvent extends Struct({ constitutionHash: Field, oracle: PublicKey, memberCount: UInt32 }) {}
/** Full parameters: at deployment (`id` 0) and in every set-parameters proposal's payload. */
export class ParametersEvent extends Struct({ id: Field, params: PoolParams }) {}
/** Initial members in registry order, seven per event from index `first` (empty keys pad the last). */
export class MembersEvent extends Struct({ first: UInt32, keys: Provable.Array(PublicKey, KEYS_PER_EVENT) }) {}
/** A proposal's record (its `payloadHash` left zero: the payload events carry the payload). */
export class ProposedEvent extends Struct({ id: Field, record: ProposalRecord }) {}
/** Half of a proposal's payload fields (`payloadA` the first, `payloadB` the second). */
export class PayloadEvent extends Struct({ id: Field, fields: Provable.Array(Field, PAYLOAD_EVENT_FIELDS) }) {}
export class VotedEvent extends Struct({ id: Field, voter: PublicKey, choice: UInt32 }) {}
export class ExecutedEvent extends Struct({ id: Field, kind: UInt32 }) {}
export class CanceledEvent extends Struct({ id: Field }) {}
export class UpgradedEvent extends Struct({ id: Field, vkHash: Field }) {}
