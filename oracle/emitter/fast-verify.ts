import { PublicKey, Signature } from 'o1js';
import { P, addAffine, generatorTable, mod, multiply, toAffine, windowTable, type Affine } from '../crypto/pallas.js';
import { prefixedHash } from '../crypto/poseidon.js';

/**
 * o1js's `Signature.verify` (Schnorr over Pallas, message hashed with Poseidon), computed
 * faster for keys seen again: the emitter checks the same few members' signatures over and
 * over, so each key's point gets a table of its multiples (`k·16^i·P`, k < 16, i < 64) once,
 * and a check is then 128 point additions and one inversion, with no doublings — about
 * 10× less than o1js's general scalar multiplication; the hash is Poseidon on plain bigints
 * (`../crypto/poseidon.ts`). The answers are o1js's: the tests compare both on valid,
 * altered and foreign signatures, and the hash on random inputs.
 */

/** The prefix o1js's `Signature.verify` hashes with (`signaturePrefix('devnet')`). */
const PREFIX = 'CodaSignature*******';
/** `Poseidon.hashWithPrefix(PREFIX, input)`, on bigints (each input below P). */
export const hashWithSignaturePrefix = prefixedHash(PREFIX);

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
  const sum = addAffine(multiply(generatorTable(), s), hp === null ? null : { x: hp.x, y: (hp.y * NEG_ONE) % P });
  const R = toAffine(sum);
  return R !== null && R.x === r && (R.y & 1n) === 0n;
}
