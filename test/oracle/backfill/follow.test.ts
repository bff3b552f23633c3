import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { designationsOf } from '../../../oracle/backfill/commitment.js';
import { NetworkFollower } from '../../../oracle/backfill/follow.js';
import { LiveWaitlist, type WaitlistSnapshot } from '../../../oracle/backfill/live.js';
import type { BackfillBlock } from '../../../oracle/backfill/types.js';
import { fromDaemonBlock } from '../../../oracle/member/blocks.js';
import { SimulatedDaemon } from '../../../oracle/sim/daemon.js';
import { parseVrfOutput } from '../../../oracle/vrf/output.js';
import { chainTo, recordedBlocks } from '../../helpers/recorded-blocks.js';
import { until } from '../../helpers/wait.js';

/**
 * The waitlist daemon against a simulated Mina daemon (a real HTTP and WebSocket server in the
 * daemon's GraphQL schema) serving real mainnet blocks. Slot 4 has three blocks: 3NKg81… is
 * canonical, 3NKvvt… (the same producer, an earlier fork) and 3NKXo8… (another producer) are
 * not; slots 2, 3, 8, 9, 11 and 17 are empty; slot 18 has three blocks, one canonical.
 */

const blocks = recordedBlocks();
const hash = (prefix: string) => [...blocks.keys()].find((h) => h.startsWith(prefix))!;

/** The batch engine's answer over the same blocks, canonical as the final best chain says. */
function expectedDesignations(best: string[], from: number, to: number, window: number) {
  const all: BackfillBlock[] = [...blocks.values()].map((b) => {
    const p = fromDaemonBlock(b.daemon);
    return { slot: p.slot, creator: p.creator, canonical: best.includes(b.stateHash), ...(p.vrfOutput ? { vrfOutput: parseVrfOutput(p.vrfOutput)! } : {}) };
  });
  return designationsOf(all, { from, to, window });
}

