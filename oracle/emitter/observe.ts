import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgreementHealth } from './agreement.js';
import type { Decision } from './event-log.js';
import type { RejectionCode } from './types.js';

/**
 * The emitter's Prometheus metrics (`GET /metrics`), in a registry of its own:
 * proposals by outcome and member, the selection and emission latency histograms, missed
 * slots, canonical and orphaned blocks, and the signature workers' backlog; among replicas,
 * whether this one reaches etcd, which replicas are up, the agreement's latency, and who
 * forwarded each block.
 */
export class EmitterMetrics {
  readonly registry = new Registry();
  private readonly proposals: Counter<'outcome' | 'member'>;
  private readonly selection: Histogram;
  private readonly emission: Histogram;
  private readonly missed: Counter;
  private readonly chain: Counter<'status'>;
  private readonly deliveryFailures: Counter;
  private readonly forwardedBy: Counter<'replica'>;
  private readonly agreementLatency: Histogram;
  private readonly takeovers: Counter;

  constructor(options: { backlog?: () => number; agreement?: () => AgreementHealth } = {}) {
    const registers = [this.registry];
    this.proposals = new Counter({ name: 'emitter_proposals_total', help: 'Proposals by outcome (accepted or the rejection code) and member', labelNames: ['outcome', 'member'], registers });
    const buckets = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000, 30000];
    this.selection = new Histogram({ name: 'emitter_selection_latency_ms', help: "From a slot's first valid proposal to its decision, ms", buckets, registers });
    this.emission = new Histogram({ name: 'emitter_emission_latency_ms', help: "From a slot's first valid proposal to its handoff to the sink, ms", buckets, registers });
    this.missed = new Counter({ name: 'emitter_missed_slots_total', help: 'Slots whose window closed without a valid proposal', registers });
    this.chain = new Counter({ name: 'emitter_chain_outcomes_total', help: 'Emitted blocks the chain watcher saw settle, by status', labelNames: ['status'], registers });
    this.deliveryFailures = new Counter({ name: 'emitter_sink_failures_total', help: 'Deliveries to the sink that failed (each is retried)', registers });
    this.forwardedBy = new Counter({ name: 'emitter_forwarded_total', help: 'Blocks handed to the sink, by the replica that forwarded them', labelNames: ['replica'], registers });
    this.agreementLatency = new Histogram({ name: 'emitter_agreement_latency_ms', help: "Replicas: a slot's outcome proposed to etcd until the outcome that stands came back, ms", buckets, registers });
    this.takeovers = new Counter({ name: 'emitter_forwarding_takeovers_total', help: 'Replicas: slots this replica forwarded after their forwarder was gone', registers });
    if (options.agreement) {
      const health = options.agreement;
      const seen = new Set<string>();
      new Gauge({ name: 'emitter_replica_connected', help: 'Replicas: 1 while this replica reaches etcd (it decides and forwards only then)', registers, collect() { this.set(health().connected ? 1 : 0); } });
      new Gauge({
        name: 'emitter_replica_up',
        help: 'Replicas: 1 for each replica whose lease is alive in etcd, 0 for one seen before that is gone',
        labelNames: ['replica'],
        registers,
        collect() {
          const up = new Set(health().replicas.map((r) => r.id));
          for (const id of up) seen.add(id);
          for (const id of seen) this.set({ replica: id }, up.has(id) ? 1 : 0);
        },
      });
    }
    if (options.backlog) {
      const backlog = options.backlog;
      new Gauge({ name: 'emitter_signature_backlog', help: 'Signature checks waiting on the worker threads', registers, collect() { this.set(backlog()); } });
    }
  }

  accepted(member: string): void {
    this.proposals.inc({ outcome: 'accepted', member });
  }

  rejected(code: RejectionCode, member: string | undefined): void {
    this.proposals.inc({ outcome: code, member: member ?? 'unknown' });
  }

  /** Replicas: one proposal to etcd and its answer. */
  agreed(ms: number): void {
    this.agreementLatency.observe(ms);
  }

  /** Replicas: a slot forwarded here after its forwarder was gone. */
  tookOver(): void {
    this.takeovers.inc();
  }

  emitted(d: Decision): void {
    if (d.forwardedBy !== undefined) this.forwardedBy.inc({ replica: d.forwardedBy });
    this.selection.observe(d.decidedAt - d.firstArrival);
    const handed = d.handedAt ?? d.emittedAt;
    if (handed !== undefined) this.emission.observe(handed - d.firstArrival);
  }

  slotMissed(): void {
    this.missed.inc();
  }

  chainOutcome(status: 'canonical' | 'orphaned'): void {
    this.chain.inc({ status });
  }

  sinkFailed(): void {
    this.deliveryFailures.inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
