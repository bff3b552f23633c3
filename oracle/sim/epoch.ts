import { compareForSelection, vrfDigest } from '../chain/selection.js';
import { fieldToStateHash, PALLAS_FIELD_MODULUS } from '../chain/base58.js';
import { Q } from '../crypto/pallas.js';
import type { BlockRecord } from '../chain/types.js';
import { winningBound } from '../vrf/threshold.js';
import type { StakingLedger } from './ledger.js';
import { Rng } from './random.js';

/** Mainnet consensus constants (`spec/MINA-VRF.md`). */
export const SLOTS_PER_EPOCH = 7140;

export interface SimulationParams {
  /** Seed of every random choice; the same seed and parameters give the same epoch. */
  seed: string | number;
  /** Epoch number; slots are numbered since the hard fork, `epoch · 7140 + i`. */
  epoch: number;
  /** Slots to simulate from the start of the epoch. */
  slots: number;
  /** Share of the total stake whose producers run nodes this epoch (the rest are offline). */
  onlineStake: number;
  /** Share of online producers that run several nodes with one key (each publishes its own block). */
  multiNodeShare: number;
  /** Most nodes a multi-node producer runs (it runs 2..maxNodes). */
  maxNodes: number;
  /** Chance that a node is up for a given slot. */
  nodeUptime: number;
  /** Chance that a block arrives late: after the next slot's producer has built on the previous tip. */
  lateRate: number;
}

/** Defaults calibrated so a 7140-slot epoch looks like mainnet epochs 13–14 (see README). */
export const DEFAULT_SIMULATION: SimulationParams = {
  seed: 1,
  epoch: 0,
  slots: SLOTS_PER_EPOCH,
  onlineStake: 0.59,
  multiNodeShare: 0.65,
  maxNodes: 3,
  nodeUptime: 0.97,
  lateRate: 0.03,
};

/** A simulated producer: its key, its accounts' stake and how many nodes it runs. */
export interface SimProducer {
  key: string;
  stake: bigint;
  nodes: number;
  /** With the real VRF: the generated private scalar behind `key`, and the ledger's delegate it stands for. */
  vrfKey?: bigint;
  ledgerKey?: string;
  /** With the real VRF: its delegating accounts (ledger index, balance). */
  accounts?: { index: number; balance: bigint }[];
}

/**
 * Mina's real VRF for a simulation: each online producer gets a generated key (from the
 * simulation's seed) and every delegating account evaluates the VRF for every slot, so the
 * outputs are genuine and whoever holds the keys can prove them. About 1 ms per account and
 * slot: for short ranges (`--slots`).
 */
export interface RealVrf {
  /** The staking epoch's seed the VRF hashes. */
  seed: bigint;
  /** The truncated output of scalar `sk` for (seed, slot, ledger index). */
  evaluate(sk: bigint, seed: bigint, slot: number, index: number): bigint;
  /** The public key (B62…) of scalar `sk`. */
  publicKey(sk: bigint): string;
  /** After each slot (progress). */
  onSlot?(done: number, total: number): void;
}

export interface SimulationStats {
  slots: number;
  producers: number;
  onlineProducers: number;
  onlineStakeFraction: number;
  multiNodeProducers: number;
  /** Slots for which at least one online account won the lottery. */
  wonSlots: number;
  blocks: number;
  canonicalBlocks: number;
  nonCanonicalBlocks: number;
  lateBlocks: number;
  emptySlots: number;
}

export interface SimulationResult {
  blocks: BlockRecord[];
  stats: SimulationStats;
  producers: SimProducer[];
}

interface Candidate {
  creator: string;
  vrfOutput: bigint;
  stateHash: string;
  late: boolean;
}

const OUTPUT_LOW_BITS = 221;

function randomStateHash(rng: Rng): string {
  for (;;) {
    const v = rng.bits(254);
    if (v < PALLAS_FIELD_MODULUS) return fieldToStateHash(v);
  }
}

function better(a: Candidate, b: Candidate): Candidate {
  return compareForSelection(a, b) >= 0 ? a : b;
}

/**
 * Simulates one epoch of Mina block production from a real staking ledger: every
 * delegating account of an online producer draws a uniform 253-bit VRF output per slot
 * and wins with Mina's exact threshold; a winning producer publishes one block per node
 * that is up; late blocks lose to the next slot's block; one block per slot becomes
 * canonical by Mina's chain selection.
 *
 * @example
 * const { blocks, stats } = simulateEpoch(await readLedger(file), { ...DEFAULT_SIMULATION, seed: 7 });
 */
