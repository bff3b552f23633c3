import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { minaToNano } from '../amount.js';
import { InputError } from '../errors.js';

/** One account of a staking ledger. Balances are in nanomina. */
export interface LedgerAccount {
  /** Position in the ledger (Mina's VRF evaluates per ledger index). */
  index: number;
  pk: string;
  balance: bigint;
  /** The block producer this account's stake goes to (itself when it does not delegate). */
  delegate: string;
}

export interface StakingLedger {
  accounts: LedgerAccount[];
  /** Sum of all balances (the ledger's total currency). */
  total: bigint;
}


const accountSchema = z.object({
  pk: z.string().regex(/^B62[1-9A-HJ-NP-Za-km-z]{52}$/, 'expected a B62… public key'),
  balance: z.union([z.string(), z.number()]),
  delegate: z.string().regex(/^B62[1-9A-HJ-NP-Za-km-z]{52}$/, 'expected a B62… public key').optional(),
});

/**
 * Parses a staking ledger in the explorer's export format (an array of
 * `{pk, balance (MINA), delegate, …}`), as in `shared/data/ledgers/`.
 */
export function parseLedger(text: string, file: string): StakingLedger {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`, { file }, { cause: e });
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new InputError(`${file}: expected a non-empty array of ledger accounts`, { file });
  const accounts = doc.map((item, index): LedgerAccount => {
    const parsed = accountSchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(`${file}: account ${index + 1}, field '${issue.path.join('.') || 'account'}': ${issue.message}`, {
        file,
        record: index + 1,
        field: issue.path.join('.'),
      });
    }
    const balance = minaToNano(String(parsed.data.balance));
    if (balance === undefined) {
      throw new InputError(`${file}: account ${index + 1}, field 'balance': expected a MINA amount, got ${JSON.stringify(parsed.data.balance)}`, {
        file,
        record: index + 1,
        field: 'balance',
      });
    }
    return { index, pk: parsed.data.pk, balance, delegate: parsed.data.delegate ?? parsed.data.pk };
  });
  const total = accounts.reduce((sum, a) => sum + a.balance, 0n);
  if (total === 0n) throw new InputError(`${file}: the ledger holds no stake`, { file });
  return { accounts, total };
}

/** Reads a staking ledger file; `hint` is added to the error when the file cannot be read. */
export async function readLedger(file: string, hint = ''): Promise<StakingLedger> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message);
    throw new InputError(`${file}: cannot read the ledger (${why})${hint}`, { file }, { cause: e });
  }
  return parseLedger(text, file);
}
