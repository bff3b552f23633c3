import { createHash } from 'node:crypto';
import { Field } from 'o1js';
import { z } from 'zod';
import { PARAM_BOUNDS } from '../../contracts/types.js';
import { b62, relativePath } from '../config.js';
import { InputError } from '../errors.js';
import { readJsonFile } from '../json-file.js';

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'names are letters, digits, - and _');

/** Where a key comes from: a public key, or a key file (generated for a local chain when missing). */
const keySource = { publicKey: b62.optional(), keyPath: relativePath.optional() };
const hasKey = (m: { publicKey?: string; keyPath?: string }) => m.publicKey !== undefined || m.keyPath !== undefined;

/** A party of the pool: a public key or a key file. */
const partySchema = z.object(keySource).refine(hasKey, 'give a publicKey or a keyPath');

/** A pool member: a name, and a public key or a key file. */
const memberSchema = z.object({ name, ...keySource }).refine(hasKey, 'a member needs a publicKey or a keyPath');

const bounded = (key: keyof typeof PARAM_BOUNDS) => {
  const [lo, hi] = PARAM_BOUNDS[key];
  return z.number().int(`must be a whole number from ${lo} to ${hi}`).min(lo, `must be a whole number from ${lo} to ${hi}`).max(hi, `must be a whole number from ${lo} to ${hi}`);
};

/** The numeric parameters, each within the bounds the contract enforces. */
const numericParamsSchema = z.object(Object.fromEntries(Object.keys(PARAM_BOUNDS).map((k) => [k, bounded(k as keyof typeof PARAM_BOUNDS)])) as Record<keyof typeof PARAM_BOUNDS, ReturnType<typeof bounded>>);

/** A parameters file for `propose set-parameters`: the numbers and the operator (a key or a name). */
export const parametersFileSchema = numericParamsSchema.extend({ operator: z.string().min(1, 'give the operator: a B62… key or a name') });

/** The pool file: who is in the pool, its constitution, oracle, operator and parameters. */
export const poolFileSchema = z.object({
  name: z.string().min(1),
  constitution: relativePath,
  oracle: partySchema,
  /** Receives the operator's fee; the oracle's key by default. */
  operator: partySchema.optional(),
  members: z.array(memberSchema).min(1, 'a pool needs at least one member'),
  params: numericParamsSchema,
});

export type PoolFile = z.infer<typeof poolFileSchema>;

/** Reads and validates a pool file; errors name the field (`members.2.publicKey`). */
export async function readPoolFile(file: string): Promise<PoolFile> {
  const pool = await readJsonFile(file, poolFileSchema, 'pool file');
  const names = pool.members.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new InputError(`${file}: field 'members': the name '${dup}' is used twice`, { file, field: 'members' });
  return pool;
}

/**
 * The constitution's on-chain hash: the first 31 bytes of the document's SHA-256, as a
 * field element. Anyone can check it with `sha256sum CONSTITUTION.md` (the first 62 hex digits).
 */
export function constitutionHashOf(document: Uint8Array | string): Field {
  const hex = createHash('sha256').update(document).digest('hex');
  return Field(BigInt('0x' + hex.slice(0, 62)));
}
