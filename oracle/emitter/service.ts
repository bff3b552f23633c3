import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { nanoToMina } from '../amount.js';
import type { Log } from '../chain/poster.js';
import type { Bridge } from '../bridge/bridge.js';
import type { Compensations } from '../bridge/compensation.js';
import type { BackfillPlan } from '../backfill/commitment.js';
import { CryptoPool } from './crypto-pool.js';
import { EventLog } from './event-log.js';
import { verifyFields, warmKeys } from './fast-verify.js';
import { Intake, type Membership } from './intake.js';
import { epochSlots } from './metrics.js';
import { EmitterMetrics } from './observe.js';
import { ReceiptSigner } from './receipt.js';
import { Selector, type StrategyName, type Window } from './selector.js';
import { buildServer, listenOn } from './server.js';
import { SpoolSink, type Sink } from './sink.js';
import type { SlotClock } from './slot-clock.js';
import { ChainWatcher } from './watcher.js';
import { NetworkFollower, waitlistView, type WaitlistView } from '../backfill/follow.js';
import { LiveWaitlist } from '../backfill/live.js';
import { SlotCommitments, type BackfillLedgers, type SlotCommitmentView } from '../backfill/slot-commitment.js';
import type { DesignationChecks } from './designation.js';
import type { Agreement } from './agreement.js';
import { FRONTIER_DEPTH } from '../member/blocks.js';

/** Who is a member, in registry order; `refresh` reads the pool again (the service calls it every few slots). */
export interface MemberSource extends Membership {
  members(): readonly string[];
  refresh?(): Promise<void>;
}

/** A fixed member set (tests, benches). */
export function fixedMembers(keys: readonly string[]): MemberSource {
  const set = new Set(keys);
  return { isMember: (k) => set.has(k), members: () => keys };
}

export interface EmitterServiceOptions {
  /** Event log (`events.sqlite`), spool (`spool/`) and reports (`reports/`) go here. */
  dataDir: string;
  clock: SlotClock;
  strategy: StrategyName;
  window: Window;
  /** `poolTagOf(PoolDac address)`, decimal. */
  poolTag: string;
  /** The operator's key: public (B62) and private (base58), which certifies the receipt key. */
  operator: { publicKey: string; privateKey: string };
  membership: MemberSource;
  names?: ReadonlyMap<string, string>;
  /** Largest block accepted, bytes of JSON (default 4 MiB). */
  maxPayloadBytes?: number;
  /** Where winners go (default: a spool directory in `dataDir`). */
  sink?: Sink;
  /** Signature worker threads (default 2). */
  threads?: number;
  /** A daemon's GraphQL to mark emitted blocks canonical or orphaned. */
  watch?: { url: string; confirmations?: number; intervalMs?: number };
  /**
   * The live backfill waitlist: follows every block of the network through a daemon's GraphQL
   * (saved in `waitlist.sqlite`) and serves it at `GET /v1/waitlist` and on the dashboard.
   */
  waitlist?: { url: string; window: number; self?: string; peers?: readonly string[]; settleSlots?: number; intervalMs?: number; excludeWinners?: boolean };
  /** Takes designated producers' blocks with their proofs (the forum's acceptance rule); refused without it. */
  designation?: DesignationChecks;
  /**
   * With `waitlist`: the live commitment of each slot (its designation fixed when the slot
   * comes, from the epoch's staking ledgers), served at `GET /v1/backfill/:slot` and required of
   * a designated producer's proof at the intake, which `verifyProof` checks.
   */
  backfill?: { ledgers: BackfillLedgers; verifyProof: DesignationChecks['verifyProof'] };
  /** Posts each epoch's report `delaySlots` after the epoch ends (the bridge is made over this service's log). */
  bridge?: { create: (log: EventLog) => Bridge; delaySlots: number };
  /**
   * With `backfill`: posts each designated producer's compensation once its slot has passed
   * (the slot's commitment, then the payment with the producer's proof), made over this
   * service's log and its live commitments.
   */
  compensation?: { create: (log: EventLog, planOf: (slot: number) => BackfillPlan | undefined) => Compensations };
  /**
   * Run as one of several replicas: each slot's outcome is agreed with the others through etcd
   * before anything is handed on, the replica that holds a slot's forwarding forwards it, and
   * only the replica that leads the `bridge` role posts reports and compensations. The service
   * closes it when it stops (revoking its lease).
   */
  agreement?: Agreement;
  /**
   * Among replicas (first-delivered): how long a replica whose turn it is not to propose a slot
   * first waits for that slot's block to reach the sink before it checks and logs a proposal
   * for it (default 100 ms; see {@link Selector.hold}).
   */
  standbyMs?: number;
  /** How often the membership is read again (default every 5 slots). */
  membershipRefreshMs?: number;
  progress?: Log;
}

