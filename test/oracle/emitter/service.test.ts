import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, PrivateKey, Signature } from 'o1js';
import type { Browser } from 'playwright-core';
import { fieldToStateHash, stateHashToField } from '../../../oracle/chain/base58.js';
import { SLOTS_PER_EPOCH } from '../../../contracts/types.js';
import { EmitterService, fixedMembers } from '../../../oracle/emitter/service.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import { launchChromium } from '../../helpers/browser.js';

/**
 * The emitter service as the operator runs it, over real HTTP: the reading routes, the
 * Prometheus metrics, the dashboard in a real headless browser, and a fuzz run of thousands
 * of random and malformed bodies that must each get a 4xx while the service stays up.
 */

const SLOT_MS = 10_000;
const POOL_TAG = '31337';
const members = Array.from({ length: 3 }, () => PrivateKey.random());
const operator = PrivateKey.random();
const keyOf = (m: number) => members[m]!.toPublicKey().toBase58();
const block = (n: number) => fieldToStateHash(BigInt(n) * 104729n + 3n);
const GENESIS = 1_700_000_000_000;
const EPOCH = 3;
const FIRST = EPOCH * SLOTS_PER_EPOCH;

function propose(m: number, slot: number, blockHash: string) {
  const signature = Signature.create(members[m]!, [Field(POOL_TAG), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
  return { slot, member: keyOf(m), blockHash, payload: { slot, m }, signature };
}

describe('emitter service', () => {
  let dir: string;
  let service: EmitterService;
  let base: string;
  const time = new ManualTime(GENESIS + FIRST * SLOT_MS);
  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${base}/v1/proposals`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'service-'));
    service = await EmitterService.start({
      dataDir: dir,
      clock: new SlotClock({ genesisMs: GENESIS, slotMs: SLOT_MS, time }),
      strategy: 'first-delivered',
      window: { earlyMs: 1_000, closeMs: SLOT_MS, cutoffMs: 3_000 },
      poolTag: POOL_TAG,
      operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() },
      membership: fixedMembers(members.map((k) => k.toPublicKey().toBase58())),
      names: new Map([[keyOf(0), 'alice'], [keyOf(1), 'bob'], [keyOf(2), 'carol']]),
      maxPayloadBytes: 8_192,
      threads: 1,
    });
    base = await service.listen(0);
    // Slot FIRST: alice first (emitted), bob later (ignored). FIRST+1: missed. FIRST+2: carol, late by 2.5 s.
    await time.set(GENESIS + FIRST * SLOT_MS + 400);
    expect((await post(propose(0, FIRST, block(1)))).status).toBe(200);
    await time.set(GENESIS + FIRST * SLOT_MS + 900);
    expect((await post(propose(1, FIRST, block(2)))).status).toBe(200);
    await time.set(GENESIS + (FIRST + 2) * SLOT_MS + 2_500);
    expect((await post(propose(2, FIRST + 2, block(3)))).status).toBe(200);
    // A late one for slot FIRST, and an equivocation by carol.
    expect((await post(propose(0, FIRST, block(4)))).status).toBe(422);
    expect((await post(propose(2, FIRST + 2, block(5)))).status).toBe(409);
    await time.set(GENESIS + (FIRST + 3) * SLOT_MS + 100);
    await new Promise((r) => setTimeout(r, 200));
  }, 60_000);

  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves each member's metrics for an epoch", async () => {
    const r = await fetch(`${base}/v1/members/${keyOf(0)}/metrics?epoch=${EPOCH}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      member: keyOf(0),
      epoch: EPOCH,
      slots: { from: FIRST, to: FIRST + SLOTS_PER_EPOCH - 1 },
      member_of_pool: true,
      metrics: { proposals: 1, selected: 1, canonical: 0, orphaned: 0, missed: 1, invalid: 0, equivocations: 0, medianLatencyMs: 400 },
    });
    const carol = (await (await fetch(`${base}/v1/members/${keyOf(2)}/metrics?epoch=${EPOCH}`)).json()) as { metrics: Record<string, number> };
    expect(carol.metrics).toMatchObject({ proposals: 1, selected: 1, equivocations: 1, invalid: 1, medianLatencyMs: 2500 });
    const other = (await (await fetch(`${base}/v1/members/${keyOf(1)}/metrics?epoch=${EPOCH + 1}`)).json()) as { metrics: Record<string, number> };
    expect(other.metrics.proposals).toBe(0);
    const bad = await fetch(`${base}/v1/members/nope/metrics?epoch=x`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'MALFORMED', field: 'key' });
  });

  it('exposes Prometheus metrics: proposals by outcome and member, selection latency, missed slots', async () => {
    const r = await fetch(`${base}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toContain(`emitter_proposals_total{outcome="accepted",member="${keyOf(0)}"} 1`);
    expect(text).toContain(`emitter_proposals_total{outcome="WINDOW_CLOSED",member="${keyOf(0)}"} 1`);
    expect(text).toContain(`emitter_proposals_total{outcome="EQUIVOCATION",member="${keyOf(2)}"} 1`);
    expect(text).toMatch(/emitter_selection_latency_ms_count 2\b/);
    expect(text).toMatch(/emitter_missed_slots_total 1\b/);
  });

  it('says what members need to sign and time proposals', async () => {
    const info = (await (await fetch(`${base}/v1/pool`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ poolTag: POOL_TAG, operator: operator.toPublicKey().toBase58(), strategy: 'first-delivered', genesisMs: GENESIS, slotMs: SLOT_MS });
    const report = await fetch(`${base}/v1/reports/${EPOCH}`);
    expect(report.status).toBe(404);
    expect(await report.json()).toMatchObject({ code: 'NO_REPORT' });
  });

  it('draws the production windows in a real browser: emitted green, ignored grey, the missed slot marked', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
      const emitted = page.locator(`rect.proposal[data-slot="${FIRST}"][data-outcome="emitted"]`);
      expect(await emitted.count()).toBe(1);
      expect(await emitted.getAttribute('data-member')).toBe(keyOf(0));
      expect(await emitted.getAttribute('fill')).toBe('#2a9d3a');
      const ignored = page.locator(`rect.proposal[data-slot="${FIRST}"][data-outcome="ignored"]`);
      expect(await ignored.getAttribute('data-member')).toBe(keyOf(1));
      expect(await ignored.getAttribute('fill')).toBe('#aaa');
      // bob arrived later than alice: drawn further right in the window.
      expect(Number(await ignored.getAttribute('x'))).toBeGreaterThan(Number(await emitted.getAttribute('x')));
      expect(await page.locator(`g.slot.missed[data-slot="${FIRST + 1}"]`).count()).toBe(1);
      expect(await page.locator(`rect.proposal[data-slot="${FIRST + 2}"][data-outcome="equivocation"]`).count()).toBe(1);
      // Names, not keys, label the rows; the summary says the strategy.
      expect(await page.locator('svg text', { hasText: 'alice' }).count()).toBe(1);
      expect(await page.locator('#summary').textContent()).toMatch(/strategy first-delivered · 3 members/);
      // Live: a new slot's proposal appears without a reload.
      await time.set(GENESIS + (FIRST + 3) * SLOT_MS + 300);
      expect((await post(propose(1, FIRST + 3, block(6)))).status).toBe(200);
      await page.waitForSelector(`rect.proposal[data-slot="${FIRST + 3}"][data-outcome="emitted"]`, { timeout: 5_000 });
    } finally {
      await browser?.close();
    }
  }, 60_000);

  it('answers thousands of random and malformed bodies each with a 4xx, and stays up', async () => {
    // Mutations of an accepted proposal: what stays valid is a duplicate (the payload is not signed).
    const valid = propose(0, FIRST + 3, block(7));
    expect((await post(valid)).status).toBe(200);
    const arbitraryBody = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      // A valid proposal with one field replaced by anything.
      fc.tuple(fc.constantFrom(...Object.keys(valid)), fc.jsonValue()).map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
      // With a field missing, or one added.
      fc.constantFrom(...Object.keys(valid)).map((k) => JSON.stringify({ ...valid, [k]: undefined })),
      fc.string({ maxLength: 20 }).map((k) => JSON.stringify({ ...valid, [`x${k}`]: 1 })),
      // A signature of the right shape that does not verify.
      fc.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{95}$/).map((signature) => JSON.stringify({ ...valid, signature })),
      // Slots far outside the window, large numbers.
      fc.integer({ min: -1, max: 2 ** 33 }).map((slot) => JSON.stringify({ ...valid, slot })),
      // Deeply nested or too large payloads, broken JSON.
      fc.integer({ min: 1, max: 3 }).map((n) => JSON.stringify({ ...valid, payload: 'x'.repeat(n * 9_000) })),
      fc.constant('{"slot": 1, "member": '),
      fc.constant('['.repeat(5000) + ']'.repeat(5000)),
    );
    const headers = fc.oneof(fc.constant({ 'content-type': 'application/json' }), fc.constant({ 'content-type': 'text/plain' }), fc.constant({} as Record<string, string>), fc.constant({ 'content-type': 'application/json; charset=utf-8' }));
    const samples = fc.sample(fc.tuple(arbitraryBody, headers), { numRuns: 2_500, seed: 20261124 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 25) {
      const batch = await Promise.all(samples.slice(i, i + 25).map(([body, h]) => post(body, h).then(async (r) => ({ status: r.status, json: (await r.json().catch(() => undefined)) as { code?: string } | undefined }))));
      for (const r of batch) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(typeof r.json?.code).toBe('string');
      }
    }
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(statuses.get(409)).toBeGreaterThan(10);
    // Still up, still accepting, and the log still verifies.
    expect((await post(propose(2, FIRST + 3, block(8)))).status).toBe(200);
    expect(service.log.verify().ok).toBe(true);
  }, 300_000);
});
