import {
  AccountUpdateForest,
  Bool,
  DeployArgs,
  Field,
  MerkleTree,
  Poseidon,
  Provable,
  PublicKey,
  Signature,
  State,
  Struct,
  TokenContract,
  UInt32,
  UInt64,
  VerificationKey,
  method,
  state,
} from 'o1js';
import { BackfillRegistry, RecordWitness } from './BackfillRegistry.js';
import { BITMAP_BITS, Bitmap } from './Bitmap.js';
import { DesignatedProducerProof } from './DesignatedProducer.js';
import { PoolDac } from './PoolDac.js';
import {
  AccountTag,
  EpochReport,
  INCLUSION_SLACK,
  MemberMap,
  NANOMINA_PER_MILLIMINA,
  PoolParams,
  ProposalKind,
  ProposalPayload,
  ProposalRecord,
  REPORT_TREE_HEIGHT,
  ReportRecord,
  ReportWitness,
  Ruling,
  SLOTS_PER_EPOCH,
  SignedBlockProposal,
  UpgradeTarget,
  appliedReceiptAddress,
  backfillReceiptAddress,
  claimReceiptAddress,
  claimsAddress,
  memberEntryIn,
  memberEntryOf,
  paidCounterAddress,
  deployAsPoolContract,
  poolTagOf,
} from './types.js';

export const RewardPoolErrors = {
  badSignature: 'Report is not signed by the pool oracle',
  epochNotEnded: 'Epoch has not ended on chain',
  epochNotIncreasing: 'Epoch must be greater than the last reported epoch',
  epochSlotTaken: 'Epoch already has a report',
  unknownReport: 'Report does not match the reports tree',
  previousUnknown: 'Previous report does not match the reports tree',
  previousDisputed: 'The previous epoch is disputed: a ruling must come first',
  previousOpen: 'The previous epoch is still in its challenge window',
  disputed: 'Epoch is disputed: claims wait for a ruling',
  notMember: 'Sender was not a member when the report was posted',
  registryMismatch: 'Member map does not match the report\'s registry',
  notEligible: 'Sender is not eligible in this epoch',
  unregistered: 'Eligibility names a registry index that no registered key holds',
  notOpen: 'Claims are not open for this report',
  nothingToClaim: 'Nothing to claim: the share is zero',
  alreadyDisputed: 'Epoch is already disputed',
  badProposalSignature: 'Proposal signature does not verify for that member',
  differentSlots: 'The two proposals are for different slots',
  sameBlock: 'The two proposals are for the same block',
  slotNotInEpoch: 'The slot is not in this epoch',
  memberNotEligible: 'Member is not eligible in this epoch (or already slashed)',
  notDisputed: 'Epoch is not disputed',
  notRuling: 'Proposal is not an arbitration ruling',
  rulingEpoch: 'Ruling is for another epoch',
  rulingDispute: 'Ruling answers another dispute of this epoch',
  notSpend: 'Proposal is not a treasury spend',
  notUpgrade: 'Proposal is not an upgrade of RewardPool',
  vkMismatch: 'Verification key does not match the proposal',
  wrongRegistry: 'Not the pool\'s backfill registry',
  noTransfers: 'Reward pool receipts and counters cannot be transferred',
} as const;

const EMPTY_REPORTS_ROOT = new MerkleTree(REPORT_TREE_HEIGHT).getRoot();

/** Initial state of the reward pool. */
export interface RewardPoolInit {
  dac: PublicKey;
  /** The pool's BackfillRegistry (fixed at deployment). */
  registry: PublicKey;
}

/**
 * The pool's treasury: epoch reports from the oracle, even shares claimed once per
 * member, the operator's fee, arbitration (disputes, equivocation slashing, rulings) and
 * treasury spending by vote. Coinbase rewards reach it through the vault (`PoolVault`).
 *
 * Claims read no state that changes (only `paidCounter`, set at deployment): once a report
 * is final, `openClaims` creates its claims account at an address derived from the final
 * record; a claim creates the member's
 * receipt (one claim per member), adds its share to that account (whose balance may never
 * pass the report's total) and to the paid counter, and sends the share. So any number of
 * claims built against the same state all apply, whatever else lands in the same block.
 */
