import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Field, PrivateKey, Signature } from 'o1js';
import { verifyFields, warmKeys } from './fast-verify.js';

/**
 * A worker thread that checks (with fast-verify.ts, about 1.3 ms) and makes o1js signatures (about 4 ms), so the
 * emitter's event loop never waits for one. Messages: `{ id, op: 'verify', key, fields,
 * signature }` → `{ id, ok }`; `{ id, op: 'sign', fields }` → `{ id, signature }` (with the
 * key given at start); a failure answers `{ id, error }`.
 */

/** A job for the worker; the pool adds the `id` its answer carries. */
export type CryptoJob = { op: 'verify'; key: string; fields: string[]; signature: string } | { op: 'sign'; fields: string[] } | { op: 'warm'; keys: string[] };
export type CryptoRequest = CryptoJob & { id: number };

export type CryptoResponse = { id: number; ok?: boolean; signature?: string; error?: string };

/**
 * Below the event loop in the scheduler: on Linux a nice value set with pid 0 is this
 * thread's own, so when the cores are busy the service's thread (the slot's winner, the
 * answers to members) runs before the checks of proposals that no longer decide a slot.
 * Elsewhere, or without permission, the worker keeps the default priority.
 */
export const WORKER_NICENESS = 10;
try {
  setPriority(0, WORKER_NICENESS);
} catch {
  // not permitted here: same priority as the event loop
}

const signer = typeof workerData?.signingKey === 'string' ? PrivateKey.fromBase58(workerData.signingKey as string) : undefined;

parentPort!.on('message', (m: CryptoRequest) => {
  let answer: CryptoResponse;
  try {
    if (m.op === 'verify') {
      let ok = false;
      try {
        ok = verifyFields(m.key, m.fields.map((f) => BigInt(f)), m.signature);
      } catch {
        ok = false; // a signature or key that does not decode does not verify
      }
      answer = { id: m.id, ok };
    } else if (m.op === 'warm') {
      warmKeys(m.keys);
      answer = { id: m.id, ok: true };
    } else {
      if (!signer) throw new Error('this worker has no signing key');
      answer = { id: m.id, signature: Signature.create(signer, m.fields.map((f) => Field(f))).toBase58() };
    }
  } catch (e) {
    answer = { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(answer);
});
parentPort!.postMessage({ id: 0, ok: true });
