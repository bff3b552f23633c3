import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { SLOTS_PER_EPOCH } from '../../../contracts/types.js';
import { Bridge } from '../../../oracle/bridge/bridge.js';
import type { ReplicaInfo } from '../../../oracle/emitter/agreement.js';
import { combinedHead, mergeReplicaEvents } from '../../../oracle/bridge/merge.js';
import { buildReport, eventLogField } from '../../../oracle/bridge/report.js';
import { reproduceReport } from '../../../oracle/bridge/reproduce.js';
import { fieldToStateHash } from '../../../oracle/chain/base58.js';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import { computeMetrics } from '../../../oracle/emitter/metrics.js';
import type { Proposal, Receipt } from '../../../oracle/emitter/types.js';
import { fundPool, MINA, simulatedPool, type SimulatedPool } from '../../helpers/simulated-pool.js';

/**
 * The epoch report of a replicated emitter: three replicas' logs (each with its own arrival
 * times, one that missed a proposal, the same agreed outcomes) merged into one report that any
 * replica computes alike, posted on a simulated chain by the bridge with the logs it drew on
 * named, and reproduced from those logs.
 */

const EPOCH = 2;
const FIRST = EPOCH * SLOTS_PER_EPOCH;
const block = (n: number) => fieldToStateHash(BigInt(n) * 13n + 3n);
const REPLICAS = ['r1', 'r2', 'r3'] as const;

