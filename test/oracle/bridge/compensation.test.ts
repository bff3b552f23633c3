import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrivateKey } from 'o1js';
import { DesignatedProducer } from '../../../contracts/DesignatedProducer.js';
import type { BackfillPlan } from '../../../oracle/backfill/commitment.js';
import { exampleNetwork } from '../../../oracle/backfill/example.js';
import { SlotCommitments } from '../../../oracle/backfill/slot-commitment.js';
import { Compensations } from '../../../oracle/bridge/compensation.js';
import { fieldToStateHash } from '../../../oracle/chain/base58.js';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import { fundPool, MINA, simulatedPool, type SimulatedPool } from '../../helpers/simulated-pool.js';

/**
 * The oracle's compensation of designated producers on a simulated chain (o1js LocalBlockchain,
 * mock proofs): from a designated block in a real event log to the slot's commitment and the
 * payment on chain, once, in slot order; what is not paid is kept with the reason.
 */

const net = exampleNetwork(3, 47);
const { a, b, start } = net;
const A = a.toPublicKey().toBase58();
const B = b.toPublicKey().toBase58();
// Designated slots: a's lost slots n1 and n2 hand it s1 and s2; b's m hands it s3.
const [n1, n2] = net.wins(a, net.current, start + 2, 2) as [number, number];
const [s1, s2] = [n1 + 3, n2 + 4];
const m = net.wins(b, net.current, s2, 1)[0]!;
const s3 = m + 2;
const designations = [
  { slot: s1, producer: A, lostSlot: n1 },
  { slot: s2, producer: A, lostSlot: n2 },
  { slot: s3, producer: B, lostSlot: m },
];
const blockOf = (slot: number) => fieldToStateHash(BigInt(slot) * 101n + 7n);

