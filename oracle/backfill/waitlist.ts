/** One waitlist entry: a producer and the slot in which it joined. */
export interface WaitlistEntry<P> {
  producer: P;
  addedSlot: number;
}

/**
 * The backfill waitlist: a FIFO queue of unique producers, each kept for `window`
 * slots after the slot in which it joined (`spec/BACKFILL.md`).
 *
 * Slots must be visited in increasing order: entries then sit in the queue in
 * non-decreasing `addedSlot` order, so expiry only ever removes from the head and every
 * operation is O(1) amortised.
 *
 * @example
 * const list = new Waitlist<string>(47);
 * list.step(100, { hasCanonical: true, joiners: ['B62qA…'] }); // → undefined
 * list.step(101, { hasCanonical: false, joiners: [] });        // → { producer: 'B62qA…', addedSlot: 100 }
 */
export class Waitlist<P> {
  readonly window: number;
  private queue: WaitlistEntry<P>[] = [];
  private head = 0;
  private readonly members = new Set<P>();
  private lastSlot = -Infinity;

  constructor(window: number) {
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new RangeError(`window must be a positive integer, got ${window}`);
    }
    this.window = window;
  }

  /** Number of producers waiting. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** The entries from head to tail. */
  entries(): readonly WaitlistEntry<P>[] {
    return this.queue.slice(this.head);
  }

  has(producer: P): boolean {
    return this.members.has(producer);
  }

  /**
   * Runs the three rules for slot `slot`: expire, fill, join. `joiners` must already be
   * in join order (ascending VRF output, then creator key). Returns the designated
   * producer when the slot is empty and the waitlist is not.
   */
  step(slot: number, input: { hasCanonical: boolean; joiners: Iterable<P> }): WaitlistEntry<P> | undefined {
    this.advanceTo(slot);
    this.expire(slot);
    const designated = input.hasCanonical ? undefined : this.takeHead();
    for (const producer of input.joiners) this.join(producer, slot);
    return designated;
  }

  /** Rule 1: drops every entry with `slot > addedSlot + window`. */
  expire(slot: number): void {
    this.advanceTo(slot);
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head]!;
      if (slot <= entry.addedSlot + this.window) break;
      this.removeHead();
    }
  }

  /** Rule 2: removes and returns the head (the designated producer of an empty slot). */
  takeHead(): WaitlistEntry<P> | undefined {
    if (this.head >= this.queue.length) return undefined;
    const entry = this.queue[this.head]!;
    this.removeHead();
    return entry;
  }

  /** Rule 3: appends a producer unless it is already waiting; returns whether it joined. */
  join(producer: P, slot: number): boolean {
    this.advanceTo(slot);
    if (this.members.has(producer)) return false;
    this.members.add(producer);
    this.queue.push({ producer, addedSlot: slot });
    return true;
  }

  /**
   * Removes one entry wherever it sits (a designated producer that produced its slot, when the
   * queue has moved since it was designated); returns it, or `undefined` when it is not waiting.
   */
  remove(producer: P, addedSlot: number): WaitlistEntry<P> | undefined {
    const i = this.queue.findIndex((e, k) => k >= this.head && e.producer === producer && e.addedSlot === addedSlot);
    if (i < 0) return undefined;
    const [entry] = this.queue.splice(i, 1);
    this.members.delete(producer);
    return entry;
  }

  private removeHead(): void {
    const entry = this.queue[this.head]!;
    this.members.delete(entry.producer);
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private advanceTo(slot: number): void {
    if (slot < this.lastSlot) {
      throw new RangeError(`slots must not go back: ${slot} after ${this.lastSlot}`);
    }
    this.lastSlot = slot;
  }
}
