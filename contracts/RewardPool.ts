import {
  AccountUpdate,
  AccountUpdateForest,
  Bool,
  DeployArgs,
  Field,
  MerkleMap,
  MerkleMapWitness,
  Provable,
  PublicKey,
  Signature,
  State,
  Struct,
  TokenContract,
  UInt32,
  UInt64,
  method,
  state,
} from 'o1js';
import { PoolDac } from './PoolDac.js';
import {
  AccountTag,
  EpochReport,
  PoolParams,
  ProposalPayload,
  ProposalRecord,
  ProposalWitness,
  ReportRecord,
  ReportWitness,
  Ruling,
  SLOTS_PER_EPOCH,
  SignedBlockProposal,
  derivedAddress,
  poolContractPermissions,
  memberKey,
  poolTagOf,
} from './types.js';

export const RewardPoolErrors = {
  badSignature: 'Report is not signed by the pool oracle',
  epochNotIncreasing: 'Epoch must be greater than the last reported epoch',
  epochSlotTaken: 'Epoch already has a report',
  unknownReport: 'Report does not match the reports tree',
  previousUnknown: 'Previous report does not match the reports tree',
  previousDisputed: 'The previous epoch is disputed: a ruling must come first',
  previousOpen: 'The previous epoch is still in its challenge window',
  notCovered: 'Reward is not covered by the pool balance',
  disputed: 'Epoch is disputed: claims wait for a ruling',
  claimsNotOpen: 'Claims open after the challenge window',
  notEligible: 'Sender is not eligible in this epoch',
  slashedMember: 'Share forfeited: the member equivocated in this epoch',
  alreadyClaimed: 'Share already claimed for this epoch',
  nothingToClaim: 'Nothing to claim: the share is zero',
  alreadyDisputed: 'Epoch is already disputed',
  windowClosed: 'Challenge window has ended',
  tooLateToSlash: 'Claims for this epoch are open: too late to slash',
  badProposalSignature: 'Proposal signature does not verify for that member',
  differentSlots: 'The two proposals are for different slots',
  sameBlock: 'The two proposals are for the same block',
  slotNotInEpoch: 'The slot is not in this epoch',
  memberNotEligible: 'Member is not eligible in this epoch',
  alreadySlashed: 'Member is already slashed for this epoch',
  notDisputed: 'Epoch is not disputed',
  rulingEpoch: 'Ruling is for another epoch',
  badDecision: 'Ruling decision must be 0 (uphold) or 1 (replace)',
  countBelowSlashed: 'Replacement eligible count is below the slashed count',
  noTransfers: 'Claim receipts cannot be transferred',
} as const;

/** Slots a report transaction may wait before inclusion; `postedAt` is its build slot. */
export const POST_SLACK_SLOTS = 20;
const EMPTY_MAP_ROOT = new MerkleMap().getRoot();

/** Initial state of the reward pool. */
export interface RewardPoolInit {
  dac: PublicKey;
  reportsRoot: Field;
}

