import { originalEmptyCount, percent, prepareRange, type PreparedRange } from './prepare.js';
import {
  DEFAULT_WINDOW,
  type BackfillBlock,
  type BackfillOptions,
  type BackfillSummary,
  type BackfilledSlot,
  type SweepResult,
  type SweepRow,
  type RangeOptions,
} from './types.js';
import { Waitlist } from './waitlist.js';

/** The outcome of running the rules over a prepared range at one window. */
export interface WaitlistRun {
  emptySlots: number;
  waitlistLengthAtEnd: number;
  /** Present when the run was asked to record them. */
  emptySlotList?: number[];
  backfilled?: BackfilledSlot[];
  /** The slot each backfilled producer joined in (the slot it lost), in the order of `backfilled`. */
  lostSlots?: number[];
}

/**
 * Runs expire, fill and join for every slot of `prepared` at `window`. With
 * `record: false` it only counts, which is what a sweep needs.
 */
export function runWaitlist(prepared: PreparedRange, window: number, record = true): WaitlistRun {
  const { from, to, hasCanonical, joinStart, joiners, producers } = prepared;
  const list = new Waitlist<number>(window);
  const emptySlotList: number[] = [];
  const backfilled: BackfilledSlot[] = [];
  const lostSlots: number[] = [];
  let emptySlots = 0;
  for (let s = from; s <= to; s++) {
    const i = s - from;
    const hasSlotBlock = hasCanonical[i] === 1;
    const designated = list.step(s, { hasCanonical: hasSlotBlock, joiners: joiners.subarray(joinStart[i]!, joinStart[i + 1]!) });
    if (hasSlotBlock) continue;
    if (designated === undefined) {
      emptySlots++;
      if (record) emptySlotList.push(s);
    } else if (record) {
      backfilled.push({ slot: s, producer: producers[designated.producer]! });
      lostSlots.push(designated.addedSlot);
    }
  }
  return record
    ? { emptySlots, waitlistLengthAtEnd: list.length, emptySlotList, backfilled, lostSlots }
    : { emptySlots, waitlistLengthAtEnd: list.length };
}

/**
 * Analyses a slot range with the backfill waitlist (`spec/BACKFILL.md`).
 *
 * @example
 * const summary = analyseBackfill(blocks, { window: 47 });
 * console.log(summary.emptyPercentBefore, '→', summary.emptyPercentAfter);
 */
export function analyseBackfill(blocks: readonly BackfillBlock[], options: BackfillOptions = {}): BackfillSummary {
  const prepared = prepareRange(blocks, options);
  return summarise(prepared, options.window ?? DEFAULT_WINDOW);
}

/** The summary of one window over an already prepared range. */
export function summarise(prepared: PreparedRange, window: number): BackfillSummary {
  const slots = prepared.to - prepared.from + 1;
  const originalEmptySlots = originalEmptyCount(prepared);
  const run = runWaitlist(prepared, window, true);
  return {
    from: prepared.from,
    to: prepared.to,
    slots,
    window,
    nonCanonicalBlocks: prepared.nonCanonicalBlocks,
    originalEmptySlots,
    emptySlots: run.emptySlots,
    emptyPercentBefore: percent(originalEmptySlots, slots),
    emptyPercentAfter: percent(run.emptySlots, slots),
    waitlistLengthAtEnd: run.waitlistLengthAtEnd,
    emptySlotList: run.emptySlotList ?? [],
    backfilled: run.backfilled ?? [],
  };
}

/**
 * Runs every window in `[first, last]` over one prepared range (one pass per window) and
 * suggests the smallest window whose empty count is within 0.1 percentage point of the best.
 *
 * @example
 * const sweep = sweepWindows(blocks, { first: 1, last: 500 });
 * console.log(sweep.suggestedWindow);
 */
export function sweepWindows(blocks: readonly BackfillBlock[] | PreparedRange, options: RangeOptions & { first: number; last: number }): SweepResult {
  const { first, last } = options;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 1 || first > last) {
    throw new RangeError(`sweep range must be 1 ≤ first ≤ last, got ${first}:${last}`);
  }
  const prepared = Array.isArray(blocks) ? prepareRange(blocks, options) : (blocks as PreparedRange);
  const slots = prepared.to - prepared.from + 1;
  const rows: SweepRow[] = [];
  let best: SweepRow | undefined;
  for (let w = first; w <= last; w++) {
    const run = runWaitlist(prepared, w, false);
    const row = { window: w, emptySlots: run.emptySlots, emptyPercent: percent(run.emptySlots, slots), waitlistLengthAtEnd: run.waitlistLengthAtEnd };
    rows.push(row);
    if (best === undefined || row.emptySlots < best.emptySlots) best = row;
  }
  const bestRow = best!;
  // Within 0.1 percentage point: (empty − best) / slots ≤ 0.001, in integers.
  const suggested = rows.find((r) => (r.emptySlots - bestRow.emptySlots) * 1000 <= slots)!;
  const originalEmptySlots = originalEmptyCount(prepared);
  return {
    from: prepared.from,
    to: prepared.to,
    slots,
    nonCanonicalBlocks: prepared.nonCanonicalBlocks,
    originalEmptySlots,
    emptyPercentBefore: percent(originalEmptySlots, slots),
    rows,
    best: { window: bestRow.window, emptySlots: bestRow.emptySlots, emptyPercent: bestRow.emptyPercent },
    suggestedWindow: suggested.window,
  };
}
