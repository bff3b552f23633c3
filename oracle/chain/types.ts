/**
 * One block of a slot range, as the analysis and the simulator exchange it.
 * `canonical` is true for the block the chain kept for its slot; orphaned and pending
 * blocks are `false`.
 */
export interface BlockRecord {
  /** Slot number (the numbering of the source: slot in epoch, or global slot). */
  slot: number;
  /** Producer public key (base58 `B62…`). */
  creator: string;
  canonical: boolean;
  /** Truncated VRF output (< 2^253), when the source has it. */
  vrfOutput?: bigint;
  /** State hash (`3N…`), when the source has it. */
  stateHash?: string;
}
