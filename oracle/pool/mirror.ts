import { Bool, Field, MerkleTree, PublicKey, UInt32, UInt64 } from 'o1js';
import { Bitmap } from '../../contracts/Bitmap.js';
import type { CanceledEvent, ConfiguredEvent, ExecutedEvent, MembersEvent, ParametersEvent, PayloadEvent, ProposedEvent, VotedEvent } from '../../contracts/PoolDac.js';
import type { ClaimedEvent, CompensatedEvent, ClaimsOpenedEvent, DisputedEvent, EligibleEvent, ReportPostedEvent, RuledEvent, SlashedEvent } from '../../contracts/RewardPool.js';
import {
  EpochReport,
  MemberMap,
  ProposalKind,
  ProposalPayload,
  payloadFromEventFields,
  ProposalRecord,
  REPORT_TREE_HEIGHT,
  ReportRecord,
  ReportWitness,
  Ruling,
  memberKey,
} from '../../contracts/types.js';
import { PoolError } from '../errors.js';
import type { DecodedEvent } from './events.js';
import { paramsFromJson, paramsToJson, type PoolParamsJson } from './params.js';

/** The pool's three addresses. */
export interface PoolAddresses {
  dac: PublicKey;
  pool: PublicKey;
  vault: PublicKey;
  registry: PublicKey;
}

/** A proposal as the mirror knows it: numbered in the order proposals were made. */
export interface MirroredProposal {
  /** `#n` for people: the order of proposals. */
  number: number;
  id: Field;
  record: ProposalRecord;
  payload: ProposalPayload;
  status: 'open' | 'canceled' | 'executed';
  votes: { voter: string; choice: number }[];
}

/** A report as the mirror knows it. */
export interface MirroredReport {
  record: ReportRecord;
  claimsOpened: boolean;
  claimed: Map<string, bigint>;
}

/** The on-chain values the mirror must reproduce, as read from the contracts' state. */
export interface OnChainState {
  constitutionHash: Field;
  membersRoot: Field;
  memberCount: UInt32;
  registered: UInt32;
  paramsHash: Field;
  oracleKeyHash: Field;
  reportsRoot: Field;
  nextEpoch: UInt32;
  totalReported: UInt64;
}

/** The events do not rebuild what the chain holds. */
export class MirrorMismatch extends PoolError {
  constructor(message: string) {
    super('MIRROR_MISMATCH', message);
  }
}

/**
 * The off-chain mirror of a pool, rebuilt from the contracts' events alone: the member
 * map and registry (and every earlier member map, which votes and claims prove against),
 * the parameters, the proposals with their payloads, and the reports tree. `verify`
 * checks it against the roots on chain, so a mirror that disagrees is an error before any
 * transaction is built from it.
 */
export class PoolMirror {
  readonly addresses: PoolAddresses;
  constitutionHash = Field(0);
  params!: PoolParamsJson;
  oracle = '';
  /** Registry index → key (B62). */
  readonly registry: string[] = [];
  readonly members = new MemberMap();
  memberCount = 0;
  readonly proposals: MirroredProposal[] = [];
  readonly reports = new Map<number, MirroredReport>();
  /** Backfilled slots compensated, in the order they were paid. */
  readonly compensations: { slot: number; producer: string; amount: bigint }[] = [];
  totalReported = 0n;
  nextEpoch = 0;
  private readonly maps = new Map<string, MemberMap>();
  private readonly byId = new Map<string, MirroredProposal>();
  private readonly reportTree = new MerkleTree(REPORT_TREE_HEIGHT);
  private readonly payloadParts = new Map<string, { record?: ProposalRecord; a?: Field[]; b?: Field[]; c?: Field[] }>();

  constructor(addresses: PoolAddresses) {
    this.addresses = addresses;
    this.snapshot();
  }