describe('the waitlist daemon (network follower)', () => {
  let daemon: SimulatedDaemon;
  let dir: string;
  beforeAll(async () => {
    daemon = await SimulatedDaemon.start();
    daemon.add(...[...blocks.values()].map((b) => b.daemon));
    dir = await mkdtemp(join(tmpdir(), 'follow-'));
  });
  afterAll(async () => {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('hears every block by the subscription, settles slots behind the tip, survives a restart, and designates what the rules designate', async () => {
    const file = join(dir, 'waitlist.sqlite');
    // The daemon's best chain is empty (bootstrapping) until every block has been heard.
    daemon.setBestChain([]);
    let waitlist = LiveWaitlist.open(file, { window: 47 });
    const abort = new AbortController();
    const statuses: string[] = [];
    const designated: number[] = [];
    let follower = new NetworkFollower({ waitlist, url: daemon.url, settleSlots: 2, intervalMs: 50, onStatus: (m) => statuses.push(m), onDesignated: (d) => designated.push(d.slot) });
    const running = follower.run(abort.signal);
    await until(() => daemon.subscriberCount === 1, 'the subscription');
    // Subscribed without a key: every block, whoever made it.
    await until(() => statuses.some((m) => /subscribed to newBlock\(\) at/.test(m)), 'the keyless subscription');
    // Every block reaches the follower, on the best chain or not, with no key asked.
    const announced = [...blocks.values()].filter((b) => fromDaemonBlock(b.daemon).slot <= 18);
    for (const b of announced) daemon.announce(b.daemon);
    await until(() => waitlist.heard(100).length === announced.length, 'every block heard');
    daemon.setBestChain(chainTo(blocks, hash('3NLjpotw')));
    // Tip at slot 16, two slots to settle: the rules run to slot 14.
    await until(() => waitlist.lastSlot === 14, 'slot 14 settled');
    // The blocks heard for later slots are kept until those slots settle.
    expect(waitlist.heard(100).map((b) => b.slot)).toEqual([15, 16, 18, 18, 18]);
    abort.abort();
    await running;

    // A restart: the queue and the blocks heard come back from the database.
    const before = waitlist.snapshot();
    waitlist.close();
    waitlist = LiveWaitlist.open(file, { window: 47 });
    expect(waitlist.snapshot()).toEqual(before);
    follower = new NetworkFollower({ waitlist, url: daemon.url, settleSlots: 2, onDesignated: (d) => designated.push(d.slot) });
    const best = chainTo(blocks, hash('3NKZ5poC'));
    daemon.setBestChain(best);
    expect(await follower.check()).toMatchObject({ slot: 16, skipped: 0 });
    // Once slot 44 is the tip, slots to 42 settle (slot 18's losers join).
    daemon.setBestChain([...best, hash('3NLjRmTy')]);
    expect(await follower.check()).toMatchObject({ slot: 42, skipped: 0 });

    const expected = expectedDesignations([...best, hash('3NLjRmTy')], 0, 42, 47);
    expect(waitlist.snapshot().designations).toEqual(expected);
    expect(designated).toEqual(expected.map((d) => d.slot));
    // The two producers that lost slot 4 fill slots 8 and 9; slot 18's loser fills 19.
    expect(expected.slice(0, 2).map((d) => [d.slot, d.lostSlot])).toEqual([[8, 4], [9, 4]]);
    expect(expected.map((d) => d.slot)).toContain(19);
    waitlist.close();
  });

  it('projects the head of a slot over the unsettled slots only from a best chain read since the slot began, with every heard block on it', async () => {
    const waitlist = LiveWaitlist.open(join(dir, 'project.sqlite'), { window: 47 });
    let now = 0;
    const follower = new NetworkFollower({ waitlist, url: daemon.url, settleSlots: 2, now: () => now });
    const slotOf = (h: string) => fromDaemonBlock(blocks.get(h)!.daemon).slot;
    const full = chainTo(blocks, hash('3NLjpotw'));
    for (const b of blocks.values()) if (slotOf(b.stateHash) <= 7) follower.hear(fromDaemonBlock(b.daemon));
    expect(follower.projectHead(8, 0)).toEqual({ problem: 'the waitlist has not settled a slot yet' });
    // The best chain read reaches slot 6; slot 7's block was heard but is not on it: no guess.
    now = 1_000;
    daemon.setBestChain(full.filter((h) => slotOf(h) <= 6));
    expect(await follower.check()).toMatchObject({ slot: 4 });
    expect(follower.projectHead(8, 1_000)).toEqual({ problem: 'a block of slot 7 was heard after the best chain was read; ask again in a few seconds' });
    now = 2_000;
    daemon.setBestChain(full.filter((h) => slotOf(h) <= 7));
    expect(await follower.check()).toMatchObject({ slot: 5 });
    // A read older than the slot's start is not enough.
    expect(follower.projectHead(8, 2_001)).toEqual({ problem: 'the best chain has not been read since slot 8 began; ask again in a few seconds' });
    // Slots 6 and 7 run provisionally: the heads of 8 and 9 are the rules' designations over the whole chain.
    const expected = expectedDesignations(full, 0, 42, 47);
    expect(follower.projectHead(8, 2_000)).toEqual({ head: expected[0] });
    expect(follower.projectHead(9, 2_000)).toEqual({ head: expected[1] });
    expect(expected.slice(0, 2).map((d) => d.slot)).toEqual([8, 9]);
    // Nothing was settled by projecting.
    expect(waitlist.lastSlot).toBe(5);
    expect(follower.projectHead(5, 2_000)).toEqual({ problem: 'slot 5 is already settled' });
    waitlist.close();
  });

  it('passes the slots older than the daemon\'s frontier without designating, and says so', async () => {
    const waitlist = LiveWaitlist.open(join(dir, 'gap.sqlite'), { window: 47 });
    waitlist.advance(3, [{ slot: 3, creator: fromDaemonBlock(blocks.get(hash('3NKXo8'))!.daemon).creator, canonical: false }]);
    const statuses: string[] = [];
    const follower = new NetworkFollower({ waitlist, url: daemon.url, settleSlots: 0, onStatus: (m) => statuses.push(m) });
    // The daemon remembers only from slot 12 on; slots 4–11 are unknown (8, 9 and 11 would be empty).
    daemon.setBestChain(chainTo(blocks, hash('3NLjpotw')).slice(-5));
    expect(await follower.check()).toEqual({ slot: 16, blocks: 5, designations: [], skipped: 8 });
    expect(statuses).toEqual(["waitlist: slots 4–11 are older than the daemon's frontier; passed without joins or designations"]);
    // The entry of slot 3 is still there (it expires after slot 50).
    expect(waitlist.entries()).toHaveLength(1);
    waitlist.close();
  });

  it('bootstraps from peers, leaving out one ahead of the network and one with another window', async () => {
    daemon.setBestChain(chainTo(blocks, hash('3NLjpotw')));
    const creator = (prefix: string) => fromDaemonBlock(blocks.get(hash(prefix))!.daemon).creator;
    const [x, y] = [creator('3NKXo8'), creator('3NKvvt')];
    const snapshot = (slot: number, window: number, entries: [string, number][]): WaitlistSnapshot => ({ slot, window, entries: entries.map(([producer, addedSlot]) => ({ producer, addedSlot, expiresAfter: addedSlot + window })), designations: [] });
    const answers = [snapshot(10, 47, [[x, 4]]), snapshot(9_999_999, 47, [[y, 9_999_990]]), snapshot(10, 5, [[y, 8]])];
    const servers: Server[] = answers.map((a) => createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(a))));
    await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
    try {
      const waitlist = LiveWaitlist.open(join(dir, 'boot.sqlite'), { window: 47 });
      const statuses: string[] = [];
      const peers = servers.map((srv) => `http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
      const follower = new NetworkFollower({ waitlist, url: daemon.url, settleSlots: 0, peers, onStatus: (m) => statuses.push(m) });
      expect(await follower.bootstrap()).toBe(1);
      expect(statuses.filter((m) => /is left out/.test(m))).toEqual([
        'waitlist: a peer at slot 9999999 with window 47 is left out (the best tip is slot 16, the window 47)',
        'waitlist: a peer at slot 10 with window 5 is left out (the best tip is slot 16, the window 47)',
      ]);
      expect(waitlist.lastSlot).toBe(10);
      expect(waitlist.entries().map((e) => [e.producer, e.addedSlot])).toEqual([[x, 4]]);
      // From there the chain goes on: slot 11 is empty, so x (who lost slot 4) is designated for it.
      const step = await follower.check();
      expect(step?.designations).toEqual([{ slot: 11, producer: x, lostSlot: 4 }]);
      waitlist.close();
    } finally {
      await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
    }
  });
});
