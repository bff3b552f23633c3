import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { Field, PublicKey, Signature } from 'o1js';
import type { Receipt } from './types.js';

/**
 * Receipts: the emitter's signed statement that it accepted a member's proposal for a
 * slot at a given moment — evidence against the operator in a dispute.
 *
 * An o1js signature costs about 4 ms, as much as checking the member's own; so each
 * receipt is signed with an Ed25519 receipt key (about 0.05 ms), and the operator's Mina key
 * signs that receipt key once at start (the certificate, carried in every receipt). A
 * receipt therefore binds the operator key as firmly as a direct signature would:
 * {@link verifyReceipt} checks both links.
 */

/** Domain tag of a receipt key's certificate (`"receipt-key"` as a number). */
export const RECEIPT_KEY_TAG = BigInt('0x' + Buffer.from('receipt-key').toString('hex'));

/** The message an Ed25519 receipt signature covers. */
export function receiptMessage(poolTag: string, r: Pick<Receipt, 'slot' | 'member' | 'blockHash' | 'receivedAt'>): Buffer {
  return Buffer.from(`mina-pool receipt\n${poolTag}\n${r.slot}\n${r.member}\n${r.blockHash}\n${r.receivedAt}`);
}

/** The fields the operator signs to certify a receipt key (its 32 bytes as two 16-byte numbers). */
export function certificateFields(poolTag: string, receiptKey: string): bigint[] {
  const raw = Buffer.from(receiptKey, 'base64url');
  if (raw.length !== 32) throw new RangeError('a receipt key is 32 bytes');
  return [RECEIPT_KEY_TAG, BigInt(poolTag), BigInt('0x' + raw.subarray(0, 16).toString('hex')), BigInt('0x' + raw.subarray(16).toString('hex'))];
}

/** Signs receipts with an Ed25519 key that the operator certified. */
export class ReceiptSigner {
  private constructor(
    private readonly key: KeyObject,
    readonly receiptKey: string,
    readonly certificate: string,
    readonly operator: string,
    readonly poolTag: string,
  ) {}

  /**
   * A new receipt key, certified by `certify` (the operator's Mina signature over
   * {@link certificateFields}, made on a worker thread).
   */
  static async create(options: { operator: string; poolTag: string; certify: (fields: bigint[]) => Promise<string> }): Promise<ReceiptSigner> {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'jwk' }).x!;
    const certificate = await options.certify(certificateFields(options.poolTag, raw));
    return new ReceiptSigner(privateKey, raw, certificate, options.operator, options.poolTag);
  }

  sign(r: Pick<Receipt, 'slot' | 'member' | 'blockHash' | 'receivedAt'>): Receipt {
    const signature = sign(null, receiptMessage(this.poolTag, r), this.key).toString('base64url');
    return { slot: r.slot, member: r.member, blockHash: r.blockHash, receivedAt: r.receivedAt, operator: this.operator, receiptKey: this.receiptKey, certificate: this.certificate, signature };
  }
}

/** Whether `receipt` was issued by `operator`'s emitter for the pool with `poolTag`. */
export function verifyReceipt(receipt: Receipt, operator: string, poolTag: string): boolean {
  if (receipt.operator !== operator) return false;
  try {
    const certified = Signature.fromBase58(receipt.certificate).verify(PublicKey.fromBase58(operator), certificateFields(poolTag, receipt.receiptKey).map((f) => Field(f))).toBoolean();
    if (!certified) return false;
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: receipt.receiptKey }, format: 'jwk' });
    return verify(null, receiptMessage(poolTag, receipt), key, Buffer.from(receipt.signature, 'base64url'));
  } catch {
    return false;
  }
}

