import type { Field, Mina, PublicKey, Types } from 'o1js';
import { PoolError, type ErrorContext } from '../errors.js';

/** An account as o1js reads it. */
export type ChainAccount = Types.Account;

/** One event as the chain's archive keeps it: the raw fields (type index first) and where it landed. */
export interface ChainEvent {
  data: string[];
  blockHeight: number;
  slot: number;
  transactionHash: string;
}

/** A transaction the pool sends: built, proved, signed. */
export type SignedTransaction = Mina.Transaction<boolean, true>;

/** What the chain answered for an included transaction. */
export interface Inclusion {
  hash: string;
  blockHeight: number;
}

/**
 * Everything the pool needs from a Mina chain, whichever it is: a simulated chain in this
 * process (tests and the proving bench), the local network (`npm run chain`), or devnet and
 * mainnet over GraphQL. The pool's client reads and sends through this, never through o1js's
 * global instance directly, so one code path serves all of them.
 */
export interface Chain {
  /** `simulated`, `local` (the local network) or `network`. */
  readonly kind: 'simulated' | 'local' | 'network';
  /** Where it is, for messages (a URL, or "simulated chain"). */
  readonly label: string;
  readonly networkId: 'mainnet' | 'testnet';
  /** Whether transactions carry real proofs (false: mock proofs, on a chain that does not check them). */
  readonly proofsEnabled: boolean;
  /** Makes this chain o1js's active instance (for `Mina.transaction`). */
  use(): void;
  /** The global slot a transaction sent now is included in (the tip's slot, plus one on a network). */
  slot(): Promise<number>;
  /** Reads an account afresh; `undefined` when it does not exist. */
  account(publicKey: PublicKey, tokenId?: Field): Promise<ChainAccount | undefined>;
  /** A contract's events, oldest first. */
  events(address: PublicKey, tokenId?: Field): Promise<ChainEvent[]>;
  /** Sends a transaction and waits until it is included; a refusal is a {@link TransactionRejected}. */
  submit(tx: SignedTransaction): Promise<Inclusion>;
  /** Local chains only: lets `slots` slots pass; returns the new slot. */
  advance?(slots: number): Promise<number>;
  /** Local chains only: pays `nanomina` to `publicKey` from the chain's faucet. */
  fund?(publicKey: PublicKey, nanomina: bigint): Promise<void>;
}

/** The chain refused a transaction; `failures` are its codes (e.g. `Account_is_new_precondition_unsatisfied`). */
export class TransactionRejected extends PoolError {
  readonly failures: string[];
  constructor(message: string, failures: string[], context: ErrorContext = {}) {
    super('REJECTED', message, context);
    this.failures = failures;
  }
}

/** The failure codes in a chain's error text (`[[],[["Cancelled"]],…]`, or a daemon's message). */
export function failureCodes(text: string): string[] {
  const codes = new Set<string>();
  for (const m of text.matchAll(/\b([A-Z][A-Za-z]*(?:_[A-Za-z]+)+)\b/g)) codes.add(m[1]!);
  for (const word of ['Overflow', 'Cancelled', 'Invalid fee excess', 'Invalid signature', 'Insufficient']) if (text.includes(word)) codes.add(word);
  return [...codes];
}
