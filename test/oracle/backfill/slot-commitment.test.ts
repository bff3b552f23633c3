import { describe, expect, it } from '@jest/globals';
import { Field, PublicKey, UInt64 } from 'o1js';
import { ledgerLeaf } from '../../../contracts/DesignatedProducer.js';
import { SLOTS_PER_EPOCH } from '../../../contracts/types.js';
import { exampleNetwork } from '../../../oracle/backfill/example.js';
import { readBackfillLedgers, SlotCommitments } from '../../../oracle/backfill/slot-commitment.js';
import { defaultLedgerPath } from '../../../oracle/paths.js';
import { readLedger } from '../../../oracle/sim/ledger.js';

/** The slot commitments' ledgers from the real mainnet staking ledger, and their refusals. */

describe('slot commitments', () => {
  it("reads mainnet's staking ledger: every account's leaf, the two keys off the curve left empty, their stake in the total", async () => {
    const file = defaultLedgerPath();
    const raw = await readLedger(file);
    const { current } = await readBackfillLedgers({ epoch: 0, ledger: file, seed: '5' });
    expect(current.accounts).toHaveLength(1676);
    expect(current.total).toBe(raw.total);
    // Two real accounts delegate to keys that are not points of the curve (nobody can produce for them).
    expect(current.offCurve).toHaveLength(2);
    for (const i of current.offCurve) {
      expect(() => PublicKey.fromBase58(raw.accounts[i]!.delegate)).toThrow();
      expect(current.tree.getNode(0, BigInt(i))).toEqual(Field(0));
    }
    const a = raw.accounts.find((x) => !current.offCurve.includes(x.index) && x.balance > 0n)!;
    expect(current.tree.getNode(0, BigInt(a.index))).toEqual(ledgerLeaf(PublicKey.fromBase58(a.delegate), UInt64.from(a.balance)));
  }, 60_000);

  it('builds the one-slot commitment of its epoch only, and says what is missing', async () => {
    const net = exampleNetwork(1, 10);
    const producer = net.a.toPublicKey().toBase58();
    const only = new SlotCommitments({ epoch: 1, current: net.current }, 10);
    const start = SLOTS_PER_EPOCH;
    expect(only.covers(start)).toBe(true);
    expect(only.covers(start - 1)).toBe(false);
    expect(() => only.plan({ slot: start - 1, producer, lostSlot: start - 5 })).toThrow(`slot ${start - 1} is in epoch 0; the backfill ledgers are for epoch 1`);
    expect(() => only.plan({ slot: start + 2, producer, lostSlot: start - 3 })).toThrow(`slot ${start - 3} was lost in epoch 0, whose staking ledger was not given`);
    const both = new SlotCommitments({ epoch: 1, current: net.current, previous: net.previous }, 10);
    const view = both.view({ slot: start + 2, producer, lostSlot: start - 3 });
    // The same commitment as the oracle's plan over that one slot.
    expect(view.commitment).toBe(net.plan([{ slot: start + 2, producer, lostSlot: start - 3 }], { from: start + 2, to: start + 2 }).commitment.hash().toString());
    expect(view).toMatchObject({ slot: start + 2, producer, lostSlot: start - 3, epoch: 1, window: 10, previous: { seed: net.previous.seed.toString() } });
    // Another producer for the same slot is another commitment.
    expect(both.view({ slot: start + 2, producer: net.b.toPublicKey().toBase58(), lostSlot: start - 3 }).commitment).not.toBe(view.commitment);
  });

  it('refuses ledgers given wrongly', async () => {
    const file = defaultLedgerPath();
    await expect(readBackfillLedgers({ epoch: 0, ledger: file, seed: '5', previousLedger: file, previousSeed: '6' })).rejects.toThrow('epoch 0 has no previous epoch');
    await expect(readBackfillLedgers({ epoch: 3, ledger: file, seed: '5', previousLedger: file })).rejects.toThrow('the previous epoch needs both its staking ledger and its seed');
    await expect(readBackfillLedgers({ epoch: 3, ledger: file, seed: 'nope' })).rejects.toThrow(/the seed is neither a decimal field element nor a base58 epoch seed/);
    await expect(readBackfillLedgers({ epoch: -1, ledger: file, seed: '5' })).rejects.toThrow('the backfill epoch must be a whole number ≥ 0, got -1');
  });
});
