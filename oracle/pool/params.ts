import { PublicKey, UInt32 } from 'o1js';
import { PARAM_BOUNDS, PoolParams } from '../../contracts/types.js';

/** The pool parameters in plain JSON (numbers, and the operator's B62 key), as in a pool or parameters file. */
export interface PoolParamsJson {
  quorumPercent: number;
  approvalPercent: number;
  votingPeriod: number;
  timelock: number;
  executionWindow: number;
  challengeWindow: number;
  emitterStrategy: number;
  backfillWindow: number;
  /** Compensation per backfilled slot, in millimina. */
  backfillCompensation: number;
  rewardPolicy: number;
  operatorFeePercent: number;
  operator: string;
}

type NumericParam = keyof typeof PARAM_BOUNDS;
export const NUMERIC_PARAMS = Object.keys(PARAM_BOUNDS) as NumericParam[];

export function paramsFromJson(p: PoolParamsJson): PoolParams {
  const numbers = Object.fromEntries(NUMERIC_PARAMS.map((k) => [k, UInt32.from(p[k])])) as Record<NumericParam, UInt32>;
  return new PoolParams({ ...numbers, operator: PublicKey.fromBase58(p.operator) });
}

export function paramsToJson(p: PoolParams): PoolParamsJson {
  const numbers = Object.fromEntries(NUMERIC_PARAMS.map((k) => [k, Number(p[k].toBigint())])) as Record<NumericParam, number>;
  return { ...numbers, operator: p.operator.toBase58() };
}

/** The first parameter outside its bounds, in words, or `undefined` (the contract's `inBounds`, off-chain). */
export function paramsProblem(p: PoolParamsJson): string | undefined {
  for (const k of NUMERIC_PARAMS) {
    const [lo, hi] = PARAM_BOUNDS[k];
    const v = p[k];
    if (!Number.isSafeInteger(v) || v < lo || v > hi) return `${k} must be a whole number from ${lo} to ${hi}, got ${v}`;
  }
  return undefined;
}
