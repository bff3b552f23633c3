import { AccountUpdate, Bool, Mina, PrivateKey, PublicKey, Signature, UInt32, UInt64, type Transaction } from 'o1js';
import { PoolDac, Tally, tallyAddress, voteReceiptAddress } from '../../contracts/PoolDac.js';
import { RewardPool, claimReceiptAddress, paidCounterAddress, shareOf } from '../../contracts/RewardPool.js';
import {
  EpochReport,
  ProposalKind,
  ProposalPayload,
  ProposalRecord,
  ProposalStatus,
  ReportRecord,
  Ruling,
  SignedBlockProposal,
  VoteChoice,
  type ProposalKindName,
} from '../../contracts/types.js';
import { PoolError, type ErrorContext } from '../errors.js';
import { KeySet, PoolMirror, emptyReportRecord, type PoolParamsJson } from './pool-mirror.js';

/** A pool action refused before it reaches the chain, with the reason in words. */
export class PoolActionError extends PoolError {
  constructor(code: string, message: string, context: ErrorContext = {}) {
    super(code, message, context);
  }
}

/** A proved, signed transaction and what to record once it is included. */
export interface BuiltTransaction<T = undefined> {
  label: string;
  tx: Transaction<true, true>;
  result: T;
  /** Updates the mirror after the transaction is included. */
  apply(): void;
}

/** A proposal's derived state, as OpenZeppelin's Governor names them. */
export type ProposalState = 'active' | 'canceled' | 'defeated' | 'queued' | 'executable' | 'executed' | 'expired';

export interface PoolClientDeps {
  dac: PoolDac;
  pool: RewardPool;
  mirror: PoolMirror;
  /** Transaction fee in nanomina (default 0.1 MINA). */
  fee?: bigint;
}

const CHOICES: Record<string, number> = { against: VoteChoice.against, for: VoteChoice.for, abstain: VoteChoice.abstain };

/**
 * Builds the pool's transactions with the witnesses from the mirror, after checking each
 * rule off-chain so that a refusal says why in words. The contracts enforce the same rules.
 *
 * @example
 * const built = await client.vote(memberKey, 0, 'for');
 * await sendTransaction(built);
 */
export class PoolClient {
  readonly dac: PoolDac;
  readonly pool: RewardPool;
  readonly mirror: PoolMirror;
  readonly fee: bigint;

  constructor(deps: PoolClientDeps) {
    this.dac = deps.dac;
    this.pool = deps.pool;
    this.mirror = deps.mirror;
    this.fee = deps.fee ?? 100_000_000n;
  }

  /** The chain's current global slot since genesis. */
  now(): number {
    return Number(Mina.getNetworkState().globalSlotSinceGenesis.toBigint());
  }

  private async build<T>(label: string, sender: PrivateKey, body: () => Promise<void>, result: T, apply: () => void, newAccounts = 0): Promise<BuiltTransaction<T>> {
    let tx;
    try {
      tx = await Mina.transaction({ sender: sender.toPublicKey(), fee: UInt64.from(this.fee) }, async () => {
        if (newAccounts > 0) AccountUpdate.fundNewAccount(sender.toPublicKey(), newAccounts);
        await body();
      });
    } catch (e) {
      // A contract rule failed while the transaction was built: its message is the rule.
      const rule = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      throw new PoolActionError('CONTRACT_RULE', `${label}: refused by the contract: ${rule}`, { action: label });
    }
    const proved = await tx.prove();
    return { label, tx: proved.sign([sender]), result, apply };
  }

  private requireMember(key: PublicKey, what = 'sender'): void {
    if (!this.mirror.members.has(key.toBase58())) {
      throw new PoolActionError('NOT_MEMBER', `${key.toBase58()} is not a pool member`, { field: what });
    }
  }

  private requireProposal(id: number) {
    const p = this.mirror.proposal(id);
    if (!p) throw new PoolActionError('UNKNOWN_PROPOSAL', `there is no proposal ${id} (proposals: 0–${this.mirror.proposals.length - 1})`, { id });
    return p;
  }

  private requireReport(epoch: number) {
    const r = this.mirror.report(epoch);
    if (!r) throw new PoolActionError('UNKNOWN_EPOCH', `there is no report for epoch ${epoch}`, { epoch });
    return r;
  }

