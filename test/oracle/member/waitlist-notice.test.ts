import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrivateKey } from 'o1js';
import { watchWaitlist, type WaitlistNotice } from '../../../oracle/member/waitlist-notice.js';
import { until } from '../../helpers/wait.js';

/**
 * The member's backfill notice: `watchWaitlist` polls an emitter's `GET /v1/waitlist` (a real
 * HTTP server here, answering what the test sets) and tells the member once per entry of its
 * producer at the head.
 */

const ours = PrivateKey.random().toPublicKey().toBase58();
const other = PrivateKey.random().toPublicKey().toBase58();
const next = (producer: string, slot: number, addedSlot: number) => ({ slot: slot - 1, window: 10, entries: [], designations: [], next: { producer, slot, addedSlot, expiresAfter: addedSlot + 10, pool: true } });

describe("the member's waitlist notice", () => {
  let server: Server;
  let url: string;
  let answer: { status: number; body: unknown } = { status: 200, body: next(other, 101, 100) };
  let asked = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      asked++;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('tells once per entry of its producer at the head, reports a failing emitter once, and stops when the emitter keeps no waitlist', async () => {
    const notices: WaitlistNotice[] = [];
    const status: string[] = [];
    const abort = new AbortController();
    const done = watchWaitlist({ emitter: url, producer: ours, everyMs: 10, signal: abort.signal, onNotice: (n) => notices.push(n), onStatus: (m) => status.push(m) });
    const polls = async (n: number) => {
      const from = asked;
      await until(() => asked >= from + n, `${n} polls`);
    };
    await polls(3);
    expect(notices).toEqual([]);
    // Ours at the head for slot 104 (it lost 102): one notice, however many polls see it, and as the next slot moves.
    answer = { status: 200, body: next(ours, 104, 102) };
    await polls(3);
    answer = { status: 200, body: next(ours, 105, 102) };
    await polls(3);
    expect(notices).toEqual([
      {
        slot: 104,
        lostSlot: 102,
        expiresAfter: 112,
        text: `waitlist: your producer is at the head (it lost slot 102): the first empty slot from 104 until slot 112 is designated to it; during a slot, ${url}/v1/backfill/<slot> says whether it is that slot's designated producer and serves the commitment to prove against`,
      },
    ]);
    // The emitter fails: said once, however long it lasts.
    answer = { status: 500, body: {} };
    await polls(4);
    answer = { status: 200, body: { nonsense: true } };
    await polls(2);
    expect(status).toEqual([`waitlist: cannot read ${url}/v1/waitlist: HTTP 500`, `waitlist: cannot read ${url}/v1/waitlist: not a waitlist (slot: Invalid input: expected number, received undefined)`]);
    // Its next entry (it lost again, slot 120) is a new notice.
    answer = { status: 200, body: next(ours, 121, 120) };
    await until(() => notices.length === 2, 'the second notice');
    expect(notices[1]).toMatchObject({ slot: 121, lostSlot: 120 });
    // An emitter without the waitlist: said, and the watch ends by itself.
    answer = { status: 404, body: { code: 'NO_WAITLIST' } };
    await done;
    expect(status.at(-1)).toBe(`waitlist: the emitter at ${url} keeps no live waitlist; no backfill notices`);
    abort.abort();
  });

  it('ends when the member stops', async () => {
    answer = { status: 200, body: next(other, 101, 100) };
    const abort = new AbortController();
    const done = watchWaitlist({ emitter: url, producer: ours, everyMs: 60_000, signal: abort.signal, onNotice: () => {}, onStatus: () => {} });
    const from = asked;
    await until(() => asked > from, 'one poll');
    abort.abort();
    await done;
  });
});
