import { join } from 'node:path';
import { Field, type PrivateKey, Signature } from 'o1js';
import { z } from 'zod';
import { stateHashToField } from '../chain/base58.js';
import { verifyReceipt } from '../emitter/receipt.js';
import type { Receipt } from '../emitter/types.js';
import { FetchError } from '../errors.js';
import { writeJsonAtomic } from '../json-file.js';
import { sleep, type ProducedBlock } from './blocks.js';
import { designationOpensAt } from '../emitter/designation.js';

/** What the emitter says about itself (`GET /v1/pool`): what a member signs and when a slot's window closes. */
const poolInfoSchema = z.object({
  poolTag: z.string().regex(/^\d+$/),
  operator: z.string(),
  genesisMs: z.number(),
  slotMs: z.number().int().positive(),
  window: z.object({ earlyMs: z.number(), closeMs: z.number(), cutoffMs: z.number() }),
});
export type PoolInfo = z.infer<typeof poolInfoSchema>;

export async function readPoolInfo(emitter: string, signal?: AbortSignal): Promise<PoolInfo> {
  let response: Response;
  try {
    response = await fetch(new URL('/v1/pool', emitter), { signal: signal ?? AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new FetchError(`the emitter at ${emitter} did not answer: ${e instanceof Error ? e.message : String(e)}`, { url: emitter });
  }
  if (!response.ok) throw new FetchError(`the emitter at ${emitter} answered HTTP ${response.status} to GET /v1/pool: is it a Block Emitter?`, { url: emitter });
  const parsed = poolInfoSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new FetchError(`the emitter at ${emitter} sent an unexpected /v1/pool answer`, { url: emitter });
  return parsed.data;
}

export type DeliveryOutcome =
  | { status: 'accepted'; receipt: Receipt; attempts: number; ms: number }
  | { status: 'refused'; code: string; message: string; attempts: number }
  | { status: 'window-closed'; attempts: number; lastError: string };

export interface DelivererOptions {
  emitter: string;
  info: PoolInfo;
  key: PrivateKey;
  /** Where receipts are kept as evidence (`slot-<slot>-<hash>.json`). */
  receiptsDir?: string;
  now?: () => number;
  /** First retry delay (doubles, at most 5 s). */
  retryMs?: number;
}

/**
 * Signs a produced block as a proposal (`[poolTag, slot, blockHash]`, the message the
 * contracts check) and delivers it to the emitter, retrying on network failures and 5xx
 * until it gets a receipt or the slot's window closes. A refusal (4xx) is final, except a
 * duplicate that carries the first receipt.
 */
export class Deliverer {
  constructor(private readonly o: DelivererOptions) {}

  proposal(block: ProducedBlock & { stateHash: string }, designation?: unknown): Record<string, unknown> {
    const field = stateHashToField(block.stateHash);
    if (field === undefined) throw new Error(`not a state hash: ${block.stateHash}`);
    const signature = Signature.create(this.o.key, [Field(this.o.info.poolTag), Field(block.slot), Field(field)]).toBase58();
    return { slot: block.slot, member: this.o.key.toPublicKey().toBase58(), blockHash: block.stateHash, payload: block.payload, ...(block.vrfOutput ? { vrfOutput: block.vrfOutput } : {}), signature, ...(designation !== undefined ? { designation } : {}) };
  }

  /**
   * `designation`: a designated producer's `DesignatedProducer` proof for the block's slot
   * (`backfill prove --out`), sent with it from a third into the slot (the intake's rule).
   */
  async deliver(block: ProducedBlock & { stateHash: string }, signal?: AbortSignal, designation?: unknown): Promise<DeliveryOutcome> {
    const now = this.o.now ?? Date.now;
    const { info } = this.o;
    const slotStart = info.genesisMs + block.slot * info.slotMs;
    // A designated producer's block has its own window: from a third into the slot to its end.
    const closesAt = slotStart + (designation === undefined ? info.window.closeMs : info.slotMs);
    const opensAt = designation === undefined ? 0 : designationOpensAt(slotStart, info.slotMs);
    const body = JSON.stringify(this.proposal(block, designation));
    const started = now();
    if (now() < opensAt) await sleep(opensAt - now(), signal ?? new AbortController().signal);
    let wait = this.o.retryMs ?? 250;
    let lastError = '';
    for (let attempts = 1; ; attempts++) {
      try {
        const response = await fetch(new URL('/v1/proposals', this.o.emitter), { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: signal ?? AbortSignal.timeout(10_000) });
        const answer = (await response.json().catch(() => ({}))) as { receipt?: Receipt; code?: string; message?: string };
        if (response.ok || (answer.code === 'DUPLICATE' && answer.receipt)) {
          const receipt = answer.receipt!;
          if (!verifyReceipt(receipt, info.operator, info.poolTag)) return { status: 'refused', code: 'BAD_RECEIPT', message: "the emitter's receipt is not signed by the pool's operator", attempts };
          if (this.o.receiptsDir) await writeJsonAtomic(join(this.o.receiptsDir, `slot-${block.slot}-${block.stateHash}.json`), receipt);
          return { status: 'accepted', receipt, attempts, ms: now() - started };
        }
        // Early by the emitter's clock (skew): wait and send again.
        const early = answer.code === 'DESIGNATION_TOO_EARLY';
        if (response.status < 500 && response.status !== 429 && !early) return { status: 'refused', code: answer.code ?? `HTTP_${response.status}`, message: answer.message ?? `HTTP ${response.status}`, attempts };
        lastError = early ? `${answer.code}: ${answer.message ?? ''}` : `HTTP ${response.status}${answer.message ? `: ${answer.message}` : ''}`;
      } catch (e) {
        if (signal?.aborted) return { status: 'window-closed', attempts, lastError: 'stopped' };
        lastError = e instanceof Error ? e.message : String(e);
      }
      if (now() + wait >= closesAt) return { status: 'window-closed', attempts, lastError };
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 5_000);
    }
  }
}
