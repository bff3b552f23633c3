import { parseVrfOutput } from '../../vrf/output.js';

/** A field value that could not be used, with what was expected. */
export interface FieldProblem {
  expected: string;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: FieldProblem };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (expected: string): Parsed<never> => ({ ok: false, problem: { expected } });

/** Accepted spellings of `canonical`: booleans and the archive's `chain_status` values. */
export const CANONICAL_VALUES: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['false', false],
  ['canonical', true],
  ['orphaned', false],
  ['pending', false],
  ['1', true],
  ['0', false],
]);

export function parseSlot(value: unknown): Parsed<number> {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return ok(value);
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return ok(n);
  }
  return bad('a non-negative integer');
}

export function parseCreator(value: unknown): Parsed<string> {
  if (typeof value === 'string') {
    const key = value.trim();
    if (key !== '' && !/\s/.test(key)) return ok(key);
  }
  return bad('a producer public key (B62…)');
}

export function parseCanonical(value: unknown): Parsed<boolean> {
  if (typeof value === 'boolean') return ok(value);
  if (typeof value === 'number' && (value === 0 || value === 1)) return ok(value === 1);
  if (typeof value === 'string') {
    const v = CANONICAL_VALUES.get(value.trim().toLowerCase());
    if (v !== undefined) return ok(v);
  }
  return bad(`one of ${[...CANONICAL_VALUES.keys()].join(', ')}`);
}

/** An optional VRF output: absent/empty/null is `undefined`. */
export function parseOptionalVrf(value: unknown): Parsed<bigint | undefined> {
  if (value === undefined || value === null || value === '') return ok(undefined);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return ok(BigInt(value));
  if (typeof value === 'string') {
    const v = parseVrfOutput(value.trim());
    if (v !== undefined) return ok(v);
  }
  return bad('a VRF output (decimal integer < 2^253, base64url of 32 bytes, or 48H… base58)');
}

export function parseOptionalText(value: unknown): Parsed<string | undefined> {
  if (value === undefined || value === null || value === '') return ok(undefined);
  if (typeof value === 'string') return ok(value.trim());
  return bad('a string');
}

/** Shows a bad value briefly in an error message. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? text.slice(0, 57) + '…' : text;
}