  /** Rebuilds a pool from its contracts' decoded events (PoolDac's first: reports refer to its member maps and rulings). */
  static fromEvents(addresses: PoolAddresses, dacEvents: DecodedEvent[], poolEvents: DecodedEvent[]): PoolMirror {
    const mirror = new PoolMirror(addresses);
    for (const e of dacEvents) mirror.applyDac(e);
    for (const e of poolEvents) mirror.applyPool(e);
    if (mirror.payloadParts.size > 0) throw new MirrorMismatch('a proposal\'s events are incomplete: the archive may be behind the chain; try again shortly');
    if (mirror.params === undefined) throw new MirrorMismatch(`${addresses.dac.toBase58()}: no deployment events: is this a PoolDac, and is the archive complete?`);
    return mirror;
  }

  private snapshot(): void {
    this.maps.set(this.members.root.toString(), this.members.clone());
  }

  private applyDac({ type, event }: DecodedEvent): void {
    switch (type) {
      case 'configured': {
        const e = event as ConfiguredEvent;
        this.constitutionHash = e.constitutionHash;
        this.oracle = e.oracle.toBase58();
        return;
      }
      case 'parameters':
        this.params = paramsToJson((event as ParametersEvent).params);
        return;
      case 'members': {
        const e = event as MembersEvent;
        const first = Number(e.first.toBigint());
        e.keys.forEach((key, i) => {
          if (key.isEmpty().toBoolean()) return;
          if (first + i !== this.registry.length) throw new MirrorMismatch(`initial member events out of order (index ${first + i}, expected ${this.registry.length})`);
          this.register(key.toBase58());
        });
        return;
      }
      case 'proposed': {
        const e = event as ProposedEvent;
        this.pending(e.id).record = e.record;
        this.finishProposal(e.id);
        return;
      }
      case 'payloadA':
      case 'payloadB':
      case 'payloadC': {
        const e = event as PayloadEvent;
        this.pending(e.id)[type === 'payloadA' ? 'a' : type === 'payloadB' ? 'b' : 'c'] = e.fields;
        this.finishProposal(e.id);
        return;
      }
      case 'voted': {
        const e = event as VotedEvent;
        this.proposalById(e.id).votes.push({ voter: e.voter.toBase58(), choice: Number(e.choice.toBigint()) });
        return;
      }
      case 'canceled':
        this.proposalById((event as CanceledEvent).id).status = 'canceled';
        return;
      case 'executed': {
        const p = this.proposalById((event as ExecutedEvent).id);
        p.status = 'executed';
        this.applyExecuted(p);
        return;
      }
      case 'upgraded':
        return;
      default:
        throw new MirrorMismatch(`unknown PoolDac event '${type}'`);
    }
  }

  private pending(id: Field): { record?: ProposalRecord; a?: Field[]; b?: Field[]; c?: Field[] } {
    const key = id.toString();
    const parts = this.payloadParts.get(key) ?? {};
    this.payloadParts.set(key, parts);
    return parts;
  }

  /** A proposal's four events (record, three payload parts) arrive in one transaction, in any order. */
  private finishProposal(id: Field): void {
    const parts = this.pending(id);
    if (!parts.record || !parts.a || !parts.b || !parts.c) return;
    this.payloadParts.delete(id.toString());
    const payload = payloadFromEventFields([parts.a, parts.b, parts.c]);
    const record = new ProposalRecord({ ...parts.record, payloadHash: payload.digest() });
    if (!record.id().equals(id).toBoolean()) throw new MirrorMismatch(`proposal ${id.toString().slice(0, 12)}…: its events do not hash to its id`);
    const p: MirroredProposal = { number: this.proposals.length, id, record, payload, status: 'open', votes: [] };
    this.proposals.push(p);
    this.byId.set(id.toString(), p);
  }

  private applyExecuted(p: MirroredProposal): void {
    const kind = Number(p.record.kind.toBigint());
    const key = p.payload.key.toBase58();
    if (kind === ProposalKind.addMember) {
      if (!this.registry.includes(key)) return this.register(key);
      this.members.update(memberKey(p.payload.key), this.members.get(memberKey(p.payload.key)).add(1));
      this.memberCount++;
      this.snapshot();
      return;
    }
    if (kind === ProposalKind.removeMember) {
      this.members.update(memberKey(p.payload.key), this.members.get(memberKey(p.payload.key)).sub(1));
      this.memberCount--;
      this.snapshot();
      return;
    }
    if (kind === ProposalKind.amendConstitution) this.constitutionHash = p.payload.hash;
    if (kind === ProposalKind.setParameters) this.params = paramsToJson(p.payload.params);
    if (kind === ProposalKind.setOracle) this.oracle = key;
  }

