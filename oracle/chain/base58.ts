import { sha256 } from '@noble/hashes/sha2';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const DIGIT = new Map([...ALPHABET].map((c, i) => [c, BigInt(i)]));

/** Version bytes of Mina's base58check encodings used here. */
export const MinaVersion = {
  /** `3N…` state hashes: version 0x10, then bin_prot's version byte 0x01. */
  stateHash: [0x10, 0x01],
  /** `48H…` VRF outputs: version 0x15, then bin_prot's string length 32. */
  vrfTruncatedOutput: [0x15, 0x20],
  /** `2v…` epoch seeds: version 0x0d, then bin_prot's version byte 0x01. */
  epochSeed: [0x0d, 0x01],
  /** `B62…` public keys: version 0xcb, bin_prot's version byte 0x01 twice (key, then point), then x and isOdd. */
  publicKey: [0xcb, 0x01, 0x01],
  /** `EK…` private keys: version 0x5a, then bin_prot's version byte 0x01. */
  privateKey: [0x5a, 0x01],
} as const;

function checksum(body: Uint8Array): Uint8Array {
  return sha256(sha256(body)).slice(0, 4);
}

/** Encodes bytes as base58check: version bytes, payload, 4-byte double-SHA256 checksum. */
export function encodeBase58Check(version: readonly number[], payload: Uint8Array): string {
  const body = Uint8Array.from([...version, ...payload]);
  const bytes = Uint8Array.from([...body, ...checksum(body)]);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/**
 * Decodes a base58check string, checks its checksum and version bytes, and returns the payload.
 * Returns `undefined` (never throws) when the string is not a valid encoding of that version.
 */
export function decodeBase58Check(text: string, version: readonly number[]): Uint8Array | undefined {
  let n = 0n;
  for (const c of text) {
    const d = DIGIT.get(c);
    if (d === undefined) return undefined;
    n = n * 58n + d;
  }
  const digits: number[] = [];
  while (n > 0n) {
    digits.unshift(Number(n & 255n));
    n >>= 8n;
  }
  for (const c of text) {
    if (c !== '1') break;
    digits.unshift(0);
  }
  const bytes = Uint8Array.from(digits);
  if (bytes.length < version.length + 4) return undefined;
  const body = bytes.slice(0, -4);
  const sum = checksum(body);
  if (!sum.every((b, i) => b === bytes[bytes.length - 4 + i])) return undefined;
  if (!version.every((v, i) => body[i] === v)) return undefined;
  return body.slice(version.length);
}

/** Little-endian bytes → unsigned integer. */
export function bytesToBigIntLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  return n;
}

/** Unsigned integer → `length` little-endian bytes (the integer must fit). */
export function bigIntToBytesLE(value: bigint, length: number): Uint8Array {
  if (value < 0n || value >> BigInt(8 * length) !== 0n) {
    throw new RangeError(`${value} does not fit in ${length} bytes`);
  }
  const out = new Uint8Array(length);
  let n = value;
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 255n);
    n >>= 8n;
  }
  return out;
}

/** The base field of Pallas (Mina's `Field`): state hashes are elements of it. */
export const PALLAS_FIELD_MODULUS = 0x40000000000000000000000000000000224698fc094cf91b992d30ed00000001n;

/**
 * Decodes a Mina state hash (`3N…`) to the field element it encodes, or `undefined`
 * when the text is not one.
 *
 * @example
 * stateHashToField('3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP') // → 0x…n
 */
export function stateHashToField(stateHash: string): bigint | undefined {
  const payload = decodeBase58Check(stateHash, MinaVersion.stateHash);
  if (payload === undefined || payload.length !== 32) return undefined;
  const value = bytesToBigIntLE(payload);
  return value < PALLAS_FIELD_MODULUS ? value : undefined;
}

/** Encodes a field element as a Mina state hash (`3N…`). */
export function fieldToStateHash(value: bigint): string {
  if (value < 0n || value >= PALLAS_FIELD_MODULUS) throw new RangeError('not a field element');
  return encodeBase58Check(MinaVersion.stateHash, bigIntToBytesLE(value, 32));
}
