import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { analyseBackfill, joinOrder, sweepWindows } from '../../../oracle/backfill/index.js';
import type { BackfillBlock } from '../../../oracle/backfill/index.js';
import { InputError } from '../../../oracle/errors.js';

const b = (slot: number, creator: string, canonical: boolean, vrfOutput?: bigint): BackfillBlock =>
  vrfOutput === undefined ? { slot, creator, canonical } : { slot, creator, canonical, vrfOutput };

describe('analyseBackfill', () => {
  // Slots 0..5. Worked out by hand with window 2:
  // s0: canonical X; losers P (vrf 5), Q (vrf 3) join as Q, P.           queue [Q@0, P@0]
  // s1: no block: empty → Q is designated.                              queue [P@0]
  // s2: canonical Y; loser R joins.                                      queue [P@0, R@2]
  // s3: P expires (3 > 0 + 2); empty → R is designated.                  queue []
  // s4: empty, queue empty → stays empty.
  // s5: canonical Z; loser S joins.                                      queue [S@5]
  const blocks = [
    b(0, 'X', true), b(0, 'P', false, 5n), b(0, 'Q', false, 3n),
    b(2, 'Y', true), b(2, 'R', false),
    b(5, 'Z', true), b(5, 'S', false),
  ];

  it('runs expire, fill and join over a hand-worked range', () => {
    const s = analyseBackfill(blocks, { window: 2 });
    expect(s).toEqual({
      from: 0, to: 5, slots: 6, window: 2,
      nonCanonicalBlocks: 4, originalEmptySlots: 3, emptySlots: 1,
      emptyPercentBefore: 50, emptyPercentAfter: 16.67,
      waitlistLengthAtEnd: 1, emptySlotList: [4],
      backfilled: [{ slot: 1, producer: 'Q' }, { slot: 3, producer: 'R' }],
    });
  });

  it('keeps P when the window is wide enough, changing who fills slot 3', () => {
    const s = analyseBackfill(blocks, { window: 3 });
    expect(s.backfilled).toEqual([{ slot: 1, producer: 'Q' }, { slot: 3, producer: 'P' }, { slot: 4, producer: 'R' }]);
    expect(s.emptySlotList).toEqual([]);
  });

  it('uses an explicit range: slots outside are ignored and missing slots count as empty', () => {
    // s1 empty (P, Q at slot 0 are outside); s2 R joins; s3 R fills; s4 empty; s5 S joins;
    // s6 S fills; s7, s8 empty.
    const s = analyseBackfill(blocks, { window: 2, from: 1, to: 8 });
    expect(s.slots).toBe(8);
    expect(s.nonCanonicalBlocks).toBe(2);
    expect(s.originalEmptySlots).toBe(6);
    expect(s.emptySlotList).toEqual([1, 4, 7, 8]);
    expect(s.backfilled).toEqual([{ slot: 3, producer: 'R' }, { slot: 6, producer: 'S' }]);
  });

  it('by default lets the creator of the canonical block join when it also has a non-canonical one', () => {
    const dup = [b(0, 'A', true, 1n), b(0, 'A', false, 1n), b(1, 'C', false)];
    expect(analyseBackfill(dup, { window: 5 }).backfilled).toEqual([{ slot: 1, producer: 'A' }]);
    expect(analyseBackfill(dup, { window: 5, excludeWinners: true }).backfilled).toEqual([]);
  });

  it('counts duplicate blocks of one creator as several non-canonical blocks but one joiner', () => {
    const s = analyseBackfill([b(0, 'A', false, 9n), b(0, 'A', false, 9n), b(0, 'A', false, 9n), b(1, 'B', true)], { window: 5 });
    expect(s.nonCanonicalBlocks).toBe(3);
    expect(s.waitlistLengthAtEnd).toBe(1);
  });

  it('rejects a slot with two canonical blocks and an inverted range', () => {
    expect(() => analyseBackfill([b(3, 'A', true), b(3, 'B', true)])).toThrow(/slot 3 has two canonical blocks/);
    expect(() => analyseBackfill(blocks, { from: 5, to: 2 })).toThrow(InputError);
    expect(() => analyseBackfill([])).toThrow(/no blocks/);
  });
});

describe('joinOrder', () => {
  it('orders by numeric VRF output, then creators without one by key', () => {
    expect(joinOrder([
      { creator: 'D' }, { creator: 'B', vrfOutput: 10n }, { creator: 'C' }, { creator: 'A', vrfOutput: 2n ** 250n },
      { creator: 'E', vrfOutput: 9n },
    ])).toEqual(['E', 'B', 'A', 'C', 'D']);
  });

  it('uses a creator\'s smallest output and breaks equal outputs by key', () => {
    expect(joinOrder([{ creator: 'B', vrfOutput: 7n }, { creator: 'A', vrfOutput: 8n }, { creator: 'A', vrfOutput: 1n }, { creator: 'C', vrfOutput: 7n }]))
      .toEqual(['A', 'B', 'C']);
  });
});