  /** Vote counts of a proposal, read from its tally accounts. */
  tally(id: number): Tally {
    const read = (choice: number) => {
      const account = Mina.getAccount(tallyAddress(UInt32.from(id), UInt32.from(choice)), this.dac.deriveTokenId());
      return account.balance.sub(1);
    };
    return new Tally({ against: read(VoteChoice.against), for: read(VoteChoice.for), abstain: read(VoteChoice.abstain) });
  }

  hasVoted(id: number, member: PublicKey): boolean {
    return Mina.hasAccount(voteReceiptAddress(UInt32.from(id), member), this.dac.deriveTokenId());
  }

  hasClaimed(epoch: number, member: PublicKey): boolean {
    return Mina.hasAccount(claimReceiptAddress(UInt32.from(epoch), member), this.pool.deriveTokenId());
  }

  /** Nanomina paid out so far (the paid counter). */
  paid(): UInt64 {
    return Mina.getAccount(paidCounterAddress(this.pool.address), this.pool.deriveTokenId()).balance.sub(1);
  }

  /** Whether a proposal passed its quorum and approval (from the current tallies). */
  passed(id: number): { quorum: boolean; approval: boolean } {
    const { record } = this.requireProposal(id);
    const t = this.tally(id);
    const p = this.mirror.params;
    const [f, a, x] = [t.for.toBigInt(), t.against.toBigInt(), t.abstain.toBigInt()];
    return {
      quorum: (f + a + x) * 100n >= record.memberCount.toBigint() * BigInt(p.quorumPercent),
      approval: f > 0n && f * 100n >= (f + a) * BigInt(p.approvalPercent),
    };
  }

  /** A proposal's derived state at `now`. */
  proposalState(id: number, now = this.now()): ProposalState {
    const { record } = this.requireProposal(id);
    const status = Number(record.status.toBigint());
    if (status === ProposalStatus.executed) return 'executed';
    if (status === ProposalStatus.canceled) return 'canceled';
    const voteEnd = Number(record.voteEnd.toBigint());
    if (now <= voteEnd) return 'active';
    const { quorum, approval } = this.passed(id);
    if (!quorum || !approval) return 'defeated';
    const opensAt = voteEnd + this.mirror.params.timelock + 1;
    if (now < opensAt) return 'queued';
    return now <= opensAt + this.mirror.params.executionWindow ? 'executable' : 'expired';
  }

  /** Adds MINA (nanomina) to the reward pool. */
  async deposit(sender: PrivateKey, amount: bigint): Promise<BuiltTransaction> {
    if (amount <= 0n) throw new PoolActionError('BAD_AMOUNT', 'a deposit must be positive', { field: 'amount' });
    return this.build(`deposit ${amount}`, sender, () => this.pool.deposit(UInt64.from(amount)), undefined, () => {});
  }

  async propose(sender: PrivateKey, kind: ProposalKindName, payload: ProposalPayload): Promise<BuiltTransaction<{ id: number }>> {
    const proposer = sender.toPublicKey();
    this.requireMember(proposer);
    const id = this.mirror.proposals.length;
    const now = this.now();
    const params = this.mirror.paramsStruct();
    const record = new ProposalRecord({
      id: UInt32.from(id),
      kind: UInt32.from(ProposalKind[kind]),
      payloadHash: payload.digest(),
      proposer,
      voteStart: UInt32.from(now),
      voteEnd: UInt32.from(now + this.mirror.params.votingPeriod),
      memberCount: UInt32.from(this.mirror.members.size),
      status: UInt32.from(ProposalStatus.active),
    });
    return this.build(
      `propose ${kind} (#${id})`,
      sender,
      () => this.dac.propose(UInt32.from(ProposalKind[kind]), payload, params, this.mirror.members.witness(proposer.toBase58()), this.mirror.proposalWitness(id), UInt32.from(now)),
      { id },
      () => this.mirror.setProposal({ record, payload }),
      3,
    );
  }

