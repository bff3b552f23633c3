import Database from 'better-sqlite3';
import { z } from 'zod';
import { b62 } from '../config.js';
import { InputError } from '../errors.js';
import { joinOrder } from './prepare.js';
import type { Designation } from './commitment.js';
import type { BackfillBlock } from './types.js';
import { Waitlist } from './waitlist.js';

/** One entry as served by `GET /v1/waitlist`: the producer, the slot it joined in, the last slot it can be designated for. */
export interface LiveEntry {
  producer: string;
  addedSlot: number;
  expiresAfter: number;
}

/** What `GET /v1/waitlist` answers. */
export interface WaitlistSnapshot {
  /** The last slot the rules have run for (−1 before the first). */
  slot: number;
  window: number;
  /** The serving oracle's own producer key, which a bootstrapping peer ignores. */
  self?: string;
  /** Head first. */
  entries: LiveEntry[];
  /** Recent designations (slot → producer, the slot it lost), newest last. */
  designations: { slot: number; producer: string; lostSlot: number }[];
}

export const snapshotSchema = z.object({
  slot: z.number().int().min(-1),
  window: z.number().int().min(1),
  self: b62.optional(),
  entries: z.array(z.object({ producer: b62, addedSlot: z.number().int().min(0), expiresAfter: z.number().int().min(0) })).max(100_000),
  designations: z.array(z.object({ slot: z.number().int().min(0), producer: b62, lostSlot: z.number().int().min(0) })).max(100_000),
});

/** Designations kept for `GET /v1/waitlist`. */
const KEPT_DESIGNATIONS = 100;

/**
 * The live backfill waitlist: the rules of `spec/BACKFILL.md` run slot by slot as the chain
 * passes them, with the state (queue, last slot, recent designations) saved in SQLite after
 * every step, so a restart continues where it stopped without replaying the epoch.
 *
 * @example
 * const live = LiveWaitlist.open('state/waitlist.sqlite', { window: 47 });
 * live.advance(1000, [{ slot: 1000, creator: 'B62…', canonical: false }]);
 * live.snapshot().entries[0]; // { producer: 'B62…', addedSlot: 1000, expiresAfter: 1047 }
 */
export class LiveWaitlist {
  private list: Waitlist<string>;
  private last = -1;
  private designations: WaitlistSnapshot['designations'] = [];
  private readonly save: (state: string, throughSlot: number) => void;
  private readonly insertHeard: Database.Statement;
  private readonly selectHeard: Database.Statement;
  private readonly insertFixed: Database.Statement;
  private readonly selectFixed: Database.Statement;

