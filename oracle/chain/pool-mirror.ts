import { Bool, Field, MerkleMap, MerkleTree, PublicKey, UInt32, UInt64 } from 'o1js';
import {
  EpochReport,
  PoolParams,
  ProposalKind,
  ProposalPayload,
  ProposalRecord,
  ProposalStatus,
  ProposalWitness,
  ReportRecord,
  ReportWitness,
  TREE_HEIGHT,
  memberKey,
} from '../../contracts/types.js';

/** Plain JSON form of the pool parameters (numbers), as in a pool file. */
export interface PoolParamsJson {
  quorumPercent: number;
  approvalPercent: number;
  votingPeriod: number;
  timelock: number;
  executionWindow: number;
  challengeWindow: number;
  emitterStrategy: number;
  backfillWindow: number;
  rewardPolicy: number;
}

export function paramsFromJson(p: PoolParamsJson): PoolParams {
  return new PoolParams({
    quorumPercent: UInt32.from(p.quorumPercent),
    approvalPercent: UInt32.from(p.approvalPercent),
    votingPeriod: UInt32.from(p.votingPeriod),
    timelock: UInt32.from(p.timelock),
    executionWindow: UInt32.from(p.executionWindow),
    challengeWindow: UInt32.from(p.challengeWindow),
    emitterStrategy: UInt32.from(p.emitterStrategy),
    backfillWindow: UInt32.from(p.backfillWindow),
    rewardPolicy: UInt32.from(p.rewardPolicy),
  });
}

/** A map of public keys (`memberKey(pk) → 1`): members, eligible or slashed members. */
export class KeySet {
  readonly map = new MerkleMap();
  readonly keys: string[] = [];

  constructor(keys: Iterable<string> = []) {
    for (const k of keys) this.add(k);
  }
  has(key: string): boolean {
    return this.keys.includes(key);
  }
  add(key: string): void {
    if (this.has(key)) return;
    this.map.set(memberKey(PublicKey.fromBase58(key)), Field(1));
    this.keys.push(key);
  }
  remove(key: string): void {
    const i = this.keys.indexOf(key);
    if (i < 0) return;
    this.map.set(memberKey(PublicKey.fromBase58(key)), Field(0));
    this.keys.splice(i, 1);
  }
  root(): Field {
    return this.map.getRoot();
  }
  witness(key: string) {
    return this.map.getWitness(memberKey(PublicKey.fromBase58(key)));
  }
  /** A witness that no key uses (for transactions whose kind does not touch the set). */
  unusedWitness() {
    return this.map.getWitness(Field(0));
  }
  get size(): number {
    return this.keys.length;
  }
}

/** A proposal as the mirror keeps it: the committed record and the full payload. */
export interface MirroredProposal {
  record: ProposalRecord;
  payload: ProposalPayload;
}

/** A report as the mirror keeps it: the committed record and the eligible/slashed member lists. */
export interface MirroredReport {
  record: ReportRecord;
  eligible: KeySet;
  slashed: KeySet;
}

/** JSON form of the whole mirror (what a pool state file holds). */
export interface PoolMirrorJson {
  dac: string;
  pool: string;
  constitutionHash: string;
  params: PoolParamsJson;
  oracle: string;
  members: string[];
  proposals: { record: unknown; payload: string[] }[];
  reports: { record: unknown; eligible: string[]; slashed: string[] }[];
}

/**
 * The off-chain mirror of a pool's on-chain commitments: the member map, the proposals
 * tree, the reports tree and each report's eligible and slashed members. It gives the
 * witnesses that transactions need, and is updated after each included transaction.
 */
export class PoolMirror {
  dac: PublicKey;
  pool: PublicKey;
  constitutionHash: Field;
  params: PoolParamsJson;
  oracle: string;
  readonly members: KeySet;
  readonly proposals: MirroredProposal[] = [];
  private readonly proposalTree = new MerkleTree(TREE_HEIGHT);
  readonly reports = new Map<number, MirroredReport>();
  private readonly reportTree = new MerkleTree(TREE_HEIGHT);

  constructor(init: { dac: PublicKey; pool: PublicKey; constitutionHash: Field; params: PoolParamsJson; oracle: string; members: string[] }) {
    this.dac = init.dac;
    this.pool = init.pool;
    this.constitutionHash = init.constitutionHash;
    this.params = { ...init.params };
    this.oracle = init.oracle;
    this.members = new KeySet(init.members);
  }

