import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FetchError } from '../errors.js';
import { writeTextAtomicSync } from '../json-file.js';

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
 */
export interface Sink {
  readonly name: string;
  deliver(e: Emission): Promise<void>;
}

/**
 * The default sink: one file per slot in a spool directory (`slot-<slot>-<blockHash>.json`),
 * written atomically and durably, so a reader never sees half a block and a second delivery
 * of the same block finds the file and does nothing. The spool is this emitter's own: it is
 * listed once, then followed in memory.
 */
export class SpoolSink implements Sink {
  readonly name: string;
  /** Slot → file name of the block it holds (from one listing, then kept up to date). */
  private delivered?: Promise<Map<number, string>>;

  constructor(readonly dir: string) {
    this.name = `spool ${dir}`;
  }

  static fileName(slot: number, blockHash: string): string {
    return `slot-${String(slot).padStart(10, '0')}-${blockHash}.json`;
  }

  private list(): Promise<Map<number, string>> {
    this.delivered ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const files = (await readdir(this.dir)).flatMap((f) => {
        const m = /^slot-(\d{10})-.+\.json$/.exec(f);
        return m ? [[Number(m[1]), f] as const] : [];
      });
      return new Map(files);
    })();
    return this.delivered;
  }

  async deliver(e: Emission): Promise<void> {
    const delivered = await this.list();
    const name = SpoolSink.fileName(e.slot, e.blockHash);
    const held = delivered.get(e.slot);
    if (held === name) return;
    if (held !== undefined) throw new Error(`the spool already holds another block for slot ${e.slot} (${held}): refusing a second block for one slot`);
    // Written without leaving this task: the winner reaches the spool before the event loop
    // turns to the other proposals of a burst (a block is a few kB to a few MB; fsync ~1 ms).
    writeTextAtomicSync(join(this.dir, name), JSON.stringify({ slot: e.slot, member: e.member, blockHash: e.blockHash, block: e.payload }));
    delivered.set(e.slot, name);
  }
}

/**
 * Hands the winner to a relay (the pool's gateway node's helper) by HTTP POST, with the
 * block hash as `Idempotency-Key`; a 2xx or a 409 (already have it) confirms delivery.
 */
export class HttpSink implements Sink {
  readonly name: string;
  constructor(readonly url: string, private readonly timeoutMs = 5_000) {
    this.name = `relay ${url}`;
  }

  async deliver(e: Emission): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': e.blockHash },
        body: JSON.stringify({ slot: e.slot, member: e.member, blockHash: e.blockHash, block: e.payload }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new FetchError(`the relay at ${this.url} did not answer: ${cause instanceof Error ? cause.message : String(cause)}`, { url: this.url, slot: e.slot }, { cause });
    }
    if (!response.ok && response.status !== 409) throw new FetchError(`the relay at ${this.url} refused slot ${e.slot}: HTTP ${response.status}`, { url: this.url, slot: e.slot, status: response.status });
  }
}