  private constructor(
    private readonly db: Database.Database,
    readonly window: number,
    readonly self: string | undefined,
    private readonly excludeWinners: boolean,
  ) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE IF NOT EXISTS waitlist (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)');
    db.exec('CREATE TABLE IF NOT EXISTS heard (state_hash TEXT PRIMARY KEY, slot INTEGER NOT NULL, creator TEXT NOT NULL, vrf_output TEXT)');
    const stmt = db.prepare('INSERT INTO waitlist (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state');
    const prune = db.prepare('DELETE FROM heard WHERE slot <= ?');
    // The new state and the end of the blocks it used are one commit: a crash keeps both or neither.
    this.save = db.transaction((state: string, throughSlot: number) => {
      stmt.run(state);
      prune.run(throughSlot);
    });
    db.exec('CREATE TABLE IF NOT EXISTS fixed_designation (slot INTEGER PRIMARY KEY, producer TEXT NOT NULL, lost_slot INTEGER NOT NULL)');
    this.insertFixed = db.prepare('INSERT OR IGNORE INTO fixed_designation (slot, producer, lost_slot) VALUES (?, ?, ?)');
    this.selectFixed = db.prepare('SELECT producer, lost_slot FROM fixed_designation WHERE slot = ?');
    this.insertHeard = db.prepare('INSERT OR IGNORE INTO heard (state_hash, slot, creator, vrf_output) VALUES (?, ?, ?, ?)');
    this.selectHeard = db.prepare('SELECT state_hash, slot, creator, vrf_output FROM heard WHERE slot > ? AND slot <= ? ORDER BY slot, state_hash');
    this.list = new Waitlist(window);
    const row = db.prepare('SELECT state FROM waitlist WHERE id = 1').get() as { state: string } | undefined;
    if (row) this.restore(snapshotSchema.parse(JSON.parse(row.state)));
  }

  /** Opens (or creates) the waitlist's database; `self` is the pool's own producer key. */
  static open(file: string, options: { window: number; self?: string; excludeWinners?: boolean }): LiveWaitlist {
    if (!Number.isSafeInteger(options.window) || options.window < 1) throw new InputError(`the waitlist window must be a positive whole number of slots, got ${options.window}`);
    return new LiveWaitlist(new Database(file), options.window, options.self, options.excludeWinners ?? false);
  }

  close(): void {
    this.db.close();
  }

  /** The last slot processed (−1 before the first). */
  get lastSlot(): number {
    return this.last;
  }

  /**
   * Runs the rules for every slot after the last one up to `slot`, with the network's blocks
   * of those slots (canonical and not; others are ignored), and saves the result at once.
   * Returns the designations made. A slot already processed is refused: the chain only goes on.
   */
  advance(slot: number, blocks: readonly BackfillBlock[]): WaitlistSnapshot['designations'] {
    if (!Number.isSafeInteger(slot) || slot < 0) throw new InputError(`slot must be a whole number ≥ 0, got ${slot}`);
    if (slot <= this.last) throw new InputError(`slot ${slot} was already processed (the waitlist is at slot ${this.last})`);
    const bySlot = new Map<number, BackfillBlock[]>();
    for (const b of blocks) {
      if (b.slot <= this.last || b.slot > slot) continue;
      const list = bySlot.get(b.slot) ?? [];
      list.push(b);
      bySlot.set(b.slot, list);
    }
    const made: WaitlistSnapshot['designations'] = [];
    // Slots before the first block ever seen are not run one by one (nothing can have joined).
    const first = this.last < 0 ? Math.min(slot, ...bySlot.keys()) : this.last + 1;
    for (let s = first; s <= slot; s++) {
      const designated = this.stepSlot(this.list, s, bySlot.get(s) ?? [], this.fixedDesignation(s));
      if (designated) made.push({ slot: s, producer: designated.producer, lostSlot: designated.addedSlot });
    }
    this.last = slot;
    this.designations = [...this.designations, ...made].slice(-KEPT_DESIGNATIONS);
    this.save(JSON.stringify(this.snapshot()), slot);
    return made;
  }

  /**
   * The rules for one slot. A slot whose designation was fixed (its live commitment) and whose
   * canonical block is the designated producer's was backfilled: that entry is removed as the
   * rules say ("removed after producing or missing"), wherever it now sits in the queue.
   */
  private stepSlot(list: Waitlist<string>, s: number, here: readonly BackfillBlock[], fixed: Designation | undefined) {
    const canonical = here.filter((b) => b.canonical);
    const winners = new Set(canonical.map((b) => b.creator));
    // Only a producer key joins (what the state is saved and served with); any canonical block fills the slot.
    const losers = here.filter((b) => !b.canonical && b62.safeParse(b.creator).success && !(this.excludeWinners && winners.has(b.creator)));
    list.expire(s);
    const backfilled = fixed !== undefined && winners.has(fixed.producer) ? list.remove(fixed.producer, fixed.lostSlot) : undefined;
    return list.step(s, { hasCanonical: canonical.length > 0, joiners: joinOrder(losers) }) ?? backfilled;
  }

  /**
   * The producer `slot` goes to if it is empty, with the slots between the last settled one and
   * `slot` run provisionally over `blocks` (what is known of them now: heard blocks, and which
   * are on the best chain). Nothing is saved; `undefined` when nobody is waiting.
   */
  projectHead(slot: number, blocks: readonly BackfillBlock[]): Designation | undefined {
    if (!Number.isSafeInteger(slot) || slot <= this.last) throw new InputError(`slot ${slot} is not after the waitlist's slot ${this.last}`);
    const list = queueOf(this.window, this.list.entries());
    const bySlot = new Map<number, BackfillBlock[]>();
    for (const b of blocks) bySlot.set(b.slot, [...(bySlot.get(b.slot) ?? []), b]);
    if (this.last >= 0) {
      for (let s = this.last + 1; s < slot; s++) this.stepSlot(list, s, bySlot.get(s) ?? [], this.fixedDesignation(s));
    }
    list.expire(slot);
    const head = list.entries()[0];
    return head && { slot, producer: head.producer, lostSlot: head.addedSlot };
  }

  /**
   * Fixes the designation of `slot` (its live commitment) the first time it is asked; later
   * calls return the fixed one whatever they pass. Saved at once, so a restart keeps it.
   */
  fixDesignation(d: Designation): Designation {
    this.insertFixed.run(d.slot, d.producer, d.lostSlot);
    return this.fixedDesignation(d.slot)!;
  }

  fixedDesignation(slot: number): Designation | undefined {
    const row = this.selectFixed.get(slot) as { producer: string; lost_slot: number } | undefined;
    return row && { slot, producer: row.producer, lostSlot: row.lost_slot };
  }

  /**
   * Passes slots nothing is known of (the feed was down longer than the daemon remembers):
   * entries expire as usual, but nobody joins and nobody is designated, since an unknown
   * slot may have had a canonical block. Returns how many slots were passed.
   */
  skipUnknown(slot: number): number {
    if (!Number.isSafeInteger(slot) || slot <= this.last) throw new InputError(`cannot skip to slot ${slot}: the waitlist is at slot ${this.last}`);
    const first = this.last + 1;
    if (this.last >= 0) for (let s = first; s <= slot; s++) this.list.step(s, { hasCanonical: true, joiners: [] });
    this.last = slot;
    this.save(JSON.stringify(this.snapshot()), slot);
    return slot - first + 1;
  }

  /**
   * Keeps a block the network announced, until its slot is settled and {@link advance} runs over
   * it (saved at once: a restart still knows the blocks heard before it). Blocks of slots already
   * processed are ignored; returns whether the block was new.
   */
  hear(block: { stateHash: string; slot: number; creator: string; vrfOutput?: bigint }): boolean {
    if (block.slot <= this.last) return false;
    return this.insertHeard.run(block.stateHash, block.slot, block.creator, block.vrfOutput?.toString() ?? null).changes > 0;
  }

  /** The blocks heard for slots after the last processed one, up to `slot`. */
  heard(slot: number): { stateHash: string; slot: number; creator: string; vrfOutput?: bigint }[] {
    const rows = this.selectHeard.all(this.last, slot) as { state_hash: string; slot: number; creator: string; vrf_output: string | null }[];
    return rows.map((r) => ({ stateHash: r.state_hash, slot: r.slot, creator: r.creator, ...(r.vrf_output !== null ? { vrfOutput: BigInt(r.vrf_output) } : {}) }));
  }

  /** The producer the next slot goes to if it is empty: the head once expired entries are dropped. */
  nextDesignated(): LiveEntry | undefined {
    const next = this.last + 1;
    return this.entries().find((e) => next <= e.expiresAfter);
  }

  entries(): LiveEntry[] {
    return this.list.entries().map((e) => ({ producer: e.producer, addedSlot: e.addedSlot, expiresAfter: e.addedSlot + this.window }));
  }

  snapshot(): WaitlistSnapshot {
    return { slot: this.last, window: this.window, ...(this.self ? { self: this.self } : {}), entries: this.entries(), designations: this.designations };
  }

  /**
   * Starts from peers' lists (the forum's bootstrap): at most three peers' snapshots are merged,
   * each peer's entry for its own key is ignored, a producer named by several keeps its earliest
   * slot, and entries that have expired by the peers' latest slot are dropped. Only an empty
   * waitlist (never advanced) can bootstrap.
   */
  bootstrap(peers: readonly WaitlistSnapshot[]): void {
    if (this.last >= 0) throw new InputError(`the waitlist already runs (at slot ${this.last}): bootstrap only starts an empty one`);
    if (peers.length === 0) throw new InputError('no peer answered: nothing to bootstrap from');
    const merged = mergeSnapshots(peers.slice(0, 3), this.window);
    this.restore({ ...merged, self: this.self });
    this.save(JSON.stringify(this.snapshot()), merged.slot);
  }

  private restore(s: WaitlistSnapshot): void {
    this.list = queueOf(this.window, s.entries);
    this.last = s.slot;
    this.designations = s.designations;
  }
}

