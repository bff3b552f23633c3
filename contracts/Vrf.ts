import { Bool, Field, Group, Poseidon, PrivateKey, Provable, PublicKey, Struct, UInt32, UInt64, ZkProgram } from 'o1js';
import { LEDGER_DEPTH, THRESHOLD_COEFFICIENTS, THRESHOLD_TERM_BITS } from './vrf-params.js';

/**
 * Mina's slot-lottery VRF as a circuit: the same steps as `oracle/vrf/evaluate.ts`, with the
 * producer's private key as a private input, so a proof shows that a public output is this
 * key's VRF output for (seed, slot, index) and, with the account's stake and the ledger's
 * total, whether it wins.
 *
 * The group map is pinned completely. Mina's own circuit (`snarky_group_map/checked_map.ml`)
 * proves which of the three candidate x it takes (a witnessed root of f(x) or of 5·f(x), 5
 * being a non-residue) but lets the prover pick either root y, hence either of two outputs.
 * Here y must also be the root Tonelli–Shanks returns off circuit: with P − 1 = 2^32·ODD and
 * c = 5^ODD, that root is f^((ODD+1)/2)·c^s for some s < 2^31, and of y and −y exactly one has
 * that form (−1 = c^(2^31)), so s is witnessed as 31 bits.
 */

