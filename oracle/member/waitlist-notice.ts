import { z } from 'zod';
import { sleep } from './blocks.js';

/** The part of `GET /v1/waitlist` a member reads: the producer the next empty slot goes to. */
const viewSchema = z.object({
  slot: z.number().int(),
  next: z.object({ producer: z.string(), slot: z.number().int(), addedSlot: z.number().int(), expiresAfter: z.number().int() }).optional(),
});

export interface WaitlistNotice {
  /** The slot the producer is designated for if it has no canonical block. */
  slot: number;
  lostSlot: number;
  expiresAfter: number;
  text: string;
}

/**
 * Watches the emitter's live waitlist for the member's own producer: each time it reaches the
 * head (an entry: the slot it lost), `onNotice` is called once, with where to read the slot's
 * live commitment to prove against. Stops when `signal` aborts, or at once when the emitter
 * keeps no waitlist (404), which `onStatus` says. Errors are reported once each until it
 * answers again.
 */
export async function watchWaitlist(o: { emitter: string; producer: string; everyMs: number; signal: AbortSignal; onNotice: (n: WaitlistNotice) => void; onStatus: (message: string) => void }): Promise<void> {
  let told = '';
  let failing = '';
  const url = new URL('/v1/waitlist', o.emitter);
  while (!o.signal.aborted) {
    try {
      const response = await fetch(url, { signal: AbortSignal.any([o.signal, AbortSignal.timeout(10_000)]) });
      if (response.status === 404) {
        o.onStatus(`waitlist: the emitter at ${o.emitter} keeps no live waitlist; no backfill notices`);
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const parsed = viewSchema.safeParse(await response.json());
      if (!parsed.success) throw new Error(`not a waitlist (${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message})`);
      failing = '';
      const next = parsed.data.next;
      const head = next?.producer === o.producer ? `${next.addedSlot}` : '';
      if (next && head && head !== told) {
        // `next.slot` is the first slot the waitlist has not settled, usually a few slots back:
        // a slot's designation is fixed only when it comes, so the notice names the route.
        const commitment = new URL('/v1/backfill/', o.emitter).toString();
        o.onNotice({
          slot: next.slot,
          lostSlot: next.addedSlot,
          expiresAfter: next.expiresAfter,
          text: `waitlist: your producer is at the head (it lost slot ${next.addedSlot}): the first empty slot from ${next.slot} until slot ${next.expiresAfter} is designated to it; during a slot, ${commitment}<slot> says whether it is that slot's designated producer and serves the commitment to prove against`,
        });
      }
      told = head;
    } catch (e) {
      if (o.signal.aborted) return;
      const why = `waitlist: cannot read ${url}: ${e instanceof Error ? e.message : String(e)}`;
      if (why !== failing) o.onStatus(why);
      failing = why;
    }
    try {
      await sleep(o.everyMs, o.signal);
    } catch {
      return;
    }
  }
}
