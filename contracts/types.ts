import { Bool, Field, IndexedMerkleMap, type AccountUpdate, MerkleWitness, Permissions, Poseidon, Provable, PublicKey, Signature, Struct, UInt32, UInt64 } from 'o1js';
import { Bitmap } from './Bitmap.js';

/**
 * Structs, constants and rules shared by the pool's contracts and the off-chain side.
 * Everything a contract commits to as a hash is defined here, with its hash.
 */

/** Slots per epoch on mainnet; an epoch is `globalSlotSinceGenesis div 7140`. */
export const SLOTS_PER_EPOCH = 7140;

/**
 * How far a caller's `now` may lag the slot that includes its transaction: a method that
 * stores a slot takes `now` and requires `now ≤ inclusion slot ≤ now + INCLUSION_SLACK`.
 * Windows that start at such a slot add the slack, so they are never shorter than their
 * parameter (a caller can lengthen one by at most the slack, never shorten it).
 */
export const INCLUSION_SLACK = 10;

/** Height of the member map: 2^9 leaves, one reserved, so 511 keys ever registered. */
export const MEMBER_MAP_HEIGHT = 10;
export const MAX_REGISTERED = 2 ** (MEMBER_MAP_HEIGHT - 1) - 1;
/**
 * The member map: `memberKey(pk) → 2·index + active`. `index` is the key's registry index
 * (its bit in eligibility bitmaps), assigned when it is first added and never reused;
 * `active` is 1 while it is a member. Leaves are appended in registration order.
 */
export class MemberMap extends IndexedMerkleMap(MEMBER_MAP_HEIGHT) {}

/** Height of the reports tree: epochs 0..32 767 (a MerkleTree of height h has 2^(h−1) leaves). */
export const REPORT_TREE_HEIGHT = 16;
export class ReportWitness extends MerkleWitness(REPORT_TREE_HEIGHT) {}

/** Key of a public key in the member map, and the oracle's commitment. */
export function memberKey(member: PublicKey): Field {
  return Poseidon.hash(member.toFields());
}

/** Decodes a member map value: the registry index and whether the key is an active member. */
export function memberEntry(value: Field): { index: UInt32; active: Bool } {
  const { quotient, rest } = UInt32.Unsafe.fromField(value).divMod(2);
  return { index: quotient, active: rest.equals(UInt32.one) };
}

/**
 * The member map entry of `member`, which must be in the map: an absent key cannot satisfy
 * the proof (o1js: "Key does not exist in the tree"). Uses `get`, which needs no lookup
 * tables (the votes' and claims' circuits stay small); {@link memberEntryIn} names the error.
 */
export function memberEntryOf(map: MemberMap, member: PublicKey): { index: UInt32; active: Bool } {
  return memberEntry(map.get(memberKey(member)));
}

/** The member map entry of `member`, which must be in the map (else `error`). */
export function memberEntryIn(map: MemberMap, member: PublicKey, error: string): { index: UInt32; active: Bool } {
  const entry = map.getOption(memberKey(member));
  entry.isSome.assertTrue(error);
  return memberEntry(entry.value);
}

/**
 * The tag that binds a member's signature to one pool: `Poseidon.hash` of the PoolDac
 * address's fields. A signature for one pool is worthless in another.
 */
export function poolTagOf(dacAddress: PublicKey): Field {
  return Poseidon.hash(dacAddress.toFields());
}

/**
 * The block a member proposes for a slot, signed with its key: the member signs
 * `[poolTag, slot, blockHash]` (o1js `Signature.create`). `blockHash` is the block's
 * state hash as one field element (Mina's `3N…` hashes decode to one).
 */
export class BlockProposal extends Struct({ slot: UInt32, blockHash: Field }) {
  message(poolTag: Field): Field[] {
    return [poolTag, this.slot.value, this.blockHash];
  }
}

export class SignedBlockProposal extends Struct({ proposal: BlockProposal, signature: Signature }) {
  verify(member: PublicKey, poolTag: Field): Bool {
    return this.signature.verify(member, this.proposal.message(poolTag));
  }
}

/** Block emitter selection strategies (parameter `emitterStrategy`). */
export const EmitterStrategy = { firstDelivered: 0, bestVrf: 1, priority: 2 } as const;
/** Reward policies (parameter `rewardPolicy`): even shares after the operator's fee. */
export const RewardPolicy = { evenShares: 0 } as const;

