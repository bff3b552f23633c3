import { PALLAS_FIELD_MODULUS } from '../chain/base58.js';

/**
 * Pallas (y² = x³ + 5 over P), Mina's curve, on plain bigints: Jacobian doubling and mixed
 * addition, batch conversion to affine, fixed-base tables of a point's multiples for keys seen
 * again (`k·16^i·P`, k < 16, i < 64: a scalar multiplication is then 64 additions and no
 * doublings). Used by the emitter's signature check and keys; the tests compare them with
 * o1js.
 */

/** Pallas's base field modulus. */
export const P = PALLAS_FIELD_MODULUS;
/** Pallas's scalar field modulus (the group's order). */
export const Q = 0x40000000000000000000000000000000224698fc0994a8dd8c46eb2100000001n;
/** o1js's generator of Pallas (the "Mina" generator). */
export const G = { x: 1n, y: 0x1b74b5a30a12937c53dfa9f06378ee548f655bd4333d477119cf7a23caed2abbn };

export type Affine = { x: bigint; y: bigint } | null;
export type Jacobian = { x: bigint; y: bigint; z: bigint };

export const mod = (a: bigint) => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

export function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

export const inv = (a: bigint) => pow(a, P - 2n);

export const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

export function double(p: Jacobian): Jacobian {
  if (p.z === 0n || p.y === 0n) return INFINITY;
  // dbl-2009-l (a = 0)
  const a = (p.x * p.x) % P;
  const b = (p.y * p.y) % P;
  const c = (b * b) % P;
  const d = mod(2n * ((p.x + b) ** 2n - a - c));
  const e = (3n * a) % P;
  const f = (e * e) % P;
  const x = mod(f - 2n * d);
  const y = mod(e * (d - x) - 8n * c);
  const z = (2n * p.y * p.z) % P;
  return { x, y, z };
}

/** Jacobian + affine (madd-2007-bl), complete for the cases a table lookup meets. */
export function addAffine(p: Jacobian, q: Affine): Jacobian {
  if (q === null) return p;
  if (p.z === 0n) return { x: q.x, y: q.y, z: 1n };
  const z1z1 = (p.z * p.z) % P;
  const u2 = (q.x * z1z1) % P;
  const s2 = (q.y * p.z * z1z1) % P;
  const h = mod(u2 - p.x);
  const r0 = mod(s2 - p.y);
  if (h === 0n) return r0 === 0n ? double(p) : INFINITY;
  const hh = (h * h) % P;
  const i = (4n * hh) % P;
  const j = (h * i) % P;
  const r = (2n * r0) % P;
  const v = (p.x * i) % P;
  const x = mod(r * r - j - 2n * v);
  const y = mod(r * (v - x) - 2n * p.y * j);
  const z = mod((p.z + h) ** 2n - z1z1 - hh);
  return { x, y, z };
}

export function toAffine(p: Jacobian): Affine {
  if (p.z === 0n) return null;
  const zi = inv(p.z);
  const zi2 = (zi * zi) % P;
  return { x: (p.x * zi2) % P, y: (p.y * zi2 * zi) % P };
}

/** Affine forms of many points with one inversion (Montgomery's trick). */
export function toAffineAll(points: Jacobian[]): Affine[] {
  const prefix: bigint[] = [];
  let acc = 1n;
  for (const p of points) {
    prefix.push(acc);
    if (p.z !== 0n) acc = (acc * p.z) % P;
  }
  let invAcc = inv(acc);
  const out: Affine[] = new Array(points.length);
  for (let i = points.length - 1; i >= 0; i--) {
    const p = points[i]!;
    if (p.z === 0n) {
      out[i] = null;
      continue;
    }
    const zi = (invAcc * prefix[i]!) % P;
    invAcc = (invAcc * p.z) % P;
    const zi2 = (zi * zi) % P;
    out[i] = { x: (p.x * zi2) % P, y: (p.y * zi2 * zi) % P };
  }
  return out;
}

/** `table[i][k] = k · 16^i · point`, for the 64 four-bit windows of a scalar. */
export function windowTable(point: { x: bigint; y: bigint }): Affine[][] {
  const jacobian: Jacobian[] = [];
  let base: Affine = point;
  for (let i = 0; i < 64; i++) {
    // Row i in Jacobian form, then affine at once; 16 · base starts the next row.
    const row: Jacobian[] = [INFINITY, { x: base!.x, y: base!.y, z: 1n }];
    for (let k = 2; k <= 16; k++) row.push(addAffine(row[k - 1]!, base));
    const affine = toAffineAll(row);
    jacobian.push(...row.slice(0, 16));
    base = affine[16]!;
  }
  const affine = toAffineAll(jacobian);
  return Array.from({ length: 64 }, (_, i) => affine.slice(16 * i, 16 * i + 16));
}

export function multiply(table: Affine[][], scalar: bigint): Jacobian {
  let acc = INFINITY;
  for (let i = 0, s = scalar; s > 0n; i++, s >>= 4n) acc = addAffine(acc, table[i]![Number(s & 15n)]!);
  return acc;
}

let generator: Affine[][] | undefined;
/** The generator's table (see {@link windowTable}), built on first use (about 16 ms) and kept. */
export function generatorTable(): Affine[][] {
  generator ??= windowTable(G);
  return generator;
}
