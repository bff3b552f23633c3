import { join } from 'node:path';
import { Field, type PrivateKey } from 'o1js';
import type { Log } from '../chain/poster.js';
import type { EventLog } from '../emitter/event-log.js';
import { PoolError } from '../errors.js';
import { readJsonFileIfExists, writeJsonAtomic } from '../json-file.js';
import type { PoolClient } from '../pool/client.js';
import { epochSlots } from '../emitter/metrics.js';
import { buildMergedReport, eventsFromEmitter, type ReplicaLog } from './merge.js';
import { buildReport, reportFileSchema, type ReportFile } from './report.js';
import { Serial } from '../serial.js';
import type { ReplicaInfo } from '../emitter/agreement.js';

/**
 * The metrics bridge: at the end of an epoch it builds the report from the event log,
 * keeps it as a file (the one the service publishes), signs it with the oracle key and posts
 * it to `RewardPool` through the pool's one poster. Idempotent: the first build of an epoch
 * is kept and every rerun posts that same report, and an epoch already reported on chain is
 * never posted again (a rerun after a crash finds it there and only records it).
 */

export interface BridgeDeps {
  log: EventLog;
  client: PoolClient;
  /** Signs reports. */
  oracle: PrivateKey;
  /** Pays the fee (the oracle by default). */
  sender?: PrivateKey;
  /** Where report files go (`epoch-<N>.json`). */
  dir: string;
  /** Reward per counted block, nanomina. */
  perBlock: bigint;
  /** Count canonical blocks (when a chain watcher runs) or emitted ones. */
  basis: 'canonical' | 'emitted';
  /**
   * Among replicas: this replica's name and the others' URLs (those up); the report is built from
   * the merged logs of this replica and every other that answers, and names them.
   */
  replicas?: { self: string; peers: () => readonly ReplicaInfo[] };
  progress?: Log;
}

export type PostOutcome = { status: 'posted' | 'already-posted'; report: ReportFile };

export class Bridge {
  private readonly serial = new Serial();

  constructor(private readonly deps: BridgeDeps) {}

  static fileName(epoch: number): string {
    return `epoch-${String(epoch).padStart(6, '0')}.json`;
  }

  /** The published report of an epoch, if one was built. */
  async reportFile(epoch: number): Promise<ReportFile | undefined> {
    return readJsonFileIfExists(join(this.deps.dir, Bridge.fileName(epoch)), reportFileSchema, `report file of epoch ${epoch}`);
  }

  /** The epoch's report: the file already built, or a new one from the log now (kept). */
  async prepare(epoch: number): Promise<ReportFile> {
    const existing = await this.reportFile(epoch);
    if (existing) return existing;
    const { log, client } = this.deps;
    const { fromSlot, toSlot } = epochSlots(epoch);
    const common = { epoch, indexOf: (k: string) => client.mirror.indexOf(k), policy: client.mirror.params.rewardPolicy, perBlock: this.deps.perBlock, basis: this.deps.basis };
    let report: ReportFile;
    if (this.deps.replicas) {
      const logs = await this.replicaLogs(this.deps.replicas, epoch);
      report = buildMergedReport({ ...common, logs });
    } else {
      // One synchronous read: the events and the head are of the same moment.
      const head = log.head();
      report = buildReport({ ...common, events: log.eventsOfSlots(fromSlot, toSlot), head });
    }
    await writeJsonAtomic(join(this.deps.dir, Bridge.fileName(epoch)), report);
    return report;
  }

  /** This replica's log and the logs of the other replicas that answer (a replica down is left out, and named). */
  private async replicaLogs(r: NonNullable<BridgeDeps['replicas']>, epoch: number): Promise<(ReplicaLog & { url?: string })[]> {
    const { log } = this.deps;
    const progress = this.deps.progress ?? (() => {});
    // This log: the epoch's events and the head, of one moment (the merge keeps the epoch's only).
    const { fromSlot, toSlot } = epochSlots(epoch);
    const logs: (ReplicaLog & { url?: string })[] = [{ replica: r.self, head: log.head(), events: log.eventsOfSlots(fromSlot, toSlot) }];
    for (const peer of r.peers()) {
      if (peer.id === r.self) continue;
      if (!peer.url) {
        progress(`bridge: replica ${peer.id} has no URL registered: its log is left out`);
        continue;
      }
      try {
        logs.push({ replica: peer.id, url: peer.url, ...(await eventsFromEmitter(peer.url)) });
      } catch (e) {
        progress(`bridge: the log of replica ${peer.id} is left out: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    progress(`bridge: drawing on the logs of ${logs.map((l) => `${l.replica} (${l.head.seq} events)`).join(', ')}`);
    return logs;
  }

  /** Builds (once) and posts (once) the epoch's report; one epoch at a time. */
  post(epoch: number): Promise<PostOutcome> {
    return this.serial.run(() => this.postNow(epoch));
  }

  private async postNow(epoch: number): Promise<PostOutcome> {
    const { client, oracle } = this.deps;
    const progress = this.deps.progress ?? (() => {});
    await client.sync();
    const report = await this.prepare(epoch);
    const onChain = client.mirror.report(epoch);
    if (onChain) {
      const r = onChain.record.report;
      if (r.metricsRoot.toString() !== report.metricsRoot || r.eventLogHash.toString() !== report.eventLog.field) {
        throw new PoolError('REPORTED_OTHERWISE', `epoch ${epoch} is already reported on chain with another metrics root (${r.metricsRoot.toString()}) than this bridge's (${report.metricsRoot}): it is not posted again`, { epoch });
      }
      return { status: 'already-posted', report };
    }
    const onchain = client.reportOf(epoch, BigInt(report.reward.nanomina), report.eligible, { metricsRoot: Field(report.metricsRoot), eventLogHash: Field(report.eventLog.field) });
    progress(`bridge: posting epoch ${epoch}: ${report.eligible.length} eligible, reward ${report.reward.nanomina} nanomina (${report.reward.blocks} ${report.reward.basis} blocks)`);
    const sender = this.deps.sender ?? oracle;
    const inclusion = await client.submit(() => client.postReport(sender, onchain, client.signReport(oracle, onchain), oracle.toPublicKey()));
    const posted: ReportFile = { ...report, posted: { hash: inclusion.hash, ...(inclusion.blockHeight !== undefined ? { blockHeight: Number(inclusion.blockHeight) } : {}) } };
    await writeJsonAtomic(join(this.deps.dir, Bridge.fileName(epoch)), posted);
    return { status: 'posted', report: posted };
  }
}