export class RewardPool extends TokenContract {
  /** The PoolDac this pool belongs to. */
  @state(PublicKey) dac = State<PublicKey>();
  /** Reports tree: leaf `epoch` = `ReportRecord.hash()`. */
  @state(Field) reportsRoot = State<Field>();
  /** Last reported epoch + 1 (0 before the first report). */
  @state(UInt32) nextEpoch = State<UInt32>();
  /** Sum of all reported rewards, in nanomina. */
  @state(UInt64) totalReported = State<UInt64>();
  /** The paid counter's address (set at deployment, never changed: reading it conflicts with nothing). */
  @state(PublicKey) paidCounter = State<PublicKey>();
  /** Hash of the BackfillRegistry's address (set at deployment, never changed). */
  @state(Field) registry = State<Field>();

  readonly events = {
    reportPosted: ReportPostedEvent,
    eligible: EligibleEvent,
    claimsOpened: ClaimsOpenedEvent,
    claimed: ClaimedEvent,
    disputed: DisputedEvent,
    slashed: SlashedEvent,
    ruled: RuledEvent,
    deposited: DepositedEvent,
    spent: SpentEvent,
    upgraded: UpgradedEvent,
    compensated: CompensatedEvent,
  };

  /**
   * Deploys the treasury for `init.dac`. The paid counter is opened by `openCounter` in
   * the same transaction (see `deployPool`). The account may already exist.
   */
  async deploy(args: DeployArgs & { init: RewardPoolInit }): Promise<void> {
    await super.deploy(args);
    deployAsPoolContract(this.self);
    this.dac.set(args.init.dac);
    this.reportsRoot.set(EMPTY_REPORTS_ROOT);
    this.nextEpoch.set(UInt32.zero);
    this.totalReported.set(UInt64.zero);
    this.paidCounter.set(paidCounterAddress(this.address));
    this.registry.set(Poseidon.hash(args.init.registry.toFields()));
  }

  /** Creates the paid counter (balance = 1 + paid); part of the deploy transaction. */
  @method async openCounter() {
    // In the deploy transaction, where the state that deploy sets cannot be read yet: derived again.
    const counter = this.internal.mint({ address: paidCounterAddress(this.address), amount: UInt64.one });
    counter.account.isNew.requireEquals(Bool(true));
  }

  /** No token movement is ever approved: receipts and counters only come from pool methods. */
  async approveBase(_forest: AccountUpdateForest): Promise<void> {
    throw Error(RewardPoolErrors.noTransfers);
  }

  /**
   * Adds `amount` to the pool; whoever calls it pays it in the same transaction (a
   * member's signed payment, or the vault's sweep of coinbase rewards).
   */
  @method async deposit(amount: UInt64) {
    this.balance.addInPlace(amount);
    this.emitEvent('deposited', new DepositedEvent({ amount }));
  }

