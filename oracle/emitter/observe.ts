import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision } from './event-log.js';
import type { RejectionCode } from './types.js';

/**
 * The emitter's Prometheus metrics (`GET /metrics`), in a registry of its own:
 * proposals by outcome and member, the selection and emission latency histograms, missed
 * slots, canonical and orphaned blocks, and the signature workers' backlog.
 */
export class EmitterMetrics {
  readonly registry = new Registry();
  private readonly proposals: Counter<'outcome' | 'member'>;
  private readonly selection: Histogram;
  private readonly emission: Histogram;
  private readonly missed: Counter;
  private readonly chain: Counter<'status'>;
  private readonly deliveryFailures: Counter;

  constructor(options: { backlog?: () => number } = {}) {
    const registers = [this.registry];
    this.proposals = new Counter({ name: 'emitter_proposals_total', help: 'Proposals by outcome (accepted or the rejection code) and member', labelNames: ['outcome', 'member'], registers });
    const buckets = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000, 30000];
    this.selection = new Histogram({ name: 'emitter_selection_latency_ms', help: "From a slot's first valid proposal to its decision, ms", buckets, registers });
    this.emission = new Histogram({ name: 'emitter_emission_latency_ms', help: "From a slot's first valid proposal to its handoff to the sink, ms", buckets, registers });
    this.missed = new Counter({ name: 'emitter_missed_slots_total', help: 'Slots whose window closed without a valid proposal', registers });
    this.chain = new Counter({ name: 'emitter_chain_outcomes_total', help: 'Emitted blocks the chain watcher saw settle, by status', labelNames: ['status'], registers });
    this.deliveryFailures = new Counter({ name: 'emitter_sink_failures_total', help: 'Deliveries to the sink that failed (each is retried)', registers });
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

  emitted(d: Decision): void {
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
