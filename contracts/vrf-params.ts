/**
 * Mina's VRF constants shared by the circuit (`Vrf.ts`) and the off-circuit code
 * (`oracle/vrf/`), in a module without o1js so the off-circuit side loads nothing heavy.
 */

/** Bits of a delegator's ledger index in the VRF message (the ledger depth). */
export const LEDGER_DEPTH = 35;

/** Bits of precision per term of Mina's threshold series (`snarky_taylor`). */
export const THRESHOLD_TERM_BITS = 20n;

/**
 * Coefficients C_1..C_11 of the series for 1 − (1/4)^x (`Threshold.is_satisfied`), in units
 * of 2^−20 (C_1 without its integer part 1).
 */
export const THRESHOLD_COEFFICIENTS = [405058n, -1007582n, 465602n, -161365n, 44739n, -10337n, 2047n, -354n, 54n, -7n, 0n] as const;