/** A queue holding `entries` (in the order they joined). */
function queueOf(window: number, entries: readonly { producer: string; addedSlot: number }[]): Waitlist<string> {
  const list = new Waitlist<string>(window);
  for (const e of [...entries].sort((a, b) => a.addedSlot - b.addedSlot)) list.join(e.producer, e.addedSlot);
  return list;
}

/** Merges peers' snapshots as {@link LiveWaitlist.bootstrap} describes. */
export function mergeSnapshots(peers: readonly WaitlistSnapshot[], window: number): WaitlistSnapshot {
  const slot = Math.max(...peers.map((p) => p.slot));
  const earliest = new Map<string, number>();
  for (const p of peers) {
    for (const e of p.entries) {
      if (e.producer === p.self) continue;
      const seen = earliest.get(e.producer);
      if (seen === undefined || e.addedSlot < seen) earliest.set(e.producer, e.addedSlot);
    }
  }
  const entries = [...earliest.entries()]
    .filter(([, added]) => slot + 1 <= added + window)
    .sort(([pa, a], [pb, b]) => a - b || (pa < pb ? -1 : pa > pb ? 1 : 0))
    .map(([producer, addedSlot]) => ({ producer, addedSlot, expiresAfter: addedSlot + window }));
  return { slot, window, entries, designations: [] };
}

/** Asks up to three peers for `GET /v1/waitlist`; peers that fail or answer nonsense are reported and skipped. */
export async function fetchPeerSnapshots(urls: readonly string[], options: { timeoutMs?: number; onError?: (message: string) => void } = {}): Promise<WaitlistSnapshot[]> {
  const out: WaitlistSnapshot[] = [];
  for (const url of urls.slice(0, 3)) {
    try {
      const response = await fetch(new URL('/v1/waitlist', url), { signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const parsed = snapshotSchema.safeParse(await response.json());
      if (!parsed.success) throw new Error(`not a waitlist (${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message})`);
      out.push(parsed.data);
    } catch (e) {
      options.onError?.(`waitlist peer ${url}: ${(e as Error).message}`);
    }
  }
  return out;
}
