import { describe, expect, it } from '@jest/globals';
import { Waitlist } from '../../../oracle/backfill/waitlist.js';

describe('Waitlist rules', () => {
  it('expires an entry once the slot passes addedSlot + window, not before', () => {
    const list = new Waitlist<string>(3);
    list.join('A', 10);
    list.expire(13); // 13 ≤ 10 + 3: stays
    expect(list.entries()).toEqual([{ producer: 'A', addedSlot: 10 }]);
    list.expire(14); // 14 > 13: dropped
    expect(list.length).toBe(0);
    expect(list.has('A')).toBe(false);
  });

  it('hands an empty slot to the head and removes it', () => {
    const list = new Waitlist<string>(10);
    list.join('A', 1);
    list.join('B', 1);
    expect(list.step(2, { hasCanonical: false, joiners: [] })).toEqual({ producer: 'A', addedSlot: 1 });
    expect(list.entries().map((e) => e.producer)).toEqual(['B']);
  });

  it('leaves the waitlist alone in a slot that has a canonical block', () => {
    const list = new Waitlist<string>(10);
    list.join('A', 1);
    expect(list.step(2, { hasCanonical: true, joiners: [] })).toBeUndefined();
    expect(list.length).toBe(1);
  });

  it('fills before joining: a slot\'s own losers cannot fill that slot', () => {
    const list = new Waitlist<string>(10);
    expect(list.step(5, { hasCanonical: false, joiners: ['A'] })).toBeUndefined();
    expect(list.entries()).toEqual([{ producer: 'A', addedSlot: 5 }]);
  });

  it('expires before filling: an entry at the edge of its window can still fill', () => {
    const list = new Waitlist<string>(2);
    list.join('A', 1);
    expect(list.step(3, { hasCanonical: false, joiners: [] })?.producer).toBe('A'); // 3 ≤ 1 + 2
    list.join('B', 4);
    expect(list.step(7, { hasCanonical: false, joiners: [] })).toBeUndefined(); // 7 > 4 + 2: expired first
  });

  it('keeps a waiting producer\'s place and addedSlot when it loses again', () => {
    const list = new Waitlist<string>(10);
    list.join('A', 1);
    list.join('B', 2);
    expect(list.join('A', 3)).toBe(false);
    expect(list.entries()).toEqual([
      { producer: 'A', addedSlot: 1 },
      { producer: 'B', addedSlot: 2 },
    ]);
  });

  it('lets a designated producer join again after it was removed', () => {
    const list = new Waitlist<string>(10);
    list.join('A', 1);
    list.step(2, { hasCanonical: false, joiners: ['A'] });
    expect(list.entries()).toEqual([{ producer: 'A', addedSlot: 2 }]);
  });

  it('rejects a window below 1 and slots that go back', () => {
    expect(() => new Waitlist(0)).toThrow(/window must be a positive integer/);
    const list = new Waitlist<string>(5);
    list.step(10, { hasCanonical: true, joiners: [] });
    expect(() => list.step(9, { hasCanonical: true, joiners: [] })).toThrow(/must not go back/);
  });

  it('stays correct past its internal compaction', () => {
    const list = new Waitlist<number>(1_000_000);
    for (let i = 0; i < 5000; i++) list.join(i, i);
    for (let i = 0; i < 3000; i++) expect(list.takeHead()?.producer).toBe(i);
    expect(list.length).toBe(2000);
    expect(list.entries()[0]).toEqual({ producer: 3000, addedSlot: 3000 });
    expect(list.has(2999)).toBe(false);
    expect(list.has(3000)).toBe(true);
  });
});