/** Bounds every parameter set must satisfy; `PoolParams.check` enforces them on chain. */
export const PARAM_BOUNDS = {
  quorumPercent: [1, 100],
  approvalPercent: [50, 100],
  votingPeriod: [1, 4 * SLOTS_PER_EPOCH],
  timelock: [0, 4 * SLOTS_PER_EPOCH],
  executionWindow: [1, 4 * SLOTS_PER_EPOCH],
  /** At most half an epoch, so a report per epoch stays possible. */
  challengeWindow: [1, SLOTS_PER_EPOCH / 2],
  emitterStrategy: [0, 2],
  backfillWindow: [1, SLOTS_PER_EPOCH],
  /** In millimina (0.001 MINA): at most 1,000 MINA per backfilled slot. */
  backfillCompensation: [0, 1_000_000],
  rewardPolicy: [0, 0],
  operatorFeePercent: [0, 100],
} as const satisfies Record<string, readonly [number, number]>;

/** Nanomina per millimina, the unit of `backfillCompensation`. */
export const NANOMINA_PER_MILLIMINA = 1_000_000n;

/** The pool's parameters, committed on chain as {@link PoolParams.hash} and published in full. */
export class PoolParams extends Struct({
  /** Votes cast (for + against + abstain) needed, in percent of the members when the proposal was made. */
  quorumPercent: UInt32,
  /** `for / (for + against)` needed, in percent. */
  approvalPercent: UInt32,
  /** Slots a proposal is open for votes (plus at most the inclusion slack). */
  votingPeriod: UInt32,
  /** Slots a succeeded proposal waits before it can be executed. */
  timelock: UInt32,
  /** Slots after the timelock during which it can be executed; then it expires. */
  executionWindow: UInt32,
  /** Slots after a report lands during which it can be disputed; claims open after it. */
  challengeWindow: UInt32,
  emitterStrategy: UInt32,
  /** Backfill waitlist window, in slots. */
  backfillWindow: UInt32,
  /** What `RewardPool.payBackfill` pays a designated producer per backfilled slot, in millimina (0.001 MINA). */
  backfillCompensation: UInt32,
  rewardPolicy: UInt32,
  /** Percent of each epoch's reward paid to the operator before the even split. */
  operatorFeePercent: UInt32,
  /** The operator's key: receives the fee. */
  operator: PublicKey,
}) {
  hash(): Field {
    return Poseidon.hash(PoolParams.toFields(this));
  }

  /** Whether every value is within {@link PARAM_BOUNDS} (so no window sum can overflow). */
  inBounds(): Bool {
    let ok = Bool(true);
    for (const [name, [lo, hi]] of Object.entries(PARAM_BOUNDS)) {
      const v = this[name as keyof typeof PARAM_BOUNDS];
      ok = ok.and(v.greaterThanOrEqual(UInt32.from(lo))).and(v.lessThanOrEqual(UInt32.from(hi)));
    }
    return ok;
  }
}

/** Proposal kinds. */
export const ProposalKind = {
  addMember: 0,
  removeMember: 1,
  amendConstitution: 2,
  setParameters: 3,
  setOracle: 4,
  arbitrationRuling: 5,
  treasurySpend: 6,
  upgrade: 7,
} as const;
export type ProposalKindName = keyof typeof ProposalKind;
export const LAST_KIND = ProposalKind.upgrade;

/** Arbitration decisions. */
export const Ruling = { uphold: 0, replace: 1 } as const;
/** Upgrade targets. */
export const UpgradeTarget = { PoolDac: 0, RewardPool: 1 } as const;

/** An arbitration ruling: the dispute it answers and, to replace, the new eligible members. */
export class RulingPayload extends Struct({
  epoch: UInt32,
  /** The dispute's number in that epoch (1 for the first): a new dispute needs a new vote. */
  dispute: UInt32,
  decision: UInt32,
  /** Replacement eligibility (registry indexes); members slashed in the epoch stay out. */
  eligible: Bitmap,
}) {}

/**
 * What a proposal would do, in one shape for every kind (unused fields are zero):
 * add/remove member, set oracle and treasury spend use `key`; amend constitution uses
 * `hash`; upgrade uses `target` and `hash` (the new verification key's hash); a spend uses
 * `amount` (nanomina); set parameters uses `params`; a ruling uses `ruling`.
 */