  async vote(sender: PrivateKey, id: number, choice: keyof typeof CHOICES | number): Promise<BuiltTransaction> {
    const voter = sender.toPublicKey();
    this.requireMember(voter);
    const { record } = this.requireProposal(id);
    const value = typeof choice === 'number' ? choice : CHOICES[choice];
    if (value === undefined || value < 0 || value > 2) {
      throw new PoolActionError('BAD_CHOICE', `a vote is for, against or abstain, got ${JSON.stringify(choice)}`, { field: 'choice' });
    }
    const state = this.proposalState(id);
    if (state !== 'active') throw new PoolActionError('VOTING_CLOSED', `voting on proposal ${id} is closed (${state})`, { id, state });
    if (this.hasVoted(id, voter)) throw new PoolActionError('ALREADY_VOTED', `${voter.toBase58()} already voted on proposal ${id}`, { id });
    return this.build(
      `vote ${id} ${value}`,
      sender,
      () => this.dac.vote(record, this.mirror.proposalWitness(id), this.mirror.members.witness(voter.toBase58()), UInt32.from(value), UInt32.from(this.now())),
      undefined,
      () => {},
      1,
    );
  }

  /** Executes a proposal; a set-parameters proposal needs the new parameters in full. */
  async execute(sender: PrivateKey, id: number, newParams?: PoolParamsJson): Promise<BuiltTransaction> {
    const { record, payload } = this.requireProposal(id);
    const state = this.proposalState(id);
    if (state !== 'executable') {
      const why: Partial<Record<ProposalState, string>> = {
        active: 'voting is still open',
        queued: 'the timelock has not passed',
        defeated: 'it did not reach quorum and approval',
        expired: 'it expired without being executed',
        executed: 'it was already executed',
        canceled: 'it was canceled',
      };
      throw new PoolActionError('NOT_EXECUTABLE', `proposal ${id} cannot be executed: ${why[state]}`, { id, state });
    }
    const kind = Number(record.kind.toBigint());
    const key = payload.key.toBase58();
    if (kind === ProposalKind.addMember && this.mirror.members.has(key)) throw new PoolActionError('ALREADY_MEMBER', `${key} is already a member`);
    if (kind === ProposalKind.removeMember && !this.mirror.members.has(key)) throw new PoolActionError('NOT_MEMBER', `${key} is not a member`);
    const memberWitness = kind <= ProposalKind.removeMember ? this.mirror.members.witness(key) : this.mirror.members.unusedWitness();
    return this.build(
      `execute ${id}`,
      sender,
      () => this.dac.execute(record, this.mirror.proposalWitness(id), payload, this.mirror.paramsStruct(), this.tally(id), memberWitness, UInt32.from(this.now())),
      undefined,
      () => this.mirror.applyExecuted(id, newParams),
    );
  }

  async cancel(sender: PrivateKey, id: number): Promise<BuiltTransaction> {
    const { record, payload } = this.requireProposal(id);
    if (!record.proposer.equals(sender.toPublicKey()).toBoolean()) {
      throw new PoolActionError('NOT_PROPOSER', `only the proposer (${record.proposer.toBase58()}) can cancel proposal ${id}`, { id });
    }
    const state = this.proposalState(id);
    if (state !== 'active') throw new PoolActionError('TOO_LATE', `proposal ${id} can no longer be canceled (${state})`, { id, state });
    return this.build(
      `cancel ${id}`,
      sender,
      () => this.dac.cancel(record, this.mirror.proposalWitness(id), UInt32.from(this.now())),
      undefined,
      () => this.mirror.setProposal({ record: record.withStatus(ProposalStatus.canceled), payload }),
    );
  }

