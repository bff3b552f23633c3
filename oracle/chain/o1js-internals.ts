import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Field, Mina } from 'o1js';
import { writeTextAtomic } from '../json-file.js';

/**
 * The few o1js modules that its package `exports` map does not expose, loaded by path from
 * the installed o1js (the same module instances as `import 'o1js'`): rebuilding a network
 * transaction so that `prove()` makes mock proofs (a local network that does not check
 * proofs), and the base58 encodings a daemon's GraphQL answers use.
 */
const o1jsDir = dirname(createRequire(import.meta.url).resolve('o1js'));
/** Loads one module of the installed o1js by its path under `dist/node` (the same instance `import 'o1js'` uses). */
export const loadO1jsModule = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(o1jsDir, path)).href)) as T;
const load = loadO1jsModule;
/** Requires one CommonJS file of the installed o1js by its path under `dist/node` (synchronously). */
export const requireO1jsFile = <T>(path: string): T => createRequire(import.meta.url)(join(o1jsDir, path)) as T;

type Base58 = { toBase58(x: Field): string; fromBase58(s: string): Field };
export interface O1jsInternals {
  newTransaction(transaction: Mina.Transaction<false, false>['transaction'], proofsEnabled: boolean): Mina.Transaction<false, false>;
  toTransactionPromise(build: () => Promise<Mina.Transaction<false, false>>): ReturnType<typeof Mina.transaction>;
  /** Sets a proof on an account update that waits for one (o1js `Authorization.setProof`). */
  setProof(accountUpdate: unknown, proof: string): void;
  dummyBase64Proof(): Promise<string>;
  LedgerHash: Base58;
  EpochSeed: Base58;
  StateHash: Base58;
  ReceiptChainHash: Base58;
}

let cached: O1jsInternals | undefined;

export async function o1jsInternals(): Promise<O1jsInternals> {
  if (cached) return cached;
  const tx = await load<Pick<O1jsInternals, 'newTransaction' | 'toTransactionPromise'>>('lib/mina/v1/transaction.js');
  const b58 = await load<Pick<O1jsInternals, 'LedgerHash' | 'EpochSeed' | 'StateHash' | 'ReceiptChainHash'>>('lib/mina/v1/base58-encodings.js');
  const au = await load<{ Authorization: { setProof(au: unknown, proof: string): void } }>('lib/mina/v1/account-update.js');
  const zk = await load<{ dummyBase64Proof(): Promise<string> }>('lib/proof-system/zkprogram.js');
  cached = {
    newTransaction: tx.newTransaction,
    toTransactionPromise: tx.toTransactionPromise,
    setProof: (u, p) => au.Authorization.setProof(u, p),
    dummyBase64Proof: zk.dummyBase64Proof,
    LedgerHash: b58.LedgerHash,
    EpochSeed: b58.EpochSeed,
    StateHash: b58.StateHash,
    ReceiptChainHash: b58.ReceiptChainHash,
  };
  return cached;
}

/**
 * The mock proof a chain that does not check proofs accepts. Making one takes o1js about
 * 10 s per process; it is the same every time, so it is kept in the compile cache directory
 * when there is one (written atomically: two processes may fill an empty cache at once).
 */
export async function mockProof(cacheDir?: string): Promise<string> {
  if (cacheDir === undefined) return (await o1jsInternals()).dummyBase64Proof();
  const file = join(cacheDir, 'mock-proof.b64');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const proof = await (await o1jsInternals()).dummyBase64Proof();
    await writeTextAtomic(file, proof + '\n');
    return proof;
  }
}