describe('compensation of designated producers', () => {
  let env: SimulatedPool;
  let dir: string;
  let log: EventLog;
  const commitments = new SlotCommitments({ epoch: 3, current: net.current, previous: net.previous }, net.window);
  const planOf = (slot: number) => {
    const d = designations.find((x) => x.slot === slot);
    return d && commitments.plan(d);
  };
  const balance = async (k: PrivateKey) => (await env.chain.account(k.toPublicKey()))?.balance.toBigInt() ?? 0n;
  const compensations = (basis: 'emitted' | 'canonical' = 'emitted', plans: (slot: number) => BackfillPlan | undefined = planOf) =>
    new Compensations({ log, client: env.client, oracle: env.oracle, dir: join(dir, 'reports'), planOf: plans, basis });

  /** The designated producer's block, taken with its proof, decided and emitted, as the intake and selector log it. */
  async function emitDesignated(slot: number, key: PrivateKey, plan: BackfillPlan): Promise<void> {
    const { statement, witness } = plan.eligibility(key, slot);
    const designation = (await DesignatedProducer.prove(statement, witness, key)).proof.toJSON();
    const member = key.toPublicKey().toBase58();
    const proposal = { slot, member, blockHash: blockOf(slot), payload: { slot }, signature: 'signed', designation };
    const accepted = { slot, member, blockHash: blockOf(slot), receivedAt: slot * 1000 + 400, proposal, receipt: {} as never };
    log.accept(accepted, 400);
    log.decide(slot, { strategy: 'first-delivered', pick: () => accepted }, slot * 1000 + 401);
    log.markEmitted(slot, slot * 1000 + 402, 'test');
  }

  beforeAll(async () => {
    DesignatedProducer.setProofsEnabled(false);
    dir = await mkdtemp(join(tmpdir(), 'compensation-'));
    log = EventLog.open(join(dir, 'events.sqlite'));
    env = await simulatedPool(3, { slot: start + 100 });
    await fundPool(env, 100n * MINA);
    for (const d of designations) await emitDesignated(d.slot, d.producer === A ? a : b, commitments.plan(d));
    // An ordinary block (no designation) in between: not a candidate.
    const plain = { slot: s1 + 1, member: A, blockHash: blockOf(s1 + 1), receivedAt: 0, proposal: { slot: s1 + 1, member: A, blockHash: blockOf(s1 + 1), payload: {}, signature: 's' }, receipt: {} as never };
    log.accept(plain, 0);
    log.decide(s1 + 1, { strategy: 'first-delivered', pick: () => plain }, 1);
    log.markEmitted(s1 + 1, 2, 'test');
  }, 300_000);

  afterAll(async () => {
    log.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the designated blocks emitted, in slot order', () => {
    expect(compensations().designatedBlocks(start, start + 99).map((x) => [x.slot, x.member])).toEqual([[s1, A], [s2, A], [s3, B]]);
  });

  it('commits the slot and pays the producer with its own proof, once, across a restart', async () => {
    const before = await balance(a);
    const outcome = await compensations().post(compensations().designatedBlocks(s1, s1)[0]!);
    expect(outcome).toMatchObject({ slot: s1, status: 'paid', producer: A, amount: (10n * MINA).toString() });
    expect(outcome).toHaveProperty('committed');
    expect((await balance(a)) - before).toBe(10n * MINA);
    const records = await env.client.backfill();
    expect(records.commitment?.hash().toString()).toBe(planOf(s1)!.commitment.hash().toString());
    expect(records.recorded.get(s1)).toBe(A);

    // A new instance (a restart) reads the slot's file and posts nothing.
    const again = await compensations().post(compensations().designatedBlocks(s1, s1)[0]!);
    expect(again).toEqual(outcome);
    // With the file lost, the commitment on chain is not posted again and the payment is refused by the chain's receipt.
    await rm(join(dir, 'reports', Compensations.fileName(s1)));
    expect(await compensations().post(compensations().designatedBlocks(s1, s1)[0]!)).toEqual({ slot: s1, status: 'already-paid', producer: A, commitment: planOf(s1)!.commitment.hash().toString() });
    expect((await balance(a)) - before).toBe(10n * MINA);
  }, 300_000);

  it('waits for the chain watcher when paying for canonical blocks, and skips an orphaned one', async () => {
    const block = compensations().designatedBlocks(s2, s2)[0]!;
    expect(await compensations('canonical').post(block)).toEqual({ slot: s2, status: 'waiting', reason: 'the chain watcher has not seen the block settle yet' });
    log.markChainStatus(s2, 'orphaned', s2 * 1000 + 9000);
    const before = await balance(a);
    expect(await compensations('canonical').post(block)).toMatchObject({ slot: s2, status: 'skipped', reason: expect.stringContaining('orphaned') });
    expect(await balance(a)).toBe(before);
    expect((await env.client.backfill()).commitment?.hash().toString()).toBe(planOf(s1)!.commitment.hash().toString());
  }, 300_000);

  it('skips a proof against another commitment than the slot\'s, and a slot the registry has moved past', async () => {
    const block = compensations().designatedBlocks(s3, s3)[0]!;
    const other = net.plan([designations[2]!], { from: s3, to: s3 + 1 });
    expect(await compensations('emitted', () => other).post(block)).toMatchObject({ status: 'skipped', reason: `the proof is against another commitment than slot ${s3}'s` });
    await rm(join(dir, 'reports', Compensations.fileName(s3)));
    // s3 is paid; then a designated block of an earlier slot comes too late.
    expect(await compensations().post(block)).toMatchObject({ slot: s3, status: 'paid', producer: B });
    const late = { ...compensations().designatedBlocks(s2, s2)[0]! };
    await rm(join(dir, 'reports', Compensations.fileName(s2)));
    expect(await compensations().post(late)).toMatchObject({ status: 'skipped', reason: `the registry has moved past slot ${s2} (its next free slot is ${s3 + 1}): the commitment can no longer be posted` });
    expect((await readdir(join(dir, 'reports'))).sort()).toEqual([s1, s2, s3].map(Compensations.fileName).sort());
  }, 300_000);
});
