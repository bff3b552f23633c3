import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Field } from 'o1js';
import { z } from 'zod';
import { InputError, schemaError } from './errors.js';

const b62 = z.string().regex(/^B62[1-9A-HJ-NP-Za-km-z]{52}$/, 'expected a B62… public key');
const relative = z.string().min(1).refine((p) => !p.startsWith('/'), 'must be a path relative to the project');
const slots = (what: string) => z.number().int(`${what} must be a whole number of slots`).min(1, `${what} must be at least 1 slot`);
const percent = z.number().int().min(1, 'must be 1–100').max(100, 'must be 1–100');

/** A pool member: a name, and a public key or a key file (generated for `local` when missing). */
export const memberSchema = z
  .object({ name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'names are letters, digits, - and _'), publicKey: b62.optional(), keyPath: relative.optional() })
  .refine((m) => m.publicKey !== undefined || m.keyPath !== undefined, 'a member needs a publicKey or a keyPath');

export const paramsSchema = z.object({
  quorumPercent: percent,
  approvalPercent: percent,
  votingPeriod: slots('votingPeriod'),
  timelock: slots('timelock'),
  executionWindow: slots('executionWindow'),
  challengeWindow: slots('challengeWindow'),
  emitterStrategy: z.literal(0, 'the only strategy is 0 (first delivered)'),
  backfillWindow: slots('backfillWindow'),
  rewardPolicy: z.literal(0, 'the only reward policy is 0 (even shares)'),
});

/** The pool file: who is in the pool, its constitution, oracle and parameters. */
export const poolFileSchema = z.object({
  name: z.string().min(1),
  constitution: relative,
  oracle: z.object({ publicKey: b62.optional(), keyPath: relative.optional() }).refine((o) => o.publicKey !== undefined || o.keyPath !== undefined, 'the oracle needs a publicKey or a keyPath'),
  members: z.array(memberSchema).min(1, 'a pool needs at least one member'),
  params: paramsSchema,
});

export type PoolFile = z.infer<typeof poolFileSchema>;
export type PoolMember = z.infer<typeof memberSchema>;

/** Validates a parsed pool file; the error names the field (`members.2.publicKey`). */
export function parsePoolFile(value: unknown, file: string): PoolFile {
  const parsed = poolFileSchema.safeParse(value);
  if (!parsed.success) throw schemaError(parsed.error.issues, file);
  const names = parsed.data.members.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new InputError(`${file}: field 'members': the name '${dup}' is used twice`, { file, field: 'members' });
  return parsed.data;
}

export async function readPoolFile(file: string): Promise<PoolFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read the pool file (${(e as NodeJS.ErrnoException).code})`, { file }, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`, { file }, { cause: e });
  }
  return parsePoolFile(value, file);
}

/**
 * The constitution's on-chain hash: the first 31 bytes of the document's SHA-256, as a
 * field element. Anyone can check it with `sha256sum CONSTITUTION.md` (the first 62 hex digits).
 */
export function constitutionHashOf(document: Uint8Array | string): Field {
  const hex = createHash('sha256').update(document).digest('hex');
  return Field(BigInt('0x' + hex.slice(0, 62)));
}
