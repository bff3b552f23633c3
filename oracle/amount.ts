import { InputError } from './errors.js';

/** Nanomina in one MINA. */
export const NANO_PER_MINA = 1_000_000_000n;

/** A MINA amount written in decimal ("372093", "0.000001", "12.5") → nanomina, or `undefined`. */
export function minaToNano(text: string): bigint | undefined {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) return undefined;
  return BigInt(m[1]!) * NANO_PER_MINA + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Like {@link minaToNano}, but a bad amount is an {@link InputError} naming `field`. */
export function requireMina(text: string, field: string): bigint {
  const nano = minaToNano(text);
  if (nano === undefined) throw new InputError(`${field}: expected an amount of MINA such as 12.5, got ${JSON.stringify(text)}`, { field });
  return nano;
}

/** Nanomina → MINA in decimal, without trailing zeros ("4.166666666", "2"). */
export function nanoToMina(nano: bigint): string {
  const fraction = (nano % NANO_PER_MINA).toString().padStart(9, '0').replace(/0+$/, '');
  return `${nano / NANO_PER_MINA}${fraction ? '.' + fraction : ''}`;
}