  /**
   * Posts an epoch report signed by the oracle. `eligible` are the eligible members'
   * keys (their map's root must be the report's `eligibleRoot`).
   */
  async postReport(sender: PrivateKey, report: EpochReport, signature: Signature, oracle: PublicKey, eligible: string[]): Promise<BuiltTransaction> {
    const epoch = Number(report.epoch.toBigint());
    const eligibleSet = new KeySet(eligible);
    if (!eligibleSet.root().equals(report.eligibleRoot).toBoolean() || eligibleSet.size !== Number(report.eligibleCount.toBigint())) {
      throw new PoolActionError('BAD_REPORT', 'the eligible members do not match the report\'s eligible root and count');
    }
    const last = this.mirror.lastEpoch();
    if (last !== undefined && epoch <= last) {
      throw new PoolActionError('EPOCH_NOT_INCREASING', `epoch ${epoch} is not after the last reported epoch ${last}`, { epoch, last });
    }
    const previous = last === undefined ? emptyReportRecord() : this.requireReport(last).record;
    const now = this.now();
    if (last !== undefined && previous.disputed.toBoolean()) throw new PoolActionError('PREVIOUS_DISPUTED', `epoch ${last} is disputed: a ruling must come first`);
    if (last !== undefined && now < Number(previous.claimsOpenAt.toBigint())) {
      throw new PoolActionError('PREVIOUS_OPEN', `epoch ${last} is in its challenge window until slot ${previous.claimsOpenAt.toString()}`);
    }
    const carryIn = last === undefined ? UInt64.zero : shareOf(previous).carry;
    const record = new ReportRecord({
      report,
      carryIn,
      postedAt: UInt32.from(now),
      claimsOpenAt: UInt32.from(now + this.mirror.params.challengeWindow),
      disputed: Bool(false),
      slashedRoot: new KeySet().root(),
      slashedCount: UInt32.zero,
    });
    return this.build(
      `report epoch ${epoch}`,
      sender,
      () =>
        this.pool.postEpochReport(report, signature, oracle, this.mirror.paramsStruct(), this.mirror.reportWitness(epoch), previous, this.mirror.reportWitness(last ?? 0), this.paid(), UInt32.from(now)),
      undefined,
      () => this.mirror.setReport(epoch, { record, eligible: eligibleSet, slashed: new KeySet() }),
    );
  }

  async claim(sender: PrivateKey, epoch: number): Promise<BuiltTransaction<{ amount: bigint }>> {
    const member = sender.toPublicKey();
    const r = this.requireReport(epoch);
    const key = member.toBase58();
    if (!r.eligible.has(key)) throw new PoolActionError('NOT_ELIGIBLE', `${key} is not eligible in epoch ${epoch}: nothing to claim`, { epoch });
    if (r.slashed.has(key)) throw new PoolActionError('SLASHED', `${key} equivocated in epoch ${epoch}: its share was forfeited`, { epoch });
    if (r.record.disputed.toBoolean()) throw new PoolActionError('DISPUTED', `epoch ${epoch} is disputed: claims wait for a ruling`, { epoch });
    const opens = Number(r.record.claimsOpenAt.toBigint());
    if (this.now() < opens) throw new PoolActionError('CLAIMS_NOT_OPEN', `claims for epoch ${epoch} open at slot ${opens} (now ${this.now()})`, { epoch });
    if (this.hasClaimed(epoch, member)) throw new PoolActionError('ALREADY_CLAIMED', `${key} already claimed its share of epoch ${epoch}`, { epoch });
    const amount = shareOf(r.record).share.toBigInt();
    if (amount === 0n) throw new PoolActionError('NOTHING_TO_CLAIM', `the share of epoch ${epoch} is zero: nothing to claim`, { epoch });
    return this.build(
      `claim epoch ${epoch}`,
      sender,
      () => this.pool.claim(r.record, this.mirror.reportWitness(epoch), r.eligible.witness(key), r.slashed.witness(key), UInt32.from(this.now())),
      { amount },
      () => {},
      1,
    );
  }

  async dispute(sender: PrivateKey, epoch: number): Promise<BuiltTransaction> {
    const member = sender.toPublicKey();
    this.requireMember(member);
    const r = this.requireReport(epoch);
    if (r.record.disputed.toBoolean()) throw new PoolActionError('ALREADY_DISPUTED', `epoch ${epoch} is already disputed`, { epoch });
    if (this.now() >= Number(r.record.claimsOpenAt.toBigint())) throw new PoolActionError('WINDOW_CLOSED', `the challenge window of epoch ${epoch} has ended`, { epoch });
    const disputed = new ReportRecord({ ...r.record, disputed: Bool(true) });
    return this.build(
      `dispute epoch ${epoch}`,
      sender,
      () => this.pool.dispute(r.record, this.mirror.reportWitness(epoch), this.mirror.members.witness(member.toBase58()), UInt32.from(this.now())),
      undefined,
      () => this.mirror.setReport(epoch, { ...r, record: disputed }),
    );
  }

