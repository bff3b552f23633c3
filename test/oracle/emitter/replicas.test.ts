import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Field, PrivateKey, Signature } from 'o1js';
import { fieldToStateHash, stateHashToField } from '../../../oracle/chain/base58.js';
import { Etcd3 } from 'etcd3';
import { EtcdAgreement } from '../../../oracle/emitter/agreement.js';
import { LocalEtcd } from '../../../oracle/emitter/local-etcd.js';
import { buildRelay } from '../../../oracle/emitter/relay.js';
import { EmitterService, fixedMembers } from '../../../oracle/emitter/service.js';
import { HttpSink } from '../../../oracle/emitter/sink.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import { launchChromium } from '../../helpers/browser.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { until } from '../../helpers/wait.js';

/**
 * Three emitter services (in this process) agreeing through a real three-member etcd cluster
 * on loopback, handing winners to one relay over HTTP. Each replica takes every proposal
 * itself; whichever saw which first, one block per slot reaches the relay, and every replica's
 * log records the same outcome and who forwarded it. (Killing processes: replica-faults.test.ts.)
 */

const SLOT_MS = 6_000;
/** How long a replica whose turn it is not waits for a slot's block to reach the relay. */
const STANDBY_MS = 1_000;
const POOL_TAG = '777';
const members = Array.from({ length: 3 }, () => PrivateKey.random());
const operator = PrivateKey.random();
const block = (slot: number, m: number) => fieldToStateHash(BigInt(slot) * 10n + BigInt(m) + 1n);

