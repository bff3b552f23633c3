import { GraphQLClient } from 'graphql-request';
import { Mina, TokenId, fetchAccount, fetchLastBlock, type Field, type PublicKey } from 'o1js';
import { FetchError } from '../errors.js';
import { TransactionRejected, failureCodes, type Chain, type ChainAccount, type ChainEvent, type Inclusion, type SignedTransaction } from './chain.js';
import { mockProof, o1jsInternals } from './o1js-internals.js';
import { LOCAL_CHAIN_QUERY, LOCAL_ADVANCE_MUTATION, LOCAL_FUND_MUTATION } from './queries.js';

export interface NetworkChainOptions {
  /** The daemon's GraphQL endpoint. */
  url: string;
  /** The archive's GraphQL endpoint for events (default: `url`). */
  archiveUrl?: string;
  networkId: 'mainnet' | 'testnet';
  /** Progress while waiting for inclusion. */
  onWait?: (message: string) => void;
  /** Poll interval while waiting for inclusion (default 200 ms on the local network, 20 s elsewhere). */
  pollMs?: number;
  /** Where the mock proof is kept between runs (the compile cache directory). */
  cacheDir?: string;
}

/** What the local network (`npm run chain`) says about itself; a real daemon does not answer this. */
interface LocalChainInfo {
  localChain: { slot: number; proofsEnabled: boolean; networkId: string };
}

/**
 * A chain over GraphQL: the local network started by `npm run chain`, or devnet/mainnet.
 * The local network is recognised by its `localChain` query: it may accept mock proofs
 * and lets slots pass on request; a real daemon does neither.
 */
export class NetworkChain implements Chain {
  readonly kind: 'local' | 'network';
  readonly label: string;
  readonly networkId: 'mainnet' | 'testnet';
  readonly proofsEnabled: boolean;
  private readonly url: string;
  private readonly instance: ReturnType<typeof Mina.Network>;
  private readonly client: GraphQLClient;
  private readonly onWait?: (message: string) => void;
  private readonly pollMs: number;

  private constructor(options: NetworkChainOptions, local: LocalChainInfo['localChain'] | undefined, instance: ReturnType<typeof Mina.Network>) {
    this.url = options.url;
    this.label = options.url;
    this.kind = local ? 'local' : 'network';
    this.networkId = options.networkId;
    this.proofsEnabled = local ? local.proofsEnabled : true;
    this.instance = instance;
    this.client = new GraphQLClient(options.url);
    this.onWait = options.onWait;
    this.pollMs = options.pollMs ?? (local ? 200 : 20_000);
  }

  /** Connects, and finds out whether this is the local network; an unreachable endpoint is a clear error. */
  static async connect(options: NetworkChainOptions): Promise<NetworkChain> {
    const client = new GraphQLClient(options.url);
    let local: LocalChainInfo['localChain'] | undefined;
    try {
      local = (await client.request<LocalChainInfo>(LOCAL_CHAIN_QUERY)).localChain;
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if (/fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket/i.test(text + String((e as { cause?: unknown }).cause ?? ''))) {
        const hint = /127\.0\.0\.1|localhost/.test(options.url) ? ' (is the local chain running? start it with npm run chain)' : '';
        throw new FetchError(`${options.url}: cannot reach the chain${hint}`, { url: options.url }, { cause: e });
      }
      local = undefined; // a real daemon: it does not know the localChain query
    }
    if (local && local.networkId !== options.networkId) {
      throw new FetchError(`${options.url}: the local chain signs for '${local.networkId}', the alias says '${options.networkId}'`, { url: options.url });
    }
    const network = Mina.Network({ networkId: options.networkId, mina: options.url, archive: options.archiveUrl ?? options.url });
    let instance = network;
    if (local && !local.proofsEnabled) {
      // Mock proofs: rebuild each transaction so that prove() makes dummy proofs.
      // The mock proof is made (or read from the cache) for the first transaction, not at connect.
      const o1js = await o1jsInternals();
      let proofText: Promise<string> | undefined;
      instance = {
        ...network,
        proofsEnabled: false,
        transaction: (sender, f) =>
          o1js.toTransactionPromise(async () => {
            const proof = await (proofText ??= mockProof(options.cacheDir));
            const tx = o1js.newTransaction((await network.transaction(sender, f)).transaction, false);
            for (const u of tx.transaction.accountUpdates) if (u.lazyAuthorization?.kind === 'lazy-proof') o1js.setProof(u, proof);
            return tx;
          }),
      } as typeof network;
    }
    const chain = new NetworkChain(options, local, instance);
    chain.use();
    return chain;
  }

