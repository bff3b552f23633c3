import { bigIntToBytesLE, bytesToBigIntLE, decodeBase58Check, encodeBase58Check, MinaVersion } from '../chain/base58.js';

/** A truncated VRF output is `out mod 2^253`: it always fits in 253 bits. */
export const VRF_TRUNCATED_BITS = 253n;
export const VRF_TRUNCATED_LIMIT = 1n << VRF_TRUNCATED_BITS;

/** Mina's archive encoding of a truncated output: base64url of its 32 little-endian bytes. */
export function vrfOutputToBase64Url(output: bigint): string {
  return Buffer.from(bigIntToBytesLE(output, 32)).toString('base64url') + '=';
}

/** Mina's base58check encoding of a truncated output (`48H…`). */
export function vrfOutputToBase58(output: bigint): string {
  return encodeBase58Check(MinaVersion.vrfTruncatedOutput, bigIntToBytesLE(output, 32));
}

const DECIMAL = /^\d{1,78}$/;
const BASE64URL_32 = /^[A-Za-z0-9_-]{43}=?$/;

/**
 * Parses a truncated VRF output written as a decimal integer, as Mina's archive
 * base64url (32 bytes little-endian) or as Mina's base58check (`48H…`).
 * Returns `undefined` when the text is none of these or the value exceeds 253 bits.
 *
 * @example
 * parseVrfOutput('39cyg4ZmMtnb_aFUIerNAoAJV8qtkfOpq0zFzPspjgM=') // → 0x038e29…n
 */
export function parseVrfOutput(text: string): bigint | undefined {
  let value: bigint | undefined;
  if (DECIMAL.test(text)) {
    value = BigInt(text);
  } else if (BASE64URL_32.test(text)) {
    const bytes = Buffer.from(text.replace(/=$/, ''), 'base64url');
    value = bytes.length === 32 ? bytesToBigIntLE(bytes) : undefined;
  } else if (text.startsWith('48')) {
    const payload = decodeBase58Check(text, MinaVersion.vrfTruncatedOutput);
    value = payload?.length === 32 ? bytesToBigIntLE(payload) : undefined;
  }
  return value !== undefined && value < VRF_TRUNCATED_LIMIT ? value : undefined;
}
