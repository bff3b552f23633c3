import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateKey } from 'o1js';
import type { Browser } from 'playwright-core';
import type { EmitterService } from '../../../oracle/emitter/service.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import { launchChromium } from '../../helpers/browser.js';
import { until } from '../../helpers/wait.js';
import { startWaitlistEmitter, type WaitlistEmitter } from '../../helpers/waitlist-emitter.js';

/**
 * The emitter service keeping the live waitlist: it follows a simulated daemon (a real HTTP and
 * WebSocket server in the daemon's GraphQL schema), serves `GET /v1/waitlist`, and tells the
 * pool's members, in its log, on that route and on the dashboard (in a real browser), when one
 * of the pool's producers is at the head.
 */

const SLOT_MS = 10_000;
const GENESIS = 1_700_000_000_000;
const [alice, bob] = [PrivateKey.random(), PrivateKey.random()].map((k) => k.toPublicKey().toBase58()) as [string, string];
const outsiders = Array.from({ length: 3 }, () => PrivateKey.random().toPublicKey().toBase58());

describe('emitter service with the live waitlist', () => {
  let w: WaitlistEmitter;
  let service: EmitterService;
  let base: string;
  let lines: string[];
  const add = (n: number, slot: number, creator: string, onBest: boolean) => w.add(n, slot, creator, onBest);

  beforeAll(async () => {
    w = await startWaitlistEmitter({
      clock: new SlotClock({ genesisMs: GENESIS, slotMs: SLOT_MS, time: new ManualTime(GENESIS + 103 * SLOT_MS) }),
      poolTag: '31337',
      members: [alice, bob],
      names: new Map([[alice, 'alice'], [bob, 'bob']]),
    });
    ({ service, base, lines } = w);
  }, 60_000);

  afterAll(() => w.stop());

  it('serves the waitlist with the notice when a member of the pool is at the head', async () => {
    // Slot 100: an outsider's block is canonical, bob's lost; 101 and 102 are taken; the tip is 103.
    await add(1, 100, outsiders[0]!, true);
    await add(2, 100, bob, false);
    await add(3, 101, outsiders[1]!, true);
    await add(4, 102, outsiders[2]!, true);
    await add(5, 103, outsiders[0]!, true);
    await until(() => service.waitlist!.lastSlot === 102, 'slot 102 settled');
    const view = (await (await fetch(`${base}/v1/waitlist`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      slot: 102,
      window: 10,
      entries: [{ producer: bob, addedSlot: 100, expiresAfter: 110 }],
      next: { producer: bob, slot: 103, pool: true },
      notice: "the pool's producer bob is at the head of the waitlist: if slot 103 has no canonical block, it is designated (it lost slot 100; the entry expires after slot 110)",
    });
    // The log says it once for bob's entry, with the next slot of the step that put him at the head.
    expect(lines.filter((l) => l.startsWith('waitlist: notice:'))).toEqual([
      expect.stringMatching(/^waitlist: notice: the pool's producer bob is at the head of the waitlist: if slot 10[123] has no canonical block, it is designated \(it lost slot 100; the entry expires after slot 110\)$/),
    ]);
    const dashboard = (await (await fetch(`${base}/v1/dashboard`)).json()) as { waitlist: unknown };
    expect(dashboard.waitlist).toMatchObject({ slot: 102, entries: 1, next: { producer: bob, slot: 103 }, notice: view.notice });
  });

  it('shows the notice on the dashboard in a real browser, then the designation when the slot stays empty', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
      const line = page.locator('#waitlist');
      expect(await line.getAttribute('class')).toBe('ours');
      expect(await line.getAttribute('data-next')).toBe(bob);
      expect(await line.textContent()).toMatch(/^Notice: the pool's producer bob is at the head of the waitlist: if slot 103 has no canonical block/);
      // Slot 103 had a block; 104 stays empty and 105 is the tip: bob is designated for 104, and the line says the waitlist is empty.
      await add(6, 105, outsiders[1]!, true);
      await until(() => service.waitlist!.lastSlot === 104, 'slot 104 settled');
      expect(lines).toContain("waitlist: slot 104 was designated to the pool's producer bob (it lost slot 100)");
      await page.locator('#waitlist', { hasText: /^waitlist: empty at slot 104/ }).waitFor({ timeout: 5_000 });
      expect(await line.getAttribute('class')).toBe('');
    } finally {
      await browser?.close();
    }
  }, 60_000);
});
