import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PublicKey, Signature } from 'o1js';

/**
 * o1js's `Signature.verify` (Schnorr over Pallas, message hashed with Poseidon), computed
 * faster for keys seen again: the emitter checks the same few members' signatures over and
 * over, so each key's point gets a table of its multiples (`k·16^i·P`, k < 16, i < 64) once,
 * and a check is then 128 point additions and one inversion, with no doublings — about
 * 10× less than o1js's general scalar multiplication. The hash is Kimchi's Poseidon on plain
 * bigints, from the state after the signature prefix (computed once), with o1js's own round
 * constants: o1js's `Field` version allocates several objects per operation, which the
 * event loop pays for in garbage-collection pauses. The answers are o1js's: the tests
 * compare both on valid, altered and foreign signatures, and the hash on random inputs.
 */

const P = 0x40000000000000000000000000000000224698fc094cf91b992d30ed00000001n;
/** o1js's generator of Pallas (the "Mina" generator). */
const G = { x: 1n, y: 0x1b74b5a30a12937c53dfa9f06378ee548f655bd4333d477119cf7a23caed2abbn };
/** The prefix o1js's `Signature.verify` hashes with (`signaturePrefix('devnet')`). */
const PREFIX = 'CodaSignature*******';

type Affine = { x: bigint; y: bigint } | null;
type Jacobian = { x: bigint; y: bigint; z: bigint };

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
const o1jsDir = dirname(createRequire(import.meta.url).resolve('o1js'));
const { poseidonParamsKimchiFp: KIMCHI } = (await import(pathToFileURL(join(o1jsDir, 'bindings', 'crypto', 'constants.js')).href)) as { poseidonParamsKimchiFp: PoseidonParams };
if (KIMCHI.partialRounds !== 0 || KIMCHI.hasInitialRoundConstant || KIMCHI.stateSize !== 3 || KIMCHI.rate !== 2 || KIMCHI.power !== 7) {
  throw new Error('o1js\'s Poseidon parameters are not the ones this module computes with (3 wide, rate 2, x^7, full rounds only)');
}
const RC = KIMCHI.roundConstants.map((r) => r.map(BigInt));
const [[M00, M01, M02], [M10, M11, M12], [M20, M21, M22]] = KIMCHI.mds.map((r) => r.map(BigInt)) as [[bigint, bigint, bigint], [bigint, bigint, bigint], [bigint, bigint, bigint]];
const ROUNDS = KIMCHI.fullRounds;

const sbox = (x: bigint) => {
  const x2 = (x * x) % P;
  const x4 = (x2 * x2) % P;
  return (((x4 * x2) % P) * x) % P;
};

/** Kimchi's permutation (x^7, MDS, then the round's constants; no initial constant), in place. */
function permute(s: bigint[]): void {
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
function absorb(state: readonly bigint[], input: readonly bigint[]): bigint[] {
  const s = [...state];
  if (input.length === 0) permute(s);
  for (let i = 0; i < input.length; i += 2) {
    s[0] = (s[0]! + input[i]!) % P;
    s[1] = (s[1]! + (input[i + 1] ?? 0n)) % P;
    permute(s);
  }
  return s;
}

/** A prefix as Mina turns it into a field element (`Random_oracle.prefix_to_field`): its ASCII bytes, little-endian. */
const prefixField = (prefix: string) => BigInt('0x' + (Buffer.from(prefix, 'ascii').reverse().toString('hex') || '0'));

/** The sponge's state after the signature prefix, which every message starts from. */
const PREFIX_STATE = absorb([0n, 0n, 0n], [prefixField(PREFIX)]);

/** `Poseidon.hashWithPrefix(PREFIX, input)`, on bigints (each input below P). */
export function hashWithSignaturePrefix(input: readonly bigint[]): bigint {
  return absorb(PREFIX_STATE, input)[0]!;
}

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
  // Field(f) reduces modulo P, so the same is done here.
  const h = hashWithSignaturePrefix([...fields.map(mod), point.x, point.y, r]);
  // R = s·G − h·PK = s·G + h·(−PK): negate the sum's y of h·PK.
  const hp = toAffine(multiply(table, h));
  const sum = addAffine(multiply(G_TABLE, s), hp === null ? null : { x: hp.x, y: (hp.y * NEG_ONE) % P });
  const R = toAffine(sum);
  return R !== null && R.x === r && (R.y & 1n) === 0n;
}
