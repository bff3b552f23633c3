import type { BlockRecord } from '../chain/types.js';

/** What the engine needs of a block. */
export type BackfillBlock = Pick<BlockRecord, 'slot' | 'creator' | 'canonical' | 'vrfOutput'>;

/** Default waitlist window in slots (the forum's epoch-13 analysis). */
export const DEFAULT_WINDOW = 47;

export interface RangeOptions {
  /** First slot (inclusive); default the smallest slot present. */
  from?: number;
  /** Last slot (inclusive); default the largest slot present. */
  to?: number;
  /** The stricter rule: the creator of a slot's canonical block does not join for that slot. */
  excludeWinners?: boolean;
}

export interface BackfillOptions extends RangeOptions {
  /** Slots an entry stays in the waitlist after the slot it joined in. */
  window?: number;
}

/** One backfilled slot and the designated producer that got it. */
export interface BackfilledSlot {
  slot: number;
  producer: string;
}

/** The summary of `spec/BACKFILL.md` (Output), the shape of `--json`. */
export interface BackfillSummary {
  from: number;
  to: number;
  slots: number;
  window: number;
  nonCanonicalBlocks: number;
  originalEmptySlots: number;
  emptySlots: number;
  emptyPercentBefore: number;
  emptyPercentAfter: number;
  waitlistLengthAtEnd: number;
  emptySlotList: number[];
  backfilled: BackfilledSlot[];
}

export interface SweepRow {
  window: number;
  emptySlots: number;
  emptyPercent: number;
  waitlistLengthAtEnd: number;
}

/** Empty slots for every window of a range, and the suggested window. */
export interface SweepResult {
  from: number;
  to: number;
  slots: number;
  nonCanonicalBlocks: number;
  originalEmptySlots: number;
  emptyPercentBefore: number;
  rows: SweepRow[];
  /** The smallest empty count in the range, and the first window that reaches it. */
  best: { window: number; emptySlots: number; emptyPercent: number };
  /** The smallest window within 0.1 percentage point of the best. */
  suggestedWindow: number;
}