  /**
   * Posts the oracle's signed report of an epoch that has ended on chain. Epochs strictly
   * increase; the previous report must be final (past its challenge window, not disputed);
   * the balance must cover every unpaid reward plus this one. `paid` is the paid counter's
   * value; `now` is within the slack before the inclusion slot.
   */
  @method async postEpochReport(report: EpochReport, signature: Signature, oracle: PublicKey, params: PoolParams, witness: ReportWitness, previous: ReportRecord, previousWitness: ReportWitness, paid: UInt64, now: UInt32) {
    this.currentSlot.requireBetween(now, now.add(INCLUSION_SLACK));
    const dacAddress = this.dac.getAndRequireEquals();
    const registry = await new PoolDac(dacAddress).reportAuthority(oracle, params);
    signature.verify(oracle, report.message(poolTagOf(dacAddress))).assertTrue(RewardPoolErrors.badSignature);
    report.eligible.assertBelow(registry.registered, RewardPoolErrors.unregistered);
    report.epoch.add(1).mul(SLOTS_PER_EPOCH).assertLessThanOrEqual(now, RewardPoolErrors.epochNotEnded);

    const next = this.nextEpoch.getAndRequireEquals();
    report.epoch.assertGreaterThanOrEqual(next, RewardPoolErrors.epochNotIncreasing);
    const root = this.reportsRoot.getAndRequireEquals();
    witness.calculateIndex().assertEquals(report.epoch.value, RewardPoolErrors.epochSlotTaken);
    witness.calculateRoot(Field(0)).assertEquals(root, RewardPoolErrors.epochSlotTaken);

    // The previous report (if any) is final: its carry is settled.
    const hasPrevious = next.greaterThan(UInt32.zero);
    const previousIndex = next.value.sub(hasPrevious.toField());
    const previousKnown = previousWitness.calculateIndex().equals(previousIndex).and(previousWitness.calculateRoot(previous.hash()).equals(root));
    previousKnown.or(hasPrevious.not()).assertTrue(RewardPoolErrors.previousUnknown);
    previous.disputed.not().or(hasPrevious.not()).assertTrue(RewardPoolErrors.previousDisputed);
    now.greaterThanOrEqual(previous.claimsOpenAt).or(hasPrevious.not()).assertTrue(RewardPoolErrors.previousOpen);
    const carryIn = Provable.if(hasPrevious, previous.share().carry, UInt64.zero);

    // Coverage: balance ≥ (reported − paid) + reward.
    const counter = this.internal.mint({ address: this.paidCounter.getAndRequireEquals(), amount: UInt64.zero });
    counter.account.balance.requireEquals(paid.add(1));
    const reported = this.totalReported.getAndRequireEquals();
    this.account.balance.requireBetween(reported.sub(paid).add(report.reward), UInt64.MAXINT());

    const fee = report.reward.mul(params.operatorFeePercent.toUInt64()).div(100);
    const record = new ReportRecord({
      report,
      registryRoot: registry.root,
      registered: registry.registered,
      carryIn,
      fee,
      operator: params.operator,
      postedAt: now,
      claimsOpenAt: now.add(INCLUSION_SLACK).add(params.challengeWindow),
      disputed: Bool(false),
      disputes: UInt32.zero,
      slashed: Bitmap.empty(),
      eligible: report.eligible,
      sharers: report.eligible.count(),
    });
    this.reportsRoot.set(witness.calculateRoot(record.hash()));
    this.nextEpoch.set(report.epoch.add(1));
    this.totalReported.set(reported.add(report.reward));
    this.emitEvent('reportPosted', ReportPostedEvent.of(record));
    this.emitEvent('eligible', new EligibleEvent({ epoch: report.epoch, eligible: report.eligible }));
  }

  /**
   * Anyone opens the claims of a final report (past its challenge window, not disputed),
   * once: creates its claims account and pays the operator's fee.
   */
  @method async openClaims(record: ReportRecord, witness: ReportWitness) {
    this.requireReport(record, witness);
    record.disputed.assertFalse(RewardPoolErrors.disputed);
    this.currentSlot.requireBetween(record.claimsOpenAt, UInt32.MAXINT());
    const hash = record.hash();
    const claims = this.internal.mint({ address: claimsAddress(hash), amount: UInt64.one });
    claims.account.isNew.requireEquals(Bool(true));
    this.internal.mint({ address: this.paidCounter.getAndRequireEquals(), amount: record.fee });
    this.send({ to: record.operator, amount: record.fee });
    this.emitEvent('claimsOpened', new ClaimsOpenedEvent({ epoch: record.report.epoch, recordHash: hash, fee: record.fee }));
  }

