import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SLOTS_PER_EPOCH } from '../../../contracts/types.js';
import { Bridge } from '../../../oracle/bridge/bridge.js';
import { buildReport, checkMemberRow, eventsUpTo } from '../../../oracle/bridge/report.js';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import type { Proposal, Receipt } from '../../../oracle/emitter/types.js';
import { fieldToStateHash } from '../../../oracle/chain/base58.js';
import { fundPool, MINA, run, simulatedPool, type SimulatedPool } from '../../helpers/simulated-pool.js';

/**
 * The metrics bridge on a simulated chain (the real client, poster and contracts, mock
 * proofs): from an event log to a report on chain, idempotent, reproducible from the log,
 * and paid out to the eligible members.
 */

const EPOCH = 2;
const FIRST = EPOCH * SLOTS_PER_EPOCH;
const block = (n: number) => fieldToStateHash(BigInt(n) * 7n + 5n);

/** What the emitter logs for a slot: proposals from `who` (first wins), emitted, then canonical or orphaned. */
function slot(log: EventLog, s: number, who: string[], chain: 'canonical' | 'orphaned' | undefined, latency = 300): void {
  who.forEach((member, i) => {
    const blockHash = block(s * 10 + i);
    const proposal = { slot: s, member, blockHash, payload: {}, signature: 'x' } as unknown as Proposal;
    log.accept({ slot: s, member, blockHash, receivedAt: s * 1000 + latency + i, proposal, receipt: {} as Receipt }, latency + i);
  });
  log.decide(s, { pick: (ps) => ps[0], strategy: 'first-delivered' }, s * 1000 + 400);
  log.markEmitted(s, s * 1000 + 401, 'test');
  if (chain) log.markChainStatus(s, chain, s * 1000 + 5000);
}

