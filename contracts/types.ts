import { Bool, Field, MerkleMapWitness, MerkleWitness, Permissions, Poseidon, PublicKey, Signature, Struct, UInt32, UInt64 } from 'o1js';

/**
 * Structs shared by the pool's contracts and by the off-chain side (emitter, bridge,
 * commands). Everything a contract commits to as a hash is defined here, with its hash.
 */

/** Height of the proposal and report trees: up to 65 536 proposals, epochs 0..65 535. */
export const TREE_HEIGHT = 16;
export class ProposalWitness extends MerkleWitness(TREE_HEIGHT) {}
export class ReportWitness extends MerkleWitness(TREE_HEIGHT) {}
export { MerkleMapWitness };

/** Key of a public key in a member map (members, eligible members, slashed members). */
export function memberKey(member: PublicKey): Field {
  return Poseidon.hash(member.toFields());
}

/**
 * The tag that binds a member's signature to one pool: `Poseidon.hash` of the PoolDac
 * address's fields. A signature for one pool is worthless in another.
 */
export function poolTagOf(dacAddress: PublicKey): Field {
  return Poseidon.hash(dacAddress.toFields());
}

/** Slots per epoch on mainnet; epochs are `slot div 7140` (global slot since the hard fork). */
export const SLOTS_PER_EPOCH = 7140;

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
export const EmitterStrategy = { firstDelivered: 0 } as const;
/** Reward policies (parameter `rewardPolicy`). */
export const RewardPolicy = { evenShares: 0 } as const;

/** The pool's parameters, committed on chain as {@link PoolParams.hash}. */
export class PoolParams extends Struct({
  /** Votes cast (for + against + abstain) needed, in percent of the members when the proposal was made. */
  quorumPercent: UInt32,
  /** `for / (for + against)` needed, in percent. */
  approvalPercent: UInt32,
  /** Slots a proposal is open for votes. */
  votingPeriod: UInt32,
  /** Slots a succeeded proposal waits before it can be executed. */
  timelock: UInt32,
  /** Slots after the timelock during which it can be executed; then it expires. */
  executionWindow: UInt32,
  /** Slots after a report is posted during which it can be disputed; claims open after it. */
  challengeWindow: UInt32,
  emitterStrategy: UInt32,
  /** Backfill waitlist window, in slots. */
  backfillWindow: UInt32,
  rewardPolicy: UInt32,
}) {
  hash(): Field {
    return Poseidon.hash(PoolParams.toFields(this));
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
} as const;
export type ProposalKindName = keyof typeof ProposalKind;

/** Arbitration decisions. */
export const Ruling = { uphold: 0, replace: 1 } as const;

/**
 * What a proposal would do, in one shape for every kind (unused fields are zero):
 * add/remove member and set oracle use `key`; amend constitution and set parameters use
 * `hash`; an arbitration ruling uses `epoch`, `decision`, `root` and `count`.
 */
export class ProposalPayload extends Struct({
  key: PublicKey,
  hash: Field,
  epoch: UInt32,
  decision: UInt32,
  root: Field,
  count: UInt32,
}) {
  static empty(): ProposalPayload {
    return new ProposalPayload({ key: PublicKey.empty(), hash: Field(0), epoch: UInt32.zero, decision: UInt32.zero, root: Field(0), count: UInt32.zero });
  }
  digest(): Field {
    return Poseidon.hash(ProposalPayload.toFields(this));
  }
}

/** Proposal status as stored; succeeded/defeated/queued/expired are derived from votes and slots. */
export const ProposalStatus = { active: 0, canceled: 1, executed: 2 } as const;

/** A proposal as committed in the proposals tree (leaf = hash). */
export class ProposalRecord extends Struct({
  id: UInt32,
  kind: UInt32,
  payloadHash: Field,
  proposer: PublicKey,
  voteStart: UInt32,
  voteEnd: UInt32,
  /** Members when it was proposed: the base of the quorum. */
  memberCount: UInt32,
  status: UInt32,
}) {
  hash(): Field {
    return Poseidon.hash(ProposalRecord.toFields(this));
  }
  withStatus(status: number | UInt32): ProposalRecord {
    return new ProposalRecord({ ...this, status: UInt32.from(status) });
  }
}

/** Vote choices. */
export const VoteChoice = { against: 0, for: 1, abstain: 2 } as const;

/**
 * An epoch report as the oracle signs it: the oracle signs `[poolTag, ...EpochReport.toFields]`.
 */
export class EpochReport extends Struct({
  epoch: UInt32,
  /** Reward to share for this epoch, in nanomina. */
  reward: UInt64,
  /** Commitment to the eligible members (a member map: key → 1) and their number. */
  eligibleRoot: Field,
  eligibleCount: UInt32,
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
  /** Dust carried in from the previous report. */
  carryIn: UInt64,
  postedAt: UInt32,
  /** Claims open at this slot; disputes and slashing are possible before it. */
  claimsOpenAt: UInt32,
  disputed: Bool,
  /** Members whose share was forfeited (a member map) and their number. */
  slashedRoot: Field,
  slashedCount: UInt32,
}) {
  hash(): Field {
    return Poseidon.hash(ReportRecord.toFields(this));
  }

  /** Members sharing the reward: eligible minus slashed. */
  sharers(): UInt32 {
    return this.report.eligibleCount.sub(this.slashedCount);
  }

  /** Reward plus carried dust: what the sharers divide. */
  total(): UInt64 {
    return this.report.reward.add(this.carryIn);
  }
}

/** Key of the derived accounts a contract uses as receipts and counters (see README). */
export const AccountTag = {
  voteReceipt: Field(1),
  tally: Field(2),
  claimReceipt: Field(3),
  paidCounter: Field(4),
} as const;

/**
 * A public key nobody holds the secret of, derived from `fields`: the address of a token
 * account that a contract uses as a receipt (created once: a nullifier) or a counter
 * (balance only ever added to, so concurrent transactions all apply).
 */
export function derivedAddress(fields: Field[]): PublicKey {
  return PublicKey.fromGroup(Poseidon.hashToGroup(fields));
}

/**
 * Permissions of both pool contracts, set at deployment: state and MINA move only by proof;
 * anyone can pay in (coinbase); every update needs the contract's authorization (`access`),
 * so its token accounts (receipts, tallies, counters) move only through its methods; the
 * permissions and the verification key can never change in this protocol version.
 */
export function poolContractPermissions(): Permissions {
  return {
    ...Permissions.default(),
    editState: Permissions.proof(),
    send: Permissions.proof(),
    receive: Permissions.none(),
    access: Permissions.proofOrSignature(),
    setPermissions: Permissions.impossible(),
    setVerificationKey: Permissions.VerificationKey.impossibleDuringCurrentVersion(),
    setZkappUri: Permissions.impossible(),
    setTokenSymbol: Permissions.impossible(),
    incrementNonce: Permissions.proofOrSignature(),
    setVotingFor: Permissions.impossible(),
    setTiming: Permissions.impossible(),
  };
}
