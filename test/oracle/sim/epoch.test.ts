import { beforeAll, describe, expect, it } from '@jest/globals';
import { analyseBackfill, sweepWindows } from '../../../oracle/backfill/index.js';
import { stateHashToField } from '../../../oracle/chain/base58.js';
import { defaultLedgerPath } from '../../../oracle/paths.js';
import { DEFAULT_SIMULATION, parseLedger, readLedger, simulateEpoch, type StakingLedger } from '../../../oracle/sim/index.js';
import { winningBound } from '../../../oracle/vrf/threshold.js';

describe('simulateEpoch', () => {
  let ledger: StakingLedger;
  beforeAll(async () => {
    ledger = await readLedger(defaultLedgerPath());
  });

  it('reads the real staking ledger', () => {
    expect(ledger.accounts).toHaveLength(1676);
    expect(new Set(ledger.accounts.map((a) => a.delegate)).size).toBe(495);
    expect(ledger.total).toBe(805385692840039233n); // nanomina
  });

  it('is reproducible from its seed and differs between seeds', () => {
    const p = { ...DEFAULT_SIMULATION, slots: 300 };
    const a = simulateEpoch(ledger, { ...p, seed: 11 });
    expect(simulateEpoch(ledger, { ...p, seed: 11 }).blocks).toEqual(a.blocks);
    expect(simulateEpoch(ledger, { ...p, seed: 12 }).blocks).not.toEqual(a.blocks);
  });

  it('produces valid blocks: at most one canonical per slot, real state hashes, winning VRF outputs', () => {
    const { blocks, producers } = simulateEpoch(ledger, { ...DEFAULT_SIMULATION, slots: 500, epoch: 14 });
    const stake = new Map(producers.map((p) => [p.key, p.stake]));
    const canonical = new Map<number, number>();
    for (const b of blocks) {
      expect(b.slot).toBeGreaterThanOrEqual(14 * 7140);
      expect(b.slot).toBeLessThan(14 * 7140 + 500);
      if (b.canonical) canonical.set(b.slot, (canonical.get(b.slot) ?? 0) + 1);
      expect(stateHashToField(b.stateHash!)).toBeDefined();
      // The winning account holds at most its producer's stake, and the bound grows with stake.
      expect(b.vrfOutput!).toBeLessThanOrEqual(winningBound(stake.get(b.creator)!, ledger.total));
    }
    expect(Math.max(...canonical.values())).toBe(1);
    expect(new Set(blocks.map((b) => b.stateHash)).size).toBe(blocks.length);
  });

  it('wins slots at Mina\'s rate: two accounts of half the stake each leave (1 − 0.49999974)^2 of slots empty', () => {
    const pk = (c: string) => 'B62q' + c.repeat(51);
    const two = parseLedger(JSON.stringify([{ pk: pk('a'), balance: '1000', delegate: pk('a') }, { pk: pk('b'), balance: '1000', delegate: pk('b') }]), 'two.json');
    const { stats } = simulateEpoch(two, { ...DEFAULT_SIMULATION, slots: 20000, onlineStake: 1, nodeUptime: 1, lateRate: 0, multiNodeShare: 0 });
    // Expected empty share 0.2500003; 3 standard deviations over 20000 slots ≈ 0.0092.
    expect(Math.abs(stats.emptySlots / 20000 - 0.25)).toBeLessThan(0.0092);
    expect(stats.nonCanonicalBlocks).toBe(stats.blocks - stats.canonicalBlocks);
  });

  it('with its defaults, looks like mainnet epochs 13–14 and shows the forum\'s backfill effect', () => {
    const { blocks, stats } = simulateEpoch(ledger, DEFAULT_SIMULATION);
    const empty = stats.emptySlots / stats.slots;
    expect(empty).toBeGreaterThan(0.42);
    expect(empty).toBeLessThan(0.48);
    expect(stats.nonCanonicalBlocks / stats.slots).toBeGreaterThan(0.8);
    expect(stats.nonCanonicalBlocks / stats.slots).toBeLessThan(1.4);
    const at47 = analyseBackfill(blocks, { window: 47 });
    expect(at47.emptyPercentAfter).toBeLessThan(4);
    const sweep = sweepWindows(blocks, { first: 1, last: 200 });
    expect(sweep.rows[0]!.emptyPercent).toBeGreaterThan(10); // window 1 fills little
    expect(sweep.suggestedWindow).toBeGreaterThanOrEqual(25);
    expect(sweep.suggestedWindow).toBeLessThanOrEqual(80);
  });

  it('publishes one block per node: no duplicates with --max-nodes 1, duplicates with several nodes', () => {
    const perSlotCreator = (blocks: { slot: number; creator: string }[]) => {
      const counts = new Map<string, number>();
      for (const b of blocks) counts.set(`${b.slot}/${b.creator}`, (counts.get(`${b.slot}/${b.creator}`) ?? 0) + 1);
      return Math.max(...counts.values());
    };
    const base = { ...DEFAULT_SIMULATION, slots: 300, multiNodeShare: 1, nodeUptime: 1 };
    expect(perSlotCreator(simulateEpoch(ledger, { ...base, maxNodes: 1 }).blocks)).toBe(1);
    const many = simulateEpoch(ledger, { ...base, maxNodes: 3 });
    expect(perSlotCreator(many.blocks)).toBe(3);
    expect(many.producers.every((p) => p.nodes >= 2 && p.nodes <= 3)).toBe(true);
  });

  it('rejects a ledger with a bad account, naming it', () => {
    expect(() => parseLedger('[{"pk":"B62qbad","balance":"1"}]', 'l.json')).toThrow(/l\.json: account 1, field 'pk': expected a B62… public key/);
    expect(() => parseLedger(`[{"pk":"B62q${'a'.repeat(51)}","balance":"1.2.3"}]`, 'l.json')).toThrow(/account 1, field 'balance'/);
    expect(() => parseLedger('{}', 'l.json')).toThrow(/expected a non-empty array/);
  });
});
