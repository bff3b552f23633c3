import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AccountUpdate, Mina, PrivateKey, PublicKey, Reducer, TokenId, Transaction, UInt64, type Field } from 'o1js';
import { EventArchive, type ZkappCommandJson } from '../chain/archive.js';
import { failureCodes } from '../chain/chain.js';
import { InputError, PoolError } from '../errors.js';
import { writeJsonAtomic } from '../json-file.js';
import { Serial } from '../serial.js';
import { syncPath } from '../json-file.js';

type LocalBlockchain = Awaited<ReturnType<typeof Mina.LocalBlockchain>>;

/** The chain's identity, kept beside its journal. */
export interface LocalChainMeta {
  version: 1;
  networkId: 'testnet';
  proofsEnabled: boolean;
  genesisSlot: number;
  genesisTimestamp: string;
  /** The faucet of this local chain only (a test key, like LocalBlockchain's test accounts). */
  faucet: { publicKey: string; privateKey: string };
}

/** One line of the journal: what happened, in order. */
type JournalEntry =
  | { kind: 'genesis'; accounts: { publicKey: string; balance: string }[] }
  | { kind: 'slot'; slot: number }
  | { kind: 'tx'; slot: number; hash: string; json: string };

/** A block of the local chain: one transaction, or none when slots were advanced. */
export interface LocalBlock {
  height: number;
  slot: number;
  transactions: { hash: string }[];
}

/** An action as an archive answers it (see `fetchActions`). */
export interface ArchivedActions {
  blockHeight: number;
  before: string;
  after: string;
  rows: { accountUpdateId: number; data: string[] }[];
  accountUpdateIds: number[];
}

const FAUCET_BALANCE = 1_000_000_000n * 1_000_000_000n;
/** An account's action state before its first action. */
const INITIAL_ACTION_STATE = Reducer.initialActionState.toString();

/**
 * The ledger behind the local network: an in-process `Mina.LocalBlockchain` whose every
 * change is appended to a journal (fsynced before the sender hears back), so that it
 * survives a restart by replaying the journal; blocks, events and actions as a daemon and
 * an archive report them.
 */
export class LocalLedger {
  readonly meta: LocalChainMeta;
  readonly local: LocalBlockchain;
  readonly blocks: LocalBlock[] = [];
  private readonly archive = new EventArchive();
  private readonly actions = new Map<string, ArchivedActions[]>();
  private readonly dir: string;
  private readonly changes = new Serial();

  private constructor(dir: string, meta: LocalChainMeta, local: LocalBlockchain) {
    this.dir = dir;
    this.meta = meta;
    this.local = local;
  }