/**
 * The pool's treasury and coinbase receiver: epoch reports from the oracle, even shares
 * claimed once per member, and arbitration (disputes, equivocation slashing, rulings).
 *
 * Claims are concurrent: a claim changes no state of this account. It creates the
 * member's receipt for the epoch (a new account: the nullifier), adds the share to the
 * paid counter (an account whose balance only grows), and sends the share from the
 * balance. Any number of members can claim against the same state.
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

  readonly events = {
    reportPosted: ReportPostedEvent,
    disputed: DisputedEvent,
    claimed: ClaimedEvent,
    slashed: SlashedEvent,
    ruled: RuledEvent,
    deposited: DepositedEvent,
  };

  /** Deploys the pool treasury for `init.dac`; `openCounter` follows in a second transaction. */
  async deploy(args: DeployArgs & { init: RewardPoolInit }): Promise<void> {
    await super.deploy(args);
    this.account.permissions.set(poolContractPermissions());
    this.dac.set(args.init.dac);
    this.reportsRoot.set(args.init.reportsRoot);
    this.nextEpoch.set(UInt32.zero);
    this.totalReported.set(UInt64.zero);
  }

  /** Creates the paid counter (balance = paid + 1). Called once, right after deployment. */
  @method async openCounter() {
    const counter = this.internal.mint({ address: paidCounterAddress(this.address), amount: 1 });
    counter.account.isNew.requireEquals(Bool(true));
  }

  /**
   * Anyone adds MINA to the pool (coinbase rewards arrive without a transaction; other
   * payments come through here, as the account only accepts updates it authorizes).
   */
  @method async deposit(amount: UInt64) {
    const from = this.sender.getAndRequireSignature();
    const payer = AccountUpdate.createSigned(from);
    payer.balance.subInPlace(amount);
    this.balance.addInPlace(amount);
    this.emitEvent('deposited', new DepositedEvent({ from, amount }));
  }

  /** No token movement is ever approved: receipts only come from claims. */
  async approveBase(_forest: AccountUpdateForest): Promise<void> {
    throw Error(RewardPoolErrors.noTransfers);
  }

  /**
   * Posts the oracle's signed report for an epoch. Epochs strictly increase; the previous
   * epoch must be past its challenge window and not disputed; the balance must cover every
   * unpaid reward plus this one. `paid` is the paid counter's value.
   */
  @method async postEpochReport(report: EpochReport, signature: Signature, oracle: PublicKey, params: PoolParams, witness: ReportWitness, previous: ReportRecord, previousWitness: ReportWitness, paid: UInt64, now: UInt32) {
    const dacAddress = this.dac.getAndRequireEquals();
    await new PoolDac(dacAddress).assertReportAuthority(oracle, params);
    signature.verify(oracle, report.message(poolTagOf(dacAddress))).assertTrue(RewardPoolErrors.badSignature);

    const next = this.nextEpoch.getAndRequireEquals();
    report.epoch.assertGreaterThanOrEqual(next, RewardPoolErrors.epochNotIncreasing);
    const root = this.reportsRoot.getAndRequireEquals();
    witness.calculateIndex().assertEquals(report.epoch.value, RewardPoolErrors.epochSlotTaken);
    witness.calculateRoot(Field(0)).assertEquals(root, RewardPoolErrors.epochSlotTaken);

    // The previous report (if any) is final: its carry is settled.
    const hasPrevious = next.greaterThan(UInt32.zero);
    const previousIndex = Provable.if(hasPrevious, next.sub(Provable.if(hasPrevious, UInt32.from(1), UInt32.zero)), UInt32.zero);
    const previousKnown = previousWitness.calculateIndex().equals(previousIndex.value).and(previousWitness.calculateRoot(previous.hash()).equals(root));
    previousKnown.or(hasPrevious.not()).assertTrue(RewardPoolErrors.previousUnknown);
    previous.disputed.not().or(hasPrevious.not()).assertTrue(RewardPoolErrors.previousDisputed);
    now.greaterThanOrEqual(previous.claimsOpenAt).or(hasPrevious.not()).assertTrue(RewardPoolErrors.previousOpen);
    const carry = shareOf(previous).carry;
    const carryIn = Provable.if(hasPrevious, carry, UInt64.zero);

    // Coverage: balance ≥ (reported − paid) + reward.
    const counter = this.internal.mint({ address: paidCounterAddress(this.address), amount: 0 });
    counter.account.balance.requireEquals(paid.add(1));
    const reported = this.totalReported.getAndRequireEquals();
    const required = reported.sub(paid).add(report.reward);
    this.account.balance.requireBetween(required, UInt64.MAXINT());

    const claimsOpenAt = now.add(params.challengeWindow);
    this.network.globalSlotSinceGenesis.requireBetween(now, now.add(POST_SLACK_SLOTS));
    const record = new ReportRecord({ report, carryIn, postedAt: now, claimsOpenAt, disputed: Bool(false), slashedRoot: EMPTY_MAP_ROOT, slashedCount: UInt32.zero });
    this.reportsRoot.set(witness.calculateRoot(record.hash()));
    this.nextEpoch.set(report.epoch.add(1));
    this.totalReported.set(reported.add(report.reward));
    this.emitEvent('reportPosted', new ReportPostedEvent({ epoch: report.epoch, reward: report.reward, carryIn, eligibleCount: report.eligibleCount, claimsOpenAt, eventLogHash: report.eventLogHash }));
  }

  /** An eligible member claims its even share of an epoch, once, after the challenge window. */
  @method async claim(record: ReportRecord, witness: ReportWitness, eligibleWitness: MerkleMapWitness, slashedWitness: MerkleMapWitness, now: UInt32) {
    const member = this.sender.getAndRequireSignature();
    this.requireReport(record, witness);
    record.disputed.assertFalse(RewardPoolErrors.disputed);
    now.assertGreaterThanOrEqual(record.claimsOpenAt, RewardPoolErrors.claimsNotOpen);
    this.network.globalSlotSinceGenesis.requireBetween(now, UInt32.MAXINT());

    requireInMap(eligibleWitness, member, Field(1), record.report.eligibleRoot, RewardPoolErrors.notEligible);
    requireInMap(slashedWitness, member, Field(0), record.slashedRoot, RewardPoolErrors.slashedMember);

    const { share } = shareOf(record);
    share.assertGreaterThan(UInt64.zero, RewardPoolErrors.nothingToClaim);
    const receipt = this.internal.mint({ address: claimReceiptAddress(record.report.epoch, member), amount: 1 });
    receipt.account.isNew.requireEquals(Bool(true));
    this.internal.mint({ address: paidCounterAddress(this.address), amount: share });
    this.send({ to: member, amount: share });
    this.emitEvent('claimed', new ClaimedEvent({ epoch: record.report.epoch, member, amount: share }));
  }

  /** A member disputes a report during its challenge window; claims wait for a ruling. */
  @method async dispute(record: ReportRecord, witness: ReportWitness, memberWitness: MerkleMapWitness, now: UInt32) {
    const member = this.sender.getAndRequireSignature();
    await new PoolDac(this.dac.getAndRequireEquals()).assertMember(member, memberWitness);
    this.requireReport(record, witness);
    record.disputed.assertFalse(RewardPoolErrors.alreadyDisputed);
    const lastSlot = record.claimsOpenAt.sub(1);
    now.assertLessThanOrEqual(lastSlot, RewardPoolErrors.windowClosed);
    this.network.globalSlotSinceGenesis.requireBetween(now, lastSlot);
    const disputed = new ReportRecord({ ...record, disputed: Bool(true) });
    this.reportsRoot.set(witness.calculateRoot(disputed.hash()));
    this.emitEvent('disputed', new DisputedEvent({ epoch: record.report.epoch, member }));
  }

  /**
   * Anyone reports a member that signed two different blocks for one slot of the epoch;
   * its share is forfeited to the others, before claims open (or while disputed).
   */
  @method async slash(record: ReportRecord, witness: ReportWitness, member: PublicKey, first: SignedBlockProposal, second: SignedBlockProposal, eligibleWitness: MerkleMapWitness, slashedWitness: MerkleMapWitness, now: UInt32) {
    this.requireReport(record, witness);
    const open = now.lessThan(record.claimsOpenAt);
    open.or(record.disputed).assertTrue(RewardPoolErrors.tooLateToSlash);
    const lastSlot = Provable.if(record.disputed, UInt32.MAXINT(), record.claimsOpenAt.sub(1));
    this.network.globalSlotSinceGenesis.requireBetween(now, lastSlot);

    const tag = poolTagOf(this.dac.getAndRequireEquals());
    first.verify(member, tag).assertTrue(RewardPoolErrors.badProposalSignature);
    second.verify(member, tag).assertTrue(RewardPoolErrors.badProposalSignature);
    const slot = first.proposal.slot;
    slot.equals(second.proposal.slot).assertTrue(RewardPoolErrors.differentSlots);
    first.proposal.blockHash.equals(second.proposal.blockHash).assertFalse(RewardPoolErrors.sameBlock);
    slot.div(SLOTS_PER_EPOCH).equals(record.report.epoch).assertTrue(RewardPoolErrors.slotNotInEpoch);

    requireInMap(eligibleWitness, member, Field(1), record.report.eligibleRoot, RewardPoolErrors.memberNotEligible);
    requireInMap(slashedWitness, member, Field(0), record.slashedRoot, RewardPoolErrors.alreadySlashed);
    const [slashedAfter] = slashedWitness.computeRootAndKey(Field(1)) as [Field, Field];

    const slashed = new ReportRecord({ ...record, slashedRoot: slashedAfter, slashedCount: record.slashedCount.add(1) });
    this.reportsRoot.set(witness.calculateRoot(slashed.hash()));
    this.emitEvent('slashed', new SlashedEvent({ epoch: record.report.epoch, member, slot }));
  }

  /** Applies an executed arbitration ruling to a disputed epoch: uphold it, or replace its eligible members. */
  @method async applyRuling(record: ReportRecord, witness: ReportWitness, ruling: ProposalRecord, rulingWitness: ProposalWitness, payload: ProposalPayload) {
    this.requireReport(record, witness);
    record.disputed.assertTrue(RewardPoolErrors.notDisputed);
    payload.epoch.equals(record.report.epoch).assertTrue(RewardPoolErrors.rulingEpoch);
    payload.decision.lessThanOrEqual(UInt32.from(Ruling.replace)).assertTrue(RewardPoolErrors.badDecision);
    await new PoolDac(this.dac.getAndRequireEquals()).assertRulingExecuted(ruling, rulingWitness, payload);

    const replace = payload.decision.equals(UInt32.from(Ruling.replace));
    payload.count.greaterThanOrEqual(record.slashedCount).or(replace.not()).assertTrue(RewardPoolErrors.countBelowSlashed);
    const report = new EpochReport({
      ...record.report,
      eligibleRoot: Provable.if(replace, payload.root, record.report.eligibleRoot),
      eligibleCount: Provable.if(replace, payload.count, record.report.eligibleCount),
    });
    const ruled = new ReportRecord({ ...record, report, disputed: Bool(false) });
    this.reportsRoot.set(witness.calculateRoot(ruled.hash()));
    this.emitEvent('ruled', new RuledEvent({ epoch: record.report.epoch, decision: payload.decision, proposalId: ruling.id }));
  }

  private requireReport(record: ReportRecord, witness: ReportWitness) {
    witness.calculateIndex().assertEquals(record.report.epoch.value, RewardPoolErrors.unknownReport);
    witness.calculateRoot(record.hash()).assertEquals(this.reportsRoot.getAndRequireEquals(), RewardPoolErrors.unknownReport);
  }
}

