import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { buildReport, eventsUpTo } from '../oracle/bridge/report.js';
import { EventLog, type LoggedEvent } from '../oracle/emitter/event-log.js';
import { EVENT_TYPES } from '../oracle/emitter/types.js';
import { FetchError, InputError, PoolError } from '../oracle/errors.js';
import { parseWith, readJsonFile, writeJsonAtomic } from '../oracle/json-file.js';
import { PoolSession } from '../oracle/pool/session.js';
import { command, output, progress, wholeNumber } from './cli.js';

interface ReportOptions {
  epoch: number;
  alias: string;
  log?: string;
  events?: string;
  emitter?: string;
  export?: string;
  json?: boolean;
}

const eventSchema = z.object({
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
const exportSchema = z.union([z.array(eventSchema), z.object({ events: z.array(eventSchema) })]);

/** Every event of an emitter, read page by page from `GET /v1/events`. */
async function eventsFromEmitter(base: string): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
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
    const page: { events: unknown[]; next: number | null } = parseWith(z.object({ events: z.array(eventSchema), next: z.number().nullable() }), body, `events page from ${url.href}`);
    events.push(...(page.events as LoggedEvent[]));
    from = page.next;
    if (events.length % 10_000 < 1000) progress(`read ${events.length} events`);
  }
  return events;
}

/** `mina-pool report`: recomputes an epoch's report from an event log and compares it with the chain. */
export function reportCommand(): Command {
  return command('report', "recompute an epoch's metrics root from the emitter's event log and check it against the report on chain")
    .requiredOption('--epoch <n>', 'the epoch', wholeNumber(0, 601_000))
    .option('--alias <name>', 'the pool deployed under this alias', 'local')
    .option('--log <file>', "the emitter's event log (default state/emitter-<alias>/events.sqlite)")
    .option('--events <file>', 'an exported copy of the log (JSON: the events, as GET /v1/events pages them)')
    .option('--emitter <url>', "read the log from a running emitter's GET /v1/events")
    .option('--export <file>', 'also write the events read to this file (to hand to others)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 the root on chain is reproduced, 1 it is not (or no report / no log), 2 bad input.')
    .action(async (o: ReportOptions) => {
      const root = process.cwd();
      const sources = [o.log, o.events, o.emitter].filter((s) => s !== undefined).length;
      if (sources > 1) throw new InputError('give one of --log, --events and --emitter', { field: 'log' });
      let events: LoggedEvent[];
      let source: string;
      if (o.events) {
        const parsed = await readJsonFile(resolve(o.events), exportSchema, `exported event log ${o.events}`);
        events = (Array.isArray(parsed) ? parsed : parsed.events) as LoggedEvent[];
        source = o.events;
      } else if (o.emitter) {
        events = await eventsFromEmitter(o.emitter);
        source = o.emitter;
      } else {
        const file = resolve(root, o.log ?? `state/emitter-${o.alias}/events.sqlite`);
        if (!existsSync(file)) throw new InputError(`no event log at ${file} (give --log, --events or --emitter)`, { field: 'log' });
        const log = EventLog.open(file);
        try {
          events = log.events(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        } finally {
          log.close();
        }
        source = file;
      }
      if (o.export) await writeJsonAtomic(resolve(o.export), { events });

      const session = await PoolSession.open({ root, alias: o.alias, log: progress });
      const client = session.client();
      const onChain = client.mirror.report(o.epoch);
      if (!onChain) throw new PoolError('NO_REPORT', `epoch ${o.epoch} has no report on chain (reported: ${[...client.mirror.reports.keys()].join(', ') || 'none'})`);
      const r = onChain.record.report;
      const upTo = eventsUpTo(events, r.eventLogHash.toString());
      if ('problem' in upTo) throw new PoolError('LOG_MISMATCH', `the report on chain pins an event log hash that ${source} does not reach: ${upTo.problem}`);
      const rebuilt = buildReport({ epoch: o.epoch, events: upTo.events, head: upTo.head, indexOf: (k) => client.mirror.indexOf(k), policy: client.mirror.params.rewardPolicy, perBlock: 0n, basis: 'canonical' });
      const eligibleOnChain = client.mirror.keysOf(r.eligible).sort();
      const eligibleRebuilt = [...rebuilt.eligible].sort();
      const rootMatches = rebuilt.metricsRoot === r.metricsRoot.toString();
      const eligibleMatches = JSON.stringify(eligibleOnChain) === JSON.stringify(eligibleRebuilt);
      const ok = rootMatches && eligibleMatches;
      const value = {
        epoch: o.epoch,
        ok,
        eventLog: { source, events: upTo.head.seq, head: upTo.head.hash },
        metricsRoot: { onChain: r.metricsRoot.toString(), recomputed: rebuilt.metricsRoot },
        eligible: { onChain: eligibleOnChain, recomputed: eligibleRebuilt },
        members: rebuilt.members.map((m) => ({ key: m.key, eligible: m.eligible, ...m.metrics })),
      };
      const name = (k: string) => client.who(k);
      const text = [
        `epoch ${o.epoch}: the log ${source} reaches the hash the report pinned at event ${upTo.head.seq} (${upTo.head.hash.slice(0, 16)}…)`,
        `metrics root on chain   ${r.metricsRoot.toString()}`,
        `metrics root recomputed ${rebuilt.metricsRoot}  ${rootMatches ? 'EQUAL' : 'DIFFERENT'}`,
        `eligible on chain: ${eligibleOnChain.map(name).join(', ') || 'none'}; recomputed: ${eligibleRebuilt.map(name).join(', ') || 'none'}  ${eligibleMatches ? 'EQUAL' : 'DIFFERENT'}`,
        ...rebuilt.members.map((m) => `  ${name(m.key)}: ${m.metrics.proposals} proposal${m.metrics.proposals === 1 ? '' : 's'}, ${m.metrics.selected} selected, ${m.metrics.canonical} canonical, ${m.metrics.orphaned} orphaned, ${m.metrics.missed} late, ${m.metrics.invalid} invalid, median ${m.metrics.medianLatencyMs} ms${m.eligible ? ', eligible' : ''}`),
        ok ? 'the report on chain is reproduced from the log' : 'the report on chain is NOT what this log gives',
      ].join('\n');
      output(o.json, text, value);
      if (!ok) process.exitCode = 1;
    });
}
