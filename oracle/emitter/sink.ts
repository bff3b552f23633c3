import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { FetchError, InputError, PoolError } from '../errors.js';
import { parseJsonOrUndefined, syncPath, writeTextAtomic } from '../json-file.js';

/** The chosen block of a slot, as handed on. */
export interface Emission {
  slot: number;
  member: string;
  blockHash: string;
  /** The block as the member delivered it (Mina's precomputed block JSON). */
  payload: unknown;
}

/**
 * Where the winner of a slot goes. `deliver` must be idempotent by block hash: the emitter
 * records its decision first and delivers again after a restart until the sink confirms,
 * so "exactly once" rests on the recorded decision, not on timing.
 *
 * `deliver` resolves once the handoff is durable (it survives a crash of this machine);
 * `handedOver`, when the sink can say so, is called the moment the consumer can take the
 * block, which may come before (a spool file is readable before it is flushed to disk).
 */
export interface Sink {
  readonly name: string;
  deliver(e: Emission, handedOver?: () => void): Promise<void>;
}

/**
 * The default sink: one file per slot in a spool directory (`slot-<slot>-<blockHash>.json`),
 * written to a temporary file and renamed, so a reader never sees half a block, and a second
 * delivery of the same block finds the file and does nothing. The spool is this emitter's own:
 * it is listed once, then followed in memory.
 *
 * The block is renamed into the spool at once, without leaving the calling task (the winner
 * reaches the spool before the event loop turns to the other proposals of a burst); the file
 * and the directory are then flushed to disk on the thread pool, and only then does `deliver`
 * resolve, so the emitter marks a slot emitted only once its file would survive a power cut.
 * A file found from an earlier run is read back, flushed, and written again if a crash left it
 * broken.
 */
export class SpoolSink implements Sink {
  readonly name: string;
  /** Slot → the file it holds, and whether that file is known to be on disk (one listing, then kept up to date). */
  private delivered?: Promise<Map<number, { name: string; durable: boolean }>>;

  constructor(readonly dir: string) {
    this.name = `spool ${dir}`;
  }

  static fileName(slot: number, blockHash: string): string {
    return `slot-${String(slot).padStart(10, '0')}-${blockHash}.json`;
  }

  /** A spool file's slot and block hash, or `undefined` for another file (a temporary one). */
  static parseFileName(name: string): { slot: number; blockHash: string } | undefined {
    const m = /^slot-(\d{10})-(.+)\.json$/.exec(name);
    return m ? { slot: Number(m[1]), blockHash: m[2]! } : undefined;
  }

