import type { GraphQLClient } from 'graphql-request';
import { daemonClient, FRONTIER_DEPTH, pollDaemon, readBestChain } from '../member/blocks.js';
import type { EventLog } from './event-log.js';
import type { SlotClock } from './slot-clock.js';

/**
 * The chain watcher: reads a Mina daemon's GraphQL (`bestChain`) and marks each emitted
 * block `canonical` once it is on the best chain `confirmations` blocks deep, or `orphaned`
 * once the best chain has settled past its slot without it. A daemon holds only its
 * transition frontier (about 290 blocks), so a block is judged while it is still held; the
 * daemon's GraphQL has no `canonical` field (only an archive's database has).
 */

export interface WatcherOptions {
  log: EventLog;
  clock: SlotClock;
  /** The daemon's GraphQL endpoint (`http://host:3085/graphql`). */
  url: string;
  /** How deep on the best chain a block must be to count as canonical (default 3). */
  confirmations?: number;
  /** How often to read the best chain (default 10 s). */
  intervalMs?: number;
  /** Blocks asked for (default 290, the frontier's depth). */
  maxLength?: number;
  onStatus?: (slot: number, status: 'canonical' | 'orphaned') => void;
  onError?: (message: string) => void;
}

export class ChainWatcher {
  private readonly client: GraphQLClient;
  private readonly confirmations: number;

  constructor(private readonly o: WatcherOptions) {
    this.client = daemonClient(o.url);
    this.confirmations = o.confirmations ?? 3;
  }

  /** Reads the best chain once and settles what it can; returns how many blocks it marked. */
  async check(signal?: AbortSignal): Promise<number> {
    const pending = this.o.log.unconfirmedEmissions();
    if (pending.length === 0) return 0;
    const chain = await readBestChain(this.client, this.o.maxLength ?? FRONTIER_DEPTH, signal);
    if (chain.length === 0) return 0;
    const depthOf = new Map(chain.map((b, i) => [b.stateHash, chain.length - 1 - i]));
    // The highest slot the best chain has settled: the slot of the block `confirmations` below the tip.
    const settled = chain.length > this.confirmations ? chain[chain.length - 1 - this.confirmations]!.slot : -1;
    const oldest = chain[0]!.slot;
    let marked = 0;
    for (const d of pending) {
      const depth = depthOf.get(d.blockHash);
      const at = this.o.clock.now();
      let status: 'canonical' | 'orphaned' | undefined;
      let data: Record<string, unknown> = {};
      if (depth !== undefined && depth >= this.confirmations) {
        const b = chain[chain.length - 1 - depth]!;
        status = 'canonical';
        data = { height: b.height, depth };
      } else if (depth === undefined && settled >= d.slot && oldest <= d.slot) {
        const taken = chain.find((b) => b.slot === d.slot);
        status = 'orphaned';
        data = taken ? { bestChainBlock: taken.stateHash } : { bestChainBlock: null };
      }
      if (status && this.o.log.markChainStatus(d.slot, status, at, data)) {
        marked++;
        this.o.onStatus?.(d.slot, status);
      }
    }
    return marked;
  }

  /** Checks every `intervalMs` until `signal` aborts; a failed read is reported and retried. */
  run(signal: AbortSignal): Promise<void> {
    const { clock } = this.o;
    return pollDaemon({
      everyMs: this.o.intervalMs ?? 10_000,
      signal,
      step: () => this.check(signal),
      onError: (e) => this.o.onError?.(`chain watcher: cannot read ${this.o.url}: ${e}`),
      wait: (ms, s) => clock.sleepUntil(clock.now() + ms, s),
    });
  }
}
