import { Field, MerkleTree, MerkleWitness, Poseidon, PublicKey } from 'o1js';
import { z } from 'zod';
import { BITMAP_BITS } from '../../contracts/Bitmap.js';
import { RewardPolicy } from '../../contracts/types.js';
import { b62 } from '../config.js';
import { GENESIS_HASH, linkProblem, type LoggedEvent } from '../emitter/event-log.js';
import { computeMetrics, epochSlots, type MemberMetrics, type PoolMetrics } from '../emitter/metrics.js';
import { InputError } from '../errors.js';

/**
 * The epoch report as the bridge builds it from the event log, and as anyone rebuilds it:
 * per-member metrics, eligibility by the pool's reward policy, a Merkle tree of the metrics
 * (leaf index = the member's registry index, as in the eligibility bitmap), and the event
 * log's hash at the moment of the report. Everything here is a pure function of the log's
 * events up to that moment and the registry: `npm run report` recomputes it.
 */

/** Height of the metrics tree: one leaf per registry index (512 = the bitmap's width). */
export const METRICS_TREE_HEIGHT = Math.log2(BITMAP_BITS) + 1;
export class MetricsWitness extends MerkleWitness(METRICS_TREE_HEIGHT) {}

/** The order of the metrics in a leaf. */
const METRIC_FIELDS = ['proposals', 'selected', 'canonical', 'orphaned', 'missed', 'invalid', 'equivocations', 'medianLatencyMs'] as const satisfies readonly (keyof MemberMetrics)[];

/** A member's leaf: `Poseidon(key, index, metrics…, eligible)`. */
export function metricsLeaf(key: string, index: number, m: MemberMetrics, eligible: boolean): Field {
  return Poseidon.hash([...PublicKey.fromBase58(key).toFields(), Field(index), ...METRIC_FIELDS.map((f) => Field(m[f])), Field(eligible ? 1 : 0)]);
}

/** The event log's hash as a field: the first 248 bits of the head's sha256 (hex). */
export function eventLogField(hash: string): Field {
  return Field(BigInt('0x' + hash.slice(0, 62)));
}

/** Reward policies by number, with the rule each applies to a member's metrics. */
export const POLICIES: Record<number, { name: string; rule: string; eligible: (m: MemberMetrics) => boolean }> = {
  [RewardPolicy.evenShares]: {
    name: 'even-shares',
    rule: 'a member that delivered at least one valid proposal in the epoch and did not equivocate shares the reward evenly',
    eligible: (m) => m.proposals > 0 && m.equivocations === 0,
  },
};

export function policyOf(number: number): (typeof POLICIES)[number] {
  const p = POLICIES[number];
  if (!p) throw new InputError(`reward policy ${number} is not known to this bridge (known: ${Object.keys(POLICIES).join(', ')})`, { field: 'rewardPolicy' });
  return p;
}

const metricsSchema = z.strictObject(Object.fromEntries([...METRIC_FIELDS].map((f) => [f, z.number().int().min(0)])) as Record<(typeof METRIC_FIELDS)[number], z.ZodNumber>);
const decimal = z.string().regex(/^\d+$/, 'expected a decimal number');

/** The report file: what the service publishes at `GET /v1/reports/:epoch`. */
export const reportFileSchema = z.object({
  version: z.literal(1),
  epoch: z.number().int().min(0),
  slots: z.object({ from: z.number().int(), to: z.number().int() }),
  /** The log's head when the report was made: its sequence number, sha256 and the field posted. */
  eventLog: z.object({ seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/), field: decimal }),
  /**
   * Among replicas: the logs the report drew on (merged), each with its head; `eventLog` is then
   * their combined head (sha256 over `replica:head` lines, sorted by replica).
   */
  replicas: z.array(z.object({ replica: z.string(), url: z.string().optional(), seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/) })).optional(),
  policy: z.object({ number: z.number().int(), name: z.string(), rule: z.string() }),
  reward: z.object({ nanomina: decimal, basis: z.enum(['canonical', 'emitted']), blocks: z.number().int().min(0), perBlock: decimal }),
  metricsRoot: decimal,
  pool: z.object({ closed: z.number(), emitted: z.number(), missed: z.number(), canonical: z.number(), orphaned: z.number(), rejected: z.number() }),
  members: z.array(
    z.object({
      key: b62,
      index: z.number().int().min(0).max(BITMAP_BITS - 1),
      eligible: z.boolean(),
      metrics: metricsSchema,
      leaf: decimal,
      /** Siblings from the leaf up (`isLeft`: the node is a left child). */
      witness: z.array(z.object({ isLeft: z.boolean(), sibling: decimal })),
    }),
  ),
  eligible: z.array(b62),
  posted: z.object({ hash: z.string(), blockHeight: z.number().optional() }).optional(),
});
export type ReportFile = z.infer<typeof reportFileSchema>;