  /**
   * An eligible member claims its even share of a final report, once. Reads no state that
   * changes (only the paid counter's address, fixed at deployment): the record is final if
   * its claims account exists, and that account's balance never passes the report's total.
   */
  @method async claim(record: ReportRecord, registry: MemberMap) {
    const member = this.sender.getAndRequireSignature();
    registry.root.assertEquals(record.registryRoot, RewardPoolErrors.registryMismatch);
    const { index } = memberEntryOf(registry, member);
    record.eligible.has(index).assertTrue(RewardPoolErrors.notEligible);
    const { share } = record.share();
    share.assertGreaterThan(UInt64.zero, RewardPoolErrors.nothingToClaim);

    const hash = record.hash();
    const receipt = this.internal.mint({ address: claimReceiptAddress(hash, member), amount: UInt64.one });
    receipt.account.isNew.requireEquals(Bool(true));
    const claims = this.internal.mint({ address: claimsAddress(hash), amount: share });
    claims.account.isNew.requireEquals(Bool(false));
    claims.account.balance.requireBetween(UInt64.one, UInt64.one.add(record.total()).sub(share));
    this.internal.mint({ address: this.paidCounter.getAndRequireEquals(), amount: share });
    this.send({ to: member, amount: share });
    this.emitEvent('claimed', new ClaimedEvent({ epoch: record.report.epoch, member, amount: share }));
  }

  /** A member (at the report's time) disputes it during its challenge window; claims wait for a ruling. */
  @method async dispute(record: ReportRecord, witness: ReportWitness, registry: MemberMap) {
    const member = this.sender.getAndRequireSignature();
    this.requireReport(record, witness);
    registry.root.assertEquals(record.registryRoot, RewardPoolErrors.registryMismatch);
    memberEntryIn(registry, member, RewardPoolErrors.notMember).active.assertTrue(RewardPoolErrors.notMember);
    record.disputed.assertFalse(RewardPoolErrors.alreadyDisputed);
    this.currentSlot.requireBetween(UInt32.zero, record.claimsOpenAt.sub(1));
    const disputes = record.disputes.add(1);
    this.reportsRoot.set(witness.calculateRoot(new ReportRecord({ ...record, disputed: Bool(true), disputes }).hash()));
    this.emitEvent('disputed', new DisputedEvent({ epoch: record.report.epoch, member, dispute: disputes }));
  }

  /**
   * Anyone proves that an eligible member signed two different blocks for one slot of the
   * epoch: its share is forfeited to the others, before claims open (or while disputed).
   */
  @method async slash(record: ReportRecord, witness: ReportWitness, member: PublicKey, first: SignedBlockProposal, second: SignedBlockProposal, registry: MemberMap) {
    this.requireReport(record, witness);
    const lastSlot = Provable.if(record.disputed, UInt32.MAXINT(), record.claimsOpenAt.sub(1));
    this.currentSlot.requireBetween(UInt32.zero, lastSlot);

    const tag = poolTagOf(this.dac.getAndRequireEquals());
    first.verify(member, tag).assertTrue(RewardPoolErrors.badProposalSignature);
    second.verify(member, tag).assertTrue(RewardPoolErrors.badProposalSignature);
    const slot = first.proposal.slot;
    slot.equals(second.proposal.slot).assertTrue(RewardPoolErrors.differentSlots);
    first.proposal.blockHash.equals(second.proposal.blockHash).assertFalse(RewardPoolErrors.sameBlock);
    slot.div(SLOTS_PER_EPOCH).equals(record.report.epoch).assertTrue(RewardPoolErrors.slotNotInEpoch);

    registry.root.assertEquals(record.registryRoot, RewardPoolErrors.registryMismatch);
    const { index } = memberEntryIn(registry, member, RewardPoolErrors.memberNotEligible);
    const eligible = record.eligible.flip(index, Bool(true), RewardPoolErrors.memberNotEligible);
    const slashed = record.slashed.flip(index, Bool(false), RewardPoolErrors.memberNotEligible);
    const after = new ReportRecord({ ...record, eligible, slashed, sharers: record.sharers.sub(1) });
    this.reportsRoot.set(witness.calculateRoot(after.hash()));
    this.emitEvent('slashed', new SlashedEvent({ epoch: record.report.epoch, member, index, slot }));
  }

