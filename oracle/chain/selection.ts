import { blake2b } from '@noble/hashes/blake2b';
import { bigIntToBytesLE, stateHashToField } from './base58.js';

/** What Mina's chain selection reads of two blocks of equal length. */
export interface SelectionKey {
  vrfOutput: bigint;
  stateHash: string;
}

/** Blake2b-256 of a truncated VRF output's 32 little-endian bytes. */
export function vrfDigest(vrfOutput: bigint): Uint8Array {
  return blake2b(bigIntToBytesLE(vrfOutput, 32), { dkLen: 32 });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Mina's tie-break between two chains of equal length: the larger Blake2b of the last
 * VRF output wins, then the larger state hash. Returns > 0 when `a` wins.
 */
export function compareForSelection(a: SelectionKey, b: SelectionKey): number {
  const byVrf = compareBytes(vrfDigest(a.vrfOutput), vrfDigest(b.vrfOutput));
  if (byVrf !== 0) return byVrf;
  const fa = stateHashToField(a.stateHash) ?? 0n;
  const fb = stateHashToField(b.stateHash) ?? 0n;
  return fa === fb ? 0 : fa > fb ? 1 : -1;
}