describe("a replicated emitter's epoch report", () => {
  let env: SimulatedPool;
  let dir: string;
  let keys: string[];
  const logs = new Map<string, EventLog>();
  const servers: FastifyInstance[] = [];
  const urls = new Map<string, string>();

  /** What replica `r` logs for a slot: the proposals it got (its own latency), the agreed winner, emitted (by `by`), canonical. */
  function slot(r: string, s: number, got: { member: string; latency: number }[], winner: string, by: string): void {
    const log = logs.get(r)!;
    for (const g of got) {
      const blockHash = block(s * 10 + keys.indexOf(g.member));
      const proposal = { slot: s, member: g.member, blockHash, payload: {}, signature: 'x' } as unknown as Proposal;
      log.accept({ slot: s, member: g.member, blockHash, receivedAt: s * 1000 + g.latency, proposal, receipt: {} as Receipt }, g.latency);
    }
    log.adopt({ slot: s, member: winner, blockHash: block(s * 10 + keys.indexOf(winner)), replica: by, strategy: 'first-delivered' }, s * 1000 + 500);
    log.markEmitted(s, s * 1000 + 600, 'relay', s * 1000 + 600, by);
    log.markChainStatus(s, 'canonical', s * 1000 + 5000);
  }

  beforeAll(async () => {
    env = await simulatedPool(3, { slot: 3 * SLOTS_PER_EPOCH + 100 });
    keys = env.members.map((m) => m.toPublicKey().toBase58());
    dir = await mkdtemp(join(tmpdir(), 'replicas-report-'));
    for (const r of REPLICAS) logs.set(r, EventLog.open(join(dir, r, 'events.sqlite')));
    const [a, b, c] = keys as [string, string, string];
    // Slot 1: a and b deliver to every replica, each arrival a little different.
    slot('r1', FIRST + 1, [{ member: a, latency: 300 }, { member: b, latency: 350 }], a, 'r1');
    slot('r2', FIRST + 1, [{ member: b, latency: 340 }, { member: a, latency: 310 }], a, 'r1');
    slot('r3', FIRST + 1, [{ member: a, latency: 305 }, { member: b, latency: 360 }], a, 'r1');
    // Slot 2: c's proposal reached r2 and r3 only (r1 was restarting).
    slot('r1', FIRST + 2, [], c, 'r2');
    slot('r2', FIRST + 2, [{ member: c, latency: 700 }], c, 'r2');
    slot('r3', FIRST + 2, [{ member: c, latency: 650 }], c, 'r2');
    // Slot 3: nobody; every replica logs it missed. c sends a late one to r3 only.
    for (const r of REPLICAS) logs.get(r)!.closeSlot(FIRST + 3, (FIRST + 3) * 1000 + 2000);
    logs.get('r3')!.append({ type: 'rejected', slot: FIRST + 3, member: c, code: 'WINDOW_CLOSED', at: (FIRST + 3) * 1000 + 2100, data: { reason: 'closed' } });
    for (const r of REPLICAS) {
      const log = logs.get(r)!;
      const app = Fastify();
      app.get('/v1/events', async (req) => {
        const q = req.query as { from?: string; limit?: string };
        const from = Number(q.from ?? 1);
        const limit = Number(q.limit ?? 1000);
        const events = log.events(from, Number.MAX_SAFE_INTEGER, limit);
        return { events, next: events.length === limit ? events.at(-1)!.seq + 1 : null, head: log.head() };
      });
      urls.set(r, await app.listen({ port: 0, host: '127.0.0.1' }));
      servers.push(app);
    }
    await fundPool(env, 100n * MINA);
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const l of logs.values()) l.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const all = () => REPLICAS.map((r) => ({ replica: r, events: logs.get(r)!.events(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), head: logs.get(r)!.head() }));

  it('merges one event per fact, whatever the order of the logs', () => {
    const merged = mergeReplicaEvents(all());
    const { members, pool } = computeMetrics(merged, FIRST, FIRST + SLOTS_PER_EPOCH - 1);
    const [a, b, c] = keys as [string, string, string];
    expect(members.get(a)).toMatchObject({ proposals: 1, selected: 1, canonical: 1, medianLatencyMs: 300 });
    expect(members.get(b)).toMatchObject({ proposals: 1, selected: 0, medianLatencyMs: 340 });
    expect(members.get(c)).toMatchObject({ proposals: 1, selected: 1, canonical: 1, missed: 1, medianLatencyMs: 650 });
    expect(pool).toMatchObject({ emitted: 2, missed: 1, canonical: 2, closed: 3 });
    const reversed = mergeReplicaEvents([...all()].reverse());
    expect(computeMetrics(reversed, FIRST, FIRST + SLOTS_PER_EPOCH - 1)).toEqual(computeMetrics(merged, FIRST, FIRST + SLOTS_PER_EPOCH - 1));
    expect(combinedHead([...all()].reverse())).toEqual(combinedHead(all()));
  });

  it('the bridge of any replica posts the same report, drawn on every log that answers, and names them', async () => {
    const bridgeOf = (self: string, peers: ReplicaInfo[], sub: string) =>
      new Bridge({ log: logs.get(self)!, client: env.client, oracle: env.oracle, dir: join(dir, sub), perBlock: MINA, basis: 'canonical', replicas: { self, peers: () => peers } });
    const peersOf = (self: string) => REPLICAS.filter((r) => r !== self).map((r) => ({ id: r, startedAt: 0, ...(urls.has(r) ? { url: urls.get(r)! } : {}) }));
    const fromR1 = await bridgeOf('r1', peersOf('r1'), 'r1-reports').prepare(EPOCH);
    expect(fromR1.replicas!.map((r) => r.replica)).toEqual(['r1', 'r2', 'r3']);
    expect(fromR1.eventLog.hash).toBe(combinedHead(all()).hash);
    // r2 computes it from its own log and the others': the same root and the same combined head.
    const fromR2 = await bridgeOf('r2', peersOf('r2'), 'r2-reports').prepare(EPOCH);
    expect({ root: fromR2.metricsRoot, head: fromR2.eventLog.hash }).toEqual({ root: fromR1.metricsRoot, head: fromR1.eventLog.hash });
    const local = buildReport({ epoch: EPOCH, events: mergeReplicaEvents(all()), head: combinedHead(all()), replicas: all(), indexOf: (k) => env.client.mirror.indexOf(k), policy: 0, perBlock: MINA, basis: 'canonical' });
    expect(fromR1.metricsRoot).toBe(local.metricsRoot);
    // A replica down is left out, and the report says which logs it drew on.
    const withoutR3 = await bridgeOf('r1', [{ id: 'r2', startedAt: 0, url: urls.get('r2')! }, { id: 'r3', startedAt: 0, url: 'http://127.0.0.1:9' }], 'r1-down').prepare(EPOCH);
    expect(withoutR3.replicas!.map((r) => r.replica)).toEqual(['r1', 'r2']);
    // Posted once; then reproduced from the three logs, in any order, and refused without one.
    const posted = await bridgeOf('r1', peersOf('r1'), 'r1-reports').post(EPOCH);
    expect(posted.status).toBe('posted');
    const onChain = env.client.mirror.report(EPOCH)!.record.report;
    expect(onChain.eventLogHash.toString()).toBe(eventLogField(combinedHead(all()).hash).toString());
    const held = all().map((l) => ({ name: `${l.replica}.sqlite`, events: l.events }));
    const build = { indexOf: (k: string) => env.client.mirror.indexOf(k), policy: 0, perBlock: 0n, basis: 'canonical' as const };
    const again = reproduceReport({ epoch: EPOCH, logs: [...held].reverse(), file: posted.report, eventLogHash: onChain.eventLogHash.toString(), build });
    expect(again.report.metricsRoot).toBe(onChain.metricsRoot.toString());
    expect(again.drawn.map((d) => d.source)).toEqual(['r1: r1.sqlite', 'r2: r2.sqlite', 'r3: r3.sqlite']);
    expect(() => reproduceReport({ epoch: EPOCH, logs: held.slice(0, 2), file: posted.report, eventLogHash: onChain.eventLogHash.toString(), build })).toThrow(/drew on replica r3's log up to event \d+/);
    expect(() => reproduceReport({ epoch: EPOCH, logs: held, eventLogHash: onChain.eventLogHash.toString(), build })).toThrow(/several logs make a report only with its file/);
    // One log alone does not reach the combined head.
    expect(() => reproduceReport({ epoch: EPOCH, logs: held.slice(0, 1), eventLogHash: onChain.eventLogHash.toString(), build })).toThrow(/does not reach/);
  }, 120_000);
});
