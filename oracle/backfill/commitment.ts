import { Bool, Field, MerkleTree, PrivateKey, PublicKey, Signature, UInt32, UInt64 } from 'o1js';
import {
  BackfillCommitment,
  DESIGNATION_TREE_HEIGHT,
  DesignationStatement,
  DesignationWitness,
  EligibilityWitness,
  EpochLedger,
  LEDGER_TREE_HEIGHT,
  LedgerWitness,
  designationLeaf,
  ledgerLeaf,
} from '../../contracts/DesignatedProducer.js';
import { SLOTS_PER_EPOCH, poolTagOf } from '../../contracts/types.js';
import { InputError } from '../errors.js';
import { evaluateVrf } from '../vrf/evaluate.js';
import { isWinning } from '../vrf/threshold.js';
import { runWaitlist } from './engine.js';
import { prepareRange } from './prepare.js';
import type { BackfillBlock } from './types.js';

/** One account of a staking ledger as the VRF reads it: its ledger index, delegate and balance (nanomina). */
export interface LedgerEntry {
  index: number;
  delegate: string;
  balance: bigint;
}

/** An epoch's stake ledger and seed, with its Merkle tree (leaf at index = hash(delegate, balance)). */
export class CommittedLedger {
  readonly tree = new MerkleTree(LEDGER_TREE_HEIGHT);
  readonly total: bigint;
  private readonly byDelegate = new Map<string, LedgerEntry[]>();
  /** Ledger indices whose delegate key is not a point of the curve (their leaf is empty). */
  readonly offCurve: number[] = [];

  constructor(
    readonly seed: bigint,
    readonly accounts: readonly LedgerEntry[],
    total?: bigint,
  ) {
    const capacity = 2 ** (LEDGER_TREE_HEIGHT - 1);
    for (const a of accounts) {
      if (!Number.isSafeInteger(a.index) || a.index < 0 || a.index >= capacity) throw new InputError(`ledger index ${a.index} is outside the committed tree (0 to ${capacity - 1})`);
      const delegate = curvePoint(a.delegate);
      // Mainnet's ledger holds keys that are not points of the curve (two in epoch 0's): nobody
      // can sign or evaluate the VRF for them, so their leaf stays empty (no proof can use it);
      // their stake still counts in the total, as in Mina's threshold.
      if (!delegate) {
        this.offCurve.push(a.index);
        continue;
      }
      this.tree.setLeaf(BigInt(a.index), ledgerLeaf(delegate, UInt64.from(a.balance)));
      const list = this.byDelegate.get(a.delegate) ?? [];
      list.push(a);
      this.byDelegate.set(a.delegate, list);
    }
    this.total = total ?? accounts.reduce((s, a) => s + a.balance, 0n);
    if (this.total <= 0n) throw new InputError('a committed ledger needs a positive total stake');
  }

  /** What the commitment carries of this ledger. */
  epochLedger(): EpochLedger {
    return new EpochLedger({ seed: Field(this.seed), ledgerRoot: this.tree.getRoot(), total: UInt64.from(this.total) });
  }

  /** The first account delegated to `producer` whose VRF output for `slot` wins, or `undefined`. */
  winningAccount(producer: PrivateKey, slot: number): LedgerEntry | undefined {
    const sk = producer.s.toBigInt();
    for (const a of this.byDelegate.get(producer.toPublicKey().toBase58()) ?? []) {
      if (a.balance === 0n) continue;
      if (isWinning(evaluateVrf(sk, this.seed, slot, a.index).truncated, a.balance, this.total)) return a;
    }
    return undefined;
  }
}

/** The key as a curve point, or `undefined` when the base58 key is not one. */
function curvePoint(key: string): PublicKey | undefined {
  try {
    return PublicKey.fromBase58(key);
  } catch {
    return undefined;
  }
}

/** A designated producer of an empty slot, and the slot it lost. */
export interface Designation {
  slot: number;
  producer: string;
  lostSlot: number;
}

/**
 * The designations of a slot range: the backfill rules (`spec/BACKFILL.md`) run over the
 * network's blocks, each backfilled slot with the slot its producer joined the waitlist in.
 */
