import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdAgreement, type SlotOutcome } from '../../../oracle/emitter/agreement.js';
import { LocalEtcd, type EtcdMember } from '../../../oracle/emitter/local-etcd.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { until } from '../../helpers/wait.js';

/**
 * A slot's compare-and-create goes straight to etcd's leader (a real three-member cluster on
 * loopback, each member behind a proxy the test can cut). Which member handled each
 * transaction is read from the members' own metrics, not from the client.
 */

/** The transactions a member has taken from clients (etcd's gRPC metrics). */
async function txns(m: EtcdMember): Promise<number> {
  const text = await (await fetch(`${m.clientUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('grpc_server_started_total{') && l.includes('grpc_method="Txn"'));
  if (!line) throw new Error(`etcd member ${m.name} has no Txn counter in its metrics`);
  return Number(line.split(' ').pop());
}

describe("a slot's decision through etcd's leader", () => {
  let dir: string;
  let etcd: LocalEtcd;
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agreement-leader-'));
    etcd = await LocalEtcd.start({ dir: join(dir, 'etcd') });
    for (const m of etcd.members) proxies.push(await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(m.clientUrl).port) }));
  }, 60_000);

  afterAll(async () => {
    for (const p of proxies) await p.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('goes to the leader among the endpoints; through the others at once when the leader does not answer; to the new leader after an election', async () => {
    const lines: string[] = [];
    // The replica knows the members only by the proxies' addresses: it finds the leader by what each answers.
    const a = await EtcdAgreement.start({ endpoints: proxies.map((p) => p.url), replica: 'ra', poolTag: 'via-leader', onStatus: (m) => lines.push(m) });
    const decide = (slot: number): SlotOutcome => ({ kind: 'decided', slot, member: 'm', blockHash: `h${slot}`, replica: 'ra', at: slot });
    const proxyOf = (m: EtcdMember) => proxies[etcd.members.indexOf(m)]!;
    const counts = () => Promise.all(etcd.members.filter((m) => m.process).map(async (m) => [m, await txns(m)] as const));
    try {
      const leader = (await etcd.leader())!;
      await until(() => lines.includes(`agreement: etcd's leader answers at ${proxyOf(leader).url}; the slots' decisions go there`), 'the replica names the leader');
      expect(a.health().etcdLeader).toBe(proxyOf(leader).url);
      let before = new Map(await counts());
      for (let slot = 1; slot <= 10; slot++) expect(await a.propose(decide(slot))).toEqual(decide(slot));
      for (const [m, n] of await counts()) expect([m.name, n - before.get(m)!]).toEqual([m.name, m === leader ? 10 : 0]);

      // The leader is cut off from this replica alone (it still leads the others): the decision goes through them.
      proxyOf(leader).cut();
      before = new Map(await counts());
      let t0 = performance.now();
      expect(await a.propose(decide(11))).toEqual(decide(11));
      // One request's deadline (500 ms) for the leader, then the others.
      expect(performance.now() - t0).toBeLessThan(1_500);
      const after = new Map(await counts());
      expect(after.get(leader)! - before.get(leader)!).toBe(0);
      expect([...after].reduce((sum, [m, n]) => sum + n - before.get(m)!, 0)).toBe(1);
      expect(lines.filter((l) => l.startsWith(`agreement: etcd's leader at ${proxyOf(leader).url} did not answer (`) && l.endsWith('; the slots\' decisions go through any member until the leader answers again'))).toHaveLength(1);
      expect(a.health().etcdLeader).toBeUndefined();
      // It looks again at each refresh (every third of a second) and finds no other leader to send to.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(lines.filter((l) => l.includes('answers at'))).toHaveLength(1);
      proxyOf(leader).restore();
      await until(() => lines.filter((l) => l.includes(`leader answers at ${proxyOf(leader).url}`)).length === 2, 'the leader again');

      // The leader is killed: the next decision goes through the others at once; after the election, to the new leader.
      await etcd.kill(leader);
      t0 = performance.now();
      expect(await a.propose(decide(12))).toEqual(decide(12));
      expect(performance.now() - t0).toBeLessThan(3_000);
      await until(async () => (await etcd.leader()) !== undefined, 'a new leader');
      const next = (await etcd.leader())!;
      expect(next).not.toBe(leader);
      await until(() => lines.includes(`agreement: etcd's leader answers at ${proxyOf(next).url}; the slots' decisions go there`), 'the replica names the new leader');
      before = new Map(await counts());
      for (let slot = 13; slot <= 17; slot++) expect(await a.propose(decide(slot))).toEqual(decide(slot));
      for (const [m, n] of await counts()) expect([m.name, n - before.get(m)!]).toEqual([m.name, m === next ? 5 : 0]);
    } finally {
      await a.close();
      await etcd.restart(etcd.members.find((m) => !m.process)!).catch(() => undefined);
    }
  }, 60_000);

  it('with viaLeader off the decisions go to any member; with one endpoint, to that one', async () => {
    const lines: string[] = [];
    await etcd.waitHealthy();
    const counts = () => Promise.all(etcd.members.map(txns));
    const off = await EtcdAgreement.start({ endpoints: etcd.endpoints, replica: 'rb', poolTag: 'via-any', viaLeader: false, onStatus: (m) => lines.push(m) });
    const one = await EtcdAgreement.start({ endpoints: [etcd.members[0]!.clientUrl], replica: 'rc', poolTag: 'via-one', onStatus: (m) => lines.push(m) });
    try {
      let before = await counts();
      for (let slot = 1; slot <= 30; slot++) expect(await off.propose({ kind: 'missed', slot, replica: 'rb', at: slot })).toMatchObject({ slot, replica: 'rb' });
      const spread = (await counts()).map((n, i) => n - before[i]!);
      expect(spread.reduce((x, y) => x + y)).toBe(30);
      // etcd3 picks a member for each call: 30 calls all on one member would be the leader route.
      expect(spread.filter((n) => n > 0).length).toBeGreaterThan(1);
      before = await counts();
      for (let slot = 1; slot <= 5; slot++) expect(await one.propose({ kind: 'missed', slot, replica: 'rc', at: slot })).toMatchObject({ slot, replica: 'rc' });
      expect((await counts()).map((n, i) => n - before[i]!)).toEqual([5, 0, 0]);
      await new Promise((r) => setTimeout(r, 700));
      expect(lines.filter((l) => /leader/.test(l))).toEqual([]);
    } finally {
      await off.close();
      await one.close();
    }
  }, 30_000);
});