export class ProposalPayload extends Struct({
  key: PublicKey,
  hash: Field,
  amount: UInt64,
  target: UInt32,
  params: PoolParams,
  ruling: RulingPayload,
}) {
  static empty(): ProposalPayload {
    return new ProposalPayload(ProposalPayload.fromFields(Array.from({ length: ProposalPayload.sizeInFields() }, () => Field(0))));
  }
  digest(): Field {
    return Poseidon.hash(ProposalPayload.toFields(this));
  }
}
/** Payload fields per `payload` event (Mina allows 16 fields per event: the type, the id and these). */
export const PAYLOAD_EVENT_FIELDS = 14;
/** Events that carry a payload (`payloadA`, `payloadB`, `payloadC`); the last is padded with zeros. */
export const PAYLOAD_EVENTS = 3;
/** The payload's fields in {@link PAYLOAD_EVENTS} events' worth, the last padded with zeros. */
export function payloadEventFields(payload: ProposalPayload): Field[][] {
  const fields = ProposalPayload.toFields(payload);
  const padded = [...fields, ...Array.from({ length: PAYLOAD_EVENTS * PAYLOAD_EVENT_FIELDS - fields.length }, () => Field(0))];
  return Array.from({ length: PAYLOAD_EVENTS }, (_, i) => padded.slice(i * PAYLOAD_EVENT_FIELDS, (i + 1) * PAYLOAD_EVENT_FIELDS));
}
/** The payload its `payload` events carry, in order. */
export function payloadFromEventFields(parts: Field[][]): ProposalPayload {
  return new ProposalPayload(ProposalPayload.fromFields(parts.flat().slice(0, ProposalPayload.sizeInFields())));
}

/**
 * A proposal as committed: its hash is the proposal's id, and the addresses of its tally
 * and its votes' receipts derive from it. It carries the rules in force when it was made.
 */
export class ProposalRecord extends Struct({
  kind: UInt32,
  payloadHash: Field,
  proposer: PublicKey,
  voteStart: UInt32,
  voteEnd: UInt32,
  /** Executable from this slot (after the timelock) to `closesAt`, inclusive. */
  opensAt: UInt32,
  closesAt: UInt32,
  /** The member map when it was proposed: who may vote. */
  membersRoot: Field,
  /** Members when it was proposed: the base of the quorum. */
  memberCount: UInt32,
  quorumPercent: UInt32,
  approvalPercent: UInt32,
}) {
  id(): Field {
    return Poseidon.hash(ProposalRecord.toFields(this));
  }
}

/** Vote choices. */
export const VoteChoice = { against: 0, for: 1, abstain: 2 } as const;

/**
 * A proposal's tally account (of PoolDac's token) holds its votes and its status in one
 * balance, so that votes only ever add to it and any number apply in one block:
 * `ACTIVE + for·1 + against·2^20 + abstain·2^40 (+ CANCELED | EXECUTED)`.
 */
export const TallyUnits = {
  for: 1n,
  against: 1n << 20n,
  abstain: 1n << 40n,
  active: 1n << 60n,
  canceled: 1n << 61n,
  executed: 1n << 62n,
  /** Each count stays below 2^20 (at most 511 members). */
  countLimit: 1n << 20n,
} as const;

/** The three vote counts of a proposal, as read from its tally account. */
export class Tally extends Struct({ against: UInt32, for: UInt32, abstain: UInt32 }) {
  /** The tally account's balance for these counts while the proposal is active. */
  balance(): UInt64 {
    return UInt64.Unsafe.fromField(
      Field(TallyUnits.active).add(this.for.value).add(this.against.value.mul(Field(TallyUnits.against))).add(this.abstain.value.mul(Field(TallyUnits.abstain))),
    );
  }
  static decode(balance: bigint): { tally: Tally; status: 'active' | 'canceled' | 'executed' } {
    const mask = TallyUnits.countLimit - 1n;
    const tally = new Tally({ for: UInt32.from(balance & mask), against: UInt32.from((balance >> 20n) & mask), abstain: UInt32.from((balance >> 40n) & mask) });
    const status = balance >= TallyUnits.active + TallyUnits.executed ? 'executed' : balance >= TallyUnits.active + TallyUnits.canceled ? 'canceled' : 'active';
    return { tally, status };
  }
}

/**
 * An epoch report as the oracle signs it: the oracle signs `[poolTag, ...EpochReport.toFields]`.
 * Eligibility is a bitmap of member registry indexes.
 */
