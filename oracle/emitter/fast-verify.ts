import { Field, Poseidon, PublicKey, Signature } from 'o1js';

/**
 * o1js's `Signature.verify` (Schnorr over Pallas, message hashed with Poseidon), computed
 * faster for keys seen again: the emitter checks the same few members' signatures over and
 * over, so each key's point gets a table of its multiples (`k·16^i·P`, k < 16, i < 64) once,
 * and a check is then 128 point additions and one inversion, with no doublings — about
 * 10× less than o1js's general scalar multiplication. The answers are o1js's: the tests
 * compare both on valid, altered and foreign signatures.
 */

const P = 0x40000000000000000000000000000000224698fc094cf91b992d30ed00000001n;
/** o1js's generator of Pallas (the "Mina" generator). */
const G = { x: 1n, y: 0x1b74b5a30a12937c53dfa9f06378ee548f655bd4333d477119cf7a23caed2abbn };
/** The prefix o1js's `Signature.verify` hashes with (`signaturePrefix('devnet')`). */
const PREFIX = 'CodaSignature*******';

type Affine = { x: bigint; y: bigint } | null;
type Jacobian = { x: bigint; y: bigint; z: bigint };

const mod = (a: bigint) => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

const inv = (a: bigint) => pow(a, P - 2n);

const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

function double(p: Jacobian): Jacobian {
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
function addAffine(p: Jacobian, q: Affine): Jacobian {
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

function toAffine(p: Jacobian): Affine {
  if (p.z === 0n) return null;
  const zi = inv(p.z);
  const zi2 = (zi * zi) % P;
  return { x: (p.x * zi2) % P, y: (p.y * zi2 * zi) % P };
}

/** Affine forms of many points with one inversion (Montgomery's trick). */
function toAffineAll(points: Jacobian[]): Affine[] {
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
function windowTable(point: { x: bigint; y: bigint }): Affine[][] {
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

function multiply(table: Affine[][], scalar: bigint): Jacobian {
  let acc = INFINITY;
  for (let i = 0, s = scalar; s > 0n; i++, s >>= 4n) acc = addAffine(acc, table[i]![Number(s & 15n)]!);
  return acc;
}

const G_TABLE = windowTable(G);
const NEG_ONE = P - 1n;

/** Decoded keys with their tables, most recently used last (a bounded cache). */
const keys = new Map<string, { point: { x: bigint; y: bigint }; table: Affine[][] }>();
const MAX_KEYS = 4096;

function keyOf(base58: string) {
  let k = keys.get(base58);
  if (k) {
    keys.delete(base58);
  } else {
    const g = PublicKey.fromBase58(base58).toGroup();
    const point = { x: g.x.toBigInt(), y: g.y.toBigInt() };
    k = { point, table: windowTable(point) };
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
  }
  keys.set(base58, k);
  return k;
}

/** Prepares the tables of keys ahead of their first signature (the members, at start). */
export function warmKeys(publicKeys: readonly string[]): void {
  for (const k of publicKeys) {
    try {
      keyOf(k);
    } catch {
      // a key that does not decode fails its first check instead
    }
  }
}

/** Whether `signature` (base58) signs `fields` for `publicKey` (B62), exactly as o1js's `Signature.verify` answers. */
export function verifyFields(publicKey: string, fields: readonly bigint[], signature: string): boolean {
  const sig = Signature.fromBase58(signature);
  const r = sig.r.toBigInt();
  const s = sig.s.toBigInt();
  const { point, table } = keyOf(publicKey);
  const h = Poseidon.hashWithPrefix(PREFIX, [...fields.map((f) => Field(f)), Field(point.x), Field(point.y), Field(r)]).toBigInt();
  // R = s·G − h·PK = s·G + h·(−PK): negate the sum's y of h·PK.
  const hp = toAffine(multiply(table, h));
  const sum = addAffine(multiply(G_TABLE, s), hp === null ? null : { x: hp.x, y: (hp.y * NEG_ONE) % P });
  const R = toAffine(sum);
  return R !== null && R.x === r && (R.y & 1n) === 0n;
}