describe('metrics bridge', () => {
  let env: SimulatedPool;
  let dir: string;
  let log: EventLog;
  let keys: string[];

  beforeAll(async () => {
    env = await simulatedPool(3, { slot: 3 * SLOTS_PER_EPOCH + 100, params: { operatorFeePercent: 10 } });
    keys = env.members.map((m) => m.toPublicKey().toBase58());
    dir = await mkdtemp(join(tmpdir(), 'bridge-'));
    log = EventLog.open(join(dir, 'events.sqlite'));
    slot(log, FIRST + 1, [keys[0]!, keys[1]!], 'canonical');
    slot(log, FIRST + 2, [keys[1]!], 'canonical', 900);
    slot(log, FIRST + 3, [keys[2]!], 'orphaned');
    // member 2 equivocates in slot FIRST + 5 (its block is still emitted and canonical).
    slot(log, FIRST + 5, [keys[2]!], 'canonical');
    const earlier = log.proposal(FIRST + 5, keys[2]!, block((FIRST + 5) * 10))!;
    log.accept({ ...earlier, blockHash: block(999), proposal: { ...earlier.proposal, blockHash: block(999) } }, 0);
    log.closeSlot(FIRST + 6, FIRST * 1000 + 6000);
    // An event of the next epoch is not part of this one.
    slot(log, FIRST + SLOTS_PER_EPOCH + 1, [keys[0]!], undefined);
    await fundPool(env, 100n * MINA);
  }, 120_000);

  afterAll(async () => {
    log?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds the report from the log: metrics per member, eligibility by the policy, a Merkle root', () => {
    const report = buildReport({ epoch: EPOCH, events: log.eventsOfSlots(FIRST, FIRST + SLOTS_PER_EPOCH - 1), head: log.head(), indexOf: (k) => env.client.mirror.indexOf(k), policy: 0, perBlock: 2n * MINA, basis: 'canonical' });
    expect(report.pool).toMatchObject({ emitted: 4, canonical: 3, orphaned: 1, missed: 1 });
    expect(report.reward).toEqual({ nanomina: String(6n * MINA), basis: 'canonical', blocks: 3, perBlock: String(2n * MINA) });
    expect(report.members.map((m) => [m.index, m.eligible])).toEqual([[0, true], [1, true], [2, false]]);
    expect(report.members[1]!.metrics).toEqual({ proposals: 2, selected: 1, canonical: 1, orphaned: 0, missed: 0, invalid: 0, equivocations: 0, medianLatencyMs: 301 });
    expect(report.members[2]!.metrics).toMatchObject({ proposals: 2, selected: 2, canonical: 1, orphaned: 1, equivocations: 1, invalid: 1 });
    expect(report.eligible).toEqual([keys[0], keys[1]]);
    for (const k of keys) expect(checkMemberRow(report, k)).toMatchObject({ ok: true });
    // A row whose metrics were changed no longer proves against the root.
    const forged = { ...report, members: report.members.map((m, i) => (i === 2 ? { ...m, metrics: { ...m.metrics, equivocations: 0 }, eligible: true } : m)) };
    expect(checkMemberRow(forged, keys[2]!)).toMatchObject({ ok: false, problem: 'the leaf does not match the metrics' });
  });

  it('posts the report once: a rerun, or a restarted bridge, finds it on chain and does not post again', async () => {
    const bridge = new Bridge({ log, client: env.client, oracle: env.oracle, dir: join(dir, 'reports'), perBlock: 2n * MINA, basis: 'canonical' });
    const first = await bridge.post(EPOCH);
    expect(first.status).toBe('posted');
    const onChain = env.client.mirror.report(EPOCH)!.record;
    expect(onChain.report.metricsRoot.toString()).toBe(first.report.metricsRoot);
    expect(onChain.report.eventLogHash.toString()).toBe(first.report.eventLog.field);
    expect(onChain.report.reward.toBigInt()).toBe(6n * MINA);
    expect(env.client.mirror.keysOf(onChain.eligible)).toEqual([keys[0], keys[1]]);
    const balance = await env.client.funds();
    // The log grows meanwhile; the report stays the one first built and posted.
    slot(log, FIRST + 7, [keys[2]!], 'canonical');
    expect(await bridge.post(EPOCH)).toMatchObject({ status: 'already-posted', report: { metricsRoot: first.report.metricsRoot } });
    const restarted = new Bridge({ log, client: env.client, oracle: env.oracle, dir: join(dir, 'reports'), perBlock: 2n * MINA, basis: 'canonical' });
    expect(await restarted.post(EPOCH)).toMatchObject({ status: 'already-posted' });
    expect(await env.client.funds()).toEqual(balance);
    expect((await bridge.reportFile(EPOCH))?.posted?.hash).toBeDefined();
    // A bridge whose log says otherwise does not post over the report on chain.
    const other = new Bridge({ log, client: env.client, oracle: env.oracle, dir: join(dir, 'other'), perBlock: 2n * MINA, basis: 'canonical' });
    await expect(other.post(EPOCH)).rejects.toThrow(/already reported on chain with another metrics root/);
  }, 120_000);

  it('anyone recomputes the root from the log up to the pinned hash; an edited log is caught', () => {
    const onChain = env.client.mirror.report(EPOCH)!.record.report;
    const all = log.events(1, 1e9, 1e9);
    const upTo = eventsUpTo(all, onChain.eventLogHash.toString());
    if ('problem' in upTo) throw new Error(upTo.problem);
    const again = buildReport({ epoch: EPOCH, events: upTo.events, head: upTo.head, indexOf: (k) => env.client.mirror.indexOf(k), policy: 0, perBlock: 0n, basis: 'canonical' });
    expect(again.metricsRoot).toBe(onChain.metricsRoot.toString());
    const edited = all.map((e) => (e.seq === 3 ? { ...e, latencyMs: 1 } : e));
    expect(eventsUpTo(edited, onChain.eventLogHash.toString())).toEqual({ problem: 'event 3: its content does not match its hash (the log is incomplete or was edited)' });
    expect(eventsUpTo(all.slice(0, 5), onChain.eventLogHash.toString())).toMatchObject({ problem: expect.stringMatching(/does not reach the report's moment/) });
  });

  it('pays the eligible members after the challenge window, and only them', async () => {
    await env.chain.advance(40);
    await run(env, () => env.client.openClaims(env.outsider, EPOCH));
    const { amount } = await run(env, () => env.client.claim(env.members[0]!, EPOCH));
    // 6 MINA less the 10 % fee, between two eligible members.
    expect(amount).toBe(2_700_000_000n);
    await expect(run(env, () => env.client.claim(env.members[2]!, EPOCH))).rejects.toThrow(/not eligible/);
  }, 120_000);
});