  /**
   * Applies an executed ruling to the dispute it answers, once: uphold the report, or
   * replace its eligible members (members slashed in the epoch stay out).
   */
  @method async applyRuling(record: ReportRecord, witness: ReportWitness, ruling: ProposalRecord, payload: ProposalPayload) {
    this.requireReport(record, witness);
    record.disputed.assertTrue(RewardPoolErrors.notDisputed);
    ruling.kind.equals(UInt32.from(ProposalKind.arbitrationRuling)).assertTrue(RewardPoolErrors.notRuling);
    payload.ruling.epoch.equals(record.report.epoch).assertTrue(RewardPoolErrors.rulingEpoch);
    payload.ruling.dispute.equals(record.disputes).assertTrue(RewardPoolErrors.rulingDispute);
    await new PoolDac(this.dac.getAndRequireEquals()).assertExecuted(ruling, payload.digest());

    const replace = payload.ruling.decision.equals(UInt32.from(Ruling.replace));
    payload.ruling.eligible.assertBelow(Provable.if(replace, record.registered, UInt32.from(BITMAP_BITS - 1)), RewardPoolErrors.unregistered);
    const replaced = payload.ruling.eligible.without(record.slashed);
    const eligible = new Bitmap({ chunks: record.eligible.chunks.map((c, k) => Provable.if(replace, replaced.chunks[k]!, c)) });
    const sharers = Provable.if(replace, replaced.count(), record.sharers);
    const ruled = new ReportRecord({ ...record, disputed: Bool(false), eligible, sharers });
    this.reportsRoot.set(witness.calculateRoot(ruled.hash()));
    this.emitEvent('ruled', new RuledEvent({ epoch: record.report.epoch, decision: payload.ruling.decision, proposal: ruling.id(), sharers }));
  }

  /**
   * Pays a passed treasury spend, once, from the balance that is not owed to members:
   * after it, the balance still covers every reported and unpaid reward.
   */
  @method async spend(record: ProposalRecord, payload: ProposalPayload, paid: UInt64) {
    record.kind.equals(UInt32.from(ProposalKind.treasurySpend)).assertTrue(RewardPoolErrors.notSpend);
    await new PoolDac(this.dac.getAndRequireEquals()).assertExecuted(record, payload.digest());
    const id = record.id();
    const receipt = this.internal.mint({ address: appliedReceiptAddress(AccountTag.spendReceipt, id), amount: UInt64.one });
    receipt.account.isNew.requireEquals(Bool(true));
    const counter = this.internal.mint({ address: this.paidCounter.getAndRequireEquals(), amount: UInt64.zero });
    counter.account.balance.requireEquals(paid.add(1));
    const owed = this.totalReported.getAndRequireEquals().sub(paid);
    this.account.balance.requireBetween(owed.add(payload.amount), UInt64.MAXINT());
    this.send({ to: payload.key, amount: payload.amount });
    this.emitEvent('spent', new SpentEvent({ id, to: payload.key, amount: payload.amount }));
  }

  /**
   * Pays a designated producer the pool's compensation for a backfilled slot, once per slot:
   * the registry records the designation from its proof against the current commitment (see
   * `BackfillRegistry.record`), and the pool sends `backfillCompensation` to the producer
   * from the balance that is not owed to members. Anyone may submit it; only the proven
   * producer is paid. `paid` is the paid counter's value; `oracle` the pool's oracle key.
   */
  @method async payBackfill(registryAddress: PublicKey, proof: DesignatedProducerProof, witness: RecordWitness, oracle: PublicKey, params: PoolParams, paid: UInt64) {
    Poseidon.hash(registryAddress.toFields()).assertEquals(this.registry.getAndRequireEquals(), RewardPoolErrors.wrongRegistry);
    const s = await new BackfillRegistry(registryAddress).record(proof, witness);
    await new PoolDac(this.dac.getAndRequireEquals()).reportAuthority(oracle, params);
    const receipt = this.internal.mint({ address: backfillReceiptAddress(s.commitment, s.slot), amount: UInt64.one });
    receipt.account.isNew.requireEquals(Bool(true));
    const amount = params.backfillCompensation.toUInt64().mul(UInt64.from(NANOMINA_PER_MILLIMINA));
    const counter = this.internal.mint({ address: this.paidCounter.getAndRequireEquals(), amount: UInt64.zero });
    counter.account.balance.requireEquals(paid.add(1));
    const owed = this.totalReported.getAndRequireEquals().sub(paid);
    this.account.balance.requireBetween(owed.add(amount), UInt64.MAXINT());
    this.send({ to: s.producer, amount });
    this.emitEvent('compensated', new CompensatedEvent({ slot: s.slot, producer: s.producer, amount, commitment: s.commitment }));
  }

