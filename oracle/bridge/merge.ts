import { createHash } from 'node:crypto';
import { z } from 'zod';
import { GENESIS_HASH, type LoggedEvent } from '../emitter/event-log.js';
import { EVENT_TYPES } from '../emitter/types.js';
import { FetchError } from '../errors.js';
import { parseWith } from '../json-file.js';
import { epochSlots } from '../emitter/metrics.js';
import { buildReport, type BuildOptions, type ReportFile } from './report.js';

/**
 * The logs of several emitter replicas as one. Members deliver to every replica, so each log
 * holds its own copy of the same proposals (its own arrival times) and the same agreed
 * outcomes. The merge keeps one event per fact, whichever log it came from, by a rule that
 * does not depend on the order of the logs: a proposal once (its earliest arrival after the
 * slot's start), a refusal once per (slot, member, code), an equivocation once per block, a
 * slot's outcome once (emitted over missed), its chain status once (canonical over orphaned).
 * So any replica, or anyone holding the same logs, computes the same epoch report.
 */

/** One replica's log, as drawn upon: its events and its head at that moment. */
export interface ReplicaLog {
  replica: string;
  events: LoggedEvent[];
  head: { seq: number; hash: string };
}

function keyOf(e: LoggedEvent): string {
  switch (e.type) {
    case 'received':
    case 'equivocation':
    case 'selected':
    case 'ignored':
      return `${e.type}|${e.slot}|${e.member}|${e.blockHash}`;
    case 'rejected':
      return `rejected|${e.slot}|${e.member ?? ''}|${e.code ?? ''}`;
    case 'emitted':
    case 'missed':
      return `outcome|${e.slot}`;
    case 'canonical':
    case 'orphaned':
      return `chain|${e.slot}`;
    default:
      return `${e.type}|${e.slot}|${e.member ?? ''}|${e.blockHash ?? ''}|${e.code ?? ''}`;
  }
}

/** Whether `a` is kept over `b` for the same fact. */
function better(a: LoggedEvent, b: LoggedEvent): boolean {
  if (a.type !== b.type) return a.type === 'emitted' || a.type === 'canonical';
  if (a.type === 'received' && (a.latencyMs ?? 0) !== (b.latencyMs ?? 0)) return (a.latencyMs ?? 0) < (b.latencyMs ?? 0);
  if (a.at !== b.at) return a.at < b.at;
  return a.hash < b.hash;
}

/** The replicas' events merged: one per fact, in slot order. */
export function mergeReplicaEvents(logs: readonly { events: readonly LoggedEvent[] }[]): LoggedEvent[] {
  const kept = new Map<string, LoggedEvent>();
  for (const log of logs) {
    for (const e of log.events) {
      const key = keyOf(e);
      const held = kept.get(key);
      if (!held || better(e, held)) kept.set(key, e);
    }
  }
  return [...kept.values()].sort((a, b) => a.slot - b.slot || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** The heads of the logs drawn upon as one hash: sha256 over `replica:head` lines, sorted by replica. */
export function combinedHead(logs: readonly { replica: string; head: { seq: number; hash: string } }[]): { seq: number; hash: string } {
  const lines = [...logs].sort((a, b) => (a.replica < b.replica ? -1 : 1)).map((l) => `${l.replica}:${l.head.hash}`);
  return { seq: logs.reduce((n, l) => n + l.head.seq, 0), hash: createHash('sha256').update(lines.join('\n')).digest('hex') };
}

/** An epoch's report from several replicas' logs: their merged events, their combined head, the logs named. */
export function buildMergedReport(o: Omit<BuildOptions, 'events' | 'head' | 'replicas'> & { logs: (ReplicaLog & { url?: string })[] }): ReportFile {
  const { fromSlot, toSlot } = epochSlots(o.epoch);
  const { logs, ...build } = o;
  return buildReport({ ...build, events: mergeReplicaEvents(logs).filter((e) => e.slot >= fromSlot && e.slot <= toSlot), head: combinedHead(logs), replicas: logs });
}

export const loggedEventSchema = z.object({
  seq: z.number().int().min(1),
  type: z.enum(EVENT_TYPES),
  slot: z.number().int(),
  member: z.string().optional(),
  blockHash: z.string().optional(),
  code: z.string().optional(),
  at: z.number(),
  latencyMs: z.number().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  prev: z.string(),
  hash: z.string(),
});

/** Every event of a running emitter, read page by page from `GET /v1/events`, and its head. */
export async function eventsFromEmitter(base: string, onProgress?: (message: string) => void): Promise<{ events: LoggedEvent[]; head: { seq: number; hash: string } }> {
  const events: LoggedEvent[] = [];
  let head = { seq: 0, hash: GENESIS_HASH };
  for (let from: number | null = 1; from !== null; ) {
    const url: URL = new URL(`/v1/events?from=${from}&limit=1000`, base);
    let body: unknown;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      body = await r.json();
    } catch (e) {
      throw new FetchError(`cannot read the events of ${base}: ${e instanceof Error ? e.message : String(e)}`, { url: base });
    }
    const page = parseWith(z.object({ events: z.array(loggedEventSchema), next: z.number().nullable() }), body, `events page from ${url.href}`);
    events.push(...(page.events as LoggedEvent[]));
    from = page.next;
    if (events.length % 10_000 < 1000) onProgress?.(`read ${events.length} events of ${base}`);
  }
  // The head of what was read (the log may have grown since the first page).
  const last = events.at(-1);
  if (last) head = { seq: last.seq, hash: last.hash };
  return { events, head };
}
