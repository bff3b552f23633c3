import { AccountUpdate, Mina, PrivateKey, TokenId, UInt64, type Field, type PublicKey } from 'o1js';
import { EventArchive, type ZkappCommandJson } from './archive.js';
import { TransactionRejected, failureCodes, type Chain, type ChainAccount, type ChainEvent, type Inclusion, type SignedTransaction } from './chain.js';

type LocalBlockchain = Awaited<ReturnType<typeof Mina.LocalBlockchain>>;

/**
 * A simulated chain in this process: o1js's `Mina.LocalBlockchain` behind the pool's
 * {@link Chain} interface, with an archive of the included transactions' events. Slots pass
 * only when `advance` says so. Contract tests and the proving bench run on it, through the
 * same client code as the local network and real networks.
 */
export class SimulatedChain implements Chain {
  readonly kind = 'simulated' as const;
  readonly label = 'simulated chain';
  readonly networkId = 'testnet' as const;
  readonly local: LocalBlockchain;
  readonly proofsEnabled: boolean;
  private readonly archive = new EventArchive();
  private readonly faucet: PrivateKey;
  private height = 1;

  private constructor(local: LocalBlockchain, proofsEnabled: boolean) {
    this.local = local;
    this.proofsEnabled = proofsEnabled;
    this.faucet = local.testAccounts[0]!.key;
  }

  /** A new chain at `slot` (default 1000); `proofsEnabled` checks real proofs. */
  static async create(options: { proofsEnabled?: boolean; slot?: number } = {}): Promise<SimulatedChain> {
    const proofsEnabled = options.proofsEnabled ?? false;
    const local = await Mina.LocalBlockchain({ proofsEnabled });
    local.setGlobalSlot(options.slot ?? 1000);
    const chain = new SimulatedChain(local, proofsEnabled);
    chain.use();
    return chain;
  }

  use(): void {
    Mina.setActiveInstance(this.local);
  }

  async slot(): Promise<number> {
    return Number(this.local.getNetworkState().globalSlotSinceGenesis.toBigint());
  }

  async account(publicKey: PublicKey, tokenId: Field = TokenId.default): Promise<ChainAccount | undefined> {
    return this.local.hasAccount(publicKey, tokenId) ? this.local.getAccount(publicKey, tokenId) : undefined;
  }

  async events(address: PublicKey, tokenId: Field = TokenId.default): Promise<ChainEvent[]> {
    return this.archive.events(address.toBase58(), TokenId.toBase58(tokenId));
  }

  async submit(tx: SignedTransaction): Promise<Inclusion> {
    let errors: string[];
    let hash = '';
    try {
      const pending = await this.local.sendTransaction(tx);
      errors = pending.status === 'pending' ? [] : pending.errors;
      hash = pending.hash;
    } catch (e) {
      errors = [e instanceof Error ? e.message : String(e)];
    }
    if (errors.length > 0) {
      const text = errors.join('; ');
      throw new TransactionRejected(text, failureCodes(text));
    }
    const blockHeight = this.height++;
    this.archive.record(JSON.parse(tx.toJSON()) as ZkappCommandJson, { blockHeight, slot: await this.slot(), transactionHash: hash });
    return { hash, blockHeight };
  }

  async advance(slots: number): Promise<number> {
    const slot = (await this.slot()) + slots;
    this.local.setGlobalSlot(slot);
    return slot;
  }

  /** Moves the clock to `slot` (not backwards). */
  async advanceTo(slot: number): Promise<number> {
    const now = await this.slot();
    return slot > now ? this.advance(slot - now) : now;
  }

  /** Pays from the chain's faucet (a funded test account), as a real transaction. */
  async fund(publicKey: PublicKey, nanomina: bigint): Promise<void> {
    this.use();
    const sender = this.faucet.toPublicKey();
    const isNew = !this.local.hasAccount(publicKey);
    const tx = await Mina.transaction({ sender, fee: 100_000_000 }, async () => {
      const payer = AccountUpdate.createSigned(sender);
      if (isNew) payer.balance.subInPlace(Mina.getNetworkConstants().accountCreationFee);
      payer.send({ to: publicKey, amount: UInt64.from(nanomina) });
    });
    await this.submit(tx.sign([this.faucet]));
  }
}