  use(): void {
    Mina.setActiveInstance(this.instance);
  }

  async slot(): Promise<number> {
    try {
      const block = await fetchLastBlock(this.url);
      return Number(block.globalSlotSinceGenesis.toBigint());
    } catch (e) {
      throw new FetchError(`${this.url}: cannot read the best chain's slot: ${(e as Error).message}`, { url: this.url }, { cause: e });
    }
  }

  async account(publicKey: PublicKey, tokenId: Field = TokenId.default): Promise<ChainAccount | undefined> {
    let result: Awaited<ReturnType<typeof fetchAccount>>;
    try {
      result = await fetchAccount({ publicKey, tokenId }, this.url);
    } catch (e) {
      throw new FetchError(`${this.url}: cannot fetch account ${publicKey.toBase58()}: ${(e as Error).message}`, { url: this.url }, { cause: e });
    }
    if (result.error) {
      if (result.error.statusCode === 404) return undefined;
      throw new FetchError(`${this.url}: cannot fetch account ${publicKey.toBase58()}: ${result.error.statusText}`, { url: this.url });
    }
    return result.account;
  }

  async events(address: PublicKey, tokenId: Field = TokenId.default): Promise<ChainEvent[]> {
    let blocks: Awaited<ReturnType<typeof Mina.fetchEvents>>;
    try {
      blocks = await this.instance.fetchEvents(address, tokenId);
    } catch (e) {
      throw new FetchError(`${this.url}: cannot fetch the events of ${address.toBase58()}: ${(e as Error).message}`, { url: this.url }, { cause: e });
    }
    const out: ChainEvent[] = [];
    for (const block of [...blocks].sort((a, b) => Number(a.blockHeight.toBigint() - b.blockHeight.toBigint()))) {
      for (const e of block.events) {
        out.push({ data: e.data, blockHeight: Number(block.blockHeight.toBigint()), slot: Number(block.globalSlot.toBigint()), transactionHash: e.transactionInfo.hash });
      }
    }
    return out;
  }

  async submit(tx: SignedTransaction): Promise<Inclusion> {
    const pending = await tx.safeSend();
    if (pending.status === 'rejected') {
      const text = pending.errors.join('; ');
      throw new TransactionRejected(text, failureCodes(text));
    }
    const started = Date.now();
    const timer = this.kind === 'network' && this.onWait ? setInterval(() => this.onWait!(`still waiting for inclusion of ${pending.hash} (${Math.round((Date.now() - started) / 1000)} s)`), 60_000) : undefined;
    try {
      const included = await pending.safeWait({ interval: this.pollMs, maxAttempts: this.kind === 'local' ? 50 : 45 });
      if (included.status === 'rejected') {
        const text = included.errors.join('; ');
        throw new TransactionRejected(text, failureCodes(text));
      }
      return { hash: included.hash, blockHeight: included.inclusionBlockHeight ?? 0 };
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  async advance(slots: number): Promise<number> {
    if (this.kind !== 'local') throw new FetchError(`${this.url}: slots pass by themselves on a network; only the local chain can be advanced`);
    const r = await this.client.request<{ advanceSlots: { slot: number } }>(LOCAL_ADVANCE_MUTATION, { slots });
    return r.advanceSlots.slot;
  }

  async fund(publicKey: PublicKey, nanomina: bigint): Promise<void> {
    if (this.kind !== 'local') throw new FetchError(`${this.url}: only the local chain has a faucet`);
    await this.client.request(LOCAL_FUND_MUTATION, { publicKey: publicKey.toBase58(), amount: nanomina.toString() });
  }
}