const P = Field.ORDER;
const TWO_ADICITY = 32;
const ODD = (P - 1n) >> BigInt(TWO_ADICITY);
export const HALF_ODD_PLUS_ONE = (ODD + 1n) >> 1n;
/** `b^e mod P` on bigints (for witnesses). */
export const powMod = (b: bigint, e: bigint) => {
  let r = 1n;
  for (b %= P; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
};
/** Euler's criterion: whether `x` is a square modulo P (0 is). */
export const isSquareP = (x: bigint) => x === 0n || powMod(x, (P - 1n) / 2n) === 1n;
/** c = 5^ODD and its powers c^(2^i), i < 31. */
export const C_POWERS = Array.from({ length: 31 }, (_, i) => powMod(powMod(5n, ODD), 1n << BigInt(i)));

/** Mina's group map constants (`crypto_params/gen/gen.ml`): conic c = 3, u = 2, projection point (z0, 1). */
const CONIC_C = 3n;
const Z0 = 12196889842669319921865617096620076994180062626450149327690483414064673774441n;

/** `x^e` for a constant exponent (square and multiply, most significant bit first). */
function powConst(x: Field, e: bigint): Field {
  let r = Field(1);
  for (const bit of e.toString(2)) {
    r = r.square();
    if (bit === '1') r = r.mul(x);
  }
  return r;
}

/** The message's packed field: the slot (a UInt32) above the index's 35 bits, reversed; the index is range-checked here. */
export function packMessage(slot: UInt32, index: Field): Field {
  const bits = index.toBits(LEDGER_DEPTH);
  return slot.value.mul(2n ** BigInt(LEDGER_DEPTH)).add(Field.fromBits(bits.reverse()));
}

/**
 * The s < 2^31 with y = r·c^s, for a square root y of f and r = f^((ODD+1)/2): y / r is a
 * 2^32-th root of unity c^s, and s comes out bit by bit from the lowest (a discrete log in a
 * 2-group: c^(2^31) = −1). Throws if no 31-bit s exists (y is the other root).
 */
export function rootExponent(y: bigint, r: bigint): bigint {
  let target = (y * powMod(r, P - 2n)) % P;
  let s = 0n;
  for (let i = 0; i < 31; i++) {
    if (powMod(target, 1n << BigInt(31 - i)) !== 1n) {
      s |= 1n << BigInt(i);
      target = (target * powMod(C_POWERS[i]!, P - 2n)) % P;
    }
  }
  if (target !== 1n) throw new Error('this root is not r·c^s for any s < 2^31');
  return s;
}

/**
 * Witness values a dishonest prover could choose instead of the honest ones (tests use it to
 * show the constraints refuse them): which candidates it calls squares, the root, the exponent s.
 */
export interface GroupMapWitness {
  isSquare?: [boolean, boolean, boolean];
  /** The exponent s of the root r·c^s, instead of the one that gives Tonelli–Shanks's root. */
  rootExponent?: bigint;
}

/** Tonelli–Shanks's root of `f` (f a nonzero square), pinned as described above. */
function pinnedRoot(f: Field, cheat?: GroupMapWitness): Field {
  const sBits = Provable.witness(Provable.Array(Bool, 31), () => {
    if (cheat?.rootExponent !== undefined) return Array.from({ length: 31 }, (_, i) => new Bool(((cheat.rootExponent! >> BigInt(i)) & 1n) === 1n));
    // s for the root y that o1js's sqrt returns.
    const fv = f.toBigInt();
    const s = rootExponent(Field(fv).sqrt().toBigInt(), powMod(fv, HALF_ODD_PLUS_ONE));
    return Array.from({ length: 31 }, (_, i) => new Bool(((s >> BigInt(i)) & 1n) === 1n));
  });
  let y = powConst(f, HALF_ODD_PLUS_ONE);
  sBits.forEach((bit, i) => {
    y = y.mul(Provable.if(bit, Field(C_POWERS[i]!), Field(1)));
  });
  y.square().assertEquals(f, 'the root is not a square root');
  return y;
}

/** Mina's group map: the first of three candidate x with x³ + 5 a square, and its pinned root. */
export function groupMap(t: Field, cheat?: GroupMapWitness): Group {
  // field_to_conic, conic_to_s, the three candidates (o1js's GroupMap.create, with y0 = 1, u = 2).
  const ct = t.mul(CONIC_C);
  const d = ct.add(Z0).div(ct.mul(t).add(1));
  const s = d.mul(2);
  const z = Field(Z0).sub(s);
  const yc = Field(1).sub(s.mul(t));
  const v = z.div(yc).sub(1);
  const xs = [v, v.add(2).neg(), yc.square().add(2)];
  // For each: a witnessed root of f(x) when it is a square, of 5·f(x) when it is not.
  const square = xs.map((x, i) => {
    const f = x.square().mul(x).add(5);
    const isSquare = Provable.witness(Bool, () => new Bool(cheat?.isSquare?.[i] ?? isSquareP(f.toBigInt())));
    const target = Provable.if(isSquare, f, f.mul(5));
    const root = Provable.witness(Field, () => {
      const tv = target.toBigInt();
      // A non-square has no root: an honest prover never gets here, a dishonest one gets 0.
      return isSquareP(tv) ? Field(tv).sqrt() : Field(0);
    });
    root.square().assertEquals(target, 'the group map candidate is not decided');
    return { x, f, isSquare };
  });
  const [a, b, c] = square as [(typeof square)[0], (typeof square)[0], (typeof square)[0]];
  a.isSquare.or(b.isSquare).or(c.isSquare).assertTrue('no candidate is a square');
  const x = Provable.if(a.isSquare, a.x, Provable.if(b.isSquare, b.x, c.x));
  const f = Provable.if(a.isSquare, a.f, Provable.if(b.isSquare, b.f, c.f));
  return new Group({ x, y: pinnedRoot(f, cheat) });
}

/** The full VRF output of `sk` for (seed, slot, index). */
export function vrfOutput(sk: PrivateKey, seed: Field, slot: UInt32, index: Field): Field {
  const packed = packMessage(slot, index);
  const h = groupMap(Poseidon.hashWithPrefix('MinaVrfMessage******', [seed, packed]));
  const u = h.scale(sk.s);
  return Poseidon.hashWithPrefix('MinaVrfOutput*******', [seed, u.x, u.y, packed]);
}

/** `out mod 2^253`, with the split proven unique (out = hi·2^253 + trunc as integers below P). */
export function truncate(out: Field): Field {
  const hi = Provable.witness(Field, () => Field(out.toBigInt() >> 253n));
  const trunc = Provable.witness(Field, () => Field(out.toBigInt() & ((1n << 253n) - 1n)));
  hi.toBits(2);
  hi.equals(3).assertFalse('the output is not a field element');
  trunc.toBits(253);
  hi.mul(2n ** 253n).add(trunc).assertEquals(out);
  // Only hi = 2 can overflow P; then the low part must stay below P − 2^254.
  Provable.if(hi.equals(2), trunc, Field(0)).assertLessThan(P - 2n ** 254n);
  return trunc;
}

/**
 * Whether a truncated output wins for an account holding `stake` of `total`: trunc ≤ N·2^13,
 * N the protocol's 11-term approximation of 1 − (1/4)^(stake/total) in units of 2^−240.
 */
export function wins(trunc: Field, stake: UInt64, total: UInt64): Bool {
  total.assertGreaterThan(UInt64.zero, 'the total stake must be positive');
  stake.assertLessThanOrEqual(total, 'the stake exceeds the total');
  // q = ⌊stake·2^20 / total⌋, witnessed and checked: q·total ≤ stake·2^20 < (q+1)·total.
  const bits = THRESHOLD_TERM_BITS;
  const q = Provable.witness(Field, () => Field((stake.toBigInt() << bits) / total.toBigInt()));
  // Bounded so that the products below are the integers' (no wrap modulo P).
  q.assertLessThanOrEqual(1n << bits);
  const scaled = stake.value.mul(1n << bits);
  q.mul(total.value).assertLessThanOrEqual(scaled);
  scaled.assertLessThan(q.add(1).mul(total.value));
  const terms = THRESHOLD_COEFFICIENTS.length;
  let n = q.mul(1n << (bits * BigInt(terms)));
  let power = Field(1);
  THRESHOLD_COEFFICIENTS.forEach((c, i) => {
    power = power.mul(q);
    const term = power.mul(1n << (bits * BigInt(terms - 1 - i)));
    n = c >= 0n ? n.add(term.mul(c)) : n.sub(term.mul(-c));
  });
  return trunc.lessThanOrEqual(n.mul(1n << 13n));
}

/** What a VRF proof states: this key's truncated output for (seed, slot, index). */
export class VrfStatement extends Struct({ publicKey: PublicKey, seed: Field, slot: UInt32, index: Field, output: Field }) {}
/** The same, with the account's stake and the ledger's total: this output wins. */
export class WinStatement extends Struct({ vrf: VrfStatement, stake: UInt64, total: UInt64 }) {}

/** The key behind `publicKey` evaluates the VRF to `output` (truncated). */
function evaluate(s: VrfStatement, sk: PrivateKey): void {
  sk.toPublicKey().assertEquals(s.publicKey);
  truncate(vrfOutput(sk, s.seed, s.slot, s.index)).assertEquals(s.output, 'the output is not this key\'s VRF output');
}

/**
 * The VRF as a ZkProgram: `evaluate` proves a public output is the key's VRF output (it does
 * not read the statement's stake and total); `wins` proves it too and that it is below the
 * account's threshold.
 */
export const VrfProgram = ZkProgram({
  name: 'mina-vrf',
  publicInput: WinStatement,
  methods: {
    evaluate: {
      privateInputs: [PrivateKey],
      async method(s: WinStatement, sk: PrivateKey) {
        evaluate(s.vrf, sk);
      },
    },
    wins: {
      privateInputs: [PrivateKey],
      async method(s: WinStatement, sk: PrivateKey) {
        evaluate(s.vrf, sk);
        wins(s.vrf.output, s.stake, s.total).assertTrue('the output does not win for this stake');
      },
    },
  },
});
