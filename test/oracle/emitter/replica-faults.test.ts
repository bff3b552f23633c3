import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { Field, PrivateKey, Signature } from 'o1js';
import { fieldToStateHash, stateHashToField } from '../../../oracle/chain/base58.js';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import { LocalEtcd } from '../../../oracle/emitter/local-etcd.js';
import { buildRelay } from '../../../oracle/emitter/relay.js';
import { projectRoot } from '../../../oracle/paths.js';
import { freePort } from '../../helpers/project.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { until } from '../../helpers/wait.js';
import { killAndWait } from '../../../oracle/processes.js';

/**
 * Faults with real processes: three emitter replicas (each a process of its own, each with
 * its own log), a real three-member etcd cluster on loopback, one relay (the gateway's) over
 * HTTP, and three members delivering every slot's blocks to every replica that is up. In
 * turn: SIGKILL the replica that holds the current slot's decision before it hands the block
 * on; SIGKILL an etcd member, then the leader; cut one replica off from etcd (a proxy that
 * drops its traffic); restart everything. Then, over the whole run: every slot that had a
 * valid proposal has exactly one block at the relay, no slot has two, every proposal that
 * got a receipt is in the log of the replica that gave it, and the logs agree.
 */

const SLOT_MS = 2_000;
const POOL_TAG = '31337';
const members = Array.from({ length: 3 }, () => PrivateKey.random());
const operator = PrivateKey.random();
const block = (slot: number, m: number) => fieldToStateHash(BigInt(slot) * 100n + BigInt(m) + 5n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function proposal(m: number, slot: number): string {
  const blockHash = block(slot, m);
  const signature = Signature.create(members[m]!, [Field(POOL_TAG), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
  return JSON.stringify({ slot, member: members[m]!.toPublicKey().toBase58(), blockHash, payload: { slot, m }, signature });
}

interface Replica {
  id: string;
  dataDir: string;
  port: number;
  etcd: string[];
  child?: ChildProcess;
  url?: string;
  stderr: string;
}

describe('emitter replicas under faults', () => {
  let dir: string;
  let etcd: LocalEtcd;
  let relay: FastifyInstance;
  let observer: Etcd3;
  const proxies: TcpProxy[] = [];
  const replicas: Replica[] = [];
  const relayed: { slot: number; blockHash: string; stored: boolean }[] = [];
  /** Every receipt a member got: which replica, which proposal. */
  const receipts: { replica: string; slot: number; member: string; blockHash: string }[] = [];
  let genesisMs = 0;
  const slotAt = (t: number) => Math.floor((t - genesisMs) / SLOT_MS);
  const slotStart = (s: number) => genesisMs + s * SLOT_MS;

  afterAll(async () => {
    for (const r of replicas) r.child?.kill('SIGKILL');
    observer?.close();
    for (const p of proxies) await p.stop();
    await relay?.close();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(r: Replica): Promise<void> {
    const config = join(dir, `${r.id}.json`);
    await writeFile(
      config,
      JSON.stringify({
        dataDir: r.dataDir,
        port: r.port,
        genesisMs,
        slotMs: SLOT_MS,
        strategy: 'first-delivered',
        members: members.map((k) => k.toPublicKey().toBase58()),
        poolTag: POOL_TAG,
        operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() },
        // The block reaches the relay 600 ms after the decision, so a kill can land in between.
        sinkDelayMs: 600,
        relayUrl: `${relayUrl}/v1/blocks`,
        replica: { id: r.id, etcd: r.etcd },
      }),
    );
    const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'test', 'helpers', 'emitter-process.js'), config], { stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    child.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
    r.url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`replica ${r.id} exited (${code}) before listening: ${r.stderr.slice(-800)}`)));
    });
  }

  async function kill(r: Replica, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = r.child;
    if (!c) return;
    r.child = undefined;
    await killAndWait(c, signal);
  }

  /** Every member delivers its block for `slot` to every replica that is up, a little after the slot starts. */
  async function deliver(slot: number): Promise<void> {
    const wait = slotStart(slot) + 100 - Date.now();
    if (wait > 0) await sleep(wait);
    await Promise.all(
      members.flatMap((_, m) =>
        replicas
          .filter((r) => r.child)
          .map(async (r) => {
            await sleep(Math.floor(Math.random() * 150));
            try {
              const res = await fetch(`${r.url}/v1/proposals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: proposal(m, slot), signal: AbortSignal.timeout(3_000) });
              if (res.status === 200) receipts.push({ replica: r.id, slot, member: members[m]!.toPublicKey().toBase58(), blockHash: block(slot, m) });
            } catch {
              // a replica killed meanwhile: no receipt
            }
          }),
      ),
    );
  }

  const forwarder = async (slot: number) => (await observer.get(`/mina-pool/${POOL_TAG}/slot/${String(slot).padStart(10, '0')}/forwarder`).string()) ?? undefined;
  let relayUrl = '';

  it('one block per slot with a valid proposal, none twice, no accepted proposal lost, through kills, a partition and a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'replica-faults-'));
    etcd = await LocalEtcd.start({ dir: join(dir, 'etcd') });
    observer = new Etcd3({ hosts: etcd.endpoints });
    relay = buildRelay({ spoolDir: join(dir, 'gateway'), onBlock: (b) => relayed.push(b) });
    relayUrl = await relay.listen({ port: 0, host: '127.0.0.1' });
    // r3 reaches etcd through proxies that the test can cut.
    for (const m of etcd.members) proxies.push(await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(m.clientUrl).port) }));
    for (const id of ['r1', 'r2', 'r3']) replicas.push({ id, dataDir: join(dir, id), port: await freePort(), etcd: id === 'r3' ? proxies.map((p) => p.url) : etcd.endpoints, stderr: '' });
    genesisMs = Date.now() + 4_000 - 100 * SLOT_MS;
    await Promise.all(replicas.map(start));
    let slot = slotAt(Date.now()) + 1;
    const first = slot;

    // Normal running.
    for (const end = slot + 2; slot < end; slot++) await deliver(slot);

    // SIGKILL the replica holding the slot's decision before its block reaches the relay.
    const killedSlot = slot;
    await deliver(slot);
    let holder: string | undefined;
    await until(async () => (holder = await forwarder(killedSlot)) !== undefined, `slot ${killedSlot}'s forwarder`, 5_000);
    const victim = replicas.find((r) => r.id === holder)!;
    const killedAt = Date.now();
    await kill(victim);
    expect(relayed.filter((b) => b.slot === killedSlot)).toEqual([]);
    await until(() => relayed.some((b) => b.slot === killedSlot), `slot ${killedSlot}'s block handed on by another replica`, 10_000);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(6_000);
    slot++;
    for (const end = slot + 1; slot < end; slot++) await deliver(slot);
    await start(victim);

    // SIGKILL an etcd member that does not lead, then the leader.
    const leader = await etcd.leader();
    const follower = etcd.members.find((m) => m !== leader)!;
    await etcd.kill(follower);
    for (const end = slot + 2; slot < end; slot++) await deliver(slot);
    await etcd.kill(leader!);
    // One member of three is left: no quorum, nothing can be decided until the leader is back.
    for (const end = slot + 1; slot < end; slot++) await deliver(slot);
    await etcd.restart(leader!);
    for (const end = slot + 2; slot < end; slot++) await deliver(slot);
    await etcd.restart(follower);
    await etcd.waitHealthy();

    // Cut r3 off from etcd: it keeps taking proposals, decides and forwards nothing, and says so.
    const r3 = replicas.find((r) => r.id === 'r3')!;
    for (const p of proxies) p.cut();
    const cutFrom = slot;
    for (const end = slot + 3; slot < end; slot++) await deliver(slot);
    const cutTo = slot - 1;
    await until(() => /r3: agreement: replica r3 is cut off from etcd/.test(r3.stderr), 'r3 saying it is cut off', 5_000);
    for (const p of proxies) p.restore();
    for (const end = slot + 2; slot < end; slot++) await deliver(slot);
    await until(() => /r3: agreement: replica r3 reaches etcd again/.test(r3.stderr), 'r3 back', 10_000);

    // Restart everything: the replicas, then every etcd member.
    for (const r of replicas) await kill(r);
    for (const m of etcd.members) await etcd.kill(m);
    for (const m of etcd.members) await etcd.restart(m);
    await etcd.waitHealthy();
    await Promise.all(replicas.map(start));
    slot = Math.max(slot, slotAt(Date.now()) + 1);
    for (const end = slot + 3; slot < end; slot++) await deliver(slot);
    const last = slot - 1;

    // Every slot closes in every replica; then the logs are read.
    await sleep(SLOT_MS * 2 + 1_500);
    for (const r of replicas) await kill(r, 'SIGTERM');
    const logs = new Map(replicas.map((r) => [r.id, EventLog.open(join(r.dataDir, 'events.sqlite'))]));
    try {
      for (const [id, log] of logs) expect({ id, ok: log.verify().ok }).toEqual({ id, ok: true });
      // No accepted proposal lost: each receipt's proposal is in the log of the replica that gave it.
      const lost = receipts.filter((x) => !logs.get(x.replica)!.proposal(x.slot, x.member, x.blockHash));
      expect(lost).toEqual([]);
      const byRelay = new Map<number, Set<string>>();
      for (const b of relayed) byRelay.set(b.slot, (byRelay.get(b.slot) ?? new Set()).add(b.blockHash));
      const withProposal = [...new Set(receipts.map((x) => x.slot))].sort((a, b) => a - b);
      for (const s of withProposal) {
        // Exactly one block at the relay, and every replica that decided the slot decided that block.
        expect({ slot: s, blocks: [...(byRelay.get(s) ?? [])].length }).toEqual({ slot: s, blocks: 1 });
        const handed = [...byRelay.get(s)!][0];
        for (const [id, log] of logs) {
          const d = log.decision(s);
          if (d) expect({ slot: s, id, block: d.blockHash }).toEqual({ slot: s, id, block: handed });
        }
      }
      expect([...byRelay.keys()].every((s) => withProposal.includes(s))).toBe(true);
      expect(withProposal[0]).toBe(first);
      expect(withProposal.at(-1)).toBe(last);
      // Cut off, r3 forwarded nothing of the slots that began once it was cut.
      const r3Forwarded = logs.get('r3')!.eventsOfSlots(cutFrom + 1, cutTo).filter((e) => e.type === 'emitted' && e.data?.replica === 'r3');
      expect(r3Forwarded).toEqual([]);
      // No replica was ever refused a second block by the relay.
      for (const r of replicas) expect({ id: r.id, refused: /SLOT_TAKEN|holds another block/.test(r.stderr) }).toEqual({ id: r.id, refused: false });
      process.stderr.write(`replica faults: ${withProposal.length} slots, ${receipts.length} receipts, takeover after the holder's kill in ${takeoverMs} ms\n`);
    } finally {
      for (const log of logs.values()) log.close();
    }
  }, 240_000);
});
