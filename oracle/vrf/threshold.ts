/**
 * Mina's slot-lottery threshold, computed exactly as the protocol approximates it
 * (`Threshold.is_satisfied` in consensus_vrf.ml, Taylor series from snarky_taylor):
 * base 1/4 (active-slot coefficient f = 3/4), 20 bits of precision per term, 11 terms.
 */

import { THRESHOLD_COEFFICIENTS as COEFFICIENTS, THRESHOLD_TERM_BITS as PER_TERM_BITS } from '../../contracts/vrf-params.js';

const TERMS = COEFFICIENTS.length;
/** `N` is a fraction in units of 2^−240; a truncated output is one in units of 2^−253. */
const N_FRACTION_BITS = PER_TERM_BITS * BigInt(TERMS + 1);
const OUTPUT_FRACTION_BITS = 253n;

/**
 * The threshold numerator `N` (units of 2^−240) for an account holding `stake` of `total`.
 *
 * @example
 * thresholdNumerator(1n, 100n) // ≈ 0.01377 · 2^240
 */
export function thresholdNumerator(stake: bigint, total: bigint): bigint {
  if (total <= 0n) throw new RangeError('total stake must be positive');
  if (stake < 0n || stake > total) throw new RangeError('stake must be between 0 and total');
  const q = (stake << PER_TERM_BITS) / total;
  let n = q << (PER_TERM_BITS * BigInt(TERMS));
  let power = 1n;
  COEFFICIENTS.forEach((c, i) => {
    power *= q;
    n += c * power * (1n << (PER_TERM_BITS * BigInt(TERMS - 1 - i)));
  });
  return n;
}

/**
 * The largest truncated VRF output that wins: an account wins a slot iff its output
 * `trunc` satisfies `trunc ≤ winningBound(stake, total)`, i.e. trunc/2^253 ≤ N/2^240.
 */
export function winningBound(stake: bigint, total: bigint): bigint {
  return thresholdNumerator(stake, total) << (OUTPUT_FRACTION_BITS - N_FRACTION_BITS);
}

/** Whether a truncated output wins for this stake (Mina's `Threshold.is_satisfied`). */
export function isWinning(trunc: bigint, stake: bigint, total: bigint): boolean {
  return trunc <= winningBound(stake, total);
}

/** The threshold as a fraction (≈ 1 − (1/4)^(stake/total)), for display and tests. */
export function thresholdFraction(stake: bigint, total: bigint): number {
  const n = thresholdNumerator(stake, total);
  // Keep 64 significant bits before converting, so the double is correctly rounded enough.
  return Number(n >> (N_FRACTION_BITS - 64n)) / 2 ** 64;
}

/** A truncated output as a fraction of 2^253 (the lottery draw in [0, 1)). */
export function outputFraction(trunc: bigint): number {
  return Number(trunc >> (OUTPUT_FRACTION_BITS - 64n)) / 2 ** 64;
}