export class EpochReport extends Struct({
  epoch: UInt32,
  /** Reward of this epoch, in nanomina (the operator's fee comes out of it). */
  reward: UInt64,
  eligible: Bitmap,
  /** Merkle root of the per-member metrics the reward was computed from. */
  metricsRoot: Field,
  /** Hash of the emitter's event log the metrics were computed from. */
  eventLogHash: Field,
}) {
  message(poolTag: Field): Field[] {
    return [poolTag, ...EpochReport.toFields(this)];
  }
}

/** A posted report as committed in the reports tree (leaf at index `epoch` = hash). */
export class ReportRecord extends Struct({
  report: EpochReport,
  /** The member map when the report landed: resolves registry indexes to keys. */
  registryRoot: Field,
  /** Keys registered then: eligibility (the report's, a ruling's) is below this index. */
  registered: UInt32,
  /** Dust carried in from the previous report. */
  carryIn: UInt64,
  /** The operator's fee out of `reward`, and who receives it. */
  fee: UInt64,
  operator: PublicKey,
  postedAt: UInt32,
  /** Claims open at this slot; disputes and slashing are possible before it. */
  claimsOpenAt: UInt32,
  disputed: Bool,
  /** Disputes so far (a ruling answers one of them by number). */
  disputes: UInt32,
  /** Members whose share was forfeited for equivocation. */
  slashed: Bitmap,
  /** Eligible members now (after slashing and rulings): the reward's divisor. */
  eligible: Bitmap,
  sharers: UInt32,
}) {
  hash(): Field {
    return Poseidon.hash(ReportRecord.toFields(this));
  }
  /** Reward after the fee, plus carried dust: what the sharers divide. */
  total(): UInt64 {
    return this.report.reward.sub(this.fee).add(this.carryIn);
  }
  /** Each sharer's share and the dust carried to the next report. */
  share(): { share: UInt64; carry: UInt64 } {
    const sharers = this.sharers.toUInt64();
    const none = sharers.equals(UInt64.zero);
    const { quotient, rest } = this.total().divMod(Provable.if(none, UInt64.one, sharers));
    return { share: Provable.if(none, UInt64.zero, quotient), carry: Provable.if(none, this.total(), rest) };
  }
}

/** What RewardPool learns from PoolDac when a report lands: the member map and how many keys it registers. */
export class RegistrySnapshot extends Struct({ root: Field, registered: UInt32 }) {}

/** Tags of the derived accounts the contracts use as tallies, receipts and counters. */
export const AccountTag = {
  tally: Field(1),
  voteReceipt: Field(2),
  claims: Field(3),
  claimReceipt: Field(4),
  paidCounter: Field(5),
  spendReceipt: Field(6),
  upgradeReceipt: Field(7),
  backfillReceipt: Field(8),
} as const;

/** A quadratic non-square of the base field (Euler's criterion: 5^((p−1)/2) = −1). */
const NON_SQUARE = 5n;
/** Candidates {@link derivedAddress} tries: each is a curve point's x with probability ½, so all fail with probability 2^−24. */
const ADDRESS_TRIES = 24;

function squareRoot(v: bigint): bigint | undefined {
  try {
    return Field(v).sqrt().toBigInt();
  } catch {
    return undefined;
  }
}

/**
 * A public key nobody holds the secret of, derived from `fields`: the address of a token
 * account that a contract uses as a receipt (created once: a nullifier) or a counter
 * (balance only ever added to, so concurrent transactions all apply). With h the Poseidon
 * hash of `fields`, its x is the first of h, h + 1, h + 2, … that is a curve point's x, with
 * even y (always a point too). The circuit proves each earlier candidate is not (a root of
 * 5·(x³ + 5)) and this one is (a root of x³ + 5), so the address is unique; two inputs share
 * one only if their hashes differ by less than the tries. Unlike `Poseidon.hashToGroup` it
 * needs no lookup tables, which keeps a vote and a claim in a small circuit.
 */
