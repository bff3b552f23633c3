import { z } from 'zod';
import { b62 } from '../config.js';
import { stateHashToField } from '../chain/base58.js';
import { parseVrfOutput } from '../vrf/output.js';
import { PoolError, type ErrorContext } from '../errors.js';

/**
 * What the emitter speaks: the proposal a member delivers, the receipt it gets back, the
 * event log's event types and every rejection code with its HTTP status.
 */

/** A block state hash (`3N…`, one field element). */
export const stateHash = z.string().refine((s) => stateHashToField(s) !== undefined, 'expected a 3N… block state hash');
/** A base58 o1js / mina-signer signature (`7mX…`). */
export const signatureText = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{90,100}$/, 'expected a base58 signature');

/** What a proposal's body may add to its block, in bytes (the HTTP body limit is the block limit plus this): the fields and a designation proof. */
export const BODY_ALLOWANCE = 16_384 + 200_000;

/**
 * A member's signed proposal: the member signs `[poolTag, slot, blockHash]` (the message
 * `BlockProposal` defines in contracts/types.ts, so a proposal is also slashing evidence).
 * The payload (Mina's precomputed block JSON) is opaque.
 */
export const proposalSchema = z.strictObject({
  slot: z.number().int().min(0).max(2 ** 32 - 1),
  member: b62,
  blockHash: stateHash,
  payload: z.unknown().refine((p) => p !== undefined && p !== null, 'expected the block (JSON)'),
  vrfOutput: z.string().max(100).refine((v) => parseVrfOutput(v) !== undefined, 'expected a truncated VRF output (base64url, 48… base58 or decimal, below 2^253)').optional(),
  signature: signatureText,
  /** A designated producer's `DesignatedProducer` proof for the slot (`proof.toJSON()`), checked by oracle/emitter/designation.ts. */
  designation: z.unknown().optional(),
});
export type Proposal = z.infer<typeof proposalSchema>;

/** The operator's receipt for an accepted proposal (see oracle/emitter/receipt.ts). */
export interface Receipt {
  slot: number;
  member: string;
  blockHash: string;
  /** When the emitter accepted the proposal, ms since the Unix epoch. */
  receivedAt: number;
  /** The operator's public key. */
  operator: string;
  /** The Ed25519 key that signed this receipt (base64url), certified by the operator. */
  receiptKey: string;
  /** The operator's Mina signature over the receipt key (base58). */
  certificate: string;
  /** Ed25519 signature over the receipt message (base64url). */
  signature: string;
}

/** Every way the emitter refuses a proposal: a stable code, its HTTP status and what it means. */
export const REJECTIONS = {
  MALFORMED: { status: 400, text: 'the body or a field is malformed' },
  BAD_SIGNATURE: { status: 401, text: 'the signature does not verify for that member' },
  NOT_MEMBER: { status: 403, text: 'the key is not a current member of the pool' },
  DUPLICATE: { status: 409, text: 'this proposal was already accepted' },
  EQUIVOCATION: { status: 409, text: 'the member already proposed another block for this slot (both kept as slashing evidence)' },
  TOO_LARGE: { status: 413, text: 'the body is larger than the emitter accepts' },
  TOO_EARLY: { status: 422, text: "the slot's production window has not opened" },
  WINDOW_CLOSED: { status: 422, text: "the slot's production window has closed" },
  DESIGNATION_TOO_EARLY: { status: 422, text: "a designated producer's block is taken only after a third of the slot" },
  DESIGNATION_OUTDATED: { status: 422, text: "a designated producer's block is taken only during its slot" },
  BAD_DESIGNATION: { status: 422, text: 'the designation is not a valid proof for this slot and member' },
  NO_BACKFILL: { status: 422, text: "this emitter takes no designated producers' blocks" },
} as const;
export type RejectionCode = keyof typeof REJECTIONS;

/** A refused proposal: the code names the rule, the context the facts. */
export class ProposalRejected extends PoolError {
  readonly status: number;
  /** A duplicate's answer carries the receipt it got the first time. */
  readonly receipt?: Receipt;
  constructor(code: RejectionCode, detail: string, context: ErrorContext = {}, receipt?: Receipt) {
    super(code, `${REJECTIONS[code].text}: ${detail}`, context);
    this.status = REJECTIONS[code].status;
    if (receipt) this.receipt = receipt;
  }
}

/** Event types of the log. */
export const EVENT_TYPES = ['received', 'rejected', 'selected', 'ignored', 'emitted', 'equivocation', 'missed', 'canonical', 'orphaned'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
