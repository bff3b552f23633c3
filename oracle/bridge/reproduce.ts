import type { LoggedEvent } from '../emitter/event-log.js';
import { InputError, PoolError } from '../errors.js';
import { buildMergedReport, combinedHead } from './merge.js';
import { buildReport, eventLogField, eventsUpTo, type BuildOptions, type ReportFile } from './report.js';

/**
 * Rebuilds an epoch's report from the logs one holds, as `npm run report` does, to set it
 * beside the report on chain: each log is walked to the head the report pinned (its hash chain
 * checked on the way). A report the replicas merged names its logs and their heads in its
 * file; every named log must be among the ones given, and their combined head must be the
 * one on chain.
 */

/** A log one holds: its name (a file, a URL) and its events from the first. */
export interface HeldLog {
  name: string;
  events: LoggedEvent[];
}

export interface Reproduced {
  report: ReportFile;
  /** The logs drawn on, each up to the report's head. */
  drawn: { source: string; events: number; head: string }[];
}

export function reproduceReport(o: {
  epoch: number;
  logs: HeldLog[];
  /** The published report file, when there is one (required for a merged report). */
  file?: ReportFile;
  /** The event log hash on chain (decimal field). */
  eventLogHash: string;
  build: Omit<BuildOptions, 'epoch' | 'events' | 'head' | 'replicas'>;
}): Reproduced {
  if (o.file?.replicas) {
    const logs = o.file.replicas.map((rep) => {
      for (const held of o.logs) {
        const upTo = eventsUpTo(held.events, eventLogField(rep.hash).toString());
        if (!('problem' in upTo) && upTo.head.hash === rep.hash) return { replica: rep.replica, source: held.name, events: upTo.events, head: upTo.head };
      }
      throw new PoolError('LOG_MISSING', `the report drew on replica ${rep.replica}'s log up to event ${rep.seq} (${rep.hash.slice(0, 16)}…), which none of the logs given reaches: give it (--log, --events or --emitter${rep.url ? ` ${rep.url}` : ''})`);
    });
    if (eventLogField(combinedHead(logs).hash).toString() !== o.eventLogHash) throw new PoolError('LOG_MISMATCH', "the replicas' logs reach the heads the report file names, but their combined head is not the one on chain: the report file is not the one posted");
    return {
      report: buildMergedReport({ ...o.build, epoch: o.epoch, logs }),
      drawn: logs.map((l) => ({ source: `${l.replica}: ${l.source}`, events: l.head.seq, head: l.head.hash })),
    };
  }
  if (o.logs.length !== 1) {
    throw new InputError(o.file ? `epoch ${o.epoch}'s report drew on one log: give that one` : `several logs make a report only with its file, which names them (give --report FILE, or an --emitter that serves it)`, { field: 'log' });
  }
  const held = o.logs[0]!;
  const upTo = eventsUpTo(held.events, o.eventLogHash);
  if ('problem' in upTo) throw new PoolError('LOG_MISMATCH', `the report on chain pins an event log hash that ${held.name} does not reach: ${upTo.problem}`);
  return { report: buildReport({ ...o.build, epoch: o.epoch, events: upTo.events, head: upTo.head }), drawn: [{ source: held.name, events: upTo.head.seq, head: upTo.head.hash }] };
}
