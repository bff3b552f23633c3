import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdAgreement } from '../../oracle/emitter/agreement.js';
import { HttpSink, SpoolSink, type Sink } from '../../oracle/emitter/sink.js';
import { EmitterService, fixedMembers } from '../../oracle/emitter/service.js';
import { SlotClock } from '../../oracle/emitter/slot-clock.js';
import type { StrategyName } from '../../oracle/emitter/selector.js';

/**
 * The emitter service in a process of its own, with a fixed member set (no chain): the
 * restart and replica tests SIGKILL it. Configuration: a JSON file named by the first
 * argument. Prints `listening <url>` once it takes requests; its log goes to stderr.
 */
const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  dataDir: string;
  port: number;
  genesisMs: number;
  slotMs: number;
  strategy: StrategyName;
  members: string[];
  poolTag: string;
  operator: { publicKey: string; privateKey: string };
  /** A sink that takes this long per delivery (so a kill can land between decision and delivery). */
  sinkDelayMs?: number;
  /** Hand winners to this relay (default: a spool directory in the data directory). */
  relayUrl?: string;
  /** Run as a replica agreeing through this etcd cluster. */
  replica?: { id: string; etcd: string[] };
};
const target: Sink = config.relayUrl ? new HttpSink(config.relayUrl) : new SpoolSink(join(config.dataDir, 'spool'));
const delay = config.sinkDelayMs ?? 0;
const progress = (m: string) => process.stderr.write(`${config.replica?.id ?? 'emitter'}: ${m}\n`);
const agreement = config.replica ? await EtcdAgreement.start({ endpoints: config.replica.etcd, replica: config.replica.id, poolTag: config.poolTag, onStatus: progress }) : undefined;
const service = await EmitterService.start({
  dataDir: config.dataDir,
  clock: new SlotClock({ genesisMs: config.genesisMs, slotMs: config.slotMs }),
  strategy: config.strategy,
  window: { earlyMs: 200, closeMs: config.slotMs, cutoffMs: Math.floor(config.slotMs / 3) },
  poolTag: config.poolTag,
  operator: config.operator,
  membership: fixedMembers(config.members),
  threads: 1,
  sink: { name: target.name, deliver: async (e, handedOver) => (await new Promise((r) => setTimeout(r, delay)), target.deliver(e, handedOver)) },
  ...(agreement ? { agreement } : {}),
  progress,
});
const url = await service.listen(config.port);
await agreement?.advertise(url);
process.stdout.write(`listening ${url}\n`);
process.once('SIGTERM', () => void service.stop().then(() => process.exit(0)));