  /** Applies a passed upgrade of this contract, once: sets the verification key voted for. */
  @method async upgrade(record: ProposalRecord, payload: ProposalPayload, vk: VerificationKey) {
    record.kind.equals(UInt32.from(ProposalKind.upgrade)).assertTrue(RewardPoolErrors.notUpgrade);
    payload.target.equals(UInt32.from(UpgradeTarget.RewardPool)).assertTrue(RewardPoolErrors.notUpgrade);
    vk.hash.assertEquals(payload.hash, RewardPoolErrors.vkMismatch);
    await new PoolDac(this.dac.getAndRequireEquals()).assertExecuted(record, payload.digest());
    const id = record.id();
    const receipt = this.internal.mint({ address: appliedReceiptAddress(AccountTag.upgradeReceipt, id), amount: UInt64.one });
    receipt.account.isNew.requireEquals(Bool(true));
    this.account.verificationKey.set(vk);
    this.emitEvent('upgraded', new UpgradedEvent({ id, vkHash: vk.hash }));
  }

  private requireReport(record: ReportRecord, witness: ReportWitness) {
    witness.calculateIndex().assertEquals(record.report.epoch.value, RewardPoolErrors.unknownReport);
    witness.calculateRoot(record.hash()).assertEquals(this.reportsRoot.getAndRequireEquals(), RewardPoolErrors.unknownReport);
  }
}

/** A posted report's record, less what the `eligible` event carries and what starts empty. */
export class ReportPostedEvent extends Struct({
  epoch: UInt32,
  reward: UInt64,
  carryIn: UInt64,
  fee: UInt64,
  operator: PublicKey,
  registryRoot: Field,
  registered: UInt32,
  metricsRoot: Field,
  eventLogHash: Field,
  postedAt: UInt32,
  claimsOpenAt: UInt32,
  sharers: UInt32,
}) {
  static of(r: ReportRecord): ReportPostedEvent {
    return new ReportPostedEvent({
      epoch: r.report.epoch,
      reward: r.report.reward,
      carryIn: r.carryIn,
      fee: r.fee,
      operator: r.operator,
      registryRoot: r.registryRoot,
      registered: r.registered,
      metricsRoot: r.report.metricsRoot,
      eventLogHash: r.report.eventLogHash,
      postedAt: r.postedAt,
      claimsOpenAt: r.claimsOpenAt,
      sharers: r.sharers,
    });
  }
}
export class EligibleEvent extends Struct({ epoch: UInt32, eligible: Bitmap }) {}
export class ClaimsOpenedEvent extends Struct({ epoch: UInt32, recordHash: Field, fee: UInt64 }) {}
export class ClaimedEvent extends Struct({ epoch: UInt32, member: PublicKey, amount: UInt64 }) {}
export class DisputedEvent extends Struct({ epoch: UInt32, member: PublicKey, dispute: UInt32 }) {}
export class SlashedEvent extends Struct({ epoch: UInt32, member: PublicKey, index: UInt32, slot: UInt32 }) {}
export class RuledEvent extends Struct({ epoch: UInt32, decision: UInt32, proposal: Field, sharers: UInt32 }) {}
export class DepositedEvent extends Struct({ amount: UInt64 }) {}
export class SpentEvent extends Struct({ id: Field, to: PublicKey, amount: UInt64 }) {}
export class UpgradedEvent extends Struct({ id: Field, vkHash: Field }) {}
export class CompensatedEvent extends Struct({ slot: UInt32, producer: PublicKey, amount: UInt64, commitment: Field }) {}