function propose(m: number, slot: number) {
  const blockHash = block(slot, m);
  const signature = Signature.create(members[m]!, [Field(POOL_TAG), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
  return JSON.stringify({ slot, member: members[m]!.toPublicKey().toBase58(), blockHash, payload: { slot, m }, signature });
}

describe('emitter replicas agreeing through etcd', () => {
  let dir: string;
  let etcd: LocalEtcd;
  let relay: FastifyInstance;
  let relayUrl: string;
  const proxies: TcpProxy[] = [];
  const relayed: { slot: number; blockHash: string; stored: boolean }[] = [];
  const replicas: { service: EmitterService; url: string; lines: string[]; agreement: EtcdAgreement }[] = [];
  const time = new ManualTime(100 * SLOT_MS);
  const clock = new SlotClock({ genesisMs: 0, slotMs: SLOT_MS, time });
  const post = async (r: number, body: string) => (await fetch(`${replicas[r]!.url}/v1/proposals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status;
  /** Waits until every etcd member serves `slot`'s outcome (a replica's serializable read is served by whichever it reaches). */
  const onEveryMember = async (slot: number) => {
    const key = `/mina-pool/${POOL_TAG}/slot/${String(slot).padStart(10, '0')}/outcome`;
    const direct = etcd.members.map((m) => new Etcd3({ hosts: [m.clientUrl] }));
    try {
      await until(async () => (await Promise.all(direct.map((c) => c.get(key).serializable(true).string()))).every((v) => v !== null), `slot ${slot}'s outcome on every etcd member`);
    } finally {
      for (const c of direct) c.close();
    }
  };
  /** Which replicas send a compare-and-create for `slot`, in order; `restore` puts back their own `propose` and `outcome`. */
  const proposalsOf = (slot: number) => {
    const proposed: string[] = [];
    for (const { agreement } of replicas) {
      const real = agreement.propose.bind(agreement);
      agreement.propose = (o) => (o.slot === slot && proposed.push(agreement.replica), real(o));
    }
    const restore = () => {
      for (const { agreement } of replicas) {
        delete (agreement as { propose?: unknown }).propose;
        delete (agreement as { outcome?: unknown }).outcome;
      }
    };
    return { proposed, restore };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replicas-'));
    etcd = await LocalEtcd.start({ dir: join(dir, 'etcd') });
    relay = buildRelay({ spoolDir: join(dir, 'gateway'), onBlock: (b) => relayed.push(b) });
    relayUrl = `${await relay.listen({ port: 0, host: '127.0.0.1' })}/v1/blocks`;
    // r3 reaches etcd through proxies the test can cut.
    for (const m of etcd.members) proxies.push(await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(m.clientUrl).port) }));
    for (const id of ['r1', 'r2', 'r3']) {
      const lines: string[] = [];
      const endpoints = id === 'r3' ? proxies.map((p) => p.url) : etcd.endpoints;
      const agreement = await EtcdAgreement.start({ endpoints, replica: id, poolTag: POOL_TAG, onStatus: (m) => lines.push(m) });
      const service = await EmitterService.start({
        dataDir: join(dir, id),
        clock,
        strategy: 'first-delivered',
        window: { earlyMs: 1_000, closeMs: SLOT_MS, cutoffMs: 2_000 },
        poolTag: POOL_TAG,
        operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() },
        membership: fixedMembers(members.map((k) => k.toPublicKey().toBase58())),
        threads: 1,
        sink: new HttpSink(relayUrl),
        agreement,
        // Long enough that no winner's path here outlasts it (the default is 100 ms).
        standbyMs: STANDBY_MS,
        progress: (m) => lines.push(m),
      });
      const url = await service.listen(0);
      await agreement.advertise(url);
      replicas.push({ service, url, lines, agreement });
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) await r.service.stop();
    await relay?.close();
    for (const p of proxies) await p.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('one proposal delivered to every replica: one forwarding, the same decision and emission in every log', async () => {
    await time.set(clock.slotStart(101) + 500);
    expect(await Promise.all([0, 1, 2].map((r) => post(r, propose(0, 101))))).toEqual([200, 200, 200]);
    await until(() => replicas.every((r) => r.service.log.decision(101)?.emittedAt !== undefined), 'slot 101 emitted in every log');
    expect(relayed.filter((b) => b.slot === 101)).toEqual([{ slot: 101, member: members[0]!.toPublicKey().toBase58(), blockHash: block(101, 0), stored: true }]);
    const emitted = replicas.map((r) => r.service.log.eventsOfSlot(101).filter((e) => e.type === 'emitted'));
    const forwarders = new Set(emitted.map((e) => e[0]!.data!.replica));
    expect(forwarders.size).toBe(1);
    expect(emitted.map((e) => e.length)).toEqual([1, 1, 1]);
  }, 30_000);

  it('different first proposals at different replicas: exactly one block for the slot, the same in every log', async () => {
    await time.set(clock.slotStart(102) + 500);
    // Each replica hears another member first.
    expect(await Promise.all([0, 1, 2].map((r) => post(r, propose(r, 102))))).toEqual([200, 200, 200]);
    await Promise.all([0, 1, 2].map((r) => post((r + 1) % 3, propose(r, 102))));
    await until(() => replicas.every((r) => r.service.log.decision(102)?.emittedAt !== undefined), 'slot 102 emitted in every log');
    const decided = replicas.map((r) => r.service.log.decision(102)!.blockHash);
    expect(new Set(decided).size).toBe(1);
    expect(relayed.filter((b) => b.slot === 102).map((b) => b.blockHash)).toEqual([decided[0]]);
  }, 30_000);

  it('a slot without a proposal is missed for all; a replica that had none still records another\'s decision', async () => {
    await time.set(clock.slotStart(103) + 500);
    expect(await post(2, propose(1, 103))).toBe(200);
    await until(() => replicas[2]!.service.log.decision(103)?.emittedAt !== undefined, 'slot 103 emitted by the replica that had it');
    // The others learn the outcome when the window closes: theirs would be "missed"; the decision stands.
    await time.set(clock.slotStart(105) + 100);
    await until(() => replicas.every((r) => r.service.log.lastClosedSlot() === 104), 'slot 104 closed everywhere');
    for (const r of replicas) {
      expect(r.service.log.eventsOfSlot(104).map((e) => e.type)).toEqual(['missed']);
      expect(r.service.log.decision(103)).toMatchObject({ member: members[1]!.toPublicKey().toBase58(), blockHash: block(103, 1) });
      expect(r.service.log.eventsOfSlot(103).map((e) => e.type)).not.toContain('missed');
    }
    expect(relayed.filter((b) => b.slot === 103 || b.slot === 104).map((b) => b.slot)).toEqual([103]);
  }, 30_000);

  it('a replica whose turn it is not reads the outcome that stands instead of sending a compare-and-create', async () => {
    const slot = 105;
    const first = replicas.findIndex((r) => r.agreement.proposesFirst(slot));
    const others = [0, 1, 2].filter((i) => i !== first);
    expect(first).toBeGreaterThanOrEqual(0);
    const { proposed, restore } = proposalsOf(slot);
    try {
      expect(await post(first, propose(0, slot))).toBe(200);
      await until(() => replicas[first]!.service.log.decision(slot)?.emittedAt !== undefined, `slot ${slot} emitted by its first proposer`);
      await onEveryMember(slot);
      expect(await Promise.all(others.map((i) => post(i, propose(0, slot))))).toEqual([200, 200]);
      await until(() => replicas.every((r) => r.service.log.decision(slot)?.emittedAt !== undefined), `slot ${slot} emitted in every log`);
      expect(proposed).toEqual([replicas[first]!.agreement.replica]);
      for (const r of replicas) expect(r.service.log.decision(slot)).toMatchObject({ member: members[0]!.toPublicKey().toBase58(), blockHash: block(slot, 0) });
      expect(relayed.filter((b) => b.slot === slot).map((b) => b.blockHash)).toEqual([block(slot, 0)]);
      // What the read gives: the outcome in force, or nothing for a slot nobody proposed.
      expect(await replicas[others[0]!]!.agreement.outcome(slot)).toMatchObject({ kind: 'decided', blockHash: block(slot, 0), replica: replicas[first]!.agreement.replica });
      expect(await replicas[others[0]!]!.agreement.outcome(999)).toBeUndefined();
      // Each replica keeps what it saw of the slot (its own write, a read, or etcd's watch), so
      // it does not ask again (the next test shows r3 answering for this slot while cut off).
      const record = replicas[first]!.agreement.emitted(slot);
      expect(record).toMatchObject({ slot, blockHash: block(slot, 0), replica: replicas[first]!.agreement.replica });
      await until(() => replicas.every((r) => r.agreement.emitted(slot) !== undefined), `slot ${slot}'s emission seen by every replica`);
      for (const r of replicas) expect(r.agreement.emitted(slot)).toEqual(record);
    } finally {
      restore();
    }
  }, 30_000);

  it('shows each replica and who forwarded each block: GET /v1/replicas, the metrics, the dashboard in a browser; a replica cut off says so', async () => {
    const leader = (await etcd.leader())!.clientUrl;
    await until(() => replicas[0]!.agreement.health().etcdLeader === leader, "r1 sends its decisions to etcd's leader");
    const health = (await (await fetch(`${replicas[0]!.url}/v1/replicas`)).json()) as { replica: string; connected: boolean; replicas: { id: string; url?: string }[] };
    expect(health).toMatchObject({ replica: 'r1', connected: true, etcdLeader: leader });
    expect(health.replicas.map((r) => [r.id, r.url])).toEqual(replicas.map((r, i) => [`r${i + 1}`, r.url]));
    const metrics = await (await fetch(`${replicas[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(/^emitter_replica_connected 1$/m);
    for (const id of ['r1', 'r2', 'r3']) expect(metrics).toMatch(new RegExp(`^emitter_replica_up\\{replica="${id}"\\} 1$`, 'm'));
    expect(metrics).toMatch(/^emitter_forwarded_total\{replica="r\d"\} [1-9]/m);
    expect(metrics).toMatch(/^emitter_agreement_latency_ms_count [1-9]/m);
    const forwarder = replicas[0]!.service.log.eventsOfSlot(101).find((e) => e.type === 'emitted')!.data!.replica as string;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${replicas[0]!.url}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
      expect(await page.locator('#replicas').textContent()).toBe(`replica r1 · etcd reached · replicas up: r1 (this one), r2, r3 · decisions to etcd's leader at ${leader}`);
      expect(await page.locator('g[data-slot="101"] text.forwarder').textContent()).toBe(`→ ${forwarder}`);
      // r3 cut off from etcd: its own page and route say so, and the others see it gone.
      for (const p of proxies) p.cut();
      await until(async () => ((await (await fetch(`${replicas[2]!.url}/v1/replicas`)).json()) as { connected: boolean }).connected === false, 'r3 cut off', 10_000);
      // What r3 saw of slot 105 (previous test) it still answers with no request; a slot it has not seen is asked of etcd, and fails.
      expect(await replicas[2]!.agreement.outcome(105)).toMatchObject({ kind: 'decided', blockHash: block(105, 0) });
      expect(replicas[2]!.agreement.emitted(105)).toMatchObject({ slot: 105, blockHash: block(105, 0) });
      await expect(replicas[2]!.agreement.outcome(998)).rejects.toThrow();
      const cutPage = await browser.newPage();
      await cutPage.goto(`${replicas[2]!.url}/`);
      await cutPage.waitForSelector('#replicas.cut', { timeout: 15_000 });
      expect(await cutPage.locator('#replicas').textContent()).toMatch(/^replica r3 is cut off from etcd since .+: it decides and forwards nothing/);
      expect(replicas[2]!.lines.some((l) => /replica r3 is cut off from etcd/.test(l))).toBe(true);
      await until(async () => !(await (await fetch(`${replicas[0]!.url}/metrics`)).text()).includes('emitter_replica_up{replica="r3"} 1'), 'r3 gone for r1', 10_000);
      expect(await (await fetch(`${replicas[0]!.url}/metrics`)).text()).toMatch(/^emitter_replica_up\{replica="r3"\} 0$/m);
      for (const p of proxies) p.restore();
      await until(async () => ((await (await fetch(`${replicas[2]!.url}/v1/replicas`)).json()) as { connected: boolean }).connected, 'r3 back', 15_000);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('a replica whose lease ran out while it was busy takes a new one, and decides and forwards again', async () => {
    const observer = new Etcd3({ hosts: etcd.endpoints });
    try {
      // As if r1 had paused longer than its lease: etcd drops the lease and every key bound to it.
      const kv = await observer.get(`/mina-pool/${POOL_TAG}/replicas/r1`).exec();
      await observer.leaseClient.leaseRevoke({ ID: kv.kvs[0]!.lease });
      await time.set(clock.slotStart(106) + 500);
      expect(await post(0, propose(2, 106))).toBe(200);
      await until(() => replicas[0]!.service.log.decision(106)?.emittedAt !== undefined, 'slot 106 emitted by r1', 15_000);
      expect(replicas[0]!.lines.some((l) => /replica r1's lease (had expired|expired)/.test(l))).toBe(true);
      expect(relayed.filter((b) => b.slot === 106).map((b) => b.blockHash)).toEqual([block(106, 2)]);
      await until(async () => (await observer.get(`/mina-pool/${POOL_TAG}/replicas/r1`).string()) !== null, 'r1 registered again', 10_000);
    } finally {
      observer.close();
    }
  }, 60_000);

  it('a slot nobody proposed for is closed "missed" by one compare-and-create: the replicas whose turn it is not read that outcome', async () => {
    const slot = 107;
    await until(() => replicas.every((r) => r.agreement.health().replicas.length === 3) && replicas.filter((r) => r.agreement.proposesFirst(slot)).length === 1, 'every replica sees the other two', 10_000);
    const first = replicas.findIndex((r) => r.agreement.proposesFirst(slot));
    const { proposed, restore } = proposalsOf(slot);
    const read: string[] = [];
    for (const { agreement } of replicas) {
      const realRead = agreement.outcome.bind(agreement);
      // As when the first proposer's answer came within the others' wait: its outcome is on every etcd member.
      agreement.outcome = async (s) => {
        if (s === slot) {
          read.push(agreement.replica);
          await onEveryMember(slot);
        }
        return realRead(s);
      };
    }
    try {
      // Every replica closes slot 107 at this moment.
      await time.set(clock.slotStart(slot + 1));
      await until(() => replicas.every((r) => r.service.log.lastClosedSlot() === slot), `slot ${slot} closed everywhere`);
      for (const r of replicas) expect(r.service.log.eventsOfSlot(slot).map((e) => e.type)).toEqual(['missed']);
      expect(proposed).toEqual([replicas[first]!.agreement.replica]);
      expect(read.sort()).toEqual(replicas.filter((_, i) => i !== first).map((r) => r.agreement.replica).sort());
    } finally {
      restore();
    }
  }, 30_000);

  it('a replica whose turn it is not takes a proposal once the slot\'s block has reached the relay, or after a moment if it does not', async () => {
    const slot = 108;
    await until(() => replicas.every((r) => r.agreement.health().replicas.length === 3) && replicas.filter((r) => r.agreement.proposesFirst(slot)).length === 1, 'every replica sees the other two', 10_000);
    const first = replicas.findIndex((r) => r.agreement.proposesFirst(slot));
    const others = [0, 1, 2].filter((i) => i !== first);
    // Delivered to all three at once: the others check, log and answer only after the relay has the
    // block, so none of that work shares the machine with the winner's path.
    const relayedAtAnswer: boolean[] = [];
    const answeredMs: number[] = [];
    const sent = performance.now();
    const statuses = await Promise.all(
      [0, 1, 2].map(async (r) => {
        const status = await post(r, propose(1, slot));
        relayedAtAnswer[r] = relayed.some((b) => b.slot === slot);
        answeredMs[r] = performance.now() - sent;
        return status;
      }),
    );
    expect(statuses).toEqual([200, 200, 200]);
    expect(others.map((i) => relayedAtAnswer[i])).toEqual([true, true]);
    // Released by the news of the emission (etcd's watch), not by the end of their wait.
    for (const i of others) expect(answeredMs[i]).toBeLessThan(STANDBY_MS * 0.8);
    await until(() => replicas.every((r) => r.service.log.decision(slot)?.emittedAt !== undefined), `slot ${slot} emitted in every log`);
    // Every replica logged the proposal it answered for (an accepted proposal is in each log that took it).
    for (const r of replicas) expect(r.service.log.proposals(slot).map((p) => p.blockHash)).toEqual([block(slot, 1)]);
    expect(relayed.filter((b) => b.slot === slot).map((b) => b.blockHash)).toEqual([block(slot, 1)]);

    // The next slot's first proposer never gets its proposal: another takes it after the wait, decides and forwards it.
    const next = slot + 1;
    await time.set(clock.slotStart(next) + 500);
    const other = replicas.findIndex((r) => !r.agreement.proposesFirst(next));
    const t0 = performance.now();
    expect(await post(other, propose(2, next))).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(STANDBY_MS - 5);
    await until(() => replicas[other]!.service.log.decision(next)?.emittedAt !== undefined, `slot ${next} emitted by replica ${other + 1}`);
    expect(relayed.filter((b) => b.slot === next).map((b) => b.blockHash)).toEqual([block(next, 2)]);
  }, 30_000);

  it('the wait of a replica whose turn it is not ends in time to propose before the window closes, and holds only so many proposals of a slot under one member\'s key', async () => {
    const notFirst = (slot: number) => replicas.findIndex((r) => !r.agreement.proposesFirst(slot));
    const timed = async (r: number, body: string) => {
      const t0 = performance.now();
      const status = await post(r, body);
      return { status, ms: performance.now() - t0 };
    };
    // Half a second before slot 110's window closes: the wait is cut to what is left (less the
    // time to propose), and the block is decided and forwarded before the close.
    const late = 110;
    await time.set(clock.slotStart(late + 1) - 500);
    const r110 = notFirst(late);
    const a = await timed(r110, propose(0, late));
    expect(a.status).toBe(200);
    expect(a.ms).toBeGreaterThanOrEqual(440);
    expect(a.ms).toBeLessThan(STANDBY_MS * 0.9);
    await until(() => replicas[r110]!.service.log.decision(late)?.emittedAt !== undefined, `slot ${late} emitted`);
    expect(relayed.filter((b) => b.slot === late).map((b) => b.blockHash)).toEqual([block(late, 0)]);
    // 30 ms before slot 111's close: no wait at all.
    await time.set(clock.slotStart(late + 2) - 30);
    const r111 = notFirst(late + 1);
    const b = await timed(r111, propose(1, late + 1));
    expect(b.status).toBe(200);
    expect(b.ms).toBeLessThan(STANDBY_MS / 2);
    await until(() => replicas[r111]!.service.log.decision(late + 1)?.emittedAt !== undefined, `slot ${late + 1} emitted`);
    // Twenty proposals of slot 112 under a member's key with a signature that is not for it:
    // two wait (then fail the check), the rest are checked and refused at once; another member's
    // own proposal of that slot still waits its turn.
    const forged = JSON.stringify({ ...(JSON.parse(propose(2, late + 2)) as object), signature: (JSON.parse(propose(2, late + 3)) as { signature: string }).signature });
    const r112 = notFirst(late + 2);
    const [answers, own] = await Promise.all([Promise.all(Array.from({ length: 20 }, () => timed(r112, forged))), timed(r112, propose(0, late + 2))]);
    expect(answers.map((x) => x.status)).toEqual(Array.from({ length: 20 }, () => 401));
    expect(answers.filter((x) => x.ms < STANDBY_MS / 2)).toHaveLength(18);
    expect(answers.filter((x) => x.ms >= STANDBY_MS - 50)).toHaveLength(2);
    expect(own.status).toBe(200);
    expect(own.ms).toBeGreaterThanOrEqual(STANDBY_MS - 50);
    expect(replicas[r112]!.service.log.eventsOfSlot(late + 2).filter((e) => e.type === 'rejected' && e.code === 'BAD_SIGNATURE')).toHaveLength(20);
  }, 30_000);

  it('a proposal sent again after its answer was lost comes back as this replica\'s own: it forwards; another replica\'s gets that outcome; a slot settles once its emission or "missed" is seen', async () => {
    const a = await EtcdAgreement.start({ endpoints: etcd.endpoints, replica: 'ra', poolTag: 'agreement-unit' });
    const b = await EtcdAgreement.start({ endpoints: etcd.endpoints, replica: 'rb', poolTag: 'agreement-unit' });
    try {
      const mine = { kind: 'decided' as const, slot: 9, member: 'm', blockHash: 'h1', replica: 'ra', at: 123 };
      expect(await a.propose(mine)).toEqual(mine);
      // The same proposal again (as after a timeout whose write went through): the outcome in force is this replica's own.
      expect(await a.propose(mine)).toEqual(mine);
      expect(await a.claimForwarding(9)).toBe(true);
      // Another replica's choice for the slot loses to it, and cannot take the forwarding while ra's lease lives.
      expect(await b.propose({ kind: 'decided', slot: 9, member: 'n', blockHash: 'h2', replica: 'rb', at: 124 })).toEqual(mine);
      expect(await b.propose({ kind: 'missed', slot: 9, replica: 'rb', at: 125 })).toEqual(mine);
      expect(await b.claimForwarding(9)).toBe(false);
      expect((await b.slots(9, 9)).get(9)?.forwarder).toBe('ra');
      // ra stops: its lease is revoked, the forwarding is free at once.
      await a.close();
      expect((await b.slots(9, 9)).get(9)?.forwarder).toBeUndefined();
      expect(await b.claimForwarding(9)).toBe(true);
      // A slot settles for a replica once it sees its emission recorded (or "missed" standing); until then a wait runs its length.
      let t0 = performance.now();
      await b.settled(9, 60);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
      const waiting = b.settled(9, 20_000);
      await b.markEmitted({ slot: 9, blockHash: 'h1', replica: 'rb', at: 126 });
      t0 = performance.now();
      await waiting;
      await b.settled(9, 20_000);
      expect(await b.propose({ kind: 'missed', slot: 10, replica: 'rb', at: 127 })).toMatchObject({ kind: 'missed', slot: 10 });
      await b.settled(10, 20_000);
      expect(performance.now() - t0).toBeLessThan(5_000);
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('one replica among those up proposes each slot first, in turn; one that is down or not yet seen takes nobody\'s turn', async () => {
    const ids = ['pa', 'pb', 'pc'];
    const agreements: EtcdAgreement[] = [];
    for (const replica of ids) agreements.push(await EtcdAgreement.start({ endpoints: etcd.endpoints, replica, poolTag: 'first-proposer' }));
    try {
      // Each reads who is up every third of its lease.
      await until(async () => agreements.every((a) => a.health().replicas.length === 3), 'all three see each other', 5_000);
      for (let slot = 100; slot < 106; slot++) {
        const first = agreements.filter((a) => a.proposesFirst(slot)).map((a) => a.replica);
        expect(first).toEqual([ids[slot % 3]]);
      }
      // pb stops: its turns go to the two left, once they see it gone.
      await agreements[1]!.close();
      await until(async () => agreements[0]!.health().replicas.length === 2 && agreements[2]!.health().replicas.length === 2, 'pb gone', 5_000);
      for (let slot = 100; slot < 104; slot++) expect([agreements[0]!, agreements[2]!].filter((a) => a.proposesFirst(slot)).map((a) => a.replica)).toEqual([['pa', 'pc'][slot % 2]]);
    } finally {
      for (const a of agreements) await a.close();
    }
  }, 30_000);
});