/** Proves `member`'s entry in a member map with root `root` is `value` (1: in it, 0: not). */
function requireInMap(witness: MerkleMapWitness, member: PublicKey, value: Field, root: Field, error: string) {
  const [computedRoot, key] = witness.computeRootAndKey(value) as [Field, Field];
  key.assertEquals(memberKey(member), error);
  computedRoot.assertEquals(root, error);
}

/**
 * Each sharer's share of a report and the dust carried to the next one:
 * `(reward + carryIn) = share · sharers + carry`; with no sharers, everything carries.
 */
export function shareOf(record: ReportRecord): { share: UInt64; carry: UInt64 } {
  const sharers = record.sharers().toUInt64();
  const none = sharers.equals(UInt64.zero);
  const { quotient, rest } = record.total().divMod(Provable.if(none, UInt64.one, sharers));
  return {
    share: Provable.if(none, UInt64.zero, quotient),
    carry: Provable.if(none, record.total(), rest),
  };
}

/** Address of `member`'s claim receipt for `epoch`: it exists once the share is claimed. */
export function claimReceiptAddress(epoch: UInt32, member: PublicKey): PublicKey {
  return derivedAddress([AccountTag.claimReceipt, epoch.value, ...member.toFields()]);
}

/** Address of the paid counter of the reward pool at `pool` (balance = nanomina paid + 1). */
export function paidCounterAddress(pool: PublicKey): PublicKey {
  return derivedAddress([AccountTag.paidCounter, ...pool.toFields()]);
}

export class ReportPostedEvent extends Struct({ epoch: UInt32, reward: UInt64, carryIn: UInt64, eligibleCount: UInt32, claimsOpenAt: UInt32, eventLogHash: Field }) {}
export class DisputedEvent extends Struct({ epoch: UInt32, member: PublicKey }) {}
export class ClaimedEvent extends Struct({ epoch: UInt32, member: PublicKey, amount: UInt64 }) {}
export class SlashedEvent extends Struct({ epoch: UInt32, member: PublicKey, slot: UInt32 }) {}
export class DepositedEvent extends Struct({ from: PublicKey, amount: UInt64 }) {}
export class RuledEvent extends Struct({ epoch: UInt32, decision: UInt32, proposalId: UInt32 }) {}