describe('sweepWindows', () => {
  it('suggests the smallest window within 0.1 percentage point of the best', () => {
    // 1000 slots: a loser at slot 0 and an empty slot k slots later for k = 1..30, in blocks.
    const blocks: BackfillBlock[] = [];
    for (let start = 0; start < 1000; start += 100) {
      blocks.push(b(start, 'X', true), b(start, `L${start}`, false));
      for (let s = start + 1; s < start + 100; s++) if (s !== start + 30) blocks.push(b(s, 'X', true));
    }
    // Each block of 100 slots has one empty slot 30 slots after its loser: windows ≥ 30 fill all 10.
    const sweep = sweepWindows(blocks, { first: 1, last: 40 });
    expect(sweep.rows).toHaveLength(40);
    expect(sweep.rows[28]).toMatchObject({ window: 29, emptySlots: 10 });
    expect(sweep.rows[29]).toMatchObject({ window: 30, emptySlots: 0 });
    expect(sweep.best).toEqual({ window: 30, emptySlots: 0, emptyPercent: 0 });
    expect(sweep.suggestedWindow).toBe(30);
  });

  it('accepts a window whose count is within 1 slot per 1000 of the best', () => {
    // 1500 slots, 2 empties: window ≥ 5 fills the first, ≥ 50 the second.
    // One empty slot is 0.067 pp (within 0.1 of the best, 0); two are 0.133 pp (not within).
    const blocks: BackfillBlock[] = [];
    for (let s = 0; s < 1500; s++) if (s !== 5 && s !== 1050) blocks.push(b(s, 'X', true));
    blocks.push(b(0, 'A', false), b(1000, 'B', false));
    const sweep = sweepWindows(blocks, { first: 1, last: 60 });
    expect(sweep.best).toEqual({ window: 50, emptySlots: 0, emptyPercent: 0 });
    expect(sweep.rows[3]!.emptySlots).toBe(2);
    expect(sweep.rows[4]!.emptySlots).toBe(1);
    expect(sweep.suggestedWindow).toBe(5);
  });

  it('rejects a sweep range below 1 or inverted', () => {
    expect(() => sweepWindows([b(0, 'A', true)], { first: 0, last: 3 })).toThrow(/sweep range/);
    expect(() => sweepWindows([b(0, 'A', true)], { first: 4, last: 3 })).toThrow(/sweep range/);
  });
});

/** A straightforward re-implementation of spec/BACKFILL.md, written for clarity, not speed. */
function reference(blocks: BackfillBlock[], window: number, excludeWinners: boolean) {
  const slots = blocks.map((x) => x.slot);
  const from = Math.min(...slots);
  const to = Math.max(...slots);
  let queue: { producer: string; addedSlot: number }[] = [];
  const empty: number[] = [];
  const filled: { slot: number; producer: string }[] = [];
  for (let s = from; s <= to; s++) {
    queue = queue.filter((e) => !(s > e.addedSlot + window));
    const here = blocks.filter((x) => x.slot === s);
    const winner = here.find((x) => x.canonical);
    if (!winner) {
      const head = queue.shift();
      if (head) filled.push({ slot: s, producer: head.producer });
      else empty.push(s);
    }
    const losers = here.filter((x) => !x.canonical && !(excludeWinners && winner && x.creator === winner.creator));
    const creators = [...new Set(losers.map((x) => x.creator))].map((c) => {
      const outs = losers.filter((x) => x.creator === c && x.vrfOutput !== undefined).map((x) => x.vrfOutput!);
      return { c, v: outs.length ? outs.reduce((m, x) => (x < m ? x : m)) : undefined };
    });
    const withVrf = creators.filter((x) => x.v !== undefined).sort((p, q) => (p.v! < q.v! ? -1 : p.v! > q.v! ? 1 : p.c < q.c ? -1 : 1));
    const without = creators.filter((x) => x.v === undefined).sort((p, q) => (p.c < q.c ? -1 : 1));
    for (const { c } of [...withVrf, ...without]) {
      if (!queue.some((e) => e.producer === c)) queue.push({ producer: c, addedSlot: s });
    }
  }
  return { emptySlotList: empty, backfilled: filled, waitlistLengthAtEnd: queue.length };
}

describe('engine against the reference implementation', () => {
  const blockArb = fc.record({
    slot: fc.integer({ min: 0, max: 80 }),
    creator: fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'G'),
    canonical: fc.boolean(),
    vrfOutput: fc.option(fc.bigInt({ min: 0n, max: 20n }), { nil: undefined }),
  });

  it('agrees on random inputs (windows, exclude-winners, ties, duplicates)', () => {
    fc.assert(
      fc.property(fc.array(blockArb, { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), (raw, window, excludeWinners) => {
        // At most one canonical block per slot, as on a chain.
        const seen = new Set<number>();
        const blocks = raw.map((x) => {
          const canonical = x.canonical && !seen.has(x.slot);
          if (canonical) seen.add(x.slot);
          const { vrfOutput, ...rest } = { ...x, canonical };
          return vrfOutput === undefined ? rest : { ...rest, vrfOutput };
        });
        const got = analyseBackfill(blocks, { window, excludeWinners });
        const want = reference(blocks, window, excludeWinners);
        expect({ emptySlotList: got.emptySlotList, backfilled: got.backfilled, waitlistLengthAtEnd: got.waitlistLengthAtEnd }).toEqual(want);
        expect(got.emptySlots).toBe(want.emptySlotList.length);
        expect(got.originalEmptySlots).toBe(want.emptySlotList.length + want.backfilled.length);
      }),
      { numRuns: 500 },
    );
  });

  it('gives each window of a sweep the same count as a separate analysis', () => {
    fc.assert(
      fc.property(fc.array(blockArb, { minLength: 1, maxLength: 150 }), (raw) => {
        const seen = new Set<number>();
        const blocks = raw.map((x) => ({ ...x, canonical: x.canonical && !seen.has(x.slot) && (seen.add(x.slot), true) }));
        const sweep = sweepWindows(blocks, { first: 1, last: 12 });
        for (const row of sweep.rows) {
          const one = analyseBackfill(blocks, { window: row.window });
          expect(row.emptySlots).toBe(one.emptySlots);
          expect(row.waitlistLengthAtEnd).toBe(one.waitlistLengthAtEnd);
        }
      }),
      { numRuns: 100 },
    );
  });
});
