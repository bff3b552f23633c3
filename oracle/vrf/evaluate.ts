import { LEDGER_DEPTH } from '../../contracts/vrf-params.js';
import { bytesToBigIntLE, decodeBase58Check, MinaVersion } from '../chain/base58.js';
import { loadO1jsModule } from '../chain/o1js-internals.js';
import { P, Q } from '../crypto/pallas.js';
import { permuteWasm, scaleWasm } from '../crypto/kimchi-wasm.js';
import { prefixedHash } from '../crypto/poseidon.js';
import { InputError, quoteShort } from '../errors.js';
import { VRF_TRUNCATED_LIMIT } from './output.js';

/**
 * Mina's slot-lottery VRF, off circuit (`consensus_vrf.ml`, `vrf_lib/integrated.ml`):
 *
 *     packed = slot·2^35 + (index's 35 bits reversed)
 *     H      = GroupMap(Poseidon_MinaVrfMessage([seed, packed]))
 *     U      = sk · H
 *     out    = Poseidon_MinaVrfOutput([seed, U.x, U.y, packed]);  trunc = out mod 2^253
 *
 * with Mina's group map (the snarky map as o1js's bindings hold it, y as the field's
 * Tonelli–Shanks square root returns it: no parity normalisation), the permutation and the
 * scalar multiplication in kimchi's wasm. It reproduces the published vectors (`MINA-VRF.md`).
 */

/** Global slots are unsigned 32-bit numbers. */
export const MAX_SLOT = 2 ** 32 - 1;
export const MAX_INDEX = 2 ** LEDGER_DEPTH - 1;

// The permutation and the scalar multiplication run in kimchi's wasm (2× the bigint versions).
const messageHash = prefixedHash('MinaVrfMessage******', permuteWasm);
const outputHash = prefixedHash('MinaVrfOutput*******', permuteWasm);
const seedHash = prefixedHash('MinaEpochSeed*******', permuteWasm);

interface GroupMap {
  potentialXs(t: bigint): bigint[];
}
const { GroupMapPallas } = await loadO1jsModule<{ GroupMapPallas: GroupMap }>('bindings/crypto/elliptic-curve.js');
/** The field's Tonelli–Shanks square root (`undefined` for a non-square): the root Mina's and o1js's `sqrt` return. */
const { Fp } = await loadO1jsModule<{ Fp: { sqrt(x: bigint): bigint | undefined } }>('bindings/crypto/finite-field.js');


/** The message's packed field: the slot above the index's 35 bits, which go in reversed (bit 0 highest). */
export function packMessage(slot: number, index: number): bigint {
  checkSlotAndIndex(slot, index);
  let reversed = 0n;
  for (let i = 0, n = BigInt(index); i < LEDGER_DEPTH; i++, n >>= 1n) reversed |= (n & 1n) << BigInt(LEDGER_DEPTH - 1 - i);
  return (BigInt(slot) << BigInt(LEDGER_DEPTH)) | reversed;
}

function checkSlotAndIndex(slot: number, index: number): void {
  if (!Number.isSafeInteger(slot) || slot < 0 || slot > MAX_SLOT) throw new RangeError(`slot must be an integer from 0 to ${MAX_SLOT}, not ${slot}`);
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_INDEX) throw new RangeError(`index must be an integer from 0 to ${MAX_INDEX} (a 35-bit ledger index), not ${index}`);
}

/** Mina's group map: the first of the three candidate x (BW19) with x³ + 5 a square, and its root. */
export function groupMap(t: bigint): { x: bigint; y: bigint } {
  for (const x of GroupMapPallas.potentialXs(t)) {
    // The map's own decode tests squareness first, then takes the root: one exponentiation saved.
    const y = Fp.sqrt((((x * x) % P) * x + 5n) % P);
    if (y !== undefined) return { x, y };
  }
  // One of the three is always a square (x1·x2·x3 relation of the map): unreachable.
  throw new Error(`the group map found no point for ${t}`);
}

export interface VrfEvaluation {
  /** The full output (a field element): the next epoch seed hashes this one. */
  output: bigint;
  /** `output mod 2^253`: what the threshold compares and blocks carry. */
  truncated: bigint;
  /** The message's point `H` and the evaluation `U = sk·H`. */
  hashPoint: { x: bigint; y: bigint };
  evaluation: { x: bigint; y: bigint };
  packed: bigint;
}

/** Evaluates the VRF of private scalar `sk` for (seed, slot, index). */
export function evaluateVrf(sk: bigint, seed: bigint, slot: number, index: number): VrfEvaluation {
  if (sk <= 0n || sk >= Q) throw new RangeError('the private key must be a nonzero Pallas scalar');
  if (seed < 0n || seed >= P) throw new RangeError('the seed must be a field element');
  const packed = packMessage(slot, index);
  const hashPoint = groupMap(messageHash([seed, packed]));
  const evaluation = scaleWasm(hashPoint, sk);
  if (evaluation === null) throw new Error('sk·H is the point at infinity'); // sk < order and H ≠ O: unreachable
  const output = outputHash([seed, evaluation.x, evaluation.y, packed]);
  return { output, truncated: output % VRF_TRUNCATED_LIMIT, hashPoint, evaluation, packed };
}

/** The next epoch's seed from a block's full VRF output (`MinaEpochSeed`). */
export function nextEpochSeed(seed: bigint, output: bigint): bigint {
  return seedHash([seed, output]);
}

/** An epoch seed as a decimal field element or base58 (`2v…`). */
export function parseSeed(text: string): bigint {
  const t = text.trim();
  let value: bigint | undefined;
  if (/^\d{1,78}$/.test(t)) {
    value = BigInt(t);
  } else {
    const payload = decodeBase58Check(t, MinaVersion.epochSeed);
    if (payload?.length === 32) value = bytesToBigIntLE(payload);
  }
  if (value === undefined) throw new InputError(`the seed is neither a decimal field element nor a base58 epoch seed (2v…): ${quoteShort(t)}`, {});
  if (value >= P) throw new InputError('the seed is not below the field modulus', {});
  return value;
}