  async slash(sender: PrivateKey, epoch: number, member: PublicKey, first: SignedBlockProposal, second: SignedBlockProposal): Promise<BuiltTransaction> {
    const r = this.requireReport(epoch);
    const key = member.toBase58();
    if (!r.eligible.has(key)) throw new PoolActionError('NOT_ELIGIBLE', `${key} is not eligible in epoch ${epoch}`, { epoch });
    if (r.slashed.has(key)) throw new PoolActionError('ALREADY_SLASHED', `${key} is already slashed for epoch ${epoch}`, { epoch });
    if (!r.record.disputed.toBoolean() && this.now() >= Number(r.record.claimsOpenAt.toBigint())) {
      throw new PoolActionError('TOO_LATE', `claims for epoch ${epoch} are open: too late to slash`, { epoch });
    }
    const slashed = new KeySet(r.slashed.keys);
    slashed.add(key);
    const record = new ReportRecord({ ...r.record, slashedRoot: slashed.root(), slashedCount: r.record.slashedCount.add(1) });
    return this.build(
      `slash ${key} in epoch ${epoch}`,
      sender,
      () => this.pool.slash(r.record, this.mirror.reportWitness(epoch), member, first, second, r.eligible.witness(key), r.slashed.witness(key), UInt32.from(this.now())),
      undefined,
      () => this.mirror.setReport(epoch, { ...r, record, slashed }),
    );
  }

  /** Applies an executed ruling; a `replace` ruling needs the new eligible members' keys. */
  async applyRuling(sender: PrivateKey, epoch: number, proposalId: number, newEligible?: string[]): Promise<BuiltTransaction> {
    const r = this.requireReport(epoch);
    const { record: ruling, payload } = this.requireProposal(proposalId);
    if (!r.record.disputed.toBoolean()) throw new PoolActionError('NOT_DISPUTED', `epoch ${epoch} is not disputed`, { epoch });
    if (this.proposalState(proposalId) !== 'executed') throw new PoolActionError('NOT_EXECUTED', `ruling proposal ${proposalId} has not been executed`);
    const replace = Number(payload.decision.toBigint()) === Ruling.replace;
    const eligible = replace ? new KeySet(newEligible ?? []) : r.eligible;
    if (replace && !eligible.root().equals(payload.root).toBoolean()) {
      throw new PoolActionError('BAD_RULING', 'the new eligible members do not match the ruling\'s root');
    }
    const report = new EpochReport({ ...r.record.report, eligibleRoot: replace ? payload.root : r.record.report.eligibleRoot, eligibleCount: replace ? payload.count : r.record.report.eligibleCount });
    const record = new ReportRecord({ ...r.record, report, disputed: Bool(false) });
    return this.build(
      `apply ruling ${proposalId} to epoch ${epoch}`,
      sender,
      () => this.pool.applyRuling(r.record, this.mirror.reportWitness(epoch), ruling, this.mirror.proposalWitness(proposalId), payload),
      undefined,
      () => this.mirror.setReport(epoch, { ...r, record, eligible }),
    );
  }
}

/** The chain's failure codes, in words. */
const REJECTION_REASONS: [RegExp, string][] = [
  [/Account_is_new_precondition_unsatisfied/, 'a receipt it creates already exists (already voted or claimed)'],
  [/Account_app_state_precondition_unsatisfied/, 'the pool\'s on-chain state changed since it was built; build it again'],
  [/Account_balance_precondition_unsatisfied/, 'an account balance it read changed (tallies, paid counter, or the pool does not hold enough)'],
  [/Protocol_state_precondition_unsatisfied|Valid_while_precondition_unsatisfied/, 'it was included outside the slots it allows (a window closed or has not opened)'],
  [/Invalid fee excess/, 'its balance changes do not add up (an account it pays to create already exists: already voted or claimed?)'],
];

/** Explains a chain rejection in words, keeping the chain's own text after it. */
export function explainRejection(errors: string): string {
  const reasons = REJECTION_REASONS.filter(([re]) => re.test(errors)).map(([, why]) => why);
  return reasons.length > 0 ? `${reasons.join('; ')} [${errors.split('\n')[0]?.slice(0, 300)}]` : errors;
}

/** Sends a built transaction; a rejection becomes an error naming the action and the chain's reason. */
export async function sendTransaction<T>(built: BuiltTransaction<T>): Promise<T> {
  let errors: string[] = [];
  try {
    const pending = await built.tx.send();
    if (pending.status !== 'pending') errors = pending.errors;
  } catch (e) {
    errors = [e instanceof Error ? e.message : String(e)];
  }
  if (errors.length > 0) {
    throw new PoolError('REJECTED', `${built.label}: the chain rejected the transaction: ${explainRejection(errors.join('; '))}`, { action: built.label });
  }
  built.apply();
  return built.result;
}
