import { bigIntToBytesLE, bytesToBigIntLE, decodeBase58Check, encodeBase58Check, MinaVersion } from '../chain/base58.js';
import { InputError, quoteShort } from '../errors.js';
import { generatorTable, multiply, Q, toAffine } from './pallas.js';

/**
 * Mina key pairs on plain bigints (no o1js load): a private key is a nonzero Pallas scalar
 * `sk`, its public key the point `sk·G`, written as its x and the parity of y. The encodings
 * are o1js's (`EK…`, `B62…`); the tests compare them with o1js.
 */

/** A private key's scalar from its base58 (`EK…`); a wrong text is an {@link InputError} naming the problem. */
export function privateKeyScalar(base58: string): bigint {
  const payload = decodeBase58Check(base58.trim(), MinaVersion.privateKey);
  if (payload === undefined) throw new InputError(`not a Mina private key (EK…, base58check): ${quoteShort(base58)}`, {});
  if (payload.length !== 32) throw new InputError(`a Mina private key holds 32 bytes, this one ${payload.length}`, {});
  const s = bytesToBigIntLE(payload);
  if (s === 0n || s >= Q) throw new InputError('the private key is not a nonzero Pallas scalar', {});
  return s;
}

/** A private key in base58 (`EK…`). */
export function privateKeyToBase58(sk: bigint): string {
  if (sk <= 0n || sk >= Q) throw new RangeError('a private key is a nonzero Pallas scalar');
  return encodeBase58Check(MinaVersion.privateKey, bigIntToBytesLE(sk, 32));
}

/** The public key of `sk`, as a point and in base58 (`B62…`). */
export function publicKeyOf(sk: bigint): { x: bigint; y: bigint; base58: string } {
  if (sk <= 0n || sk >= Q) throw new RangeError('a private key is a nonzero Pallas scalar');
  const point = toAffine(multiply(generatorTable(), sk))!;
  const base58 = encodeBase58Check(MinaVersion.publicKey, Uint8Array.from([...bigIntToBytesLE(point.x, 32), Number(point.y & 1n)]));
  return { ...point, base58 };
}
