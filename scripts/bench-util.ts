import { setPriority } from 'node:os';
import type { PrivateKey } from 'o1js';

/** The nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;

/** A member's signed proposal body for a slot, with a 2 kB block (the benches sign them all before measuring). */
export async function proposalSigner(poolTag: string) {
  const { Field, Signature } = await import('o1js');
  const { fieldToStateHash, stateHashToField } = await import('../oracle/chain/base58.js');
  return (key: PrivateKey, m: number, slot: number) => {
    const blockHash = fieldToStateHash(BigInt(slot) * 1000n + BigInt(m) + 1n);
    const signature = Signature.create(key, [Field(poolTag), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
    return JSON.stringify({ slot, member: key.toPublicKey().toBase58(), blockHash, payload: { note: 'bench block', slot, pad: 'x'.repeat(2000) }, signature });
  };
}

/**
 * The bench's members stand for other machines: once the services under test are up, this
 * process runs below them in the scheduler (on Linux, this thread only).
 */
export function yieldToServices(): void {
  try {
    setPriority(0, 10);
  } catch {
    // not permitted: the members compete with the services
  }
}

/** POSTs a body and reads the answer; the status, or 0 when nothing answered. */
export async function postJson(url: string, body: string): Promise<number> {
  try {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}
