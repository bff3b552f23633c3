import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import type { LoggedEvent } from './event-log.js';

/**
 * Per-member metrics of a slot range (an epoch), computed from the event log alone, so that
 * anyone holding the log (or an exported copy) computes the same numbers.
 */

export interface MemberMetrics {
  /** Proposals the emitter accepted from the member. */
  proposals: number;
  /** Its blocks chosen for their slot and handed to the sink. */
  selected: number;
  /** Its emitted blocks the chain watcher saw on the best chain. */
  canonical: number;
  /** Its emitted blocks the chain watcher saw left off the best chain. */
  orphaned: number;
  /** Its proposals refused because the slot's window had closed (late). */
  missed: number;
  /** Its other refused proposals (bad signature, equivocation, too large, too early, …). */
  invalid: number;
  /** Its equivocations (two blocks for one slot). */
  equivocations: number;
  /** Median arrival after the slot's start of its accepted proposals, whole ms (0 without any). */
  medianLatencyMs: number;
}

export interface PoolMetrics {
  fromSlot: number;
  toSlot: number;
  /** Slots with an outcome in the range (emitted or missed). */
  closed: number;
  emitted: number;
  /** Slots closed without a valid proposal. */
  missed: number;
  canonical: number;
  orphaned: number;
  rejected: number;
}

export const EMPTY_METRICS: MemberMetrics = Object.freeze({ proposals: 0, selected: 0, canonical: 0, orphaned: 0, missed: 0, invalid: 0, equivocations: 0, medianLatencyMs: 0 });

/** The slots of an epoch. */
export function epochSlots(epoch: number): { fromSlot: number; toSlot: number } {
  return { fromSlot: epoch * SLOTS_PER_EPOCH, toSlot: (epoch + 1) * SLOTS_PER_EPOCH - 1 };
}

/** The lower median of whole numbers (0 for none): the same answer on every machine. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor((sorted.length - 1) / 2)]!);
}

/**
 * Every member's metrics over the events of `[fromSlot, toSlot]` (events of other slots are
 * skipped), keyed by member key, plus the pool's totals.
 */
export function computeMetrics(events: Iterable<LoggedEvent>, fromSlot: number, toSlot: number): { members: Map<string, MemberMetrics>; pool: PoolMetrics } {
  const members = new Map<string, MemberMetrics & { latencies: number[] }>();
  const pool: PoolMetrics = { fromSlot, toSlot, closed: 0, emitted: 0, missed: 0, canonical: 0, orphaned: 0, rejected: 0 };
  const of = (key: string) => {
    let m = members.get(key);
    if (!m) members.set(key, (m = { ...EMPTY_METRICS, latencies: [] }));
    return m;
  };
  const closed = new Set<number>();
  for (const e of events) {
    if (e.slot < fromSlot || e.slot > toSlot) continue;
    const m = e.member === undefined ? undefined : of(e.member);
    switch (e.type) {
      case 'received':
        m!.proposals++;
        m!.latencies.push(e.latencyMs ?? 0);
        break;
      case 'emitted':
        pool.emitted++;
        closed.add(e.slot);
        if (m) m.selected++;
        break;
      case 'canonical':
        pool.canonical++;
        if (m) m.canonical++;
        break;
      case 'orphaned':
        pool.orphaned++;
        if (m) m.orphaned++;
        break;
      case 'equivocation':
        if (m) {
          m.equivocations++;
          m.invalid++;
        }
        break;
      case 'rejected':
        pool.rejected++;
        if (m) {
          if (e.code === 'WINDOW_CLOSED') m.missed++;
          else m.invalid++;
        }
        break;
      case 'missed':
        pool.missed++;
        closed.add(e.slot);
        break;
      default:
        break;
    }
  }
  pool.closed = closed.size;
  const out = new Map<string, MemberMetrics>();
  for (const [key, { latencies, ...m }] of [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.set(key, { ...m, medianLatencyMs: median(latencies) });
  return { members: out, pool };
}
