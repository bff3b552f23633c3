import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey } from 'o1js';
import { designationsOf } from '../../../oracle/backfill/commitment.js';
import { fetchPeerSnapshots, LiveWaitlist, mergeSnapshots, type WaitlistSnapshot } from '../../../oracle/backfill/live.js';
import type { BackfillBlock } from '../../../oracle/backfill/types.js';

const keys = Array.from({ length: 12 }, () => PrivateKey.random().toPublicKey().toBase58());

/** A pseudo-random network: per slot, no block, one canonical, or a canonical block and losers. */
function network(from: number, to: number, seed = 7): BackfillBlock[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const blocks: BackfillBlock[] = [];
  for (let s = from; s <= to; s++) {
    const r = rand();
    if (r < 0.45) continue;
    blocks.push({ slot: s, creator: keys[Math.floor(rand() * keys.length)]!, canonical: r > 0.5, vrfOutput: BigInt(Math.floor(rand() * 1e9)) });
    if (r > 0.7) blocks.push({ slot: s, creator: keys[Math.floor(rand() * keys.length)]!, canonical: false, vrfOutput: BigInt(Math.floor(rand() * 1e9)) });
  }
  return blocks;
}

describe('the live waitlist', () => {
  const dirs: string[] = [];
  const dbFile = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'waitlist-'));
    dirs.push(dir);
    return join(dir, 'waitlist.sqlite');
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('run slot by slot, with a restart in the middle, designates exactly what the rules designate over the range', async () => {
    const blocks = network(1000, 1600);
    const expected = designationsOf(blocks, { from: 1000, to: 1600, window: 20 });
    expect(expected.length).toBeGreaterThan(20);
    const file = await dbFile();
    let live = LiveWaitlist.open(file, { window: 20 });
    const made = [];
    let restarts = 0;
    for (let to = 1000; to <= 1600; to += 1 + (to % 7)) {
      made.push(...live.advance(to, blocks));
      if (to % 5 === 0) {
        // A restart: the state comes back from the database.
        const before = live.snapshot();
        live.close();
        live = LiveWaitlist.open(file, { window: 20 });
        expect(live.snapshot()).toEqual(before);
        restarts++;
      }
    }
    if (live.lastSlot < 1600) made.push(...live.advance(1600, blocks));
    expect(restarts).toBeGreaterThan(10);
    expect(made).toEqual(expected);
    live.close();
  });

  it('refuses a slot already processed and a bad window, and says which', async () => {
    const live = LiveWaitlist.open(await dbFile(), { window: 5 });
    live.advance(10, []);
    expect(() => live.advance(10, [])).toThrow(/slot 10 was already processed \(the waitlist is at slot 10\)/);
    expect(() => LiveWaitlist.open('/nonexistent/x.sqlite', { window: 0 })).toThrow(/window must be a positive whole number/);
    live.close();
  });

  it('serves the entries with their expiry and the next designated producer', async () => {
    const live = LiveWaitlist.open(await dbFile(), { window: 3, self: keys[0] });
    live.advance(100, [{ slot: 100, creator: keys[0]!, canonical: true }, { slot: 100, creator: keys[1]!, canonical: false, vrfOutput: 9n }, { slot: 100, creator: keys[2]!, canonical: false, vrfOutput: 3n }]);
    const snap = live.snapshot();
    // Joined in ascending VRF output: keys[2] first.
    expect(snap.entries).toEqual([
      { producer: keys[2], addedSlot: 100, expiresAfter: 103 },
      { producer: keys[1], addedSlot: 100, expiresAfter: 103 },
    ]);
    expect(snap.self).toBe(keys[0]);
    expect(live.nextDesignated()?.producer).toBe(keys[2]);
    expect(live.advance(101, [])).toEqual([{ slot: 101, producer: keys[2], lostSlot: 100 }]);
    live.advance(104, []);
    expect(live.nextDesignated()).toBeUndefined();
    live.close();
  });

  it('projects the head over unsettled slots, fixes a slot\'s designation once (kept across a restart), and removes the head when its backfill block is canonical', async () => {
    const file = await dbFile();
    let live = LiveWaitlist.open(file, { window: 10 });
    // 200: keys[1] and keys[2] lose (in that order by VRF); settled through 200.
    live.advance(200, [{ slot: 200, creator: keys[0]!, canonical: true }, { slot: 200, creator: keys[1]!, canonical: false, vrfOutput: 1n }, { slot: 200, creator: keys[2]!, canonical: false, vrfOutput: 2n }]);
    // Unsettled 201 empty (pops keys[1] provisionally), 202 taken: slot 203 goes to keys[2].
    const unsettled = [{ slot: 202, creator: keys[0]!, canonical: true }];
    expect(live.projectHead(203, unsettled)).toEqual({ slot: 203, producer: keys[2], lostSlot: 200 });
    // Nothing was saved by projecting, and the next slot's head is still keys[1].
    expect(live.lastSlot).toBe(200);
    expect(live.nextDesignated()?.producer).toBe(keys[1]);
    // With 201–209 taken, keys[1] is still the head at 210 (200 + 10) and gone at 211: expiry, not use.
    const taken = Array.from({ length: 9 }, (_, i) => ({ slot: 201 + i, creator: keys[0]!, canonical: true }));
    expect(live.projectHead(210, taken)).toEqual({ slot: 210, producer: keys[1], lostSlot: 200 });
    expect(live.projectHead(211, [...taken, { slot: 210, creator: keys[0]!, canonical: true }])).toBeUndefined();
    expect(() => live.projectHead(200, [])).toThrow(/slot 200 is not after the waitlist's slot 200/);
    // Fixed once: a second call with another head returns the first.
    expect(live.fixDesignation({ slot: 203, producer: keys[2]!, lostSlot: 200 })).toEqual({ slot: 203, producer: keys[2], lostSlot: 200 });
    expect(live.fixDesignation({ slot: 203, producer: keys[1]!, lostSlot: 200 })).toEqual({ slot: 203, producer: keys[2], lostSlot: 200 });
    live.close();
    live = LiveWaitlist.open(file, { window: 10 });
    expect(live.fixedDesignation(203)).toEqual({ slot: 203, producer: keys[2], lostSlot: 200 });
    expect(live.fixedDesignation(204)).toBeUndefined();
    // The chain: 201 empty (keys[1] designated), 202 taken, 203 filled by keys[2]'s backfill block:
    // keys[2] produced as the designated producer, so it leaves the queue as the rules say.
    const made = live.advance(203, [...unsettled, { slot: 203, creator: keys[2]!, canonical: true }]);
    expect(made).toEqual([{ slot: 201, producer: keys[1], lostSlot: 200 }, { slot: 203, producer: keys[2], lostSlot: 200 }]);
    expect(live.entries()).toEqual([]);
    live.close();
    // The queue moved since the slot was fixed (the projection saw 201 taken; it was empty, so
    // keys[1] went first): the designee's entry is still the one removed, from behind the head.
    const moved = LiveWaitlist.open(await dbFile(), { window: 10 });
    moved.advance(200, [{ slot: 200, creator: keys[0]!, canonical: true }, { slot: 200, creator: keys[1]!, canonical: false, vrfOutput: 1n }, { slot: 200, creator: keys[2]!, canonical: false, vrfOutput: 2n }, { slot: 200, creator: keys[3]!, canonical: false, vrfOutput: 3n }]);
    moved.fixDesignation({ slot: 202, producer: keys[3]!, lostSlot: 200 });
    // 201 taken: keys[1] (head) stays; 202 is filled by keys[3], which sits third.
    expect(moved.advance(202, [{ slot: 201, creator: keys[0]!, canonical: true }, { slot: 202, creator: keys[3]!, canonical: true }])).toEqual([{ slot: 202, producer: keys[3], lostSlot: 200 }]);
    expect(moved.entries().map((e) => e.producer)).toEqual([keys[1], keys[2]]);
    moved.close();
    // Without a fixed designation, a canonical block by a waiting producer is an ordinary block: it stays.
    const other = LiveWaitlist.open(await dbFile(), { window: 10 });
    other.advance(200, [{ slot: 200, creator: keys[0]!, canonical: true }, { slot: 200, creator: keys[2]!, canonical: false }]);
    expect(other.advance(201, [{ slot: 201, creator: keys[2]!, canonical: true }])).toEqual([]);
    expect(other.entries().map((e) => e.producer)).toEqual([keys[2]]);
    other.close();
  });

  it('bootstraps from up to three peers: merged, each peer\'s own key ignored, the earliest slot kept, expired dropped', async () => {
    const peer = (self: string, slot: number, entries: [string, number][]): WaitlistSnapshot => ({ slot, window: 10, self, entries: entries.map(([producer, addedSlot]) => ({ producer, addedSlot, expiresAfter: addedSlot + 10 })), designations: [] });
    const [p1, p2, p3, p4, a, b, c, d] = keys as [string, string, string, string, string, string, string, string];
    const peers = [
      peer(p1, 50, [[p1, 45], [a, 44], [b, 48]]),
      peer(p2, 50, [[a, 42], [p2, 46], [p1, 47]]),
      peer(p3, 51, [[c, 49], [d, 40]]),
      peer(p4, 51, [[p4, 50]]),
    ];
    const merged = mergeSnapshots(peers.slice(0, 3), 10);
    // Each peer's own entry is ignored (p2 is named by nobody else); p1 stays, named by p2;
    // d expired (40 + 10 < 52); a keeps its earliest slot, 42.
    expect(merged.entries.map((e) => [e.producer, e.addedSlot])).toEqual([[a, 42], [p1, 47], [b, 48], [c, 49]]);
    const live = LiveWaitlist.open(await dbFile(), { window: 10 });
    live.bootstrap(peers);
    expect(live.snapshot().entries.map((e) => e.producer)).not.toContain(p4);
    expect(live.lastSlot).toBe(51);
    expect(live.advance(52, [])).toEqual([{ slot: 52, producer: a, lostSlot: 42 }]);
    expect(() => live.bootstrap(peers)).toThrow(/bootstrap only starts an empty one/);
    live.close();
  });

  it('asks peers over HTTP and skips those that fail or answer something else', async () => {
    const good: WaitlistSnapshot = { slot: 9, window: 10, entries: [{ producer: keys[5]!, addedSlot: 8, expiresAfter: 18 }], designations: [] };
    const server = createServer((req, res) => {
      if (req.url !== '/v1/waitlist') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(good));
    });
    const bad = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"slot":"x"}'));
    await Promise.all([server, bad].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    const url = (s: typeof server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const errors: string[] = [];
    const got = await fetchPeerSnapshots([url(server), url(bad), 'http://127.0.0.1:1'], { onError: (m) => errors.push(m) });
    expect(got).toEqual([good]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/not a waitlist \(slot:/);
    await Promise.all([server, bad].map((s) => new Promise((r) => s.close(r))));
  });
});
