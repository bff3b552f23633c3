import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HttpSink, SpoolSink, type Emission } from '../../../oracle/emitter/sink.js';

/** The spool sink on a real directory: the handoff, the flush, and what a crash leaves behind. The HTTP sink against a real local server standing for the relay. */

const emission = (slot: number, blockHash: string): Emission => ({ slot, member: 'B62member', blockHash, payload: { protocol_state: { slot }, pad: 'x'.repeat(3000) } });

describe('spool sink', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands the block over (whole, under its final name) before the flush, and resolves after it', async () => {
    const sink = new SpoolSink(dir);
    const file = join(dir, SpoolSink.fileName(7, '3NKa'));
    let seenAtHandoff: unknown;
    let resolved = false;
    const delivery = sink.deliver(emission(7, '3NKa'), () => {
      // The consumer's view at the handoff: the block is readable, and deliver has not resolved yet.
      seenAtHandoff = JSON.parse(readFileSync(file, 'utf8'));
      expect(resolved).toBe(false);
    });
    void delivery.then(() => (resolved = true));
    await delivery;
    expect(seenAtHandoff).toEqual({ slot: 7, member: 'B62member', blockHash: '3NKa', block: emission(7, '3NKa').payload });
    expect(await readdir(dir)).toEqual([SpoolSink.fileName(7, '3NKa')]);
  });

  it('does nothing for the same block again, and refuses another block for the slot', async () => {
    const sink = new SpoolSink(dir);
    await sink.deliver(emission(7, '3NKa'));
    const before = await stat(join(dir, SpoolSink.fileName(7, '3NKa')));
    let handed = 0;
    await sink.deliver(emission(7, '3NKa'), () => handed++);
    expect(handed).toBe(1);
    expect((await stat(join(dir, SpoolSink.fileName(7, '3NKa')))).mtimeMs).toBe(before.mtimeMs);
    await expect(sink.deliver(emission(7, '3NKb'))).rejects.toThrow('the spool already holds another block for slot 7');
    expect(await readdir(dir)).toEqual([SpoolSink.fileName(7, '3NKa')]);
  });

  it('keeps a whole file an earlier run left, and rewrites one a crash left empty', async () => {
    const whole = join(dir, SpoolSink.fileName(8, '3NKw'));
    const broken = join(dir, SpoolSink.fileName(9, '3NKe'));
    await new SpoolSink(dir).deliver(emission(8, '3NKw'));
    const kept = await stat(whole);
    // A power cut after the rename and before the flush can leave the name with no data.
    await writeFile(broken, '');
    const restarted = new SpoolSink(dir);
    await restarted.deliver(emission(8, '3NKw'));
    await restarted.deliver(emission(9, '3NKe'));
    expect((await stat(whole)).mtimeMs).toBe(kept.mtimeMs);
    expect(JSON.parse(await readFile(broken, 'utf8'))).toMatchObject({ slot: 9, blockHash: '3NKe' });
    await expect(restarted.deliver(emission(9, '3NKx'))).rejects.toThrow('another block for slot 9');
    expect((await readdir(dir)).sort()).toEqual([SpoolSink.fileName(8, '3NKw'), SpoolSink.fileName(9, '3NKe')]);
  });
});

describe('HTTP sink (to a relay)', () => {
  let server: Server;
  let seen: { slot: number; blockHash: string; key: string | undefined; socket: number }[];
  let answer: (req: IncomingMessage, res: ServerResponse, nth: number) => void;
  let url: string;
  const sockets = new WeakMap<object, number>();
  let connections = 0;
  beforeEach(async () => {
    seen = [];
    connections = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { slot: number; blockHash: string };
        const socket = sockets.get(req.socket) ?? sockets.set(req.socket, ++connections).get(req.socket)!;
        seen.push({ slot: body.slot, blockHash: body.blockHash, key: req.headers['idempotency-key'] as string | undefined, socket });
        answer(req, res, seen.filter((s) => s.socket === socket).length);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/blocks`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('posts the block with its hash as Idempotency-Key, confirms on 2xx or a plain 409, over one kept-alive connection', async () => {
    answer = (req, res, nth) => (nth === 3 ? json(res, 409, { code: 'ALREADY_HELD' }) : json(res, 200, { ok: true }));
    const sink = new HttpSink(url);
    let handed = 0;
    await sink.deliver(emission(5, '3NKa'), () => handed++);
    await sink.deliver(emission(6, '3NKb'), () => handed++);
    await sink.deliver(emission(6, '3NKb'), () => handed++);
    sink.close();
    expect(handed).toBe(3);
    expect(seen).toEqual([
      { slot: 5, blockHash: '3NKa', key: '3NKa', socket: 1 },
      { slot: 6, blockHash: '3NKb', key: '3NKb', socket: 1 },
      { slot: 6, blockHash: '3NKb', key: '3NKb', socket: 1 },
    ]);
  });

  it('fails, naming the slot, on a 409 SLOT_TAKEN, on another status, and when the relay does not answer in time', async () => {
    answer = (req, res, nth) => (nth === 1 ? json(res, 409, { code: 'SLOT_TAKEN', message: 'slot 7 holds 3NKz' }) : nth === 2 ? json(res, 500, {}) : undefined);
    const sink = new HttpSink(url, 300);
    let handed = 0;
    await expect(sink.deliver(emission(7, '3NKc'), () => handed++)).rejects.toThrow(`the relay at ${url} holds another block for slot 7: slot 7 holds 3NKz`);
    await expect(sink.deliver(emission(8, '3NKd'), () => handed++)).rejects.toThrow(`the relay at ${url} refused slot 8: HTTP 500`);
    const t0 = Date.now();
    await expect(sink.deliver(emission(9, '3NKe'), () => handed++)).rejects.toThrow(`the relay at ${url} did not answer: no answer within 300 ms`);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(handed).toBe(0);
    sink.close();
  });

  it('posts again on a new connection when the relay had closed the kept-alive one, and not when a new one fails', async () => {
    // The relay drops each connection at its second request, before answering (as when its idle timeout and our reuse cross).
    answer = (req, res, nth) => (nth === 2 ? req.socket.destroy() : json(res, 200, { ok: true }));
    const sink = new HttpSink(url);
    await sink.deliver(emission(10, '3NKf'));
    await sink.deliver(emission(11, '3NKg'));
    expect(seen.map((s) => [s.slot, s.socket])).toEqual([[10, 1], [11, 1], [11, 2]]);
    // A fresh connection reset is a failure, said as such, and is not tried again here (the emitter retries the delivery).
    answer = (req) => req.socket.destroy();
    const fresh = new HttpSink(url);
    await expect(fresh.deliver(emission(12, '3NKh'))).rejects.toThrow(`the relay at ${url} did not answer: socket hang up`);
    expect(seen.filter((s) => s.slot === 12)).toHaveLength(1);
    sink.close();
    fresh.close();
  });

  it('refuses a relay URL that is not http or https when it is made', () => {
    expect(() => new HttpSink('relay.example:8080')).toThrow('must start with http:// or https://');
    expect(() => new HttpSink('not a url')).toThrow(`the relay's URL "not a url" is not a URL`);
  });
});
