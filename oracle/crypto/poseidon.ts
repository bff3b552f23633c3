import { loadO1jsModule } from '../chain/o1js-internals.js';
import { P } from './pallas.js';

/**
 * Kimchi's Poseidon (Mina's hash) on plain bigints, with o1js's own round constants. o1js's
 * `Poseidon` works on `Field` objects and allocates several per operation; the emitter's
 * signature checks and the off-circuit VRF hash thousands of times, so this keeps to bigints
 * and starts each prefixed hash from the state after its prefix, computed once. The tests
 * compare it with `Poseidon.hashWithPrefix` on random inputs.
 */

/** Kimchi's Poseidon parameters over Pallas's base field, as o1js holds them (not in its `exports` map). */
interface PoseidonParams {
  fullRounds: number;
  partialRounds: number;
  hasInitialRoundConstant: boolean;
  stateSize: number;
  rate: number;
  power: number;
  roundConstants: string[][];
  mds: string[][];
}

const { poseidonParamsKimchiFp: KIMCHI } = await loadO1jsModule<{ poseidonParamsKimchiFp: PoseidonParams }>('bindings/crypto/constants.js');
if (KIMCHI.partialRounds !== 0 || KIMCHI.hasInitialRoundConstant || KIMCHI.stateSize !== 3 || KIMCHI.rate !== 2 || KIMCHI.power !== 7) {
  throw new Error("o1js's Poseidon parameters are not the ones this module computes with (3 wide, rate 2, x^7, full rounds only)");
}
const RC = KIMCHI.roundConstants.map((r) => r.map(BigInt));
const [[M00, M01, M02], [M10, M11, M12], [M20, M21, M22]] = KIMCHI.mds.map((r) => r.map(BigInt)) as [[bigint, bigint, bigint], [bigint, bigint, bigint], [bigint, bigint, bigint]];
const ROUNDS = KIMCHI.fullRounds;

const sbox = (x: bigint) => {
  const x2 = (x * x) % P;
  const x4 = (x2 * x2) % P;
  return (((x4 * x2) % P) * x) % P;
};

/** A Poseidon permutation of the 3-element state, in place. */
export type Permutation = (state: bigint[]) => void;

/** Kimchi's permutation (x^7, MDS, then the round's constants; no initial constant), in place. */
export function permute(s: bigint[]): void {
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  for (let r = 0; r < ROUNDS; r++) {
    const x = sbox(a);
    const y = sbox(b);
    const z = sbox(c);
    const k = RC[r]!;
    a = (M00 * x + M01 * y + M02 * z + k[0]!) % P;
    b = (M10 * x + M11 * y + M12 * z + k[1]!) % P;
    c = (M20 * x + M21 * y + M22 * z + k[2]!) % P;
  }
  s[0] = a;
  s[1] = b;
  s[2] = c;
}

/** Absorbs `input` (field elements, below P) into a copy of `state`, two at a time, zero-padded. */
function absorb(state: readonly bigint[], input: readonly bigint[], perm: Permutation = permute): bigint[] {
  const s = [...state];
  if (input.length === 0) perm(s);
  for (let i = 0; i < input.length; i += 2) {
    s[0] = (s[0]! + input[i]!) % P;
    s[1] = (s[1]! + (input[i + 1] ?? 0n)) % P;
    perm(s);
  }
  return s;
}

/** A prefix as Mina turns it into a field element (`Random_oracle.prefix_to_field`): its ASCII bytes, little-endian. */
function prefixToField(prefix: string): bigint {
  if (!/^[\x20-\x7e]{0,31}$/.test(prefix)) throw new RangeError(`a hash prefix is at most 31 printable ASCII characters: ${JSON.stringify(prefix)}`);
  return BigInt('0x' + (Buffer.from(prefix, 'ascii').reverse().toString('hex') || '0'));
}

/**
 * `Poseidon.hashWithPrefix(prefix, ·)` on bigints, with the state after the prefix kept.
 *
 * @example
 * const hash = prefixedHash('MinaVrfOutput*******'); // Mina's prefixes are padded to 20 characters
 * hash([seed, x, y, message]) // → bigint below P
 *
 * `perm` may be another implementation of the same permutation (kimchi's wasm: `kimchi-wasm.ts`).
 */
export function prefixedHash(prefix: string, perm: Permutation = permute): (input: readonly bigint[]) => bigint {
  const start = absorb([0n, 0n, 0n], [prefixToField(prefix)]);
  return (input) => absorb(start, input, perm)[0]!;
}