  private list(): Promise<Map<number, { name: string; durable: boolean }>> {
    this.delivered ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const files = (await readdir(this.dir)).flatMap((f) => {
        const parsed = SpoolSink.parseFileName(f);
        return parsed ? [[parsed.slot, { name: f, durable: false }] as const] : [];
      });
      return new Map(files);
    })();
    return this.delivered;
  }

  /** The file the spool holds for a slot, if any. */
  async held(slot: number): Promise<string | undefined> {
    return (await this.list()).get(slot)?.name;
  }

  /** What the spool holds, in slot order. */
  async holdings(): Promise<{ slot: number; blockHash: string }[]> {
    return [...(await this.list()).values()].map((f) => SpoolSink.parseFileName(f.name)!).sort((a, b) => a.slot - b.slot);
  }

  async deliver(e: Emission, handedOver?: () => void): Promise<void> {
    const delivered = await this.list();
    const name = SpoolSink.fileName(e.slot, e.blockHash);
    const held = delivered.get(e.slot);
    if (held !== undefined && held.name !== name) throw new PoolError('SLOT_TAKEN', `the spool already holds another block for slot ${e.slot} (${held.name}): refusing a second block for one slot`, { slot: e.slot });
    const text = JSON.stringify({ slot: e.slot, member: e.member, blockHash: e.blockHash, block: e.payload });
    const file = join(this.dir, name);
    if (held === undefined) {
      const tmp = `${file}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      delivered.set(e.slot, { name, durable: false });
    } else if (held.durable) {
      return handedOver?.();
    } else if (!(await holds(file, e.blockHash))) {
      // Left broken by a crash before its flush (a power cut can keep the name, not the data).
      await writeTextAtomic(file, text, { durable: true });
      delivered.set(e.slot, { name, durable: true });
      return handedOver?.();
    }
    handedOver?.();
    await syncPath(file);
    await syncPath(this.dir);
    delivered.set(e.slot, { name, durable: true });
  }
}

/** Whether a spool file reads back whole, holding this block. */
async function holds(file: string, blockHash: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { blockHash?: unknown }).blockHash === blockHash;
  } catch {
    return false;
  }
}

/**
 * Hands the winner to a relay (the pool's gateway node's helper, `mina-pool relay`) by HTTP
 * POST, with the block hash as `Idempotency-Key`; a 2xx or a 409 (already have it) confirms
 * delivery, a 409 `SLOT_TAKEN` (another block holds the slot) is a failure.
 *
 * It posts with `node:http` over a kept-alive connection rather than `fetch`: with `fetch`,
 * each request's objects outlived the scavenges and were promoted to the old generation (about
 * 10 KB a request, 36 KB with a block, measured), so the full collections, which stall an
 * emitter's event loop, came sooner.
 */
export class HttpSink implements Sink {
  readonly name: string;
  private readonly target: URL;
  private readonly agent: HttpAgent;

  constructor(readonly url: string, private readonly timeoutMs = 5_000) {
    this.name = `relay ${url}`;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new InputError(`the relay's URL ${JSON.stringify(url)} is not a URL`, { url });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new InputError(`the relay's URL ${JSON.stringify(url)} must start with http:// or https://`, { url });
    this.target = target;
    this.agent = target.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  async deliver(e: Emission, handedOver?: () => void): Promise<void> {
    const body = JSON.stringify({ slot: e.slot, member: e.member, blockHash: e.blockHash, block: e.payload });
    let answer: { status: number; text: string };
    try {
      answer = await this.post(body, e.blockHash);
    } catch (cause) {
      throw new FetchError(`the relay at ${this.url} did not answer: ${(cause as Error | undefined)?.message ?? String(cause)}`, { url: this.url, slot: e.slot }, { cause });
    }
    if (answer.status === 409) {
      // 409: the relay has this block already, unless it says it holds another one for the slot.
      const refusal = parseJsonOrUndefined(answer.text) as { code?: unknown; message?: unknown } | undefined;
      if (refusal?.code === 'SLOT_TAKEN') throw new FetchError(`the relay at ${this.url} holds another block for slot ${e.slot}: ${String(refusal.message ?? '')}`, { url: this.url, slot: e.slot, status: 409 });
    } else if (answer.status < 200 || answer.status > 299) throw new FetchError(`the relay at ${this.url} refused slot ${e.slot}: HTTP ${answer.status}`, { url: this.url, slot: e.slot, status: answer.status });
    handedOver?.();
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /**
   * One POST, its answer read to the end; on a kept-alive connection that the relay had
   * closed meanwhile (a reset before any answer), once more on a new one: the relay takes the
   * same block twice as once (`Idempotency-Key`).
   */
  private async post(body: string, idempotencyKey: string): Promise<{ status: number; text: string }> {
    try {
      return await this.postOnce(body, idempotencyKey);
    } catch (e) {
      if ((e as { reusedSocket?: boolean }).reusedSocket) return this.postOnce(body, idempotencyKey);
      throw e;
    }
  }

  private postOnce(body: string, idempotencyKey: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const send = this.target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(this.target, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'idempotency-key': idempotencyKey },
      });
      let answered = false;
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.once('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        res.once('close', () => {
          clearTimeout(timer);
          if (!res.complete) reject(new Error('the connection closed before the answer was whole'));
        });
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        // Only a reset before any answer on a reused connection is worth a second try.
        reject(Object.assign(err, { reusedSocket: req.reusedSocket && !answered && /ECONNRESET|EPIPE|socket hang up/.test(`${(err as NodeJS.ErrnoException).code} ${err.message}`) }));
      });
      req.end(body);
    });
  }
}
