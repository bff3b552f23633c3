import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { EventType, Proposal, Receipt } from './types.js';

/**
 * The emitter's event log: an embedded SQLite database (WAL, `synchronous=FULL`, so a
 * commit is on disk before the member gets its answer). Every event commits to the one
 * before it (`hash = sha256(prev ‖ event)`), so the head hash pins the whole log and any
 * later edit breaks the chain ({@link EventLog.verify}). Accepted proposals are unique per
 * (slot, member, block), a slot's decision is unique per slot, and emission is recorded
 * against the decision: a retry or a restart never doubles anything.
 */

/** An event as appended. */
export interface NewEvent {
  type: EventType;
  slot: number;
  member?: string;
  blockHash?: string;
  /** Rejection or miss code. */
  code?: string;
  /** When it happened, ms since the Unix epoch. */
  at: number;
  /** Received: arrival after the slot's start; selected / emitted: after the first valid arrival. */
  latencyMs?: number;
  data?: Record<string, unknown>;
}

/** An event as stored. */
export interface LoggedEvent extends NewEvent {
  seq: number;
  prev: string;
  hash: string;
}

/** A proposal the emitter accepted, with its receipt. */
export interface AcceptedProposal {
  slot: number;
  member: string;
  blockHash: string;
  receivedAt: number;
  proposal: Proposal;
  receipt: Receipt;
}

/** A slot's decision: the block chosen, and when it reached the sink (if it has). */
export interface Decision {
  slot: number;
  member: string;
  blockHash: string;
  decidedAt: number;
  firstArrival: number;
  emittedAt?: number;
  /** When the sink's consumer could take the block (reported with an emission, not stored). */
  handedAt?: number;
  /** Among replicas, the replica that forwarded it (reported with an emission, not stored). */
  forwardedBy?: string;
}

/** How a slot is decided: `pick` chooses among its accepted proposals (arrival order) or returns `undefined` to wait. */
export interface DecideRule {
  pick(proposals: AcceptedProposal[]): AcceptedProposal | undefined;
  /** The strategy's name, logged with the decision. */
  strategy: string;
}

/** A decision in force for a slot; `winner` only when the call that returned it made it. */
export interface DecideOutcome {
  decision: Decision;
  winner?: AcceptedProposal;
}

export type AcceptOutcome =
  | { outcome: 'accepted'; event: LoggedEvent; decided?: DecideOutcome & { winner: AcceptedProposal } }
  | { outcome: 'duplicate'; earlier: AcceptedProposal }
  | { outcome: 'equivocation'; earlier: AcceptedProposal; event: LoggedEvent };

export const GENESIS_HASH = '0'.repeat(64);

/** The hash of an event after `prev`: sha256 over `prev` and the event's fields in a fixed order. */
export function eventHash(prev: string, e: NewEvent & { seq: number }): string {
  const body = JSON.stringify([e.seq, e.type, e.slot, e.member ?? null, e.blockHash ?? null, e.code ?? null, e.at, e.latencyMs ?? null, e.data ?? null]);
  return createHash('sha256').update(prev).update('\n').update(body).digest('hex');
}

/** What is wrong with `e` as the event after `prev` numbered `seq`, or `undefined` if it links. */
export function linkProblem(prev: string, seq: number, e: LoggedEvent): string | undefined {
  if (e.seq !== seq) return `expected event ${seq}`;
  if (e.prev !== prev) return 'its link does not match the event before';
  if (eventHash(prev, e) !== e.hash) return 'its content does not match its hash';
  return undefined;
}

interface EventRow {
  seq: number;
  type: string;
  slot: number;
  member: string | null;
  block_hash: string | null;
  code: string | null;
  at: number;
  latency_ms: number | null;
  data: string | null;
  prev: string;
  hash: string;
}

interface ProposalRow {
  slot: number;
  member: string;
  block_hash: string;
  received_at: number;
  proposal: string;
  receipt: string;
}

