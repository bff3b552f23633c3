import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Field, PrivateKey, Signature } from 'o1js';
import { fieldToStateHash, stateHashToField } from '../../../oracle/chain/base58.js';
import { EtcdAgreement } from '../../../oracle/emitter/agreement.js';
import { LocalEtcd } from '../../../oracle/emitter/local-etcd.js';
import { buildRelay } from '../../../oracle/emitter/relay.js';
import { EmitterService, fixedMembers } from '../../../oracle/emitter/service.js';
import { HttpSink } from '../../../oracle/emitter/sink.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import { until } from '../../helpers/wait.js';

/**
 * Three emitter services (in this process) agreeing through a real three-member etcd cluster
 * on loopback, handing winners to one relay over HTTP. Each replica takes every proposal
 * itself; whichever saw which first, one block per slot reaches the relay, and every replica's
 * log records the same outcome and who forwarded it. (Killing processes: replica-faults.test.ts.)
 */

const SLOT_MS = 6_000;
const POOL_TAG = '777';
const members = Array.from({ length: 3 }, () => PrivateKey.random());
const operator = PrivateKey.random();
const block = (slot: number, m: number) => fieldToStateHash(BigInt(slot) * 10n + BigInt(m) + 1n);

function propose(m: number, slot: number) {
  const blockHash = block(slot, m);
  const signature = Signature.create(members[m]!, [Field(POOL_TAG), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
  return JSON.stringify({ slot, member: members[m]!.toPublicKey().toBase58(), blockHash, payload: { slot, m }, signature });
}

describe('emitter replicas agreeing through etcd', () => {
  let dir: string;
  let etcd: LocalEtcd;
  let relay: FastifyInstance;
  let relayUrl: string;
  const relayed: { slot: number; blockHash: string; stored: boolean }[] = [];
  const replicas: { service: EmitterService; url: string; lines: string[] }[] = [];
  const time = new ManualTime(100 * SLOT_MS);
  const clock = new SlotClock({ genesisMs: 0, slotMs: SLOT_MS, time });
  const post = async (r: number, body: string) => (await fetch(`${replicas[r]!.url}/v1/proposals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replicas-'));
    etcd = await LocalEtcd.start({ dir: join(dir, 'etcd') });
    relay = buildRelay({ spoolDir: join(dir, 'gateway'), onBlock: (b) => relayed.push(b) });
    relayUrl = `${await relay.listen({ port: 0, host: '127.0.0.1' })}/v1/blocks`;
    for (const id of ['r1', 'r2', 'r3']) {
      const lines: string[] = [];
      const agreement = await EtcdAgreement.start({ endpoints: etcd.endpoints, replica: id, poolTag: POOL_TAG, onStatus: (m) => lines.push(m) });
      const service = await EmitterService.start({
        dataDir: join(dir, id),
        clock,
        strategy: 'first-delivered',
        window: { earlyMs: 1_000, closeMs: SLOT_MS, cutoffMs: 2_000 },
        poolTag: POOL_TAG,
        operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() },
        membership: fixedMembers(members.map((k) => k.toPublicKey().toBase58())),
        threads: 1,
        sink: new HttpSink(relayUrl),
        agreement,
        progress: (m) => lines.push(m),
      });
      replicas.push({ service, url: await service.listen(0), lines });
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) await r.service.stop();
    await relay?.close();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('one proposal delivered to every replica: one forwarding, the same decision and emission in every log', async () => {
    await time.set(clock.slotStart(101) + 500);
    expect(await Promise.all([0, 1, 2].map((r) => post(r, propose(0, 101))))).toEqual([200, 200, 200]);
    await until(() => replicas.every((r) => r.service.log.decision(101)?.emittedAt !== undefined), 'slot 101 emitted in every log');
    expect(relayed.filter((b) => b.slot === 101)).toEqual([{ slot: 101, member: members[0]!.toPublicKey().toBase58(), blockHash: block(101, 0), stored: true }]);
    const emitted = replicas.map((r) => r.service.log.eventsOfSlot(101).filter((e) => e.type === 'emitted'));
    const forwarders = new Set(emitted.map((e) => e[0]!.data!.replica));
    expect(forwarders.size).toBe(1);
    expect(emitted.map((e) => e.length)).toEqual([1, 1, 1]);
  }, 30_000);

  it('different first proposals at different replicas: exactly one block for the slot, the same in every log', async () => {
    await time.set(clock.slotStart(102) + 500);
    // Each replica hears another member first.
    expect(await Promise.all([0, 1, 2].map((r) => post(r, propose(r, 102))))).toEqual([200, 200, 200]);
    await Promise.all([0, 1, 2].map((r) => post((r + 1) % 3, propose(r, 102))));
    await until(() => replicas.every((r) => r.service.log.decision(102)?.emittedAt !== undefined), 'slot 102 emitted in every log');
    const decided = replicas.map((r) => r.service.log.decision(102)!.blockHash);
    expect(new Set(decided).size).toBe(1);
    expect(relayed.filter((b) => b.slot === 102).map((b) => b.blockHash)).toEqual([decided[0]]);
  }, 30_000);

  it('a slot without a proposal is missed for all; a replica that had none still records another\'s decision', async () => {
    await time.set(clock.slotStart(103) + 500);
    expect(await post(2, propose(1, 103))).toBe(200);
    await until(() => replicas[2]!.service.log.decision(103)?.emittedAt !== undefined, 'slot 103 emitted by the replica that had it');
    // The others learn the outcome when the window closes: theirs would be "missed"; the decision stands.
    await time.set(clock.slotStart(105) + 100);
    await until(() => replicas.every((r) => r.service.log.lastClosedSlot() === 104), 'slot 104 closed everywhere');
    for (const r of replicas) {
      expect(r.service.log.eventsOfSlot(104).map((e) => e.type)).toEqual(['missed']);
      expect(r.service.log.decision(103)).toMatchObject({ member: members[1]!.toPublicKey().toBase58(), blockHash: block(103, 1) });
      expect(r.service.log.eventsOfSlot(103).map((e) => e.type)).not.toContain('missed');
    }
    expect(relayed.filter((b) => b.slot === 103 || b.slot === 104).map((b) => b.slot)).toEqual([103]);
  }, 30_000);
});
