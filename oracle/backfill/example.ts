import { PrivateKey } from 'o1js';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { BackfillPlan, CommittedLedger, type Designation, type LedgerEntry } from './commitment.js';

const MINA = 1_000_000_000n;

/**
 * A small example network for the designated-producer walkthrough and tests: producers A and B
 * (fixed example keys, so their winning slots are stable; never use them for real), their
 * delegators in two epochs' ledgers, and helpers to find the slots each wins or loses.
 * Designations are chosen by the caller (`plan`).
 */
export function exampleNetwork(epoch = 1, window = 10) {
  const a = PrivateKey.fromBigInt(0x1234567n);
  const b = PrivateKey.fromBigInt(0x7654321n);
  const outsider = PrivateKey.fromBigInt(0x55555n);
  const accounts = (offset: bigint): LedgerEntry[] => [
    { index: 0, delegate: a.toPublicKey().toBase58(), balance: 3_000_000n * MINA + offset },
    { index: 1, delegate: b.toPublicKey().toBase58(), balance: 2_000_000n * MINA },
    { index: 2, delegate: a.toPublicKey().toBase58(), balance: 1_000_000n * MINA },
    { index: 3, delegate: outsider.toPublicKey().toBase58(), balance: 4_000_000n * MINA },
  ];
  const current = new CommittedLedger(0x5eedn, accounts(0n));
  const previous = new CommittedLedger(0x01dn, accounts(7n));
  const start = epoch * SLOTS_PER_EPOCH;
  const wins = (key: PrivateKey, ledger: CommittedLedger, from: number, count: number) => {
    const out: number[] = [];
    for (let s = from; out.length < count; s++) if (ledger.winningAccount(key, s)) out.push(s);
    return out;
  };
  const loses = (key: PrivateKey, ledger: CommittedLedger, from: number) => {
    for (let s = from; ; s++) if (!ledger.winningAccount(key, s)) return s;
  };
  const range = { epoch, from: start, to: start + 199, window };
  const plan = (designations: Designation[], r: Partial<typeof range> = {}) => new BackfillPlan({ ...range, ...r }, current, previous, designations);
  return { a, b, outsider, current, previous, start, range, window, wins, loses, plan };
}
