import { InputError } from '../errors.js';
import type { BackfillBlock, RangeOptions } from './types.js';

/**
 * A slot range reduced to what the waitlist rules read, computed once and shared by
 * every window of a sweep: per slot, whether it has a canonical block and the producers
 * that join the waitlist, already in join order. Producers are interned as integers.
 */
export interface PreparedRange {
  from: number;
  to: number;
  nonCanonicalBlocks: number;
  /** `hasCanonical[s - from]` is 1 when slot s has a canonical block. */
  hasCanonical: Uint8Array;
  /** Joiners of slot s are `joiners[joinStart[s - from] .. joinStart[s - from + 1])`. */
  joinStart: Int32Array;
  joiners: Int32Array;
  /** Producer id → public key. */
  producers: string[];
}

/** Percentage of `count` in `slots`, rounded to 2 decimals. */
export function percent(count: number, slots: number): number {
  return slots === 0 ? 0 : Math.round((count * 10000) / slots) / 100;
}

/**
 * Orders the creators that join in one slot: ascending numeric VRF output (a creator's
 * smallest among its non-canonical blocks of the slot), then creators without any VRF
 * output, by key (string order).
 */
export function joinOrder(blocks: readonly Pick<BackfillBlock, 'creator' | 'vrfOutput'>[]): string[] {
  const best = new Map<string, bigint | undefined>();
  for (const b of blocks) {
    const seen = best.get(b.creator);
    if (!best.has(b.creator) || (b.vrfOutput !== undefined && (seen === undefined || b.vrfOutput < seen))) {
      best.set(b.creator, b.vrfOutput);
    }
  }
  return [...best.entries()]
    .sort(([ka, va], [kb, vb]) => {
      if (va !== undefined && vb !== undefined && va !== vb) return va < vb ? -1 : 1;
      if (va === undefined && vb !== undefined) return 1;
      if (va !== undefined && vb === undefined) return -1;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    })
    .map(([k]) => k);
}

/**
 * Reduces blocks to a {@link PreparedRange}. Blocks outside the range are ignored.
 * Throws {@link InputError} for an empty or inverted range and for a slot with two
 * canonical blocks (a chain keeps one block per slot).
 */
export function prepareRange(blocks: readonly BackfillBlock[], options: RangeOptions = {}): PreparedRange {
  let min = Infinity;
  let max = -Infinity;
  for (const b of blocks) {
    if (b.slot < min) min = b.slot;
    if (b.slot > max) max = b.slot;
  }
  const from = options.from ?? min;
  const to = options.to ?? max;
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new InputError('no blocks to analyse and no --from/--to range', { field: 'blocks' });
  }
  if (from > to) throw new InputError(`empty range: from (${from}) is greater than to (${to})`, { field: 'from', from, to });

  const slots = to - from + 1;
  const canonicalCreator: (string | undefined)[] = new Array(slots);
  const losers: BackfillBlock[][] = Array.from({ length: slots }, () => []);
  let nonCanonicalBlocks = 0;
  for (const b of blocks) {
    if (b.slot < from || b.slot > to) continue;
    const i = b.slot - from;
    if (b.canonical) {
      const other = canonicalCreator[i];
      if (other !== undefined) {
        throw new InputError(`slot ${b.slot} has two canonical blocks (by ${other} and ${b.creator}); a chain keeps one per slot`, {
          field: 'canonical',
          slot: b.slot,
        });
      }
      canonicalCreator[i] = b.creator;
    } else {
      nonCanonicalBlocks++;
      losers[i]!.push(b);
    }
  }

  const ids = new Map<string, number>();
  const producers: string[] = [];
  const hasCanonical = new Uint8Array(slots);
  const joinStart = new Int32Array(slots + 1);
  const joinerIds: number[] = [];
  for (let i = 0; i < slots; i++) {
    joinStart[i] = joinerIds.length;
    const winner = canonicalCreator[i];
    if (winner !== undefined) hasCanonical[i] = 1;
    const slotLosers = losers[i]!;
    if (slotLosers.length === 0) continue;
    for (const creator of joinOrder(slotLosers)) {
      if (options.excludeWinners && creator === winner) continue;
      let id = ids.get(creator);
      if (id === undefined) {
        id = producers.length;
        ids.set(creator, id);
        producers.push(creator);
      }
      joinerIds.push(id);
    }
  }
  joinStart[slots] = joinerIds.length;
  return { from, to, nonCanonicalBlocks, hasCanonical, joinStart, joiners: Int32Array.from(joinerIds), producers };
}

/** Slots of the range without a canonical block. */
export function originalEmptyCount(prepared: PreparedRange): number {
  let n = 0;
  for (const c of prepared.hasCanonical) if (c === 0) n++;
  return n;
}
