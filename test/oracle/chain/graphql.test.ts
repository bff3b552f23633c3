import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { fetchBlocks } from '../../../oracle/chain/graphql.js';
import { FetchError } from '../../../oracle/errors.js';
import { defaultLedgerPath } from '../../../oracle/paths.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch } from '../../../oracle/sim/index.js';
import type { BlockRecord } from '../../../oracle/chain/types.js';
import { vrfOutputToBase64Url } from '../../../oracle/vrf/output.js';
import { explorerBlocks, SimulatedExplorer } from '../../helpers/explorer-server.js';

const EPOCH = 3;
const bySlotThenHash = (a: BlockRecord, b: BlockRecord) => a.slot - b.slot || (a.stateHash! < b.stateHash! ? -1 : 1);

describe('fetchBlocks against a simulated explorer over HTTP', () => {
  let records: BlockRecord[];
  let explorer: SimulatedExplorer;
  let url: string;

  beforeAll(async () => {
    const ledger = await readLedger(defaultLedgerPath());
    records = simulateEpoch(ledger, { ...DEFAULT_SIMULATION, epoch: EPOCH, slots: 120, seed: 5 }).blocks;
  });
  beforeEach(async () => {
    explorer = new SimulatedExplorer(explorerBlocks(records, EPOCH, vrfOutputToBase64Url));
    url = await explorer.start();
  });
  afterEach(async () => {
    await explorer.stop();
  });

  it('pages through a slot range in epoch and returns every block once', async () => {
    const pages: number[] = [];
    const got = await fetchBlocks({ url, epoch: EPOCH, from: 0, to: 119, pageSlots: 25, onPage: (p) => pages.push(p.from) });
    expect(pages).toEqual([0, 25, 50, 75, 100]);
    expect(explorer.requests).toHaveLength(5);
    expect(explorer.requests[1]!.variables).toMatchObject({ query: { protocolState: { consensusState: { epoch: EPOCH, slot_gte: 25, slot_lte: 49 } } } });
    const want = records.map((r) => ({ ...r, slot: r.slot - EPOCH * 7140 }));
    expect([...got].sort(bySlotThenHash)).toEqual([...want].sort(bySlotThenHash));
  });

  it('splits a page that comes back full and asks again', async () => {
    const got = await fetchBlocks({ url, epoch: EPOCH, from: 0, to: 119, pageSlots: 120, pageLimit: 20 });
    expect(got).toHaveLength(records.length);
    expect(explorer.requests.length).toBeGreaterThan(records.length / 20);
    expect(new Set(got.map((b) => b.stateHash)).size).toBe(records.length);
  });

  it('numbers slots since genesis when no epoch is given', async () => {
    const got = await fetchBlocks({ url, from: 564480 + EPOCH * 7140 + 10, to: 564480 + EPOCH * 7140 + 19 });
    const want = records.filter((r) => r.slot - EPOCH * 7140 >= 10 && r.slot - EPOCH * 7140 <= 19);
    expect(got.map((b) => b.slot).sort()).toEqual(want.map((r) => r.slot + 564480).sort());
  });

  it('retries HTTP 503 and dropped connections, then succeeds', async () => {
    explorer.failures = [503, 'drop', 429];
    const retries: number[] = [];
    const got = await fetchBlocks({ url, epoch: EPOCH, from: 0, to: 119, pageSlots: 200, retryDelayMs: 1, onRetry: (r) => retries.push(r.attempt) });
    expect(retries).toEqual([1, 2, 3]);
    expect(got).toHaveLength(records.length);
  });

  it('gives up after its attempts with an error naming the endpoint, range and cause', async () => {
    explorer.failures = [502, 502, 502];
    const error = await fetchBlocks({ url, epoch: EPOCH, from: 0, to: 9, attempts: 3, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as FetchError).message).toBe(`${url}: fetching slots 0–9 failed after 3 attempt(s): HTTP 502: simulated outage`);
  });

  it('does not retry a request the server rejects (HTTP 400)', async () => {
    explorer.failures = [400];
    const retries: number[] = [];
    await expect(fetchBlocks({ url, epoch: EPOCH, from: 0, to: 9, retryDelayMs: 1, onRetry: (r) => retries.push(r.attempt) })).rejects.toThrow(/after 1 attempt\(s\): HTTP 400/);
    expect(retries).toEqual([]);
  });

  it('reports an unreachable endpoint after retrying', async () => {
    await explorer.stop();
    await expect(fetchBlocks({ url, epoch: EPOCH, from: 0, to: 9, attempts: 2, retryDelayMs: 1 })).rejects.toThrow(/failed after 2 attempt\(s\)/);
  });
});