  /**
   * Opens the chain kept in `dir`, replaying its journal, or starts a new one there (a
   * faucet funded at genesis, at `genesisSlot`). `proofsEnabled` applies to a new chain.
   */
  static async open(dir: string, options: { proofsEnabled?: boolean; genesisSlot?: number; onReplay?: (done: number, total: number) => void } = {}): Promise<LocalLedger> {
    await mkdir(dir, { recursive: true });
    const metaFile = join(dir, 'chain.json');
    let meta: LocalChainMeta;
    let entries: JournalEntry[] = [];
    try {
      meta = JSON.parse(await readFile(metaFile, 'utf8')) as LocalChainMeta;
      entries = await readJournal(join(dir, 'journal.jsonl'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(`${dir}: the local chain's state cannot be read (${(e as Error).message}); start afresh with --reset`, { file: metaFile });
      const faucet = PrivateKey.random();
      meta = {
        version: 1,
        networkId: 'testnet',
        proofsEnabled: options.proofsEnabled ?? false,
        genesisSlot: options.genesisSlot ?? 100_000,
        genesisTimestamp: new Date().toISOString(),
        faucet: { publicKey: faucet.toPublicKey().toBase58(), privateKey: faucet.toBase58() },
      };
      await writeJsonAtomic(metaFile, meta, 0o600);
      entries = [];
    }
    const local = await Mina.LocalBlockchain({ proofsEnabled: meta.proofsEnabled });
    Mina.setActiveInstance(local);
    local.setGlobalSlot(meta.genesisSlot);
    const ledger = new LocalLedger(dir, meta, local);
    if (entries.length === 0) {
      const genesis: JournalEntry = { kind: 'genesis', accounts: [{ publicKey: meta.faucet.publicKey, balance: FAUCET_BALANCE.toString() }] };
      await ledger.append(genesis);
      entries = [genesis];
    }
    let done = 0;
    for (const entry of entries) {
      ledger.replay(entry);
      if (++done % 50 === 0) options.onReplay?.(done, entries.length);
    }
    return ledger;
  }

  private replay(entry: JournalEntry): void {
    if (entry.kind === 'genesis') {
      for (const a of entry.accounts) this.local.addAccount(PublicKey.fromBase58(a.publicKey), a.balance);
      return;
    }
    if (entry.kind === 'slot') {
      this.local.setGlobalSlot(entry.slot);
      this.blocks.push({ height: this.blocks.length + 1, slot: entry.slot, transactions: [] });
      return;
    }
    this.local.setGlobalSlot(entry.slot);
    try {
      this.local.applyJsonTransaction(entry.json);
    } catch (e) {
      throw new PoolError('STATE_CORRUPT', `${this.dir}: journal transaction ${entry.hash} no longer applies (${(e as Error).message.slice(0, 200)}); start afresh with --reset`);
    }
    this.recordIncluded(entry.json, entry.hash, entry.slot);
  }

  private async append(entry: JournalEntry): Promise<void> {
    const file = join(this.dir, 'journal.jsonl');
    await appendFile(file, JSON.stringify(entry) + '\n');
    await syncPath(file);
  }

  /** Runs one change at a time (the ledger is shared by every request). */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    return this.changes.run(work);
  }

  get slot(): number {
    return Number(this.local.getNetworkState().globalSlotSinceGenesis.toBigint());
  }

  get height(): number {
    return this.blocks.length;
  }

  /**
   * Applies a zkApp command (its JSON, as a daemon receives it), checking signatures and,
   * if this chain checks proofs, proofs; on success it is journaled and in a new block.
   */
  send(json: string): Promise<{ hash: string }> {
    return this.serial(async () => {
      let tx: Mina.Transaction<false, true>;
      try {
        tx = Transaction.fromJSON(json) as Mina.Transaction<false, true>;
      } catch (e) {
        throw new PoolError('BAD_TRANSACTION', `not a zkApp command: ${(e as Error).message}`);
      }
      const hash = await Transaction.hash(json);
      let errors: string[];
      try {
        const pending = await this.local.sendTransaction(tx);
        errors = pending.status === 'pending' ? [] : pending.errors;
      } catch (e) {
        errors = [e instanceof Error ? e.message : String(e)];
      }
      if (errors.length > 0) {
        const text = errors.join('; ');
        throw new PoolError('REJECTED', `${failureCodes(text).join(', ') || 'refused'}: ${text.replace(/\s+/g, ' ').slice(0, 600)}`);
      }
      await this.append({ kind: 'tx', slot: this.slot, hash, json });
      this.recordIncluded(json, hash, this.slot);
      return { hash };
    });
  }

  /** Lets `slots` slots pass (an empty block at the new slot). */
  advance(slots: number): Promise<number> {
    if (!Number.isSafeInteger(slots) || slots < 1 || slots > 10_000_000) throw new InputError(`slots to advance must be a whole number from 1 to 10000000, got ${slots}`, { field: 'slots' });
    return this.serial(async () => {
      const slot = this.slot + slots;
      await this.append({ kind: 'slot', slot });
      this.local.setGlobalSlot(slot);
      this.blocks.push({ height: this.blocks.length + 1, slot, transactions: [] });
      return slot;
    });
  }

  /** Pays `nanomina` from the faucet, as a signed transaction like any other. */
  async fund(publicKey: PublicKey, nanomina: bigint): Promise<{ hash: string }> {
    if (nanomina <= 0n) throw new InputError('the amount to fund must be positive', { field: 'amount' });
    const faucet = PrivateKey.fromBase58(this.meta.faucet.privateKey);
    const sender = faucet.toPublicKey();
    const isNew = !this.local.hasAccount(publicKey);
    const nonce = this.local.getAccount(sender).nonce;
    const tx = await Mina.transaction({ sender, fee: 10_000_000, nonce: Number(nonce.toBigint()) }, async () => {
      const payer = AccountUpdate.createSigned(sender);
      if (isNew) payer.balance.subInPlace(Mina.getNetworkConstants().accountCreationFee);
      payer.send({ to: publicKey, amount: UInt64.from(nanomina) });
    });
    return this.send(tx.sign([faucet]).toJSON());
  }

  account(publicKey: PublicKey, tokenId: Field = TokenId.default) {
    return this.local.hasAccount(publicKey, tokenId) ? this.local.getAccount(publicKey, tokenId) : undefined;
  }

  events(publicKey: string, tokenId?: string, range: { from?: number; to?: number } = {}) {
    return this.archive.events(publicKey, tokenId, range);
  }

  actionsOf(publicKey: string, tokenId: string): ArchivedActions[] {
    return this.actions.get(`${publicKey}:${tokenId}`) ?? [];
  }

  private actionState(publicKey: string, tokenId: string): string {
    const account = this.account(PublicKey.fromBase58(publicKey), TokenId.fromBase58(tokenId));
    return account?.zkapp?.actionState[0]?.toString() ?? '';
  }

  /**
   * Records an included command: a block, its events and its actions. An account's action
   * state before a block is its state after the previous block with actions (the initial
   * action state for the first), so replaying the journal gives the same answers.
   */
  private recordIncluded(json: string, hash: string, slot: number): void {
    const blockHeight = this.blocks.length + 1;
    this.blocks.push({ height: blockHeight, slot, transactions: [{ hash }] });
    const command = JSON.parse(json) as ZkappCommandJson;
    this.archive.record(command, { blockHeight, slot, transactionHash: hash });
    const ids = command.accountUpdates.map((_, i) => i);
    const grouped = new Map<string, ArchivedActions>();
    command.accountUpdates.forEach((u, i) => {
      if (!u.body.actions?.length) return;
      const key = `${u.body.publicKey}:${u.body.tokenId}`;
      const entry = grouped.get(key) ?? { blockHeight, before: this.actions.get(key)?.at(-1)?.after ?? INITIAL_ACTION_STATE, after: '', rows: [], accountUpdateIds: ids };
      for (const data of u.body.actions) entry.rows.push({ accountUpdateId: i, data });
      grouped.set(key, entry);
    });
    for (const [key, entry] of grouped) {
      const [publicKey, tokenId] = key.split(':') as [string, string];
      entry.after = this.actionState(publicKey, tokenId);
      const list = this.actions.get(key) ?? [];
      list.push(entry);
      this.actions.set(key, list);
    }
  }
}

async function readJournal(file: string): Promise<JournalEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // A line cut short by a crash is the last one; it was never acknowledged. Anything else is damage.
      if (i >= lines.length - 2) {
        await rename(file, `${file}.${Date.now()}.bak`);
        await writeFile(file, entries.map((e) => JSON.stringify(e) + '\n').join(''));
        break;
      }
      throw new InputError(`${file}:${i + 1}: not a journal entry; start afresh with --reset`, { file, line: i + 1 });
    }
  }
  return entries;
}
