import { blake2b } from '@noble/hashes/blake2b';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, PrivateKey, Signature } from 'o1js';
import { fieldToStateHash, stateHashToField } from '../../../oracle/chain/base58.js';
import { CryptoPool } from '../../../oracle/emitter/crypto-pool.js';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import { Intake } from '../../../oracle/emitter/intake.js';
import { ReceiptSigner, verifyReceipt } from '../../../oracle/emitter/receipt.js';
import { Selector, choose } from '../../../oracle/emitter/selector.js';
import { buildServer } from '../../../oracle/emitter/server.js';
import { SpoolSink } from '../../../oracle/emitter/sink.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import { BODY_ALLOWANCE } from '../../../oracle/emitter/types.js';

/**
 * The emitter's intake over real HTTP (a listening Fastify server), with real signatures checked
 * on worker threads, a real SQLite log and a spool sink; the clock is driven by the test.
 */

const SLOT_MS = 10_000;
const POOL_TAG = '123456789';
const members = Array.from({ length: 3 }, () => PrivateKey.random());
const outsider = PrivateKey.random();
const operator = PrivateKey.random();
const block = (n: number) => fieldToStateHash(BigInt(n) * 7919n + 11n);

function propose(key: PrivateKey, slot: number, blockHash: string, extra: Record<string, unknown> = {}) {
  const signature = Signature.create(key, [Field(POOL_TAG), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
  return { slot, member: key.toPublicKey().toBase58(), blockHash, payload: { protocol_state: { slot } }, signature, ...extra };
}

describe('emitter intake', () => {
  let dir: string;
  let crypto: CryptoPool;
  let log: EventLog;
  let time: ManualTime;
  let clock: SlotClock;
  let app: ReturnType<typeof buildServer>;
  let selector: Selector;
  let base: string;
  /** A request over real HTTP: status and JSON body. */
  const call = async (path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) => {
    const r = await fetch(base + path, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
    return { statusCode: r.status, json: (await r.json()) as any };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emitter-'));
    crypto = await CryptoPool.start({ threads: 1, signingKey: operator.toBase58() });
    log = EventLog.open(join(dir, 'events.sqlite'));
    time = new ManualTime(1_000_000);
    clock = new SlotClock({ genesisMs: 1_000_000, slotMs: SLOT_MS, time });
    const window = { earlyMs: 1_000, closeMs: SLOT_MS, cutoffMs: 3_000 };
    const receipts = await ReceiptSigner.create({ operator: operator.toPublicKey().toBase58(), poolTag: POOL_TAG, certify: (f) => crypto.sign(f) });
    selector = new Selector({ log, clock, sink: new SpoolSink(join(dir, 'spool')), strategy: 'first-delivered', window });
    const memberSet = new Set(members.map((k) => k.toPublicKey().toBase58()));
    const intake = new Intake({
      log,
      clock,
      membership: { isMember: (k) => memberSet.has(k) },
      verify: (k, f, s) => crypto.verify(k, f, s),
      receipts,
      poolTag: POOL_TAG,
      window,
      maxPayloadBytes: 4096,
      decide: selector.onArrival,
      onAccepted: (_, decided) => void selector.emitArrivalDecision(decided),
    });
    app = buildServer({ intake, log, maxPayloadBytes: 4096, clock, window, strategy: 'first-delivered', pool: { poolTag: POOL_TAG, operator: operator.toPublicKey().toBase58() }, members: () => [...memberSet] });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    await app.close();
    await crypto.stop();
    log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (body: unknown) => call('/v1/proposals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('accepts a member\'s signed proposal with a receipt the operator\'s key certifies, and emits it at once', async () => {
    const r = await post(propose(members[0]!, 0, block(1)));
    expect(r.statusCode).toBe(200);
    const { receipt } = r.json;
    expect(receipt).toMatchObject({ slot: 0, member: members[0]!.toPublicKey().toBase58(), blockHash: block(1), receivedAt: 1_000_000 });
    expect(verifyReceipt(receipt, operator.toPublicKey().toBase58(), POOL_TAG)).toBe(true);
    expect(verifyReceipt({ ...receipt, receivedAt: 999 }, operator.toPublicKey().toBase58(), POOL_TAG)).toBe(false);
    expect(verifyReceipt(receipt, outsider.toPublicKey().toBase58(), POOL_TAG)).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(await readdir(join(dir, 'spool'))).toEqual([SpoolSink.fileName(0, block(1))]);
    expect(log.decision(0)).toMatchObject({ member: members[0]!.toPublicKey().toBase58(), blockHash: block(1) });
    expect(log.decision(0)?.emittedAt).toBeDefined();
  });

  it('says when it keeps no live waitlist', async () => {
    const r = await call('/v1/waitlist');
    expect(r.statusCode).toBe(404);
    expect(r.json.code).toBe('NO_WAITLIST');
  });

  it('runs the signature workers below the event loop in the scheduler (Linux)', async () => {
    if (process.platform !== 'linux') return;
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
    const nice = async (tid: string) => {
      const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const own = await nice(String(process.pid));
    if (own >= 10) return; // the whole run is niced already
    const values = await Promise.all((await readdir('/proc/self/task')).map(nice));
    expect(values.filter((n) => n === 10)).toHaveLength(1); // the one worker this suite starts
  });

  it('answers each refusal with its status and stable code, and logs it', async () => {
    const cases: [unknown, number, string][] = [
      [{ slot: 0 }, 400, 'MALFORMED'],
      [{ ...propose(members[1]!, 0, block(2)), blockHash: 'not-a-hash' }, 400, 'MALFORMED'],
      [{ ...propose(members[1]!, 0, block(2)), extra: 1 }, 400, 'MALFORMED'],
      [{ ...propose(members[1]!, 0, block(2)), vrfOutput: 'FSBXKqZKgSiy1T6SsjbrT0i84oDkBpUVsLH1zRviuIj0DjuGEXs=' }, 400, 'MALFORMED'],
      [{ ...propose(members[1]!, 0, block(2)), signature: propose(members[2]!, 0, block(2)).signature }, 401, 'BAD_SIGNATURE'],
      [propose(outsider, 0, block(3)), 403, 'NOT_MEMBER'],
      [propose(members[0]!, 0, block(1)), 409, 'DUPLICATE'],
      [propose(members[0]!, 0, block(4)), 409, 'EQUIVOCATION'],
      [propose(members[1]!, 0, block(5), { payload: { big: 'x'.repeat(5000) } }), 413, 'TOO_LARGE'],
      [propose(members[1]!, 2, block(6)), 422, 'TOO_EARLY'],
    ];
    for (const [body, status, code] of cases) {
      const r = await post(body);
      expect({ status: r.statusCode, code: r.json.code }).toEqual({ status, code });
    }
    const raw = await call('/v1/proposals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"slot": ' });
    expect(raw.statusCode).toBe(400);
    expect(raw.json.code).toBe('MALFORMED');
    const big = await call('/v1/proposals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(4096 + BODY_ALLOWANCE + 1_000) }) });
    expect(big.statusCode).toBe(413);
    const rejected = log.eventsOfSlots(0, 10).filter((e) => e.type === 'rejected').map((e) => e.code);
    expect(rejected).toEqual(expect.arrayContaining(['MALFORMED', 'BAD_SIGNATURE', 'NOT_MEMBER', 'DUPLICATE', 'TOO_LARGE', 'TOO_EARLY']));
    expect(log.evidence(0, 0)).toHaveLength(1);
    expect(log.evidence(0, 0)[0]!.second.blockHash).toBe(block(4));
  });

  it('refuses a proposal once its slot\'s window has closed, and ignores a late valid one', async () => {
    await post(propose(members[1]!, 0, block(7)));
    expect(log.eventsOfSlot(0).some((e) => e.type === 'ignored' && e.blockHash === block(7))).toBe(true);
    await time.set(1_000_000 + SLOT_MS);
    const r = await post(propose(members[2]!, 0, block(8)));
    expect(r.statusCode).toBe(422);
    expect(r.json.code).toBe('WINDOW_CLOSED');
  });

  it('serves a slot and pages the event log, whose hash chain verifies', async () => {
    const slot = (await call('/v1/slots/0')).json;
    expect(slot.decision.blockHash).toBe(block(1));
    expect(slot.proposals.map((p: { blockHash: string }) => p.blockHash)).toEqual([block(1), block(7)]);
    const page = (await call('/v1/events?from=1&limit=3')).json;
    expect(page.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    expect(page.next).toBe(4);
    expect((await call('/v1/events?limit=0')).statusCode).toBe(400);
    expect((await call('/v1/slots/abc')).statusCode).toBe(400);
    const check = log.verify();
    expect(check).toMatchObject({ ok: true, head: log.head().hash });
  });
});

describe('selection strategies', () => {
  const p = (member: string, blockHash: string, receivedAt: number, vrfOutput?: string) =>
    ({ slot: 1, member, blockHash, receivedAt, proposal: { slot: 1, member, blockHash, payload: {}, signature: '', ...(vrfOutput ? { vrfOutput } : {}) }, receipt: {} }) as never;

  it('first-delivered takes the first arrival at once', () => {
    expect(choose('first-delivered', [p('a', block(1), 5), p('b', block(2), 6)], false)).toMatchObject({ member: 'a' });
  });

  it('best-vrf waits for the cut-off, then applies Mina\'s tie-break on the VRF output', () => {
    const ps = [p('a', block(1), 5, '45MQItEEPNLqb5qS9vtZS4DEuvPpP_x4MzaRW_G2AAA='), p('b', block(2), 6, 'jxJlkmoc5lknBxFZSbRMf4DLCY2hWDHxykaPaV-IZwA='), p('c', block(3), 4)];
    expect(choose('best-vrf', ps, false)).toBeUndefined();
    // Worked by hand: Blake2b-256 of each output's 32 bytes, the larger (bytewise) wins.
    const digest = (b64: string) => Buffer.from(blake2b(Buffer.from(b64, 'base64url'), { dkLen: 32 }));
    const expected = Buffer.compare(digest('45MQItEEPNLqb5qS9vtZS4DEuvPpP_x4MzaRW_G2AAA='), digest('jxJlkmoc5lknBxFZSbRMf4DLCY2hWDHxykaPaV-IZwA=')) > 0 ? 'a' : 'b';
    expect(choose('best-vrf', ps, true)).toMatchObject({ member: expected });
    expect(choose('best-vrf', [ps[1]!, ps[0]!, ps[2]!], true)).toMatchObject({ member: expected });
    expect(choose('best-vrf', [ps[2]!], true)).toMatchObject({ member: 'c' });
  });

  it('priority takes the first-ranked member at once, else the best ranked at the cut-off', () => {
    const order = ['a', 'b', 'c'];
    expect(choose('priority', [p('c', block(3), 1), p('a', block(1), 2)], false, order)).toMatchObject({ member: 'a' });
    expect(choose('priority', [p('c', block(3), 1), p('b', block(2), 2)], false, order)).toBeUndefined();
    expect(choose('priority', [p('c', block(3), 1), p('b', block(2), 2)], true, order)).toMatchObject({ member: 'b' });
  });
});

describe('event log', () => {
  it('decides a slot in the commit that accepts its first proposal, and logs a later one ignored', () => {
    const log = EventLog.open(':memory:');
    try {
      const [a, b] = members.map((k) => k.toPublicKey().toBase58());
      const first = { slot: 7, member: a!, blockHash: block(1), receivedAt: 700, proposal: propose(members[0]!, 7, block(1)), receipt: {} as never };
      const second = { slot: 7, member: b!, blockHash: block(2), receivedAt: 705, proposal: propose(members[1]!, 7, block(2)), receipt: {} as never };
      const rule = { pick: (ps: { member: string }[]) => ps[0] as never, strategy: 'first-delivered' };
      const waiting = { pick: () => undefined, strategy: 'best-vrf' };
      // A rule that waits decides nothing: the slot stays open.
      const other = { ...first, slot: 8 };
      expect(log.accept(other, 0, waiting)).toEqual(expect.not.objectContaining({ decided: expect.anything() }));
      expect(log.decision(8)).toBeUndefined();
      const one = log.accept(first, 0, rule, 701);
      expect(one).toMatchObject({ outcome: 'accepted', decided: { decision: { slot: 7, member: a, decidedAt: 701, firstArrival: 700 }, winner: { member: a } } });
      const two = log.accept(second, 5, rule, 706);
      expect(two).toEqual(expect.not.objectContaining({ decided: expect.anything() }));
      expect(log.decision(7)).toMatchObject({ member: a, blockHash: block(1) });
      expect(log.eventsOfSlot(7).map((e) => [e.type, e.member])).toEqual([['received', a], ['selected', a], ['received', b], ['ignored', b]]);
      expect(log.verify()).toMatchObject({ ok: true });
    } finally {
      log.close();
    }
  });

  it('detects an edited event and delivers an unconfirmed decision once after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'event-log-'));
    try {
      const file = join(dir, 'events.sqlite');
      const member = members[0]!.toPublicKey().toBase58();
      const accepted = { slot: 4, member, blockHash: block(9), receivedAt: 50, proposal: propose(members[0]!, 4, block(9)), receipt: {} as never };
      let log = EventLog.open(file);
      log.accept(accepted, 50);
      log.decide(4, { pick: () => accepted, strategy: 'first-delivered' }, 60); // decided, then the process dies before the sink confirms
      log.close();

      log = EventLog.open(file);
      expect(log.pendingEmissions().map((d) => d.slot)).toEqual([4]);
      const time = new ManualTime(100);
      const clock = new SlotClock({ genesisMs: 0, slotMs: SLOT_MS, time });
      const sink = new SpoolSink(join(dir, 'spool'));
      const selector = new Selector({ log, clock, sink, strategy: 'first-delivered', window: { earlyMs: 0, closeMs: SLOT_MS, cutoffMs: 0 } });
      await selector.retryPending();
      await selector.retryPending();
      expect(await readdir(join(dir, 'spool'))).toEqual([SpoolSink.fileName(4, block(9))]);
      expect(log.eventsOfSlot(4).filter((e) => e.type === 'emitted')).toHaveLength(1);
      await expect(sink.deliver({ slot: 4, member, blockHash: block(10), payload: {} })).rejects.toThrow('another block for slot 4');
      expect(log.verify()).toMatchObject({ ok: true, events: 3 });
      log.close();

      const Database = (await import('better-sqlite3')).default;
      const db = new Database(file);
      db.prepare('UPDATE events SET member = ? WHERE seq = 2').run(members[1]!.toPublicKey().toBase58());
      db.close();
      log = EventLog.open(file);
      expect(log.verify()).toEqual({ ok: false, seq: 2, problem: 'its content does not match its hash' });
      log.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