export interface BuildOptions {
  epoch: number;
  /** The log's events (at least those of the epoch), in order, up to the report's moment. */
  events: LoggedEvent[];
  /** The log's head at that moment. */
  head: { seq: number; hash: string };
  /** Registry index of a key, `undefined` if never registered (its events are left out). */
  indexOf: (key: string) => number | undefined;
  policy: number;
  /** Reward per block, nanomina. */
  perBlock: bigint;
  /** Count canonical blocks (a chain watcher runs) or emitted ones (none does). */
  basis: 'canonical' | 'emitted';
  /** Among replicas: the logs merged into `events`, named in the report (`head` is their combined head). */
  replicas?: { replica: string; url?: string; head: { seq: number; hash: string } }[];
}

/** Builds an epoch's report from the log. */
export function buildReport(o: BuildOptions): ReportFile {
  const { fromSlot, toSlot } = epochSlots(o.epoch);
  const { members, pool } = computeMetrics(o.events, fromSlot, toSlot);
  const policy = policyOf(o.policy);
  const rows = [...members].flatMap(([key, metrics]) => {
    const index = o.indexOf(key);
    return index === undefined ? [] : [{ key, index, metrics, eligible: policy.eligible(metrics) }];
  });
  rows.sort((a, b) => a.index - b.index);
  const tree = new MerkleTree(METRICS_TREE_HEIGHT);
  const leaves = rows.map((r) => metricsLeaf(r.key, r.index, r.metrics, r.eligible));
  rows.forEach((r, i) => tree.setLeaf(BigInt(r.index), leaves[i]!));
  const blocks = o.basis === 'canonical' ? pool.canonical : pool.emitted;
  return {
    version: 1,
    epoch: o.epoch,
    slots: { from: fromSlot, to: toSlot },
    eventLog: { seq: o.head.seq, hash: o.head.hash, field: eventLogField(o.head.hash).toString() },
    ...(o.replicas ? { replicas: o.replicas.map((r) => ({ replica: r.replica, ...(r.url ? { url: r.url } : {}), seq: r.head.seq, hash: r.head.hash })) } : {}),
    policy: { number: o.policy, name: policy.name, rule: policy.rule },
    reward: { nanomina: (BigInt(blocks) * o.perBlock).toString(), basis: o.basis, blocks, perBlock: o.perBlock.toString() },
    metricsRoot: tree.getRoot().toString(),
    pool: poolTotals(pool),
    members: rows.map((r, i) => ({
      key: r.key,
      index: r.index,
      eligible: r.eligible,
      metrics: r.metrics,
      leaf: leaves[i]!.toString(),
      witness: tree.getWitness(BigInt(r.index)).map((w) => ({ isLeft: w.isLeft, sibling: w.sibling.toString() })),
    })),
    eligible: rows.filter((r) => r.eligible).map((r) => r.key),
  };
}

function poolTotals(p: PoolMetrics): ReportFile['pool'] {
  return { closed: p.closed, emitted: p.emitted, missed: p.missed, canonical: p.canonical, orphaned: p.orphaned, rejected: p.rejected };
}

/** Whether a member's row of a report file proves its metrics under the file's root (a member's own check). */
export function checkMemberRow(report: ReportFile, key: string): { ok: true; metrics: MemberMetrics; eligible: boolean } | { ok: false; problem: string } {
  const row = report.members.find((m) => m.key === key);
  if (!row) return { ok: false, problem: `${key} has no metrics in the report of epoch ${report.epoch}` };
  const leaf = metricsLeaf(row.key, row.index, row.metrics, row.eligible);
  if (leaf.toString() !== row.leaf) return { ok: false, problem: 'the leaf does not match the metrics' };
  const witness = new MetricsWitness(row.witness.map((w) => ({ isLeft: w.isLeft, sibling: Field(w.sibling) })));
  if (witness.calculateIndex().toBigInt() !== BigInt(row.index)) return { ok: false, problem: 'the witness is not for the member’s index' };
  if (witness.calculateRoot(leaf).toString() !== report.metricsRoot) return { ok: false, problem: 'the witness does not lead to the metrics root' };
  return { ok: true, metrics: row.metrics, eligible: row.eligible };
}

/**
 * The events of a log up to the one whose hash the report pinned: walks the hash chain from
 * the start, checking every link, and stops at the first event whose hash gives `field`.
 */
export function eventsUpTo(events: Iterable<LoggedEvent>, field: string): { events: LoggedEvent[]; head: { seq: number; hash: string } } | { problem: string } {
  let prev = GENESIS_HASH;
  const taken: LoggedEvent[] = [];
  if (eventLogField(GENESIS_HASH).toString() === field) return { events: [], head: { seq: 0, hash: GENESIS_HASH } };
  for (const e of events) {
    const problem = linkProblem(prev, taken.length + 1, e);
    if (problem) return { problem: `event ${e.seq}: ${problem} (the log is incomplete or was edited)` };
    taken.push(e);
    prev = e.hash;
    if (eventLogField(e.hash).toString() === field) return { events: taken, head: { seq: e.seq, hash: e.hash } };
  }
  return { problem: `no event of the log (${taken.length} events) has the hash the report pinned: the log does not reach the report's moment, or it is another log` };
}