  private register(key: string): void {
    this.members.insert(memberKey(PublicKey.fromBase58(key)), Field(2 * this.registry.length + 1));
    this.registry.push(key);
    this.memberCount++;
    this.snapshot();
  }

  private applyPool({ type, event }: DecodedEvent): void {
    switch (type) {
      case 'reportPosted': {
        const e = event as ReportPostedEvent;
        const epoch = Number(e.epoch.toBigint());
        const record = new ReportRecord({
          report: new EpochReport({ epoch: e.epoch, reward: e.reward, eligible: Bitmap.empty(), metricsRoot: e.metricsRoot, eventLogHash: e.eventLogHash }),
          registryRoot: e.registryRoot,
          registered: e.registered,
          carryIn: e.carryIn,
          fee: e.fee,
          operator: e.operator,
          postedAt: e.postedAt,
          claimsOpenAt: e.claimsOpenAt,
          disputed: Bool(false),
          disputes: UInt32.zero,
          slashed: Bitmap.empty(),
          eligible: Bitmap.empty(),
          sharers: e.sharers,
        });
        this.reports.set(epoch, { record, claimsOpened: false, claimed: new Map() });
        this.totalReported += e.reward.toBigInt();
        this.nextEpoch = epoch + 1;
        return;
      }
      case 'eligible': {
        const e = event as EligibleEvent;
        const eligible = new Bitmap({ chunks: e.eligible.chunks });
        this.updateReport(e.epoch, (r) => new ReportRecord({ ...r, report: new EpochReport({ ...r.report, eligible }), eligible }));
        return;
      }
      case 'disputed': {
        const e = event as DisputedEvent;
        this.updateReport(e.epoch, (r) => new ReportRecord({ ...r, disputed: Bool(true), disputes: e.dispute }));
        return;
      }
      case 'slashed': {
        const e = event as SlashedEvent;
        const i = Number(e.index.toBigint());
        this.updateReport(e.epoch, (r) => {
          const eligible = Bitmap.fromIndexes(r.eligible.indexes().filter((x) => x !== i));
          const slashed = Bitmap.fromIndexes([...r.slashed.indexes(), i]);
          return new ReportRecord({ ...r, eligible, slashed, sharers: r.sharers.sub(1) });
        });
        return;
      }
      case 'ruled': {
        const e = event as RuledEvent;
        const ruling = this.proposalById(e.proposal).payload.ruling;
        this.updateReport(e.epoch, (r) => {
          if (Number(e.decision.toBigint()) !== Ruling.replace) return new ReportRecord({ ...r, disputed: Bool(false) });
          const slashed = new Set(r.slashed.indexes());
          const eligible = Bitmap.fromIndexes(new Bitmap(ruling.eligible).indexes().filter((x) => !slashed.has(x)));
          return new ReportRecord({ ...r, disputed: Bool(false), eligible, sharers: UInt32.from(eligible.indexes().length) });
        });
        return;
      }
      case 'claimsOpened': {
        const e = event as ClaimsOpenedEvent;
        this.report(Number(e.epoch.toBigint()))!.claimsOpened = true;
        return;
      }
      case 'claimed': {
        const e = event as ClaimedEvent;
        this.report(Number(e.epoch.toBigint()))?.claimed.set(e.member.toBase58(), e.amount.toBigInt());
        return;
      }
      case 'compensated': {
        const e = event as CompensatedEvent;
        this.compensations.push({ slot: Number(e.slot.toBigint()), producer: e.producer.toBase58(), amount: e.amount.toBigInt() });
        return;
      }
      case 'deposited':
      case 'spent':
      case 'upgraded':
        return;
      default:
        throw new MirrorMismatch(`unknown RewardPool event '${type}'`);
    }
  }

