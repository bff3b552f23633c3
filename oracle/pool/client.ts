import { AccountUpdate, Field, PublicKey, Signature, UInt32, UInt64, VerificationKey, type PrivateKey } from 'o1js';
import { BackfillRegistry } from '../../contracts/BackfillRegistry.js';
import type { BackfillCommitment, DesignatedProducerProof } from '../../contracts/DesignatedProducer.js';
import { Bitmap } from '../../contracts/Bitmap.js';
import { PoolDac } from '../../contracts/PoolDac.js';
import { PoolVault } from '../../contracts/PoolVault.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import {
  AccountTag,
  EpochReport,
  MAX_REGISTERED,
  NANOMINA_PER_MILLIMINA,
  ProposalKind,
  ProposalPayload,
  ReportRecord,
  SLOTS_PER_EPOCH,
  SignedBlockProposal,
  Tally,
  UpgradeTarget,
  VoteChoice,
  appliedReceiptAddress,
  backfillReceiptAddress,
  claimReceiptAddress,
  claimsAddress,
  paidCounterAddress,
  poolTagOf,
  tallyAddress,
  voteReceiptAddress,
  type ProposalKindName,
} from '../../contracts/types.js';
import { nanoToMina } from '../amount.js';
import { BackfillRecords } from '../backfill/records.js';
import type { Chain, Inclusion } from '../chain/chain.js';
import { TransactionRejected } from '../chain/chain.js';
import { isStale } from '../chain/explain.js';
import type { Log, PostRequest, TransactionPoster } from '../chain/poster.js';
import { PoolError, type ErrorContext } from '../errors.js';
import { decodeEvents } from './events.js';
import { MirrorMismatch, PoolMirror, type MirroredProposal, type MirroredReport, type PoolAddresses } from './mirror.js';
import { paramsFromJson, paramsProblem } from './params.js';

/** A pool action refused before it reaches the chain, with the reason in the pool's words. */
export class PoolActionError extends PoolError {
  constructor(code: string, message: string, context: ErrorContext = {}) {
    super(code, message, context);
  }
}

/** A proposal's derived state, as OpenZeppelin's Governor names them. */
export type ProposalState = 'active' | 'canceled' | 'defeated' | 'queued' | 'executable' | 'executed' | 'expired';

/** A checked action: the transaction to post, and what it yields once included (read from the pool then). */
export interface Action<T = undefined> {
  request: PostRequest;
  result: (mirror: PoolMirror) => T;
}

export interface PoolClientDeps {
  chain: Chain;
  poster: TransactionPoster;
  addresses: PoolAddresses;
  /** Names of keys (B62 → name), so that messages say "alice" rather than a key. */
  names?: Map<string, string>;
  log?: Log;
}

const CHOICES = { against: VoteChoice.against, for: VoteChoice.for, abstain: VoteChoice.abstain } as const;
export type VoteChoiceName = keyof typeof CHOICES;

/**
 * The pool as members and the operator use it: reads the chain, rebuilds the mirror from
 * the contracts' events, checks each rule off-chain so that a refusal says why in words and
 * what to do next, and builds the transactions the contracts then enforce.
 *
 * @example
 * const client = await PoolClient.open({ chain, poster, addresses });
 * await client.submit(await client.vote(aliceKey, 0, 'for'));
 */
export class PoolClient {
  readonly chain: Chain;
  readonly poster: TransactionPoster;
  readonly dac: PoolDac;
  readonly pool: RewardPool;
  readonly vault: PoolVault;
  readonly registry: BackfillRegistry;
  readonly names: Map<string, string>;
  private mirrorState?: PoolMirror;
  private readonly log: Log;

  constructor(deps: PoolClientDeps) {
    this.chain = deps.chain;
    this.poster = deps.poster;
    this.dac = new PoolDac(deps.addresses.dac);
    this.pool = new RewardPool(deps.addresses.pool);
    this.vault = new PoolVault(deps.addresses.vault);
    this.registry = new BackfillRegistry(deps.addresses.registry);
    this.names = deps.names ?? new Map();
    this.log = deps.log ?? (() => {});
  }

  /** A client with its mirror rebuilt from the chain and checked against it. */
  static async open(deps: PoolClientDeps): Promise<PoolClient> {
    const client = new PoolClient(deps);
    await client.sync();
    return client;
  }

  get addresses(): PoolAddresses {
    return { dac: this.dac.address, pool: this.pool.address, vault: this.vault.address, registry: this.registry.address };
  }

  get mirror(): PoolMirror {
    if (!this.mirrorState) throw new PoolError('NOT_SYNCED', 'the pool has not been read from the chain yet');
    return this.mirrorState;
  }