export function derivedAddress(fields: Field[]): PublicKey {
  const base = Poseidon.hash(fields);
  let x = Field(0);
  let found = Bool(false);
  for (let j = 0; j < ADDRESS_TRIES; j++) {
    const candidate = base.add(j);
    const rhs = candidate.mul(candidate).mul(candidate).add(5);
    const square = Provable.witness(Bool, () => Bool(squareRoot(rhs.toBigInt()) !== undefined));
    const root = Provable.witness(Field, () => Field(squareRoot(square.toBoolean() ? rhs.toBigInt() : Field(rhs.toBigInt()).mul(NON_SQUARE).toBigInt()) ?? 0n));
    // For rhs ≠ 0 exactly one of rhs and 5·rhs is a square: the prover cannot lie about which.
    root.mul(root).assertEquals(Provable.if(square, rhs, rhs.mul(NON_SQUARE)));
    x = Provable.if(square.and(found.not()), candidate, x);
    found = found.or(square);
  }
  found.assertTrue('No curve point among the address derivation tries');
  return PublicKey.from({ x, isOdd: Bool(false) });
}

/** Address of a proposal's tally account. */
export function tallyAddress(id: Field): PublicKey {
  return derivedAddress([AccountTag.tally, id]);
}

/** Address of `voter`'s receipt for a proposal: it exists once the member has voted. */
export function voteReceiptAddress(id: Field, voter: PublicKey): PublicKey {
  return derivedAddress([AccountTag.voteReceipt, id, ...voter.toFields()]);
}

/** Address of an epoch's claims account (created when claims open; balance = 1 + paid). */
export function claimsAddress(recordHash: Field): PublicKey {
  return derivedAddress([AccountTag.claims, recordHash]);
}

/** Address of `member`'s claim receipt for a final report. */
export function claimReceiptAddress(recordHash: Field, member: PublicKey): PublicKey {
  return derivedAddress([AccountTag.claimReceipt, recordHash, ...member.toFields()]);
}

/** Address of the reward pool's paid counter (balance = 1 + nanomina paid out of reports). */
export function paidCounterAddress(pool: PublicKey): PublicKey {
  return derivedAddress([AccountTag.paidCounter, ...pool.toFields()]);
}

/** Address of the receipt that a backfilled slot was compensated under a commitment (paid once). */
export function backfillReceiptAddress(commitment: Field, slot: UInt32): PublicKey {
  return derivedAddress([AccountTag.backfillReceipt, commitment, slot.value]);
}

/** Address of the receipt that a passed proposal was applied (spent, upgraded). */
export function appliedReceiptAddress(tag: Field, id: Field): PublicKey {
  return derivedAddress([tag, id]);
}

/**
 * Permissions of PoolDac and RewardPool: every account update needs a proof (`access`), so
 * no key can sign for them, use them as fee payer or mint their tokens; state, MINA,
 * delegation, nonce and the rest change only through a method; permissions never change;
 * the verification key changes only by proof, i.e. through a passed upgrade proposal.
 * (Mina's rule: after a hard fork that raises the transaction version, a `proof`
 * verification-key permission is read as `signature`, but `access` still needs a proof.)
 */
export function poolContractPermissions(): Permissions {
  return {
    ...Permissions.default(),
    editState: Permissions.proof(),
    send: Permissions.proof(),
    receive: Permissions.proof(),
    access: Permissions.proof(),
    setDelegate: Permissions.proof(),
    setPermissions: Permissions.impossible(),
    setVerificationKey: Permissions.VerificationKey.proofDuringCurrentVersion(),
    setZkappUri: Permissions.impossible(),
    editActionState: Permissions.impossible(),
    setTokenSymbol: Permissions.impossible(),
    incrementNonce: Permissions.proof(),
    setVotingFor: Permissions.impossible(),
    setTiming: Permissions.impossible(),
  };
}

/**
 * The deploy of PoolDac, RewardPool and BackfillRegistry: the account may exist already (anyone
 * can pay an address), so it need not be new, and the deployer's payment covers its creation
 * fee only if it is; every update then needs a proof (`poolContractPermissions`).
 */
export function deployAsPoolContract(self: AccountUpdate): void {
  self.account.isNew.requireNothing();
  self.body.implicitAccountCreationFee = Bool(true);
  self.account.permissions.set(poolContractPermissions());
}

/**
 * Permissions of the pool's vault, the coinbase receiver. Mina burns a coinbase whose
 * receiver needs any authorization to be accessed or credited, so `access` and `receive`
 * are `none`; everything else is a proof (only `sweep`, into RewardPool) or impossible.
 */
export function vaultPermissions(): Permissions {
  return {
    ...poolContractPermissions(),
    access: Permissions.none(),
    receive: Permissions.none(),
    setVerificationKey: Permissions.VerificationKey.impossibleDuringCurrentVersion(),
  };
}