/**
 * The Block Emitter as the operator runs it: intake, selector, sink, event log, receipts,
 * metrics, dashboard, chain watcher and (optionally) the metrics bridge, in one process.
 *
 * @example
 * const service = await EmitterService.start({ dataDir, clock, strategy: 'first-delivered', window, poolTag, operator, membership });
 * const url = await service.listen(8080);
 * …
 * await service.stop();
 */
export class EmitterService {
  readonly log: EventLog;
  readonly app: FastifyInstance;
  readonly metrics: EmitterMetrics;
  readonly selector: Selector;
  readonly bridge?: Bridge;
  readonly compensations?: Compensations;
  readonly waitlist?: LiveWaitlist;
  /** The waitlist as served, with the pool's notice. */
  private readonly viewWaitlist?: () => WaitlistView;
  private readonly follower?: NetworkFollower;
  private readonly crypto: CryptoPool;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];

  private constructor(
    private readonly o: EmitterServiceOptions,
    parts: { log: EventLog; crypto: CryptoPool; app: FastifyInstance; metrics: EmitterMetrics; selector: Selector; bridge?: Bridge; compensations?: Compensations; waitlist?: { list: LiveWaitlist; view: () => WaitlistView; follower: NetworkFollower } },
  ) {
    if (parts.bridge) this.bridge = parts.bridge;
    if (parts.compensations) this.compensations = parts.compensations;
    if (parts.waitlist) {
      this.waitlist = parts.waitlist.list;
      this.viewWaitlist = parts.waitlist.view;
      this.follower = parts.waitlist.follower;
    }
    this.log = parts.log;
    this.crypto = parts.crypto;
    this.app = parts.app;
    this.metrics = parts.metrics;
    this.selector = parts.selector;
  }

  static async start(o: EmitterServiceOptions): Promise<EmitterService> {
    const progress = o.progress ?? (() => {});
    const log = EventLog.open(join(o.dataDir, 'events.sqlite'));
    const check = log.verify();
    if (!check.ok) {
      log.close();
      throw new Error(`the event log in ${o.dataDir} is corrupt at event ${check.seq}: ${check.problem}`);
    }
    const crypto = await CryptoPool.start({ threads: o.threads ?? 2, signingKey: o.operator.privateKey });
    await crypto.warm(o.membership.members());
    if (o.strategy === 'first-delivered') warmKeys(o.membership.members());
    const agreement = o.agreement;
    const metrics = new EmitterMetrics({ backlog: () => crypto.backlog, ...(agreement ? { agreement: () => agreement.health() } : {}) });
    const receipts = await ReceiptSigner.create({ operator: o.operator.publicKey, poolTag: o.poolTag, certify: (f) => crypto.sign(f) });
    const sink = o.sink ?? new SpoolSink(join(o.dataDir, 'spool'));
    const selector = new Selector({
      log,
      clock: o.clock,
      sink,
      strategy: o.strategy,
      window: o.window,
      priority: () => o.membership.members(),
      onEmitted: (d) => metrics.emitted(d),
      onMissed: () => metrics.slotMissed(),
      onError: (message, context) => {
        metrics.sinkFailed();
        progress(`emitter: ${message}`, context);
      },
      ...(o.agreement
        ? {
            agreement: o.agreement,
            onStatus: (message: string, context: Record<string, unknown>) => progress(`agreement: ${message}`, context),
            onAgreed: (ms: number) => metrics.agreed(ms),
            onTakeover: () => metrics.tookOver(),
            ...(o.standbyMs !== undefined ? { standbyMs: o.standbyMs } : {}),
          }
        : {}),
    });
    const maxPayloadBytes = o.maxPayloadBytes ?? 4 * 1024 * 1024;
    if (o.backfill && !o.waitlist) throw new Error('the live backfill commitment needs the live waitlist (waitlist option)');
    if (o.backfill && o.designation) throw new Error('give either designation (checks of its own) or backfill (the live commitment), not both');
    const list = o.waitlist ? LiveWaitlist.open(join(o.dataDir, 'waitlist.sqlite'), { window: o.waitlist.window, ...(o.waitlist.self ? { self: o.waitlist.self } : {}), ...(o.waitlist.excludeWinners ? { excludeWinners: true } : {}) }) : undefined;
    const view = list && (() => waitlistView(list, (k) => isPoolProducer(o, k), (k) => nameOf(o, k)));
    const follower = list && view && followerOf(o, list, view, progress);
    const commitments = o.backfill && new SlotCommitments(o.backfill.ledgers, o.waitlist!.window);
    const slotCommitment = commitments && list && follower ? (slot: number) => liveCommitment(slot, { clock: o.clock, list, follower, commitments }) : undefined;
    const designation: DesignationChecks | undefined = o.designation ?? (o.backfill && slotCommitment ? { verifyProof: o.backfill.verifyProof, commitment: (slot) => slotCommitment(slot).view?.commitment } : undefined);
    const intake = new Intake({
      log,
      clock: o.clock,
      membership: o.membership,
      verify: (k, f, s) => crypto.verify(k, f, s),
      ...(o.strategy === 'first-delivered' ? { verifyInline: verifyFields } : {}),
      receipts,
      poolTag: o.poolTag,
      window: o.window,
      maxPayloadBytes,
      // Among replicas nothing is decided in the accepting commit: the outcome is agreed first.
      ...(o.agreement ? {} : { decide: selector.onArrival }),
      onAccepted: (p, decided) => {
        metrics.accepted(p.member);
        void (o.agreement ? selector.arrived(p.slot) : selector.emitArrivalDecision(decided));
      },
      onRejected: (code, member) => metrics.rejected(code, member),
      ...(o.agreement ? { hold: (slot: number, member: string) => selector.hold(slot, member), onWinnersPath: (slot: number) => o.agreement!.proposesFirst(slot) } : {}),
      ...(designation ? { designation } : {}),
    });
    const bridge = o.bridge?.create(log);
    if (o.compensation && !commitments) throw new Error('compensating designated producers needs the live commitment (backfill option)');
    const compensations = commitments && list && o.compensation?.create(log, (slot) => planOf(slot, list, commitments));
    const waitlist = list && view && follower && { list, view, follower };
    const app = buildServer({
      intake,
      log,
      maxPayloadBytes,
      clock: o.clock,
      window: o.window,
      strategy: o.strategy,
      pool: { poolTag: o.poolTag, operator: o.operator.publicKey },
      members: () => o.membership.members(),
      ...(o.names ? { names: o.names } : {}),
      metrics,
      ...(bridge ? { report: (epoch: number) => bridge.reportFile(epoch) } : {}),
      ...(waitlist ? { waitlist: waitlist.view } : {}),
      ...(slotCommitment ? { slotCommitment } : {}),
      ...(agreement ? { replicas: () => agreement.health() } : {}),
    });
    const service = new EmitterService(o, { log, crypto, app, metrics, selector, ...(bridge ? { bridge } : {}), ...(compensations ? { compensations } : {}), ...(waitlist ? { waitlist } : {}) });
    service.startLoops();
    return service;
  }

  private startLoops(): void {
    const { o, abort } = this;
    const progress = o.progress ?? (() => {});
    const signal = abort.signal;
    this.loops.push(this.selector.run(signal).catch((e: unknown) => progress(`emitter: the selector stopped: ${String(e)}`)));
    if (o.agreement) this.loops.push(this.selector.runFollower(signal));
    if (o.watch) {
      const watcher = new ChainWatcher({
        log: this.log,
        clock: o.clock,
        ...o.watch,
        onStatus: (slot, status) => {
          this.metrics.chainOutcome(status);
          progress(`chain: the block of slot ${slot} is ${status}`);
        },
        onError: (m) => progress(m),
      });
      this.loops.push(watcher.run(signal));
    }
    if (this.follower) this.loops.push(this.follower.run(signal));
    if (this.bridge && o.bridge) this.loops.push(this.reportEpochs(this.bridge, o.bridge.delaySlots, signal));
    if (this.compensations) this.loops.push(this.compensate(this.compensations, signal));
    if (o.membership.refresh) this.loops.push(this.refreshMembers(signal));
  }

  /** Posts each ended epoch that has events here, `delaySlots` after its end (so its last blocks can settle). */
  private async reportEpochs(bridge: Bridge, delaySlots: number, signal: AbortSignal): Promise<void> {
    const { clock } = this.o;
    const progress = this.o.progress ?? (() => {});
    let epoch = Math.floor((clock.currentSlot() - delaySlots) / SLOTS_PER_EPOCH) - 1;
    while (!signal.aborted) {
      const ready = clock.slotStart((epoch + 1) * SLOTS_PER_EPOCH + delaySlots);
      try {
        await clock.sleepUntil(ready, signal);
      } catch {
        break;
      }
      const { fromSlot, toSlot } = epochSlots(epoch);
      if (epoch < 0 || this.log.eventsOfSlots(fromSlot, toSlot).length === 0) {
        epoch++;
        continue;
      }
      try {
        if (!(await this.leads())) {
          // Another replica posts; this one checks again a slot later (it takes over if that one goes).
          await clock.sleepUntil(clock.now() + clock.slotMs, signal);
          continue;
        }
        const outcome = await bridge.post(epoch);
        progress(`bridge: epoch ${epoch} ${outcome.status === 'posted' ? 'posted' : 'was already on chain'}: root ${outcome.report.metricsRoot.slice(0, 12)}…, ${outcome.report.eligible.length} eligible, reward ${outcome.report.reward.nanomina} nanomina`);
        epoch++;
      } catch (e) {
        if (signal.aborted) break;
        progress(`bridge: epoch ${epoch} not posted yet: ${e instanceof Error ? e.message : String(e)} (retrying in a slot)`);
        try {
          await clock.sleepUntil(clock.now() + clock.slotMs, signal);
        } catch {
          break;
        }
      }
    }
  }

  /**
   * A tenth into each slot, posts the compensation of the designated blocks emitted in the
   * slots that have passed, in slot order; a slot still waiting for the chain watcher holds
   * back the later ones (the registry takes commitments in order), until the daemon's frontier
   * has passed it.
   */
  private async compensate(c: Compensations, signal: AbortSignal): Promise<void> {
    const { clock } = this.o;
    const progress = this.o.progress ?? (() => {});
    let from = Math.max(0, clock.currentSlot() - FRONTIER_DEPTH);
    while (!signal.aborted) {
      try {
        await clock.sleepUntil(clock.slotStart(clock.currentSlot() + 1) + Math.floor(clock.slotMs / 10), signal);
      } catch {
        break;
      }
      const current = clock.currentSlot();
      if (!(await this.leads().catch(() => false))) continue;
      for (const block of c.designatedBlocks(from, current - 1)) {
        if (signal.aborted) break;
        try {
          if (!(await c.outcome(block.slot))) {
            let outcome = await c.post(block);
            if (outcome.status === 'waiting' && block.slot < current - FRONTIER_DEPTH) outcome = await c.skip(block, `the chain watcher did not see the block settle within ${FRONTIER_DEPTH} slots`);
            if (outcome.status === 'waiting') break;
            progress(`backfill: slot ${block.slot}: ${describeCompensation(outcome, (k) => nameOf(this.o, k))}`);
          }
          from = block.slot + 1;
        } catch (e) {
          if (signal.aborted) break;
          progress(`backfill: slot ${block.slot} not compensated yet: ${e instanceof Error ? e.message : String(e)} (retrying in a slot)`);
          break;
        }
      }
    }
  }

  /** Whether this service posts to the chain: always alone; among replicas, the one that leads the bridge role. */
  private async leads(): Promise<boolean> {
    return this.o.agreement ? this.o.agreement.lead('bridge') : true;
  }

  private async refreshMembers(signal: AbortSignal): Promise<void> {
    const { clock, membership } = this.o;
    const every = this.o.membershipRefreshMs ?? 5 * clock.slotMs;
    while (!signal.aborted) {
      try {
        await clock.sleepUntil(clock.now() + every, signal);
        await membership.refresh!();
        await this.crypto.warm(membership.members());
        if (this.o.strategy === 'first-delivered') warmKeys(membership.members());
      } catch (e) {
        if (signal.aborted) break;
        this.o.progress?.(`emitter: could not read the members again: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Listens on `port` (0: any free port); returns the base URL. A port in use is a `PORT_IN_USE` error that says so. */
  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return listenOn(this.app, port, host, ' (is an emitter running already?)');
  }

  /** Stops taking requests, finishes the deliveries under way and closes the log. */
  async stop(): Promise<void> {
    await this.app.close();
    this.abort.abort();
    await Promise.allSettled(this.loops);
    await this.crypto.stop();
    await this.o.agreement?.close();
    this.waitlist?.close();
    this.log.close();
  }
}

/** The waitlist's follower, which tells the log each designation of a pool producer and the notice once per head. */
function followerOf(o: EmitterServiceOptions, list: LiveWaitlist, view: () => WaitlistView, progress: Log): NetworkFollower {
  const w = o.waitlist!;
  let told = '';
  return new NetworkFollower({
    waitlist: list,
    url: w.url,
    ...(w.settleSlots !== undefined ? { settleSlots: w.settleSlots } : {}),
    ...(w.intervalMs !== undefined ? { intervalMs: w.intervalMs } : {}),
    ...(w.peers ? { peers: w.peers } : {}),
    now: () => o.clock.now(),
    onDesignated: (d) => {
      if (isPoolProducer(o, d.producer)) progress(`waitlist: slot ${d.slot} was designated to the pool's producer ${nameOf(o, d.producer)} (it lost slot ${d.lostSlot})`);
    },
    onStep: () => {
      // The notice for the pool's members, once per head (an entry: producer and lost slot);
      // GET /v1/waitlist and the dashboard carry it, with the next slot, all along.
      const { next, notice } = view();
      const head = next && notice ? `${next.producer}@${next.addedSlot}` : '';
      if (head && head !== told) progress(`waitlist: notice: ${notice}`);
      told = head;
    },
    onStatus: (m) => progress(m),
  });
}