  paramsStruct(): PoolParams {
    return paramsFromJson(this.params);
  }
  proposalsRoot(): Field {
    return this.proposalTree.getRoot();
  }
  reportsRoot(): Field {
    return this.reportTree.getRoot();
  }
  proposalWitness(id: number): ProposalWitness {
    return new ProposalWitness(this.proposalTree.getWitness(BigInt(id)));
  }
  reportWitness(epoch: number): ReportWitness {
    return new ReportWitness(this.reportTree.getWitness(BigInt(epoch)));
  }
  proposal(id: number): MirroredProposal | undefined {
    return this.proposals[id];
  }
  report(epoch: number): MirroredReport | undefined {
    return this.reports.get(epoch);
  }
  /** The last reported epoch, if any. */
  lastEpoch(): number | undefined {
    return this.reports.size === 0 ? undefined : Math.max(...this.reports.keys());
  }

  setProposal(p: MirroredProposal): void {
    const id = Number(p.record.id.toBigint());
    this.proposals[id] = p;
    this.proposalTree.setLeaf(BigInt(id), p.record.hash());
  }

  setReport(epoch: number, r: MirroredReport): void {
    this.reports.set(epoch, r);
    this.reportTree.setLeaf(BigInt(epoch), r.record.hash());
  }

  /** Applies an executed proposal's effect on the mirrored state (the contract's `applyPayload`). */
  applyExecuted(id: number, newParams?: PoolParamsJson): void {
    const p = this.proposals[id];
    if (!p) throw new Error(`no proposal ${id}`);
    this.setProposal({ ...p, record: p.record.withStatus(ProposalStatus.executed) });
    const kind = Number(p.record.kind.toBigint());
    const key = p.payload.key.toBase58();
    if (kind === ProposalKind.addMember) this.members.add(key);
    if (kind === ProposalKind.removeMember) this.members.remove(key);
    if (kind === ProposalKind.amendConstitution) this.constitutionHash = p.payload.hash;
    if (kind === ProposalKind.setParameters) {
      if (!newParams || !paramsFromJson(newParams).hash().equals(p.payload.hash).toBoolean()) {
        throw new Error(`proposal ${id}: the new parameters do not match the proposal's hash`);
      }
      this.params = { ...newParams };
    }
    if (kind === ProposalKind.setOracle) this.oracle = key;
  }

  toJSON(): PoolMirrorJson {
    return {
      dac: this.dac.toBase58(),
      pool: this.pool.toBase58(),
      constitutionHash: this.constitutionHash.toString(),
      params: this.params,
      oracle: this.oracle,
      members: [...this.members.keys],
      // Payloads as field elements: the empty key of a payload without one has no base58 form that reads back.
      proposals: this.proposals.map((p) => ({ record: ProposalRecord.toJSON(p.record), payload: ProposalPayload.toFields(p.payload).map(String) })),
      reports: [...this.reports.values()].map((r) => ({ record: ReportRecord.toJSON(r.record), eligible: [...r.eligible.keys], slashed: [...r.slashed.keys] })),
    };
  }

  static fromJSON(json: PoolMirrorJson): PoolMirror {
    const mirror = new PoolMirror({
      dac: PublicKey.fromBase58(json.dac),
      pool: PublicKey.fromBase58(json.pool),
      constitutionHash: Field(json.constitutionHash),
      params: json.params,
      oracle: json.oracle,
      members: json.members,
    });
    for (const p of json.proposals) {
      mirror.setProposal({ record: new ProposalRecord(ProposalRecord.fromJSON(p.record as never)), payload: new ProposalPayload(ProposalPayload.fromFields((p.payload as string[]).map((f) => Field(f)))) });
    }
    for (const r of json.reports) {
      const plain = ReportRecord.fromJSON(r.record as never);
      const record = new ReportRecord({ ...plain, report: new EpochReport(plain.report) });
      mirror.setReport(Number(record.report.epoch.toBigint()), { record, eligible: new KeySet(r.eligible), slashed: new KeySet(r.slashed) });
    }
    return mirror;
  }
}

/** A zero report record: the `previous` argument of the first report. */
export function emptyReportRecord(): ReportRecord {
  return new ReportRecord({
    report: new EpochReport({ epoch: UInt32.zero, reward: UInt64.zero, eligibleRoot: Field(0), eligibleCount: UInt32.zero, metricsRoot: Field(0), eventLogHash: Field(0) }),
    carryIn: UInt64.zero,
    postedAt: UInt32.zero,
    claimsOpenAt: UInt32.zero,
    disputed: Bool(false),
    slashedRoot: Field(0),
    slashedCount: UInt32.zero,
  });
}
