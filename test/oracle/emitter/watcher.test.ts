import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog } from '../../../oracle/emitter/event-log.js';
import { computeMetrics } from '../../../oracle/emitter/metrics.js';
import { SlotClock } from '../../../oracle/emitter/slot-clock.js';
import type { Proposal, Receipt } from '../../../oracle/emitter/types.js';
import { ChainWatcher } from '../../../oracle/emitter/watcher.js';
import { SimulatedDaemon } from '../../../oracle/sim/daemon.js';
import { chainTo, recordedBlocks } from '../../helpers/recorded-blocks.js';

/**
 * The chain watcher against a simulated daemon (a real HTTP server in the daemon's GraphQL
 * schema) serving real mainnet blocks: the recorded fork at height 359606 (slot 4) leaves
 * 3NKvvt… off the best chain, which runs 3NK4Bp… → 3NK7T1… → 3NKg81… → … → 3NLjpo….
 */

const blocks = recordedBlocks();
const hash = (prefix: string) => [...blocks.keys()].find((h) => h.startsWith(prefix))!;

/** Records a block as accepted, decided and emitted for its slot (what the emitter does). */
function emitted(log: EventLog, slot: number, blockHash: string, member: string): void {
  const proposal = { slot, member, blockHash, payload: {}, signature: 'x' } as unknown as Proposal;
  log.accept({ slot, member, blockHash, receivedAt: slot * 1000, proposal, receipt: {} as Receipt }, 5);
  log.decide(slot, { pick: (ps) => ps[0], strategy: 'first-delivered' }, slot * 1000 + 1);
  log.markEmitted(slot, slot * 1000 + 2, 'test');
}

describe('chain watcher', () => {
  let daemon: SimulatedDaemon;
  const log = EventLog.open(':memory:');
  const clock = new SlotClock({ genesisMs: 0, slotMs: 1000 });

  beforeAll(async () => {
    daemon = await SimulatedDaemon.start();
    daemon.add(...[...blocks.values()].map((b) => b.daemon));
    daemon.setBestChain(chainTo(blocks, hash('3NLjpotw')));
    emitted(log, 1, hash('3NK7T1Me'), 'alice');
    emitted(log, 4, hash('3NKvvtFw'), 'bob');
    emitted(log, 15, hash('3NKP2tSF'), 'carol');
    emitted(log, 16, hash('3NLjpotw'), 'alice');
  });

  afterAll(async () => {
    await daemon.stop();
    log.close();
  });

  it('marks a block deep enough on the best chain canonical and a block its slot passed without orphaned', async () => {
    const watcher = new ChainWatcher({ log, clock, url: daemon.url, confirmations: 2 });
    expect(await watcher.check()).toBe(2);
    expect(log.eventsOfSlot(1).at(-1)).toMatchObject({ type: 'canonical', member: 'alice', data: { height: 359606, depth: 10 } });
    expect(log.eventsOfSlot(4).at(-1)).toMatchObject({ type: 'orphaned', member: 'bob', data: { bestChainBlock: hash('3NKg81uw') } });
    // Slots 15 and 16 are on the best chain but not yet two blocks deep.
    expect(log.unconfirmedEmissions().map((d) => d.slot)).toEqual([15, 16]);
    // The daemon reads a body only with the exact content type; the watcher sends it.
    expect(daemon.requests.at(-1)?.contentType).toBe('application/json');
  });

  it('settles a block once the chain grows over it, and never marks a slot twice', async () => {
    daemon.extend(hash('3NKZ5poC'));
    const watcher = new ChainWatcher({ log, clock, url: daemon.url, confirmations: 2 });
    expect(await watcher.check()).toBe(1);
    expect(log.eventsOfSlot(15).at(-1)).toMatchObject({ type: 'canonical', member: 'carol' });
    expect(await watcher.check()).toBe(0);
    expect(log.markChainStatus(1, 'orphaned', 0)).toBe(false);
    const { members, pool } = computeMetrics(log.events(1, 1000, 1000), 0, 100);
    expect(pool).toMatchObject({ emitted: 4, canonical: 2, orphaned: 1 });
    expect(members.get('alice')).toMatchObject({ selected: 2, canonical: 1, orphaned: 0 });
    expect(members.get('bob')).toMatchObject({ selected: 1, canonical: 0, orphaned: 1 });
    expect(log.verify().ok).toBe(true);
  });

  it('reports a daemon it cannot read, and keeps trying', async () => {
    const errors: string[] = [];
    const stopped = await SimulatedDaemon.start();
    const url = stopped.url;
    await stopped.stop();
    const abort = new AbortController();
    const watcher = new ChainWatcher({ log, clock, url, intervalMs: 20, onError: (m) => errors.push(m) });
    const running = watcher.run(abort.signal);
    await new Promise((r) => setTimeout(r, 150));
    abort.abort();
    await running;
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]).toMatch(/chain watcher: cannot read http:\/\/127\.0\.0\.1:\d+\/graphql/);
  });
});
