import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpoolSink } from '../../oracle/emitter/sink.js';
import { EmitterService, fixedMembers } from '../../oracle/emitter/service.js';
import { SlotClock } from '../../oracle/emitter/slot-clock.js';
import type { StrategyName } from '../../oracle/emitter/selector.js';

/**
 * The emitter service in a process of its own, with a fixed member set (no chain): the
 * restart test SIGKILLs it. Configuration: a JSON file named by the first argument.
 * Prints `listening <url>` once it takes requests.
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
  /** A spool that takes this long per delivery (so a kill can land between decision and delivery). */
  sinkDelayMs?: number;
};
const spool = new SpoolSink(join(config.dataDir, 'spool'));
const delay = config.sinkDelayMs ?? 0;
const service = await EmitterService.start({
  dataDir: config.dataDir,
  clock: new SlotClock({ genesisMs: config.genesisMs, slotMs: config.slotMs }),
  strategy: config.strategy,
  window: { earlyMs: 200, closeMs: config.slotMs, cutoffMs: Math.floor(config.slotMs / 3) },
  poolTag: config.poolTag,
  operator: config.operator,
  membership: fixedMembers(config.members),
  threads: 1,
  sink: { name: spool.name, deliver: async (e, handedOver) => (await new Promise((r) => setTimeout(r, delay)), spool.deliver(e, handedOver)) },
});
const url = await service.listen(config.port);
process.stdout.write(`listening ${url}\n`);
process.once('SIGTERM', () => void service.stop().then(() => process.exit(0)));
