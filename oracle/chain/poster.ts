import { Mina, UInt64, type PrivateKey, type PublicKey } from 'o1js';
import { PoolError } from '../errors.js';
import { TransactionRejected, type Chain, type Inclusion, type SignedTransaction } from './chain.js';
import { explainRejection } from './explain.js';
import { Serial } from '../serial.js';

/** Progress and outcome messages: a message and a context object. */
export type Log = (message: string, context?: Record<string, unknown>) => void;

/** A contract rule refused the transaction while it was built (so it was never sent). */
export class ContractRuleError extends PoolError {
  constructor(label: string, rule: string) {
    super('CONTRACT_RULE', `${label}: refused by the contract: ${rule}`, { action: label });
  }
}

export interface PostRequest {
  /** What the transaction does, in words ("vote for proposal #3"). */
  label: string;
  /** Pays the fee and signs. */
  sender: PrivateKey;
  /** Other keys that sign account updates (a deploy's contract keys). */
  signers?: PrivateKey[];
  /** The transaction's body, run inside `Mina.transaction`. */
  build: () => Promise<void>;
  /** Accounts to read afresh before building (a network chain caches what it fetched). */
  accounts?: PublicKey[];
}

/** A built, proved and signed transaction, not yet sent. */
export interface PreparedTransaction {
  label: string;
  tx: SignedTransaction;
}

export interface TransactionPosterDeps {
  chain: Chain;
  /** Fee per transaction, in nanomina. */
  fee: bigint;
  log?: Log;
  /** Run once before the first proof on a chain that checks proofs (compiling the contracts). */
  beforeProving?: () => Promise<void>;
}

/** Seconds this machine takes per proof; the progress message says so. */
const SECONDS_PER_PROOF = 25;

/**
 * The one way the pool sends transactions: build (a contract rule that fails is a
 * {@link ContractRuleError} naming the rule), prove, sign, send, wait for inclusion (a
 * refusal is a {@link TransactionRejected} explained in words), reporting progress on every
 * step that takes time. A mutex keeps one fee payer from sending two at once.
 *
 * @example
 * const poster = new TransactionPoster({ chain, fee: 100_000_000n, log });
 * await poster.post({ label: 'deposit 5 MINA', sender, build: async () => { … } });
 */
export class TransactionPoster {
  readonly chain: Chain;
  readonly fee: bigint;
  private readonly log: Log;
  private readonly serial = new Serial();
  private readonly compile?: () => Promise<void>;
  /** The compile run before the first proof (forgotten if it fails, so a later proof tries again). */
  private compiled?: Promise<void>;

  constructor(deps: TransactionPosterDeps) {
    this.chain = deps.chain;
    this.fee = deps.fee;
    this.log = deps.log ?? (() => {});
    this.compile = deps.beforeProving;
  }

  /** Builds, proves and signs a transaction, and sends it once the previous one is included. */
  post(request: PostRequest): Promise<Inclusion> {
    return this.serial.run(async () => this.send(await this.prepare(request)));
  }

  /** Builds, proves and signs, without sending (to send several built against the same state). */
  async prepare(request: PostRequest): Promise<PreparedTransaction> {
    const { label, sender } = request;
    this.chain.use();
    if (this.chain.proofsEnabled && this.compile) {
      // Verification keys depend on the network: compile with this chain active.
      this.compiled ??= this.compile().catch((e: unknown) => {
        this.compiled = undefined;
        throw e;
      });
      await this.compiled;
      this.chain.use();
    }
    for (const account of [sender.toPublicKey(), ...(request.accounts ?? [])]) await this.chain.account(account);
    this.log(`${label}: building`);
    let tx;
    try {
      tx = await Mina.transaction({ sender: sender.toPublicKey(), fee: UInt64.from(this.fee) }, request.build);
    } catch (e) {
      // A contract rule failed while the transaction was built: its message is the rule.
      throw new ContractRuleError(label, (e instanceof Error ? e.message : String(e)).split('\n')[0]!);
    }
    const proofs = tx.transaction.accountUpdates.filter((u) => u.lazyAuthorization?.kind === 'lazy-proof').length;
    if (this.chain.proofsEnabled && proofs > 0) {
      this.log(`${label}: proving ${proofs} proof${proofs > 1 ? 's' : ''} (about ${proofs * SECONDS_PER_PROOF} s here)`);
    }
    const t0 = Date.now();
    const proved = await tx.prove();
    if (this.chain.proofsEnabled && proofs > 0) this.log(`${label}: proved in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { label, tx: proved.sign([sender, ...(request.signers ?? [])]) };
  }

  /** Sends a prepared transaction and waits for inclusion. */
  async send(prepared: PreparedTransaction): Promise<Inclusion> {
    this.chain.use();
    this.log(`${prepared.label}: sending to ${this.chain.label}`);
    try {
      const inclusion = await this.chain.submit(prepared.tx);
      this.log(`${prepared.label}: included`, { hash: inclusion.hash, blockHeight: inclusion.blockHeight });
      return inclusion;
    } catch (e) {
      if (e instanceof TransactionRejected) {
        throw new TransactionRejected(`${prepared.label}: the chain refused it: ${explainRejection(e.message, e.failures)}`, e.failures, { action: prepared.label });
      }
      throw e;
    }
  }
}
