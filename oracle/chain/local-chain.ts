import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Mina, PublicKey } from 'o1js';
import { InputError, PoolError } from '../errors.js';

/** What a local chain keeps between commands: its accounts, every transaction and the slot. */
export interface LocalChainFile {
  version: 1;
  slot: number;
  accounts: { publicKey: string; balance: string }[];
  transactions: { slot: number; label: string; json: string }[];
}

type LocalBlockchain = Awaited<ReturnType<typeof Mina.LocalBlockchain>>;

/**
 * A simulated chain that survives between commands: an in-process `Mina.LocalBlockchain`
 * rebuilt from its funded accounts and by applying every transaction sent so far, each at
 * the slot it was sent in. Transactions are applied as recorded (their proofs are not
 * checked again; they were when they were sent).
 */
export class LocalChain {
  readonly instance: LocalBlockchain;
  private readonly state: LocalChainFile;

  private constructor(instance: LocalBlockchain, state: LocalChainFile) {
    this.instance = instance;
    this.state = state;
  }

  /** Starts a new chain at `slot`. */
  static async create(slot: number, proofsEnabled = false): Promise<LocalChain> {
    const instance = await Mina.LocalBlockchain({ proofsEnabled });
    instance.setGlobalSlot(slot);
    Mina.setActiveInstance(instance);
    return new LocalChain(instance, { version: 1, slot, accounts: [], transactions: [] });
  }

  /** Rebuilds a chain from its saved state. */
  static async restore(saved: LocalChainFile, proofsEnabled = false): Promise<LocalChain> {
    const instance = await Mina.LocalBlockchain({ proofsEnabled });
    for (const a of saved.accounts) instance.addAccount(PublicKey.fromBase58(a.publicKey), a.balance);
    for (const [i, t] of saved.transactions.entries()) {
      instance.setGlobalSlot(t.slot);
      try {
        instance.applyJsonTransaction(t.json);
      } catch (e) {
        throw new PoolError('STATE_CORRUPT', `the local chain state cannot be replayed: transaction ${i + 1} (${t.label}) fails: ${(e as Error).message.slice(0, 200)}`);
      }
    }
    instance.setGlobalSlot(saved.slot);
    Mina.setActiveInstance(instance);
    return new LocalChain(instance, structuredClone(saved));
  }

  get slot(): number {
    return this.state.slot;
  }

  /** Moves the chain's clock forward (slots only pass when someone says so). */
  advance(slots: number): void {
    if (!Number.isSafeInteger(slots) || slots < 1) throw new InputError(`slots to advance must be a positive integer, got ${slots}`, { field: 'slots' });
    this.state.slot += slots;
    this.instance.setGlobalSlot(this.state.slot);
  }

  fund(publicKey: PublicKey, nanomina: bigint): void {
    this.instance.addAccount(publicKey, nanomina.toString());
    this.state.accounts.push({ publicKey: publicKey.toBase58(), balance: nanomina.toString() });
  }

  /** Records a transaction that the chain accepted. */
  record(label: string, json: string): void {
    this.state.transactions.push({ slot: this.state.slot, label, json });
  }

  get transactionCount(): number {
    return this.state.transactions.length;
  }

  toJSON(): LocalChainFile {
    return structuredClone(this.state);
  }
}

/** Writes JSON atomically (write a temporary file, then rename), so a crash never leaves half a state. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 1) + '\n');
  await rename(tmp, file);
}

export async function readJsonFile<T>(file: string, what: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new InputError(`${file}: the ${what} is not valid JSON (${(e as Error).message})`, { file }, { cause: e });
  }
}