interface DecisionRow {
  slot: number;
  member: string;
  block_hash: string;
  decided_at: number;
  first_arrival: number;
  emitted_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  slot INTEGER NOT NULL,
  member TEXT,
  block_hash TEXT,
  code TEXT,
  at INTEGER NOT NULL,
  latency_ms REAL,
  data TEXT,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_slot ON events (slot);
CREATE INDEX IF NOT EXISTS events_member ON events (member, slot);
CREATE TABLE IF NOT EXISTS proposals (
  slot INTEGER NOT NULL,
  member TEXT NOT NULL,
  block_hash TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  proposal TEXT NOT NULL,
  receipt TEXT NOT NULL,
  PRIMARY KEY (slot, member, block_hash)
);
CREATE TABLE IF NOT EXISTS evidence (
  slot INTEGER NOT NULL,
  member TEXT NOT NULL,
  first TEXT NOT NULL,
  second TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (slot, member, second)
);
CREATE TABLE IF NOT EXISTS decisions (
  slot INTEGER PRIMARY KEY,
  member TEXT NOT NULL,
  block_hash TEXT NOT NULL,
  decided_at INTEGER NOT NULL,
  first_arrival INTEGER NOT NULL,
  emitted_at INTEGER
);
CREATE TABLE IF NOT EXISTS closed_slots (slot INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS chain_status (slot INTEGER PRIMARY KEY, status TEXT NOT NULL, at INTEGER NOT NULL);
`;

/** The statements the log runs, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    insertEvent: db.prepare('INSERT INTO events (seq, type, slot, member, block_hash, code, at, latency_ms, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    proposalsOfSlot: db.prepare('SELECT * FROM proposals WHERE slot = ? ORDER BY received_at, rowid'),
    proposalsOfMember: db.prepare('SELECT * FROM proposals WHERE slot = ? AND member = ? ORDER BY received_at, rowid'),
    proposal: db.prepare('SELECT * FROM proposals WHERE slot = ? AND member = ? AND block_hash = ?'),
    insertProposal: db.prepare('INSERT INTO proposals (slot, member, block_hash, received_at, proposal, receipt) VALUES (?, ?, ?, ?, ?, ?)'),
    insertEvidence: db.prepare('INSERT OR IGNORE INTO evidence (slot, member, first, second, at) VALUES (?, ?, ?, ?, ?)'),
    evidence: db.prepare('SELECT * FROM evidence WHERE slot BETWEEN ? AND ? ORDER BY slot, at'),
    decision: db.prepare('SELECT * FROM decisions WHERE slot = ?'),
    insertDecision: db.prepare('INSERT INTO decisions (slot, member, block_hash, decided_at, first_arrival) VALUES (?, ?, ?, ?, ?)'),
    setEmitted: db.prepare('UPDATE decisions SET emitted_at = ? WHERE slot = ?'),
    pending: db.prepare('SELECT * FROM decisions WHERE emitted_at IS NULL ORDER BY slot'),
    closeSlot: db.prepare('INSERT OR IGNORE INTO closed_slots (slot) VALUES (?)'),
    lastClosed: db.prepare('SELECT MAX(slot) AS slot FROM closed_slots'),
    eventsBySeq: db.prepare('SELECT * FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT ?'),
    eventsOfSlots: db.prepare('SELECT * FROM events WHERE slot BETWEEN ? AND ? ORDER BY seq'),
    allEvents: db.prepare('SELECT * FROM events ORDER BY seq'),
    insertChainStatus: db.prepare('INSERT OR IGNORE INTO chain_status (slot, status, at) VALUES (?, ?, ?)'),
    unconfirmed: db.prepare('SELECT d.* FROM decisions d LEFT JOIN chain_status c ON c.slot = d.slot WHERE d.emitted_at IS NOT NULL AND c.slot IS NULL ORDER BY d.slot'),
  };
}

export class EventLog {
  private readonly db: Database.Database;
  private readonly sql: ReturnType<typeof prepareStatements>;
  private headSeq: number;
  private headHash: string;

  private constructor(db: Database.Database) {
    this.db = db;
    db.exec(SCHEMA);
    this.sql = prepareStatements(db);
    const last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    this.headSeq = last?.seq ?? 0;
    this.headHash = last?.hash ?? GENESIS_HASH;
  }

  /** Opens (or creates) the log at `file`; `:memory:` for a throwaway log. */
  static open(file: string): EventLog {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    return new EventLog(db);
  }

  close(): void {
    this.db.close();
  }

  /** The last event's sequence number and hash (the genesis hash for an empty log). */
  head(): { seq: number; hash: string } {
    return { seq: this.headSeq, hash: this.headHash };
  }

  /** Appends one event (durable when this returns). */
  append(event: NewEvent): LoggedEvent {
    return this.atomically(() => this.appendInTransaction(event));
  }

  private appendInTransaction(event: NewEvent): LoggedEvent {
    const seq = this.headSeq + 1;
    const prev = this.headHash;
    const hash = eventHash(prev, { ...event, seq });
    this.sql.insertEvent.run(seq, event.type, event.slot, event.member ?? null, event.blockHash ?? null, event.code ?? null, event.at, event.latencyMs ?? null, event.data === undefined ? null : JSON.stringify(event.data), prev, hash);
    this.headSeq = seq;
    this.headHash = hash;
    return { ...event, seq, prev, hash };
  }

  /** Runs `fn` in one transaction; the head moves back if it throws. */
  private atomically<T>(fn: () => T): T {
    const { headSeq, headHash } = this;
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      this.headSeq = headSeq;
      this.headHash = headHash;
      throw e;
    }
  }

  /**
   * Records a verified proposal, in one transaction: a new (slot, member) is accepted
   * (`received` event, and `ignored` too if the slot is decided already); the same block again is a duplicate (nothing written); another
   * block from the same member for the same slot is equivocation (both signed proposals
   * kept as evidence, an `equivocation` event). With `decide` (a strategy that can decide on
   * arrival), an undecided slot is decided in the same commit, at `decidedAt`: one disk
   * write between the proposal's arrival and the sink instead of two.
   */
  accept(p: AcceptedProposal, latencyMs: number, decide?: DecideRule, decidedAt: number = p.receivedAt): AcceptOutcome {
    return this.atomically(() => {
      const rows = this.sql.proposalsOfMember.all(p.slot, p.member) as ProposalRow[];
      const same = rows.find((r) => r.block_hash === p.blockHash);
      if (same) return { outcome: 'duplicate', earlier: toAccepted(same) } as const;
      if (rows.length > 0) {
        const earlier = toAccepted(rows[0]!);
        this.sql.insertEvidence.run(p.slot, p.member, JSON.stringify(earlier.proposal), JSON.stringify(p.proposal), p.receivedAt);
        const event = this.appendInTransaction({ type: 'equivocation', slot: p.slot, member: p.member, blockHash: p.blockHash, code: 'EQUIVOCATION', at: p.receivedAt, data: { earlierBlock: earlier.blockHash } });
        return { outcome: 'equivocation', earlier, event } as const;
      }
      this.sql.insertProposal.run(p.slot, p.member, p.blockHash, p.receivedAt, JSON.stringify(p.proposal), JSON.stringify(p.receipt));
      const event = this.appendInTransaction({ type: 'received', slot: p.slot, member: p.member, blockHash: p.blockHash, at: p.receivedAt, latencyMs });
      // A slot decided already: the proposal is logged ignored in the same commit.
      const decided = this.decision(p.slot);
      if (decided) {
        this.appendInTransaction({ type: 'ignored', slot: p.slot, member: p.member, blockHash: p.blockHash, at: p.receivedAt, code: 'DECIDED', data: { winner: decided.member } });
      } else if (decide) {
        const made = this.decideInTransaction(p.slot, decide, decidedAt);
        if (made?.winner) return { outcome: 'accepted', event, decided: { decision: made.decision, winner: made.winner } } as const;
      }
      return { outcome: 'accepted', event } as const;
    });
  }

  /** Accepted proposals of a slot, in arrival order. */
  proposals(slot: number): AcceptedProposal[] {
    return (this.sql.proposalsOfSlot.all(slot) as ProposalRow[]).map(toAccepted);
  }

  /** One accepted proposal, if there is one. */
  proposal(slot: number, member: string, blockHash: string): AcceptedProposal | undefined {
    const row = this.sql.proposal.get(slot, member, blockHash) as ProposalRow | undefined;
    return row && toAccepted(row);
  }

  /** Both signed proposals of every equivocation in a slot range. */
  evidence(fromSlot: number, toSlot: number): { slot: number; member: string; first: Proposal; second: Proposal }[] {
    const rows = this.sql.evidence.all(fromSlot, toSlot) as { slot: number; member: string; first: string; second: string }[];
    return rows.map((r) => ({ slot: r.slot, member: r.member, first: JSON.parse(r.first) as Proposal, second: JSON.parse(r.second) as Proposal }));
  }

  /**
   * Decides the slot once, in one transaction: `pick` chooses among its accepted proposals
   * (in arrival order) or returns `undefined` to wait. A new decision logs `selected` for the
   * winner and `ignored` for every other proposal. Returns the decision in force (an earlier
   * one wins; `winner` only when this call made it), or `undefined` while undecided.
   */
  decide(slot: number, rule: DecideRule, at: number): DecideOutcome | undefined {
    return this.atomically(() => this.decideInTransaction(slot, rule, at));
  }

  private decideInTransaction(slot: number, { pick, strategy }: DecideRule, at: number): DecideOutcome | undefined {
    const existing = this.decision(slot);
    if (existing) return { decision: existing };
    const all = this.proposals(slot);
    const winner = pick(all);
    if (!winner) return undefined;
    return { decision: this.recordDecision(slot, winner, all, at, { strategy }), winner };
  }

  /** Inserts a slot's decision with its `selected` event, and `ignored` for every other proposal here. */
  private recordDecision(slot: number, winner: { member: string; blockHash: string }, all: AcceptedProposal[], at: number, data: Record<string, unknown>): Decision {
    const firstArrival = all[0]?.receivedAt ?? at;
    this.sql.insertDecision.run(slot, winner.member, winner.blockHash, at, firstArrival);
    this.appendInTransaction({ type: 'selected', slot, member: winner.member, blockHash: winner.blockHash, at, latencyMs: at - firstArrival, data });
    for (const p of all) if (p.member !== winner.member || p.blockHash !== winner.blockHash) this.appendInTransaction({ type: 'ignored', slot, member: p.member, blockHash: p.blockHash, at, data: { winner: winner.member } });
    return { slot, member: winner.member, blockHash: winner.blockHash, decidedAt: at, firstArrival };
  }

  /**
   * Records a decision the replicas agreed on (one of them made it), once: `selected` for the
   * agreed block (which this replica may not have received) with the replica that decided,
   * and `ignored` for every other proposal here. A different decision already in force here is
   * an error: it would mean two blocks for one slot.
   */
  adopt(d: { slot: number; member: string; blockHash: string; replica: string; strategy: string }, at: number): Decision {
    return this.atomically(() => {
      const existing = this.decision(d.slot);
      if (existing) {
        if (existing.member !== d.member || existing.blockHash !== d.blockHash) throw new Error(`slot ${d.slot}: the agreed block ${d.blockHash} is not the one decided here (${existing.blockHash})`);
        return existing;
      }
      return this.recordDecision(d.slot, d, this.proposals(d.slot), at, { strategy: d.strategy, replica: d.replica });
    });
  }

  decision(slot: number): Decision | undefined {
    const row = this.sql.decision.get(slot) as DecisionRow | undefined;
    return row && toDecision(row);
  }

  /**
   * Records that the decision reached the sink (once; a second call changes nothing). `handedAt`
   * is when the sink's consumer could take the block (the latency counts to it), `at` when
   * the sink confirmed it durably (the same time if the sink does not say); `replica`, among
   * replicas, the one that handed it on.
   */
  markEmitted(slot: number, at: number, sink: string, handedAt: number = at, replica?: string): boolean {
    return this.atomically(() => {
      const d = this.decision(slot);
      if (!d) throw new Error(`slot ${slot} has no decision to emit`);
      if (d.emittedAt !== undefined) return false;
      this.sql.setEmitted.run(at, slot);
      this.appendInTransaction({ type: 'emitted', slot, member: d.member, blockHash: d.blockHash, at, latencyMs: handedAt - d.firstArrival, data: { sink, handedAt, ...(replica !== undefined ? { replica } : {}) } });
      return true;
    });
  }

  /** Decisions recorded but not yet confirmed by the sink (to deliver after a restart). */
  pendingEmissions(): Decision[] {
    return (this.sql.pending.all() as DecisionRow[]).map(toDecision);
  }

  /** Emitted blocks the chain watcher has not yet seen settle (canonical or orphaned). */
  unconfirmedEmissions(): Decision[] {
    return (this.sql.unconfirmed.all() as DecisionRow[]).map(toDecision);
  }

  /** Records, once per slot, whether its emitted block ended on the best chain. Returns false if already recorded. */
  markChainStatus(slot: number, status: 'canonical' | 'orphaned', at: number, data: Record<string, unknown> = {}): boolean {
    return this.atomically(() => {
      const d = this.decision(slot);
      if (!d || d.emittedAt === undefined) throw new Error(`slot ${slot} has no emitted block to confirm`);
      if (this.sql.insertChainStatus.run(slot, status, at).changes === 0) return false;
      this.appendInTransaction({ type: status, slot, member: d.member, blockHash: d.blockHash, at, data });
      return true;
    });
  }

  /** Closes a slot's window once: a slot with no decision is logged `missed`. Returns false if already closed. */
  closeSlot(slot: number, at: number): boolean {
    return this.atomically(() => {
      if (this.sql.closeSlot.run(slot).changes === 0) return false;
      if (!this.decision(slot)) this.appendInTransaction({ type: 'missed', slot, code: 'NO_PROPOSAL', at });
      return true;
    });
  }

  /** The highest slot whose window was closed, if any. */
  lastClosedSlot(): number | undefined {
    const row = this.sql.lastClosed.get() as { slot: number | null };
    return row.slot ?? undefined;
  }

  /** Events with `from ≤ seq ≤ to`, at most `limit`. */
  events(from: number, to: number, limit: number): LoggedEvent[] {
    return (this.sql.eventsBySeq.all(from, to, limit) as EventRow[]).map(toEvent);
  }

  /** Events of a slot range (an epoch), in order. */
  eventsOfSlots(fromSlot: number, toSlot: number): LoggedEvent[] {
    return (this.sql.eventsOfSlots.all(fromSlot, toSlot) as EventRow[]).map(toEvent);
  }

  /** Events of one slot, in order. */
  eventsOfSlot(slot: number): LoggedEvent[] {
    return this.eventsOfSlots(slot, slot);
  }

  /**
   * Recomputes the hash chain from the first event: the first event whose stored hash
   * or link does not match is reported, else the head.
   */
  verify(): { ok: true; head: string; events: number } | { ok: false; seq: number; problem: string } {
    let prev = GENESIS_HASH;
    let count = 0;
    for (const row of this.sql.allEvents.iterate() as Iterable<EventRow>) {
      const e = toEvent(row);
      const problem = linkProblem(prev, count + 1, e);
      if (problem) return { ok: false, seq: e.seq, problem };
      prev = e.hash;
      count++;
    }
    return { ok: true, head: prev, events: count };
  }
}

function toAccepted(r: ProposalRow): AcceptedProposal {
  return { slot: r.slot, member: r.member, blockHash: r.block_hash, receivedAt: r.received_at, proposal: JSON.parse(r.proposal) as Proposal, receipt: JSON.parse(r.receipt) as Receipt };
}

function toDecision(r: DecisionRow): Decision {
  return { slot: r.slot, member: r.member, blockHash: r.block_hash, decidedAt: r.decided_at, firstArrival: r.first_arrival, ...(r.emitted_at === null ? {} : { emittedAt: r.emitted_at }) };
}

function toEvent(r: EventRow): LoggedEvent {
  const e: LoggedEvent = { seq: r.seq, type: r.type as EventType, slot: r.slot, at: r.at, prev: r.prev, hash: r.hash };
  if (r.member !== null) e.member = r.member;
  if (r.block_hash !== null) e.blockHash = r.block_hash;
  if (r.code !== null) e.code = r.code;
  if (r.latency_ms !== null) e.latencyMs = r.latency_ms;
  if (r.data !== null) e.data = JSON.parse(r.data) as Record<string, unknown>;
  return e;
}