export function designationsOf(blocks: readonly BackfillBlock[], options: { from: number; to: number; window: number; excludeWinners?: boolean }): Designation[] {
  const run = runWaitlist(prepareRange(blocks, options), options.window, true);
  return run.backfilled!.map((b, i) => ({ slot: b.slot, producer: b.producer, lostSlot: run.lostSlots![i]! }));
}

/** The oracle's commitment for slots `from`–`to` of one epoch, with the trees its witnesses come from. */
export class BackfillPlan {
  readonly designationTree = new MerkleTree(DESIGNATION_TREE_HEIGHT);
  readonly commitment: BackfillCommitment;
  private readonly bySlot = new Map<number, Designation>();

  constructor(
    readonly range: { epoch: number; from: number; to: number; window: number },
    readonly current: CommittedLedger,
    readonly previous: CommittedLedger | undefined,
    readonly designations: readonly Designation[],
  ) {
    const { epoch, from, to, window } = range;
    const start = epoch * SLOTS_PER_EPOCH;
    if (!(start <= from && from <= to && to < start + SLOTS_PER_EPOCH)) throw new InputError(`slots ${from}–${to} are not a range of epoch ${epoch} (slots ${start}–${start + SLOTS_PER_EPOCH - 1})`);
    for (const d of designations) {
      if (d.slot < from || d.slot > to) throw new InputError(`designation of slot ${d.slot} is outside ${from}–${to}`);
      if (this.bySlot.has(d.slot)) throw new InputError(`slot ${d.slot} is designated twice`);
      this.bySlot.set(d.slot, d);
      this.designationTree.setLeaf(BigInt(d.slot - start), designationLeaf(PublicKey.fromBase58(d.producer), UInt32.from(d.lostSlot)));
    }
    const zero = new EpochLedger({ seed: Field(0), ledgerRoot: Field(0), total: UInt64.zero });
    this.commitment = new BackfillCommitment({
      epoch: UInt32.from(epoch),
      from: UInt32.from(from),
      to: UInt32.from(to),
      window: UInt32.from(window),
      current: current.epochLedger(),
      previous: previous?.epochLedger() ?? zero,
      designationsRoot: this.designationTree.getRoot(),
    });
  }

  /** The oracle's signature of the commitment for the pool whose PoolDac is `dac`. */
  sign(oracle: PrivateKey, dac: PublicKey): Signature {
    return Signature.create(oracle, this.commitment.message(poolTagOf(dac)));
  }

  designation(slot: number): Designation | undefined {
    return this.bySlot.get(slot);
  }

  /**
   * The statement and private inputs with which `producer` proves it may produce for `slot`:
   * as the slot's designated producer when the commitment names it, else by its own VRF.
   * Throws a clear error when it is neither (or its lost slot's output does not win).
   */
  eligibility(producer: PrivateKey, slot: number): { statement: DesignationStatement; witness: EligibilityWitness } {
    const key = producer.toPublicKey().toBase58();
    const { epoch, from, to } = this.range;
    if (slot < from || slot > to) throw new InputError(`slot ${slot} is outside the commitment's slots ${from}–${to}`);
    const start = epoch * SLOTS_PER_EPOCH;
    const d = this.bySlot.get(slot);
    const viaWaitlist = d?.producer === key;
    const vrfSlot = viaWaitlist ? d.lostSlot : slot;
    const ledger = vrfSlot < start ? this.previous : this.current;
    if (!ledger) throw new InputError(`slot ${vrfSlot} is in epoch ${epoch - 1}, whose ledger this commitment lacks`);
    const account = ledger.winningAccount(producer, vrfSlot);
    if (!account) {
      throw new InputError(viaWaitlist ? `${key} is designated for slot ${slot} but none of its accounts wins its lost slot ${vrfSlot}` : `${key} is not designated for slot ${slot}${d ? ` (${d.producer} is)` : ''} and none of its accounts wins it`);
    }
    const statement = new DesignationStatement({ commitment: this.commitment.hash(), slot: UInt32.from(slot), producer: producer.toPublicKey(), viaWaitlist: Bool(viaWaitlist) });
    const witness = new EligibilityWitness({
      commitment: this.commitment,
      vrfSlot: UInt32.from(vrfSlot),
      balance: UInt64.from(account.balance),
      ledger: new LedgerWitness(ledger.tree.getWitness(BigInt(account.index))),
      designation: new DesignationWitness(this.designationTree.getWitness(BigInt(slot - start))),
    });
    return { statement, witness };
  }
}