export function simulateEpoch(ledger: StakingLedger, params: SimulationParams, vrf?: RealVrf): SimulationResult {
  const rng = new Rng(`${params.seed}`);
  const byProducer = new Map<string, { stake: bigint; accounts: number[] }>();
  for (const a of ledger.accounts) {
    const entry = byProducer.get(a.delegate) ?? { stake: 0n, accounts: [] };
    entry.stake += a.balance;
    entry.accounts.push(a.index);
    byProducer.set(a.delegate, entry);
  }

  // Online producers: in a seeded random order, add each one whose stake still fits the target.
  const keys = rng.shuffle([...byProducer.keys()].sort());
  const target = BigInt(Math.round(params.onlineStake * 1e9)) * ledger.total / 1_000_000_000n;
  let online = 0n;
  const producers: SimProducer[] = [];
  for (const key of keys) {
    const entry = byProducer.get(key)!;
    if (online + entry.stake > target) continue;
    online += entry.stake;
    const multi = rng.float() < params.multiNodeShare && params.maxNodes >= 2;
    producers.push({ key, stake: entry.stake, nodes: multi ? rng.int(2, params.maxNodes) : 1 });
  }
  if (vrf) {
    for (const p of producers) {
      let sk = 0n;
      while (sk === 0n || sk >= Q) sk = rng.bits(254);
      p.ledgerKey = p.key;
      p.vrfKey = sk;
      p.key = vrf.publicKey(sk);
      p.accounts = byProducer.get(p.ledgerKey)!.accounts.map((index) => ({ index, balance: ledger.accounts[index]!.balance }));
    }
  }

  // The online accounts, with their exact winning bounds (and the top 32 bits for a fast first test).
  const accountProducer: number[] = [];
  const accountIndex: number[] = [];
  const bounds: bigint[] = [];
  const boundsHi: number[] = [];
  producers.forEach((p, pi) => {
    for (const index of byProducer.get(p.ledgerKey ?? p.key)!.accounts) {
      const bound = winningBound(ledger.accounts[index]!.balance, ledger.total);
      accountProducer.push(pi);
      accountIndex.push(index);
      bounds.push(bound);
      boundsHi.push(Number(bound >> BigInt(OUTPUT_LOW_BITS)));
    }
  });

  const firstSlot = params.epoch * SLOTS_PER_EPOCH;
  const perSlot: Candidate[][] = [];
  let wonSlots = 0;
  for (let i = 0; i < params.slots; i++) {
    const winners = new Map<number, bigint>();
    for (let a = 0; a < bounds.length; a++) {
      let trunc: bigint;
      if (vrf) {
        trunc = vrf.evaluate(producers[accountProducer[a]!]!.vrfKey!, vrf.seed, firstSlot + i, accountIndex[a]!);
      } else {
        const hi = rng.u32();
        if (hi > boundsHi[a]!) continue;
        trunc = (BigInt(hi) << BigInt(OUTPUT_LOW_BITS)) | rng.bits(OUTPUT_LOW_BITS);
      }
      if (trunc > bounds[a]!) continue;
      // Several winning accounts of one producer: it uses the one with the largest Blake2b(output).
      const p = accountProducer[a]!;
      const held = winners.get(p);
      if (held === undefined || Buffer.compare(vrfDigest(trunc), vrfDigest(held)) > 0) winners.set(p, trunc);
    }
    if (winners.size > 0) wonSlots++;
    const candidates: Candidate[] = [];
    for (const [p, vrfOutput] of winners) {
      const producer = producers[p]!;
      for (let n = 0; n < producer.nodes; n++) {
        if (rng.float() >= params.nodeUptime) continue;
        candidates.push({ creator: producer.key, vrfOutput, stateHash: randomStateHash(rng), late: rng.float() < params.lateRate });
      }
    }
    perSlot.push(candidates);
    vrf?.onSlot?.(i + 1, params.slots);
  }

  // Chain selection: the best on-time block of a slot is canonical; a late block can only
  // be canonical when nothing was built on time in the next slot.
  const blocks: BlockRecord[] = [];
  let lateBlocks = 0;
  let canonicalBlocks = 0;
  perSlot.forEach((candidates, i) => {
    const onTime = candidates.filter((c) => !c.late);
    const nextOnTime = perSlot[i + 1]?.some((c) => !c.late) ?? false;
    const pool = onTime.length > 0 ? onTime : nextOnTime ? [] : candidates;
    const winner = pool.length > 0 ? pool.reduce(better) : undefined;
    for (const c of candidates) {
      if (c.late) lateBlocks++;
      const canonical = c === winner;
      if (canonical) canonicalBlocks++;
      blocks.push({ slot: firstSlot + i, creator: c.creator, canonical, vrfOutput: c.vrfOutput, stateHash: c.stateHash });
    }
  });

  return {
    blocks,
    producers,
    stats: {
      slots: params.slots,
      producers: byProducer.size,
      onlineProducers: producers.length,
      onlineStakeFraction: Number((online * 1_000_000n) / ledger.total) / 1e6,
      multiNodeProducers: producers.filter((p) => p.nodes > 1).length,
      wonSlots,
      blocks: blocks.length,
      canonicalBlocks,
      nonCanonicalBlocks: blocks.length - canonicalBlocks,
      lateBlocks,
      emptySlots: params.slots - canonicalBlocks,
    },
  };
}
