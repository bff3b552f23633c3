import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { eventsFromEmitter, loggedEventSchema } from '../oracle/bridge/merge.js';
import { reportFileSchema, type ReportFile } from '../oracle/bridge/report.js';
import { reproduceReport } from '../oracle/bridge/reproduce.js';
import { EventLog, type LoggedEvent } from '../oracle/emitter/event-log.js';
import { InputError, PoolError } from '../oracle/errors.js';
import { parseWith, readJsonFile, writeJsonAtomic } from '../oracle/json-file.js';
import { PoolSession } from '../oracle/pool/session.js';
import { command, output, progress, repeatable, wholeNumber } from './cli.js';

interface ReportOptions {
  epoch: number;
  alias: string;
  log?: string[];
  events?: string[];
  emitter?: string[];
  report?: string;
  export?: string;
  json?: boolean;
}

const exportSchema = z.union([z.array(loggedEventSchema), z.object({ events: z.array(loggedEventSchema) })]);

/** One log to draw on, read from a file, an export, or a running emitter. */
interface Source {
  name: string;
  events: LoggedEvent[];
  /** The emitter it was read from (its published report files). */
  emitter?: string;
}

async function readSources(root: string, o: ReportOptions): Promise<Source[]> {
  const sources: Source[] = [];
  for (const file of o.events ?? []) {
    const parsed = await readJsonFile(resolve(file), exportSchema, `exported event log ${file}`);
    sources.push({ name: file, events: (Array.isArray(parsed) ? parsed : parsed.events) as LoggedEvent[] });
  }
  for (const url of o.emitter ?? []) sources.push({ name: url, emitter: url, events: (await eventsFromEmitter(url, progress)).events });
  const logs = o.log ?? (sources.length === 0 ? [`state/emitter-${o.alias}/events.sqlite`] : []);
  for (const f of logs) {
    const file = resolve(root, f);
    if (!existsSync(file)) throw new InputError(`no event log at ${file} (give --log, --events or --emitter)`, { field: 'log' });
    const log = EventLog.open(file);
    try {
      sources.push({ name: file, events: log.events(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) });
    } finally {
      log.close();
    }
  }
  return sources;
}

/** The published report file of an epoch: given, or from the first emitter that serves it. */
async function reportFileOf(o: ReportOptions, sources: Source[]): Promise<ReportFile | undefined> {
  if (o.report) return readJsonFile(resolve(o.report), reportFileSchema, `report file ${o.report}`);
  for (const s of sources) {
    if (!s.emitter) continue;
    const r = await fetch(new URL(`/v1/reports/${o.epoch}`, s.emitter), { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    if (r?.ok) return parseWith(reportFileSchema, await r.json(), `report of epoch ${o.epoch} from ${s.emitter}`);
  }
  return undefined;
}

/** `mina-pool report`: recomputes an epoch's report from an event log and compares it with the chain. */
export function reportCommand(): Command {
  return command('report', "recompute an epoch's metrics root from the emitter's event log and check it against the report on chain")
    .requiredOption('--epoch <n>', 'the epoch', wholeNumber(0, 601_000))
    .option('--alias <name>', 'the pool deployed under this alias', 'local')
    .option('--log <file>', "the emitter's event log (default state/emitter-<alias>/events.sqlite); again for each replica's", repeatable())
    .option('--events <file>', 'an exported copy of a log (JSON: the events, as GET /v1/events pages them); again for each', repeatable())
    .option('--emitter <url>', "read the log from a running emitter's GET /v1/events; again for each replica", repeatable())
    .option('--report <file>', "the report file the emitter published (GET /v1/reports/:epoch): needed for a report merged from several replicas' logs, unless an --emitter serves it")
    .option('--export <file>', 'also write the events read to this file (to hand to others)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 the root on chain is reproduced, 1 it is not (or no report / no log), 2 bad input.')
    .action(async (o: ReportOptions) => {
      const root = process.cwd();
      const sources = await readSources(root, o);
      if (o.export) {
        if (sources.length !== 1) throw new InputError('--export writes one log: give one source with it', { field: 'export' });
        await writeJsonAtomic(resolve(o.export), { events: sources[0]!.events });
      }
      const session = await PoolSession.open({ root, alias: o.alias, log: progress });
      const client = session.client();
      const onChain = client.mirror.report(o.epoch);
      if (!onChain) throw new PoolError('NO_REPORT', `epoch ${o.epoch} has no report on chain (reported: ${[...client.mirror.reports.keys()].join(', ') || 'none'})`);
      const r = onChain.record.report;
      const file = await reportFileOf(o, sources);
      const { report: rebuilt, drawn } = reproduceReport({
        epoch: o.epoch,
        logs: sources,
        ...(file ? { file } : {}),
        eventLogHash: r.eventLogHash.toString(),
        build: { indexOf: (k) => client.mirror.indexOf(k), policy: client.mirror.params.rewardPolicy, perBlock: 0n, basis: 'canonical' },
      });
      const eligibleOnChain = client.mirror.keysOf(r.eligible).sort();
      const eligibleRebuilt = [...rebuilt.eligible].sort();
      const rootMatches = rebuilt.metricsRoot === r.metricsRoot.toString();
      const eligibleMatches = JSON.stringify(eligibleOnChain) === JSON.stringify(eligibleRebuilt);
      const ok = rootMatches && eligibleMatches;
      const value = {
        epoch: o.epoch,
        ok,
        eventLog: drawn.length === 1 ? drawn[0] : { logs: drawn },
        metricsRoot: { onChain: r.metricsRoot.toString(), recomputed: rebuilt.metricsRoot },
        eligible: { onChain: eligibleOnChain, recomputed: eligibleRebuilt },
        members: rebuilt.members.map((m) => ({ key: m.key, eligible: m.eligible, ...m.metrics })),
      };
      const name = (k: string) => client.who(k);
      const text = [
        ...drawn.map((d) => `epoch ${o.epoch}: the log ${d.source} reaches the hash the report pinned at event ${d.events} (${d.head.slice(0, 16)}…)`),
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
