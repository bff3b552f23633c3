import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Field, PrivateKey, Signature } from 'o1js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DesignatedProducer, type DesignatedProducerProof } from '../../../contracts/DesignatedProducer.js';
import { Compensations } from '../../../oracle/bridge/compensation.js';
import { exampleNetwork } from '../../../oracle/backfill/example.js';
import { stateHashToField } from '../../../oracle/chain/base58.js';
import type { EmitterService } from '../../../oracle/emitter/service.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import { until } from '../../helpers/wait.js';
import { fundPool, MINA, simulatedPool, type SimulatedPool } from '../../helpers/simulated-pool.js';
import { hashOf, startWaitlistEmitter, type WaitlistEmitter } from '../../helpers/waitlist-emitter.js';

/**
 * The live commitment end to end in the emitter service: the waitlist follows a simulated
 * daemon (a real HTTP and WebSocket server in the daemon's schema); when the slot comes, the
 * head (projected over the slots not yet settled) is fixed and its one-slot commitment served
 * at `GET /v1/backfill/:slot`; the designated producer rebuilds that commitment from its own
 * copy of the ledgers, proves against it (the program with proofs off: its checks run on the
 * values) and delivers its block over HTTP a third into the slot. Once the slot has passed,
 * the service posts the slot's commitment and the producer's compensation to a pool on a
 * simulated chain (o1js LocalBlockchain, mock proofs). The verifier is the one stand-in (it
 * counts calls); the proving suite runs the real one on a real proof.
 */

const SLOT_MS = 9_000;
const POOL_TAG = '4242';
const net = exampleNetwork(1, 10);
const { a, b } = net;
const A = a.toPublicKey().toBase58();
const outsider = PrivateKey.random().toPublicKey().toBase58();
const [lost] = net.wins(a, net.current, net.start + 5, 1) as [number];
const S = lost + 3;