  /**
   * Rebuilds the mirror from the contracts' events and checks it against their state. A
   * transaction landing between the two reads (another process, another member) makes them
   * disagree for a moment: the pool is read again, up to three times, before that is an error.
   */
  async sync(): Promise<PoolMirror> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readOnce();
      } catch (e) {
        if (!(e instanceof MirrorMismatch) || attempt >= 3) throw e;
        await new Promise((r) => setTimeout(r, this.chain.kind === 'network' ? 5_000 : 300 * attempt));
      }
    }
  }

  private async readOnce(): Promise<PoolMirror> {
    this.chain.use();
    const [dacAccount, poolAccount] = [await this.chain.account(this.dac.address), await this.chain.account(this.pool.address)];
    if (!dacAccount?.zkapp || !poolAccount?.zkapp) {
      throw new PoolError('NOT_DEPLOYED', `no pool at ${this.dac.address.toBase58()} on ${this.chain.label}: ${!dacAccount ? 'the PoolDac account does not exist' : 'it is not a zkApp'} (was the pool deployed on this chain?)`);
    }
    const dacEvents = decodeEvents(this.dac.events, await this.chain.events(this.dac.address), 'PoolDac');
    const poolEvents = decodeEvents(this.pool.events, await this.chain.events(this.pool.address), 'RewardPool');
    const mirror = PoolMirror.fromEvents(this.addresses, dacEvents, poolEvents);
    mirror.verify({
      constitutionHash: this.dac.constitutionHash.get(),
      membersRoot: this.dac.membersRoot.get(),
      memberCount: this.dac.memberCount.get(),
      registered: this.dac.registered.get(),
      paramsHash: this.dac.paramsHash.get(),
      oracleKeyHash: this.dac.oracleKeyHash.get(),
      reportsRoot: this.pool.reportsRoot.get(),
      nextEpoch: this.pool.nextEpoch.get(),
      totalReported: this.pool.totalReported.get(),
    });
    this.mirrorState = mirror;
    return mirror;
  }

  /** Posts an action, then reads the pool again; a transaction refused because the state moved on is rebuilt once. */
  async submit<T>(action: Action<T> | (() => Promise<Action<T>>)): Promise<Inclusion & (T extends object ? T : unknown)> {
    const build = typeof action === 'function' ? action : async () => action;
    let current = await build();
    try {
      const inclusion = await this.poster.post(current.request);
      return { ...current.result(await this.sync()), ...inclusion } as Inclusion & (T extends object ? T : unknown);
    } catch (e) {
      if (!(e instanceof TransactionRejected) || typeof action !== 'function' || !isStale(e.failures)) throw e;
      this.log(`${current.request.label}: the pool changed meanwhile; building it again`);
      await this.sync();
      current = await build();
      const inclusion = await this.poster.post(current.request);
      return { ...current.result(await this.sync()), ...inclusion } as Inclusion & (T extends object ? T : unknown);
    }
  }

  /** A key as people know it: its name when it has one. */
  who(key: string | PublicKey): string {
    const k = typeof key === 'string' ? key : key.toBase58();
    return this.names.get(k) ?? k;
  }

  async now(): Promise<number> {
    return this.chain.slot();
  }

  /** "slot N (in K slots, …)" for messages: on a network how long that is, on the local chain how to get there. */
  private async when(slot: number, current?: number): Promise<string> {
    const now = current ?? (await this.now());
    if (slot <= now) return `slot ${slot}`;
    const k = slot - now;
    const slots = `${k} slot${k === 1 ? '' : 's'}`;
    if (this.chain.kind === 'network') {
      const minutes = k * 3;
      return `slot ${slot} (in ${slots}, about ${minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`} at 3 min per slot)`;
    }
    return `slot ${slot} (in ${slots}${this.chain.kind === 'local' ? `; on the local chain: npm run pool -- wait ${k}` : ''})`;
  }

  private async exists(address: PublicKey, tokenId?: Field): Promise<boolean> {
    return (await this.chain.account(address, tokenId)) !== undefined;
  }

  private request(label: string, sender: PrivateKey, build: () => Promise<void>, newAccounts = 0): PostRequest {
    const payer = sender.toPublicKey();
    return {
      label,
      sender,
      accounts: [this.dac.address, this.pool.address],
      build: async () => {
        if (newAccounts > 0) AccountUpdate.fundNewAccount(payer, newAccounts);
        await build();
      },
    };
  }

  // ---------------------------------------------------------------- reads

  /** A proposal by number, or an error that lists the numbers there are. */
  proposal(number: number): MirroredProposal {
    const p = this.mirror.proposal(number);
    if (!p) {
      const n = this.mirror.proposals.length;
      throw new PoolActionError('UNKNOWN_PROPOSAL', `there is no proposal #${number} (${n === 0 ? 'no proposals yet' : `proposals: #0–#${n - 1}`})`, { number });
    }
    return p;
  }

  /** A report by epoch, or an error that says which epochs have one. */
  report(epoch: number): MirroredReport {
    const r = this.mirror.report(epoch);
    if (!r) {
      const epochs = [...this.mirror.reports.keys()];
      throw new PoolActionError('UNKNOWN_EPOCH', `there is no report for epoch ${epoch} (${epochs.length === 0 ? 'no reports yet' : `reported: ${epochs.join(', ')}`})`, { epoch });
    }
    return r;
  }

  /** A proposal's votes and status, read from its tally account. */
  async tally(number: number): Promise<{ tally: Tally; status: 'active' | 'canceled' | 'executed' }> {
    const p = this.proposal(number);
    const account = await this.chain.account(tallyAddress(p.id), this.dac.deriveTokenId());
    if (!account) throw new PoolError('MIRROR_MISMATCH', `proposal #${number} has no tally account on chain`);
    return Tally.decode(account.balance.toBigInt());
  }

  async hasVoted(number: number, member: PublicKey): Promise<boolean> {
    return this.exists(voteReceiptAddress(this.proposal(number).id, member), this.dac.deriveTokenId());
  }

  async claimsOpen(epoch: number): Promise<boolean> {
    return this.exists(claimsAddress(this.report(epoch).record.hash()), this.pool.deriveTokenId());
  }

  async hasClaimed(epoch: number, member: PublicKey): Promise<boolean> {
    return this.exists(claimReceiptAddress(this.report(epoch).record.hash(), member), this.pool.deriveTokenId());
  }

  /** Nanomina paid out of reports so far (the paid counter). */
  async paid(): Promise<bigint> {
    const account = await this.chain.account(paidCounterAddress(this.pool.address), this.pool.deriveTokenId());
    if (!account) throw new PoolError('MIRROR_MISMATCH', 'the reward pool has no paid counter: the deployment is incomplete');
    return account.balance.toBigInt() - 1n;
  }

  /** The pool's and the vault's balances, what was paid and is still owed to members, and what the treasury can spend. */
  async funds(): Promise<{ pool: bigint; vault: bigint; paid: bigint; owed: bigint; spendable: bigint }> {
    const pool = (await this.chain.account(this.pool.address))?.balance.toBigInt() ?? 0n;
    const vault = (await this.chain.account(this.vault.address))?.balance.toBigInt() ?? 0n;
    const paid = await this.paid();
    const owed = this.mirror.totalReported - paid;
    return { pool, vault, paid, owed, spendable: pool > owed ? pool - owed : 0n };
  }

  /** Whether a proposal's votes pass its own rules (those in force when it was proposed). */
  passes(p: MirroredProposal, t: Tally): { quorum: boolean; approval: boolean } {
    const [f, a, x] = [t.for, t.against, t.abstain].map((v) => v.toBigint()) as [bigint, bigint, bigint];
    return {
      quorum: (f + a + x) * 100n >= p.record.memberCount.toBigint() * p.record.quorumPercent.toBigint(),
      approval: f > 0n && f * 100n >= (f + a) * p.record.approvalPercent.toBigint(),
    };
  }

  /** A proposal's state at `now` (`read`: its tally, if the caller has read it already). */
  async proposalState(number: number, now?: number, read?: Awaited<ReturnType<PoolClient['tally']>>): Promise<ProposalState> {
    const p = this.proposal(number);
    const { tally, status } = read ?? (await this.tally(number));
    if (status !== 'active') return status;
    const slot = now ?? (await this.now());
    if (slot <= Number(p.record.voteEnd.toBigint())) return 'active';
    const { quorum, approval } = this.passes(p, tally);
    if (!quorum || !approval) return 'defeated';
    if (slot < Number(p.record.opensAt.toBigint())) return 'queued';
    return slot <= Number(p.record.closesAt.toBigint()) ? 'executable' : 'expired';
  }

  private requireMember(key: PublicKey, action: string): void {
    if (!this.mirror.isMember(key.toBase58())) throw new PoolActionError('NOT_MEMBER', `${this.who(key)} is not a pool member: only members ${action}`, { key: key.toBase58() });
  }

  // ---------------------------------------------------------------- governance

  /** A member proposes; the payload is checked as the contract will check it. */
  async propose(sender: PrivateKey, kind: ProposalKindName, payload: ProposalPayload): Promise<Action<{ number: number; id: Field; voteEnd: number }>> {
    const proposer = sender.toPublicKey();
    this.requireMember(proposer, 'propose');
    this.checkPayload(kind, payload);
    const now = await this.now();
    const mirror = this.mirror;
    const params = paramsFromJson(mirror.params);
    const members = mirror.currentMap();
    const request = this.request(`propose ${kind}`, sender, () => this.dac.propose(UInt32.from(ProposalKind[kind]), payload, params, members.clone(), UInt32.from(now)), 1);
    const digest = payload.digest();
    // The proposal's number is its place among the proposals once included: the newest of this proposer with this payload.
    const result = (m: PoolMirror) => {
      const mine = m.proposals.filter((x) => x.record.proposer.equals(proposer).toBoolean() && x.record.payloadHash.equals(digest).toBoolean());
      const p = mine[mine.length - 1];
      if (!p) throw new PoolError('MIRROR_MISMATCH', 'the proposal was included but is not in the pool\'s events');
      return { number: p.number, id: p.id, voteEnd: Number(p.record.voteEnd.toBigint()) };
    };
    return { request, result };
  }

  /** Refuses, in words, a payload that could never execute. */
  checkPayload(kind: ProposalKindName, payload: ProposalPayload): void {
    const key = payload.key.toBase58();
    const mirror = this.mirror;
    switch (kind) {
      case 'addMember':
        if (mirror.isMember(key)) throw new PoolActionError('ALREADY_MEMBER', `${this.who(key)} is already a member: there is nothing to add`);
        if (mirror.indexOf(key) === undefined && mirror.registry.length >= MAX_REGISTERED) throw new PoolActionError('REGISTRY_FULL', `the member registry is full (${MAX_REGISTERED} keys ever added)`);
        return;
      case 'removeMember':
        if (!mirror.isMember(key)) throw new PoolActionError('NOT_MEMBER', `${this.who(key)} is not a member: there is nothing to remove`);
        if (mirror.memberCount <= 1) throw new PoolActionError('LAST_MEMBER', 'the last member cannot be removed');
        return;
      case 'setParameters': {
        const problem = paramsProblem({ ...mirror.params, ...paramsToNumbers(payload) });
        if (problem) throw new PoolActionError('BAD_PARAMS', `the new parameters are out of range: ${problem}`);
        return;
      }
      case 'arbitrationRuling': {
        const epoch = Number(payload.ruling.epoch.toBigint());
        const r = this.report(epoch);
        if (!r.record.disputed.toBoolean()) throw new PoolActionError('NOT_DISPUTED', `epoch ${epoch} is not disputed: there is nothing to rule on`);
        const unknown = new Bitmap(payload.ruling.eligible).indexes().filter((i) => i >= mirror.registry.length);
        if (unknown.length > 0) throw new PoolActionError('BAD_RULING', `the new eligible members include registry indexes ${unknown.join(', ')}, which no key holds`);
        return;
      }
      case 'treasurySpend':
        if (payload.amount.toBigInt() <= 0n) throw new PoolActionError('BAD_AMOUNT', 'a spend must be of a positive amount');
        return;
      case 'upgrade':
        if (payload.target.toBigint() > BigInt(UpgradeTarget.RewardPool)) throw new PoolActionError('BAD_TARGET', 'an upgrade targets PoolDac or RewardPool');
        return;
      default:
        return;
    }
  }

  /** A member of the proposal's member map votes, once, while voting is open. */
  async vote(sender: PrivateKey, number: number, choice: VoteChoiceName): Promise<Action> {
    const voter = sender.toPublicKey();
    const p = this.proposal(number);
    const value = CHOICES[choice];
    if (value === undefined) throw new PoolActionError('BAD_CHOICE', `a vote is for, against or abstain, got ${JSON.stringify(choice)}`);
    const state = await this.proposalState(number);
    if (state !== 'active') throw new PoolActionError('VOTING_CLOSED', `voting on proposal #${number} is closed (${state}; it closed at slot ${p.record.voteEnd.toString()})`, { number, state });
    if (!this.mirror.isMember(voter.toBase58(), p.record.membersRoot)) {
      throw new PoolActionError('NOT_VOTER', `${this.who(voter)} was not a member when proposal #${number} was made (slot ${p.record.voteStart.toString()}): only the members of that moment vote on it`, { number });
    }
    if (await this.hasVoted(number, voter)) throw new PoolActionError('ALREADY_VOTED', `${this.who(voter)} already voted on proposal #${number}`, { number });
    const members = this.mirror.mapAt(p.record.membersRoot);
    return { request: this.request(`vote ${choice} on proposal #${number}`, sender, () => this.dac.vote(p.record, members.clone(), UInt32.from(value)), 1), result: () => undefined };
  }

  /** The proposer cancels while voting is open. */
  async cancel(sender: PrivateKey, number: number): Promise<Action> {
    const p = this.proposal(number);
    if (!p.record.proposer.equals(sender.toPublicKey()).toBoolean()) {
      throw new PoolActionError('NOT_PROPOSER', `only the proposer (${this.who(p.record.proposer)}) can cancel proposal #${number}`, { number });
    }
    const state = await this.proposalState(number);
    if (state !== 'active') throw new PoolActionError('TOO_LATE', `proposal #${number} can no longer be canceled (${state}; voting ended at slot ${p.record.voteEnd.toString()})`, { number, state });
    return { request: this.request(`cancel proposal #${number}`, sender, () => this.dac.cancel(p.record)), result: () => undefined };
  }

  /** Why a proposal cannot be executed now, in words with what to do next; `undefined` if it can. */
  async whyNotExecutable(number: number, read?: Awaited<ReturnType<PoolClient['tally']>>): Promise<string | undefined> {
    const p = this.proposal(number);
    const { tally, status } = read ?? (await this.tally(number));
    const now = await this.now();
    const state = await this.proposalState(number, now, { tally, status });
    const [opens, closes, voteEnd] = [p.record.opensAt, p.record.closesAt, p.record.voteEnd].map((x) => Number(x.toBigint())) as [number, number, number];
    switch (state) {
      case 'executable':
        return undefined;
      case 'active':
        return `voting is open until ${await this.when(voteEnd, now)}; if it passes, it can be executed from slot ${opens} to slot ${closes}`;
      case 'queued':
        return `it passed; its timelock ends at ${await this.when(opens, now)}: execute it then (until slot ${closes})`;
      case 'defeated': {
        const { quorum } = this.passes(p, tally);
        const needed = Math.ceil((Number(p.record.memberCount.toBigint()) * Number(p.record.quorumPercent.toBigint())) / 100);
        return quorum
          ? `it was defeated: ${tally.for} for and ${tally.against} against do not reach the ${p.record.approvalPercent.toString()} % approval it needed`
          : `it was defeated: ${Number(tally.for.toBigint() + tally.against.toBigint() + tally.abstain.toBigint())} votes cast of the ${needed} its quorum needed (${p.record.quorumPercent.toString()} % of ${p.record.memberCount.toString()} members)`;
      }
      case 'expired':
        return `it passed but its execution window closed at slot ${closes}: propose it again`;
      case 'executed':
        return 'it was already executed';
      case 'canceled':
        return 'it was canceled';
    }
  }

  /**
   * Anyone executes a passed proposal. Member, constitution, parameter and oracle changes
   * apply here, and an upgrade of PoolDac (with its verification key `vk`) in the same
   * transaction; a spend, a ruling or an upgrade of RewardPool then needs
   * {@link applyExecuted} (Mina's cost limit keeps them out of one transaction).
   */
  async execute(sender: PrivateKey, number: number, options: { vk?: VerificationKey } = {}): Promise<Action> {
    const p = this.proposal(number);
    const read = await this.tally(number);
    const why = await this.whyNotExecutable(number, read);
    if (why) throw new PoolActionError('NOT_EXECUTABLE', `proposal #${number} cannot be executed: ${why}`, { number });
    const kind = Number(p.record.kind.toBigint());
    const key = p.payload.key.toBase58();
    const mirror = this.mirror;
    if (kind === ProposalKind.addMember && mirror.isMember(key)) throw new PoolActionError('ALREADY_MEMBER', `${this.who(key)} became a member since proposal #${number} was made: it can no longer execute`);
    if (kind === ProposalKind.removeMember && !mirror.isMember(key)) throw new PoolActionError('NOT_MEMBER', `${this.who(key)} is no longer a member: proposal #${number} can no longer execute`);
    if (kind === ProposalKind.removeMember && mirror.memberCount <= 1) throw new PoolActionError('LAST_MEMBER', 'the last member cannot be removed');
    const upgradesDac = kind === ProposalKind.upgrade && p.payload.target.toBigint() === BigInt(UpgradeTarget.PoolDac);
    const vk = upgradesDac ? this.requireVk(number, options.vk) : undefined;
    const { tally } = read;
    const members = mirror.currentMap();
    return {
      request: this.request(`execute proposal #${number}`, sender, async () => {
        await this.dac.execute(p.record, p.payload, tally, members.clone());
        if (vk) await this.dac.upgrade(p.record, p.payload, vk);
      }, vk ? 1 : 0),
      result: () => undefined,
    };
  }

  private requireVk(number: number, vk: VerificationKey | undefined): VerificationKey {
    const p = this.proposal(number);
    const target = p.payload.target.toBigint() === 0n ? 'PoolDac' : 'RewardPool';
    if (!vk) throw new PoolActionError('NEEDS_VK', `proposal #${number} upgrades ${target}: give the verification key it voted for (--vk FILE; hash ${p.payload.hash.toString()})`);
    if (!vk.hash.equals(p.payload.hash).toBoolean()) throw new PoolActionError('VK_MISMATCH', `that verification key's hash ${vk.hash.toString()} is not the one proposal #${number} voted for (${p.payload.hash.toString()})`);
    return vk;
  }

  /**
   * What an executed proposal still has to do in RewardPool: pay a spend, apply a ruling
   * to its dispute, set RewardPool's verification key. `undefined` when nothing is left.
   */
  async pendingApplication(number: number): Promise<'spend' | 'ruling' | 'upgrade' | undefined> {
    const p = this.proposal(number);
    if (p.status !== 'executed') return undefined;
    const kind = Number(p.record.kind.toBigint());
    const token = this.pool.deriveTokenId();
    if (kind === ProposalKind.treasurySpend) return (await this.exists(appliedReceiptAddress(AccountTag.spendReceipt, p.id), token)) ? undefined : 'spend';
    if (kind === ProposalKind.upgrade && p.payload.target.toBigint() === BigInt(UpgradeTarget.RewardPool)) return (await this.exists(appliedReceiptAddress(AccountTag.upgradeReceipt, p.id), token)) ? undefined : 'upgrade';
    if (kind === ProposalKind.arbitrationRuling) {
      const r = this.mirror.report(Number(p.payload.ruling.epoch.toBigint()));
      return r && r.record.disputed.toBoolean() && r.record.disputes.equals(p.payload.ruling.dispute).toBoolean() ? 'ruling' : undefined;
    }
    return undefined;
  }

  /** Pays an executed spend, applies an executed ruling, or sets RewardPool's voted verification key: once. */
  async applyExecuted(sender: PrivateKey, number: number, options: { vk?: VerificationKey } = {}): Promise<Action> {
    const p = this.proposal(number);
    const kind = Number(p.record.kind.toBigint());
    if (p.status !== 'executed') throw new PoolActionError('NOT_EXECUTED', `proposal #${number} has not been executed: ${(await this.whyNotExecutable(number)) ?? 'execute it first'}`, { number });
    const pending = await this.pendingApplication(number);
    if (kind === ProposalKind.arbitrationRuling) return this.applyRuling(sender, Number(p.payload.ruling.epoch.toBigint()), number);
    if (pending === undefined) throw new PoolActionError('ALREADY_APPLIED', `proposal #${number} has nothing left to apply`, { number });
    if (pending === 'upgrade') {
      const vk = this.requireVk(number, options.vk);
      return { request: this.request(`upgrade RewardPool (proposal #${number})`, sender, () => this.pool.upgrade(p.record, p.payload, vk), 1), result: () => undefined };
    }
    const amount = p.payload.amount.toBigInt();
    const { spendable, pool, owed, paid } = await this.funds();
    if (amount > spendable) {
      throw new PoolActionError('NOT_ENOUGH_FUNDS', `the pool can spend ${nanoToMina(spendable)} MINA (balance ${nanoToMina(pool)} less ${nanoToMina(owed)} owed to members); proposal #${number} pays ${nanoToMina(amount)}: sweep the vault or wait for rewards`);
    }
    const newAccounts = 1 + ((await this.exists(p.payload.key)) ? 0 : 1);
    return { request: this.request(`pay ${nanoToMina(amount)} MINA to ${this.who(p.payload.key)} (proposal #${number})`, sender, () => this.pool.spend(p.record, p.payload, UInt64.from(paid)), newAccounts), result: () => undefined };
  }

  /** Applies an executed ruling to its dispute (when it was not applied with the execution). */
  async applyRuling(sender: PrivateKey, epoch: number, number: number): Promise<Action> {
    const r = this.report(epoch);
    const p = this.proposal(number);
    if (Number(p.record.kind.toBigint()) !== ProposalKind.arbitrationRuling) throw new PoolActionError('NOT_RULING', `proposal #${number} is not an arbitration ruling`);
    if (!r.record.disputed.toBoolean()) throw new PoolActionError('NOT_DISPUTED', `epoch ${epoch} is not disputed`);
    if (Number(p.payload.ruling.epoch.toBigint()) !== epoch) throw new PoolActionError('WRONG_EPOCH', `ruling #${number} is for epoch ${p.payload.ruling.epoch.toString()}, not ${epoch}`);
    if (!r.record.disputes.equals(p.payload.ruling.dispute).toBoolean()) {
      throw new PoolActionError('WRONG_DISPUTE', `ruling #${number} answers dispute ${p.payload.ruling.dispute.toString()} of epoch ${epoch}; the open dispute is number ${r.record.disputes.toString()}: it needs a new ruling`);
    }
    if (p.status !== 'executed') throw new PoolActionError('NOT_EXECUTED', `ruling #${number} has not been executed: ${(await this.whyNotExecutable(number)) ?? 'execute it first'}`);
    const witness = this.mirror.reportWitness(epoch);
    return { request: this.request(`apply ruling #${number} to epoch ${epoch}`, sender, () => this.pool.applyRuling(r.record, witness, p.record, p.payload)), result: () => undefined };
  }

  // ---------------------------------------------------------------- treasury

  /** Pays `amount` nanomina into the reward pool. */
  async deposit(sender: PrivateKey, amount: bigint): Promise<Action> {
    if (amount <= 0n) throw new PoolActionError('BAD_AMOUNT', 'a deposit must be positive');
    const from = sender.toPublicKey();
    const balance = (await this.chain.account(from))?.balance.toBigInt() ?? 0n;
    if (balance < amount + this.poster.fee) throw new PoolActionError('NOT_ENOUGH_FUNDS', `${this.who(from)} holds ${nanoToMina(balance)} MINA: not enough for ${nanoToMina(amount)} MINA and the fee`);
    return {
      request: this.request(`deposit ${nanoToMina(amount)} MINA`, sender, async () => {
        AccountUpdate.createSigned(from).balance.subInPlace(UInt64.from(amount));
        await this.pool.deposit(UInt64.from(amount));
      }),
      result: () => undefined,
    };
  }

  /** Moves the vault's coinbase rewards (all of them, or `amount`) into the reward pool. */
  async sweep(sender: PrivateKey, amount?: bigint): Promise<Action<{ amount: bigint }>> {
    const vault = (await this.chain.account(this.vault.address))?.balance.toBigInt() ?? 0n;
    const take = amount ?? vault;
    if (take <= 0n) throw new PoolActionError('NOTHING_TO_SWEEP', 'the vault holds no MINA: nothing to sweep');
    if (take > vault) throw new PoolActionError('NOT_ENOUGH_FUNDS', `the vault holds ${nanoToMina(vault)} MINA, less than ${nanoToMina(take)}`);
    return { request: this.request(`sweep ${nanoToMina(take)} MINA from the vault`, sender, () => this.vault.sweep(UInt64.from(take))), result: () => ({ amount: take }) };
  }

  // ---------------------------------------------------------------- backfill

  /** The BackfillRegistry's commitment and records, rebuilt from its events and checked against its state. */
  async backfill(): Promise<BackfillRecords> {
    this.chain.use();
    const account = await this.chain.account(this.registry.address);
    if (!account?.zkapp) throw new PoolError('NOT_DEPLOYED', `no BackfillRegistry at ${this.registry.address.toBase58()} on ${this.chain.label}`);
    const records = BackfillRecords.fromEvents(decodeEvents(this.registry.events, await this.chain.events(this.registry.address), 'BackfillRegistry'));
    records.verify({ commitment: this.registry.commitment.get(), records: this.registry.records.get(), nextFrom: this.registry.nextFrom.get() }, this.registry.address);
    return records;
  }

  /** Posts the oracle's signed commitment of a slot range that has passed; the checks are the contract's, in words. */
  async commitBackfill(sender: PrivateKey, commitment: BackfillCommitment, signature: Signature, oracle: PublicKey): Promise<Action> {
    const mirror = this.mirror;
    const [from, to, epoch] = [commitment.from, commitment.to, commitment.epoch].map((v) => Number(v.toBigint())) as [number, number, number];
    if (oracle.toBase58() !== mirror.oracle) throw new PoolActionError('WRONG_ORACLE', `${this.who(oracle)} is not the pool's oracle (${this.who(mirror.oracle)})`);
    if (!signature.verify(oracle, commitment.message(poolTagOf(this.dac.address))).toBoolean()) throw new PoolActionError('BAD_SIGNATURE', 'the commitment is not signed by the oracle key');
    const next = (await this.backfill()).nextFrom();
    if (from < next) throw new PoolActionError('OVERLAPS', `the commitment starts at slot ${from}, before the end of the previous one (next free slot ${next})`, { from, next });
    if (from > to) throw new PoolActionError('EMPTY_RANGE', `the commitment's range ${from}–${to} is empty`);
    const start = epoch * SLOTS_PER_EPOCH;
    if (from < start || to >= start + SLOTS_PER_EPOCH) throw new PoolActionError('NOT_ONE_EPOCH', `slots ${from}–${to} are not within epoch ${epoch} (${start}–${start + SLOTS_PER_EPOCH - 1})`);
    const now = await this.now();
    if (to >= now) throw new PoolActionError('NOT_PASSED', `the commitment covers slots up to ${to}; commit it after ${await this.when(to + 1, now)}`);
    if (Number(commitment.window.toBigint()) !== mirror.params.backfillWindow) throw new PoolActionError('WRONG_WINDOW', `the commitment's window is ${commitment.window.toString()} slots, the pool's is ${mirror.params.backfillWindow}`);
    const params = paramsFromJson(mirror.params);
    return {
      request: { ...this.request(`commit backfill slots ${from}–${to}`, sender, () => this.registry.commit(commitment, signature, oracle, params, UInt32.from(now))), accounts: [this.dac.address, this.registry.address] },
      result: () => undefined,
    };
  }

  /**
   * Records a designated producer of a backfilled slot from its proof and pays it the pool's
   * compensation, once per slot. Anyone may submit it; only the proven producer is paid.
   */
  async payBackfill(sender: PrivateKey, proof: DesignatedProducerProof): Promise<Action<{ amount: bigint }>> {
    const s = proof.publicInput;
    const slot = Number(s.slot.toBigint());
    const producer = s.producer.toBase58();
    const records = await this.backfill();
    if (!records.commitment) throw new PoolActionError('NO_COMMITMENT', 'the oracle has not committed any backfill range yet');
    if (!s.commitment.equals(records.commitment.hash()).toBoolean()) throw new PoolActionError('STALE_COMMITMENT', `the proof for slot ${slot} is against an older commitment: prove it again against the current one (slots ${records.commitment.from.toString()}–${records.commitment.to.toString()})`, { slot });
    if (!s.viaWaitlist.toBoolean()) throw new PoolActionError('NOT_DESIGNATED', `the proof shows ${this.who(producer)} won slot ${slot} by its own VRF: only a designated producer is compensated`, { slot });
    const taken = records.recorded.get(slot);
    if (taken !== undefined && taken !== producer) throw new PoolActionError('SLOT_TAKEN', `slot ${slot} already has a designated producer: ${this.who(taken)}`, { slot });
    if (await this.exists(backfillReceiptAddress(s.commitment, s.slot), this.pool.deriveTokenId())) throw new PoolActionError('ALREADY_COMPENSATED', `slot ${slot} was already compensated`, { slot });
    const params = paramsFromJson(this.mirror.params);
    const amount = BigInt(this.mirror.params.backfillCompensation) * NANOMINA_PER_MILLIMINA;
    const { pool, owed, paid } = await this.funds();
    if (pool < owed + amount) throw new PoolActionError('NOT_COVERED', `the pool holds ${nanoToMina(pool)} MINA and owes ${nanoToMina(owed)} to members: the compensation of ${nanoToMina(amount)} MINA is not covered`);
    const newAccounts = 1 + ((await this.exists(s.producer)) ? 0 : 1);
    const oracle = PublicKey.fromBase58(this.mirror.oracle);
    const witness = records.witness(slot);
    return {
      request: {
        ...this.request(`compensate ${this.who(producer)} for backfilling slot ${slot}`, sender, () => this.pool.payBackfill(this.registry.address, proof, witness, oracle, params, UInt64.from(paid)), newAccounts),
        accounts: [this.dac.address, this.pool.address, this.registry.address],
      },
      result: () => ({ amount }),
    };
  }

  // ---------------------------------------------------------------- rewards

  /** Posts an epoch report signed by the oracle; the checks are the contract's, in words. */
  async postReport(sender: PrivateKey, report: EpochReport, signature: Signature, oracle: PublicKey): Promise<Action> {
    const mirror = this.mirror;
    const epoch = Number(report.epoch.toBigint());
    const now = await this.now();
    if (oracle.toBase58() !== mirror.oracle) throw new PoolActionError('WRONG_ORACLE', `${this.who(oracle)} is not the pool's oracle (${this.who(mirror.oracle)})`);
    if (!signature.verify(oracle, report.message(poolTagOf(this.dac.address))).toBoolean()) throw new PoolActionError('BAD_SIGNATURE', 'the report is not signed by the oracle key');
    const endsAt = (epoch + 1) * SLOTS_PER_EPOCH;
    if (now < endsAt) throw new PoolActionError('EPOCH_NOT_ENDED', `epoch ${epoch} has not ended on chain: it ends at slot ${endsAt - 1} (now ${now}); report it after that`, { epoch });
    const last = mirror.lastEpoch();
    if (last !== undefined && epoch <= last) throw new PoolActionError('EPOCH_NOT_INCREASING', `epoch ${epoch} is not after the last reported epoch ${last}`, { epoch, last });
    const previous = last === undefined ? emptyReportRecord() : this.report(last).record;
    if (last !== undefined && previous.disputed.toBoolean()) throw new PoolActionError('PREVIOUS_DISPUTED', `epoch ${last} is disputed: a ruling must be applied before the next report`);
    if (last !== undefined && now < Number(previous.claimsOpenAt.toBigint())) {
      throw new PoolActionError('PREVIOUS_OPEN', `epoch ${last} is in its challenge window until ${await this.when(Number(previous.claimsOpenAt.toBigint()))}; report epoch ${epoch} after that`);
    }
    const unknown = new Bitmap(report.eligible).indexes().filter((i) => i >= mirror.registry.length);
    if (unknown.length > 0) throw new PoolActionError('BAD_REPORT', `the report makes registry indexes ${unknown.join(', ')} eligible, which no key holds`);
    const { pool, owed, vault, paid } = await this.funds();
    const reward = report.reward.toBigInt();
    if (pool < owed + reward) {
      throw new PoolActionError('NOT_COVERED', `the pool holds ${nanoToMina(pool)} MINA and owes ${nanoToMina(owed)} to members: a reward of ${nanoToMina(reward)} MINA is not covered${vault > 0n ? ` (the vault holds ${nanoToMina(vault)} MINA: sweep it first)` : ''}`);
    }
    const params = paramsFromJson(mirror.params);
    const [witness, previousWitness] = [mirror.reportWitness(epoch), mirror.reportWitness(last ?? 0)];
    return {
      request: this.request(`report epoch ${epoch}`, sender, () =>
        this.pool.postEpochReport(report, signature, oracle, params, witness, previous, previousWitness, UInt64.from(paid), UInt32.from(now)),
      ),
      result: () => undefined,
    };
  }

  /** Why claims of an epoch cannot open now, or `undefined`. */
  async whyClaimsClosed(epoch: number): Promise<string | undefined> {
    const r = this.report(epoch);
    if (r.record.disputed.toBoolean()) return `epoch ${epoch} is disputed: claims wait for a ruling`;
    const opens = Number(r.record.claimsOpenAt.toBigint());
    if ((await this.now()) < opens) return `claims for epoch ${epoch} open at ${await this.when(opens)}, after the challenge window`;
    return undefined;
  }

  /** Anyone opens the claims of a final report, once; this pays the operator's fee. */
  async openClaims(sender: PrivateKey, epoch: number): Promise<Action> {
    const r = this.report(epoch);
    const why = await this.whyClaimsClosed(epoch);
    if (why) throw new PoolActionError('CLAIMS_NOT_OPEN', why, { epoch });
    if (await this.claimsOpen(epoch)) throw new PoolActionError('ALREADY_OPEN', `claims for epoch ${epoch} are already open`, { epoch });
    const newAccounts = 1 + ((await this.exists(r.record.operator)) ? 0 : 1);
    const witness = this.mirror.reportWitness(epoch);
    return { request: this.request(`open the claims of epoch ${epoch}`, sender, () => this.pool.openClaims(r.record, witness), newAccounts), result: () => undefined };
  }

  /** An eligible member claims its share of a final report whose claims are open. */
  async claim(sender: PrivateKey, epoch: number): Promise<Action<{ amount: bigint }>> {
    const member = sender.toPublicKey();
    const key = member.toBase58();
    const r = this.report(epoch);
    const index = this.mirror.indexOf(key);
    if (r.record.slashed.indexes().includes(index ?? -1)) throw new PoolActionError('SLASHED', `${this.who(key)} equivocated in epoch ${epoch}: its share was forfeited to the others`, { epoch });
    if (index === undefined || !r.record.eligible.indexes().includes(index)) throw new PoolActionError('NOT_ELIGIBLE', `${this.who(key)} is not eligible in epoch ${epoch}: nothing to claim`, { epoch });
    const why = await this.whyClaimsClosed(epoch);
    if (why) throw new PoolActionError('CLAIMS_NOT_OPEN', why, { epoch });
    if (!(await this.claimsOpen(epoch))) throw new PoolActionError('CLAIMS_NOT_OPENED', `claims for epoch ${epoch} can open now but have not been opened: open them first (anyone can)`, { epoch });
    if (await this.hasClaimed(epoch, member)) throw new PoolActionError('ALREADY_CLAIMED', `${this.who(key)} already claimed its share of epoch ${epoch}`, { epoch });
    const amount = r.record.share().share.toBigInt();
    if (amount === 0n) throw new PoolActionError('NOTHING_TO_CLAIM', `the share of epoch ${epoch} is zero: its reward carries to the next epoch`, { epoch });
    const registry = this.mirror.mapAt(r.record.registryRoot);
    return { request: this.request(`claim epoch ${epoch}`, sender, () => this.pool.claim(r.record, registry.clone()), 1), result: () => ({ amount }) };
  }

  /** A member of the report's time disputes it during the challenge window. */
  async dispute(sender: PrivateKey, epoch: number): Promise<Action> {
    const member = sender.toPublicKey();
    const r = this.report(epoch);
    if (!this.mirror.isMember(member.toBase58(), r.record.registryRoot)) throw new PoolActionError('NOT_MEMBER', `${this.who(member)} was not a member when epoch ${epoch} was reported: only those members dispute it`, { epoch });
    if (r.record.disputed.toBoolean()) throw new PoolActionError('ALREADY_DISPUTED', `epoch ${epoch} is already disputed: vote on a ruling`, { epoch });
    const opens = Number(r.record.claimsOpenAt.toBigint());
    if ((await this.now()) >= opens) throw new PoolActionError('WINDOW_CLOSED', `the challenge window of epoch ${epoch} ended at slot ${opens - 1}`, { epoch });
    const registry = this.mirror.mapAt(r.record.registryRoot);
    const witness = this.mirror.reportWitness(epoch);
    return { request: this.request(`dispute epoch ${epoch}`, sender, () => this.pool.dispute(r.record, witness, registry.clone())), result: () => undefined };
  }

  /** Anyone slashes a member that signed two different blocks for one slot of the epoch. */
  async slash(sender: PrivateKey, epoch: number, member: PublicKey, first: SignedBlockProposal, second: SignedBlockProposal): Promise<Action> {
    const key = member.toBase58();
    const r = this.report(epoch);
    const tag = poolTagOf(this.dac.address);
    for (const p of [first, second]) if (!p.verify(member, tag).toBoolean()) throw new PoolActionError('BAD_EVIDENCE', `a proposal's signature does not verify for ${this.who(key)} in this pool`);
    if (!first.proposal.slot.equals(second.proposal.slot).toBoolean()) throw new PoolActionError('BAD_EVIDENCE', 'the two proposals are for different slots');
    if (first.proposal.blockHash.equals(second.proposal.blockHash).toBoolean()) throw new PoolActionError('BAD_EVIDENCE', 'the two proposals are for the same block: that is not an equivocation');
    if (Math.floor(Number(first.proposal.slot.toBigint()) / SLOTS_PER_EPOCH) !== epoch) throw new PoolActionError('BAD_EVIDENCE', `slot ${first.proposal.slot.toString()} is not in epoch ${epoch}`);
    const index = this.mirror.indexOf(key);
    if (index !== undefined && r.record.slashed.indexes().includes(index)) throw new PoolActionError('ALREADY_SLASHED', `${this.who(key)} is already slashed for epoch ${epoch}`, { epoch });
    if (index === undefined || !r.record.eligible.indexes().includes(index)) throw new PoolActionError('NOT_ELIGIBLE', `${this.who(key)} is not eligible in epoch ${epoch}: there is no share to forfeit`, { epoch });
    if (!r.record.disputed.toBoolean() && (await this.now()) >= Number(r.record.claimsOpenAt.toBigint())) throw new PoolActionError('TOO_LATE', `claims for epoch ${epoch} are open: too late to slash`, { epoch });
    const registry = this.mirror.mapAt(r.record.registryRoot);
    const witness = this.mirror.reportWitness(epoch);
    return { request: this.request(`slash ${this.who(key)} in epoch ${epoch}`, sender, () => this.pool.slash(r.record, witness, member, first, second, registry.clone())), result: () => undefined };
  }

  /** The oracle's signature of a report for this pool. */
  signReport(oracle: PrivateKey, report: EpochReport): Signature {
    return Signature.create(oracle, report.message(poolTagOf(this.dac.address)));
  }

  /** The eligibility bitmap of registry keys (B62); a key never registered is an error naming it. */
  eligibilityOf(keys: readonly string[]): Bitmap {
    const indexes = keys.map((k) => {
      const i = this.mirror.indexOf(k);
      if (i === undefined) throw new PoolActionError('NOT_REGISTERED', `${this.who(k)} was never a pool member: it cannot be eligible`);
      return i;
    });
    return Bitmap.fromIndexes(indexes);
  }

  /** An epoch report with eligibility from registry keys (B62); the event-log fields default to zero. */
  reportOf(epoch: number, reward: bigint, eligible: string[], commitments: { metricsRoot?: Field; eventLogHash?: Field } = {}): EpochReport {
    return new EpochReport({ epoch: UInt32.from(epoch), reward: UInt64.from(reward), eligible: this.eligibilityOf(eligible), metricsRoot: commitments.metricsRoot ?? Field(0), eventLogHash: commitments.eventLogHash ?? Field(0) });
  }
}

/** The numeric parameters of a set-parameters payload. */
function paramsToNumbers(payload: ProposalPayload): Record<string, number> {
  const p = payload.params;
  return Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'operator').map(([k, v]) => [k, Number((v as UInt32).toBigint())]));
}

/** A zero report record: the `previous` argument of the first report. */
function emptyReportRecord(): ReportRecord {
  return new ReportRecord(ReportRecord.fromFields(Array.from({ length: ReportRecord.sizeInFields() }, () => Field(0))));
}