/**
 * The live commitment of `slot`: its designation as fixed before, or fixed now when `slot` is
 * the current slot (the waitlist's head projected over the slots not yet settled). Other slots
 * are not fixed: a past slot is over, and a later one is not known yet.
 */
function liveCommitment(slot: number, d: { clock: SlotClock; list: LiveWaitlist; follower: NetworkFollower; commitments: SlotCommitments }): { view?: SlotCommitmentView; problem?: string } {
  if (!d.commitments.covers(slot)) return { problem: `slot ${slot} is not in epoch ${d.commitments.ledgers.epoch}, whose staking ledger this emitter holds` };
  let designation = d.list.fixedDesignation(slot);
  const fixing = !designation;
  if (!designation) {
    const current = d.clock.currentSlot();
    if (slot !== current) return { problem: `slot ${slot} has no designated producer fixed${slot > current ? `: it is fixed when the slot comes (the current slot is ${current})` : ''}` };
    const projected = d.follower.projectHead(slot, d.clock.slotStart(slot));
    if (!projected.head) return { problem: projected.problem };
    designation = projected.head;
  }
  try {
    const view = d.commitments.view(designation);
    // Saved only once its commitment is built: a slot is never fixed without one.
    if (fixing) d.list.fixDesignation(designation);
    return { view };
  } catch (e) {
    return { problem: e instanceof Error ? e.message : String(e) };
  }
}

/** The commitment of a slot whose designation was fixed, if this emitter's ledgers cover it. */
function planOf(slot: number, list: LiveWaitlist, commitments: SlotCommitments): BackfillPlan | undefined {
  const d = list.fixedDesignation(slot);
  if (!d || !commitments.covers(slot)) return undefined;
  try {
    return commitments.plan(d);
  } catch {
    return undefined;
  }
}

/** A compensation's outcome in words. */
function describeCompensation(o: Awaited<ReturnType<Compensations['post']>>, name: (key: string) => string): string {
  if (o.status === 'paid') return `${name(o.producer!)} compensated ${nanoToMina(BigInt(o.amount!))} MINA (commitment ${o.committed ? 'posted' : 'already on chain'})`;
  if (o.status === 'already-paid') return `${name(o.producer!)} was already compensated`;
  return `not compensated: ${o.reason}`;
}

/** A key's name when the pool knows one. */
function nameOf(o: EmitterServiceOptions, key: string): string {
  return o.names?.get(key) ?? key;
}

/** The pool's own producers: its members, and the oracle's own key when it has one. */
function isPoolProducer(o: EmitterServiceOptions, key: string): boolean {
  return key === o.waitlist?.self || o.membership.isMember(key);
}