function propose(key: PrivateKey, slot: number, blockHash: string, designation?: unknown) {
  const signature = Signature.create(key, [Field(POOL_TAG), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
  return { slot, member: key.toPublicKey().toBase58(), blockHash, payload: { slot }, signature, ...(designation !== undefined ? { designation } : {}) };
}

describe('the live commitment of a slot', () => {
  let w: WaitlistEmitter;
  let service: EmitterService;
  let base: string;
  const time = new ManualTime(net.start * SLOT_MS);
  const clock = new SlotClock({ genesisMs: 0, slotMs: SLOT_MS, time });
  const verified: DesignatedProducerProof[] = [];
  const add = (n: number, slot: number, creator: string, onBest: boolean) => w.add(n, slot, creator, onBest);
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const post = async (body: unknown) => {
    const r = await fetch(`${base}/v1/proposals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  let env: SimulatedPool;
  let compensationDir: string;

  beforeAll(async () => {
    DesignatedProducer.setProofsEnabled(false);
    compensationDir = await mkdtemp(join(tmpdir(), 'compensations-'));
    env = await simulatedPool(2, { params: { backfillWindow: 10 } });
    await fundPool(env, 50n * MINA);
    w = await startWaitlistEmitter({
      clock,
      poolTag: POOL_TAG,
      members: [A, b.toPublicKey().toBase58()],
      backfill: { ledgers: { epoch: 1, current: net.current, previous: net.previous }, verifyProof: async (p) => (verified.push(p), true) },
      compensation: { create: (log, planOf) => new Compensations({ log, client: env.client, oracle: env.oracle, dir: compensationDir, planOf, basis: 'emitted' }) },
    });
    ({ service, base } = w);
  }, 60_000);

  afterAll(async () => {
    await w.stop();
    await rm(compensationDir, { recursive: true, force: true });
  });

  it('fixes the head when the slot comes, serves its commitment, and takes the designated block proved against it', async () => {
    // `lost`: a won it but its block lost to an outsider's; lost+1 is taken and settled; lost+2 is
    // the tip, not settled yet: the projection runs over it.
    await add(1, lost, outsider, true);
    await add(2, lost, A, false);
    await add(3, lost + 1, outsider, true);
    await add(4, lost + 2, outsider, true);
    await until(() => service.waitlist!.lastSlot === lost + 1, `slot ${lost + 1} settled`);
    await time.set(clock.slotStart(S) + 100);
    // Until the best chain has been read since the slot began, the emitter does not guess.
    const early = await get(`/v1/backfill/${S}`);
    if (early.status === 404) expect(early.body.message).toBe(`the best chain has not been read since slot ${S} began; ask again in a few seconds`);
    await until(async () => (await get(`/v1/backfill/${S}`)).status === 200, 'the live commitment');
    // A later slot is not fixed before it comes; a past one was never fixed.
    expect(await get(`/v1/backfill/${S + 1}`)).toMatchObject({ status: 404, body: { code: 'NO_DESIGNATION', message: `slot ${S + 1} has no designated producer fixed: it is fixed when the slot comes (the current slot is ${S})` } });
    expect(await get(`/v1/backfill/${S - 1}`)).toMatchObject({ status: 404, body: { code: 'NO_DESIGNATION', message: `slot ${S - 1} has no designated producer fixed` } });
    expect(await get(`/v1/backfill/${net.start - 1}`)).toMatchObject({ status: 404, body: { message: `slot ${net.start - 1} is not in epoch 1, whose staking ledger this emitter holds` } });
    const served = await get(`/v1/backfill/${S}`);
    expect(served).toMatchObject({ status: 200, body: { slot: S, producer: A, lostSlot: lost, epoch: 1, window: 10 } });

    // The producer rebuilds the commitment from its own copy of the ledgers: the same hash.
    const plan = net.plan([{ slot: S, producer: A, lostSlot: lost }], { from: S, to: S });
    expect(served.body.commitment).toBe(plan.commitment.hash().toString());
    expect(served.body.current).toEqual({ seed: net.current.seed.toString(), ledgerRoot: net.current.tree.getRoot().toString(), total: net.current.total.toString() });
    const { statement, witness } = plan.eligibility(a, S);
    const proof = (await DesignatedProducer.prove(statement, witness, a)).proof.toJSON();

    // A proof against a commitment that names a for S over a longer range: not this slot's.
    const wide = net.plan([{ slot: S, producer: A, lostSlot: lost }], { from: S, to: S + 5 }).eligibility(a, S);
    const wideProof = (await DesignatedProducer.prove(wide.statement, wide.witness, a)).proof.toJSON();

    await time.set(clock.slotStart(S) + SLOT_MS / 3);
    expect(await post(propose(a, S, hashOf(50), wideProof))).toMatchObject({ status: 422, body: { code: 'BAD_DESIGNATION', message: expect.stringMatching(new RegExp(`not slot ${S}'s`)) } });
    const taken = await post(propose(a, S, hashOf(51), proof));
    expect(taken).toMatchObject({ status: 200, body: { receipt: { slot: S, member: A, blockHash: hashOf(51) } } });
    expect(verified.map((p) => p.publicInput.commitment.toString())).toEqual([served.body.commitment]);
    expect(service.log.decision(S)).toMatchObject({ member: A, blockHash: hashOf(51) });

    // Asking again, the fixed designation stands.
    expect((await get(`/v1/backfill/${S}`)).body.commitment).toBe(served.body.commitment);
  }, 120_000);

  it('refuses a proof for a slot nobody was designated for, and removes the designee once its block is canonical', async () => {
    // a's block for S is canonical and the chain moves on: a leaves the queue as the designated producer.
    await add(5, S, A, true);
    await add(6, S + 1, outsider, true);
    await until(() => service.waitlist!.lastSlot === S, `slot ${S} settled`);
    expect(service.waitlist!.entries()).toEqual([]);
    expect(service.waitlist!.snapshot().designations.at(-1)).toEqual({ slot: S, producer: A, lostSlot: lost });
    // Slot S+2: nobody waits, so no commitment, and a designation proof is refused.
    await time.set(clock.slotStart(S + 2) + SLOT_MS / 2);
    await until(async () => (await get(`/v1/backfill/${S + 2}`)).body.message === `nobody is waiting for slot ${S + 2}`, 'nobody waiting for S+2');
    const plan = net.plan([{ slot: S + 2, producer: A, lostSlot: lost }], { from: S + 2, to: S + 2 });
    const { statement, witness } = plan.eligibility(a, S + 2);
    const proof = (await DesignatedProducer.prove(statement, witness, a)).proof.toJSON();
    expect(await post(propose(a, S + 2, hashOf(52), proof))).toMatchObject({ status: 422, body: { code: 'BAD_DESIGNATION', message: expect.stringContaining(`the oracle has no designated producer for slot ${S + 2} (GET /v1/backfill/${S + 2} says why)`) } });
    expect(verified).toHaveLength(1);
  }, 120_000);

  it('once the slot has passed, posts its commitment and pays the designated producer, once', async () => {
    // A tenth into a slot after S, the service's loop posted S's commitment, then a's compensation.
    const balance = async () => (await env.chain.account(a.toPublicKey()))?.balance.toBigInt() ?? 0n;
    await until(() => w.lines.some((l) => l.startsWith(`backfill: slot ${S}:`)), `slot ${S} compensated`);
    expect(w.lines.filter((l) => l.startsWith('backfill: slot'))).toEqual([`backfill: slot ${S}: ${A} compensated 10 MINA (commitment posted)`]);
    const records = await env.client.backfill();
    expect(records.recorded.get(S)).toBe(A);
    expect(records.commitment?.hash().toString()).toBe(net.plan([{ slot: S, producer: A, lostSlot: lost }], { from: S, to: S }).commitment.hash().toString());
    expect(JSON.parse(await readFile(join(compensationDir, Compensations.fileName(S)), 'utf8'))).toMatchObject({ slot: S, status: 'paid', amount: (10n * MINA).toString() });
    // Slots pass; nothing is posted twice.
    const paid = await balance();
    await time.set(clock.slotStart(S + 4) + SLOT_MS / 2);
    await time.set(clock.slotStart(S + 5) + SLOT_MS / 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await balance()).toBe(paid);
    expect(w.lines.filter((l) => l.startsWith('backfill:'))).toHaveLength(1);
  }, 120_000);
});