  private updateReport(epoch: UInt32, change: (r: ReportRecord) => ReportRecord): void {
    const n = Number(epoch.toBigint());
    const r = this.reports.get(n);
    if (!r) throw new MirrorMismatch(`an event refers to epoch ${n}, which has no report`);
    r.record = change(r.record);
    this.reportTree.setLeaf(BigInt(n), r.record.hash());
  }

  private proposalById(id: Field): MirroredProposal {
    const p = this.byId.get(id.toString());
    if (!p) throw new MirrorMismatch(`an event refers to proposal ${id.toString().slice(0, 12)}…, which was never proposed`);
    return p;
  }

  /** Checks the mirror against the contracts' state; a difference is a {@link MirrorMismatch} naming it. */
  verify(chain: OnChainState): void {
    const checks: [string, boolean][] = [
      ['member map root', this.members.root.equals(chain.membersRoot).toBoolean()],
      ['member count', this.memberCount === Number(chain.memberCount.toBigint())],
      ['registered keys', this.registry.length === Number(chain.registered.toBigint())],
      ['constitution hash', this.constitutionHash.equals(chain.constitutionHash).toBoolean()],
      ['parameters hash', this.paramsHash().equals(chain.paramsHash).toBoolean()],
      ['oracle', memberKey(PublicKey.fromBase58(this.oracle)).equals(chain.oracleKeyHash).toBoolean()],
      ['reports root', this.reportsRoot().equals(chain.reportsRoot).toBoolean()],
      ['next epoch', this.nextEpoch === Number(chain.nextEpoch.toBigint())],
      ['total reported', this.totalReported === chain.totalReported.toBigInt()],
    ];
    const wrong = checks.filter(([, ok]) => !ok).map(([name]) => name);
    if (wrong.length > 0) {
      throw new MirrorMismatch(`the pool's events do not rebuild its on-chain state (${wrong.join(', ')} differ${wrong.length === 1 ? 's' : ''}): the archive may be behind the chain; try again shortly`);
    }
  }

  paramsHash(): Field {
    return paramsFromJson(this.params).hash();
  }
  reportsRoot(): Field {
    return this.reportTree.getRoot();
  }
  reportWitness(epoch: number): ReportWitness {
    return new ReportWitness(this.reportTree.getWitness(BigInt(epoch)));
  }
  report(epoch: number): MirroredReport | undefined {
    return this.reports.get(epoch);
  }
  /** The last reported epoch, if any. */
  lastEpoch(): number | undefined {
    return this.nextEpoch === 0 ? undefined : this.nextEpoch - 1;
  }
  /** A proposal by its number (`#n`). */
  proposal(number: number): MirroredProposal | undefined {
    return this.proposals[number];
  }

  /** The member map as it was when its root was `root` (a copy, safe to pass to a method). */
  mapAt(root: Field): MemberMap {
    const map = this.maps.get(root.toString());
    if (!map) throw new MirrorMismatch(`no member map with root ${root.toString().slice(0, 12)}… in the pool's history`);
    return map.clone();
  }

  /** The current member map (a copy). */
  currentMap(): MemberMap {
    return this.members.clone();
  }

  /** A key's registry index, or `undefined` if it was never registered. */
  indexOf(key: string): number | undefined {
    const i = this.registry.indexOf(key);
    return i < 0 ? undefined : i;
  }

  /** Whether a key is an active member now (or in the member map `root`). */
  isMember(key: string, root?: Field): boolean {
    const map = root === undefined ? this.members : this.maps.get(root.toString());
    if (!map) return false;
    const value = map.getOption(memberKey(PublicKey.fromBase58(key)));
    return value.isSome.toBoolean() && (value.value.toBigInt() & 1n) === 1n;
  }

  /** Active members now, in registry order. */
  activeMembers(): string[] {
    return this.registry.filter((k) => this.isMember(k));
  }

  /** The keys of a bitmap's indexes, in the registry. */
  keysOf(bitmap: Bitmap): string[] {
    return bitmap.indexes().map((i) => this.registry[i] ?? `#${i} (not registered)`);
  }
}
