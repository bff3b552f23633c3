import { handleWhen, circuitBreaker, ConsecutiveBreaker, noop, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type Lease } from 'etcd3';
import { z } from 'zod';
import { PoolError, type ErrorContext } from '../errors.js';
import { parseJsonOrUndefined } from '../json-file.js';

/**
 * How emitter replicas agree on one outcome per slot, through etcd. Every replica keeps its
 * own event log and takes proposals itself; the slot's outcome (the block chosen, or "missed")
 * is a compare-and-create of one key, so exactly one outcome stands whichever replica saw
 * which proposal first. The replica whose outcome stands holds the slot's forwarding (a key
 * bound to its lease); if it dies before the sink confirms, its lease expires, the key goes,
 * and another replica claims the forwarding and hands on the same block (the sink is
 * idempotent by block hash). No replica forwards anything but the slot's agreed block.
 *
 * Keys, under `/mina-pool/<poolTag>/`: `slot/<slot>/outcome`, `slot/<slot>/forwarder` (leased),
 * `slot/<slot>/emitted`, `replicas/<id>` (leased: who is up), `leader/<role>` (leased).
 *
 * A watch on the slots' keys tells each replica at once when a forwarding is released or an
 * emission recorded; each also looks every few hundred ms, in case a watch event was lost.
 *
 * What etcd's clients need in practice: each request has a short deadline (a write through a
 * follower can hang for seconds when the leader is killed) and is tried again on another member
 * until `retryForMs`; a proposal whose answer was lost is tried again, and the replica
 * recognises its own earlier write in the answer; `close` revokes the lease, so the replica's
 * keys go at once instead of when the TTL runs out.
 *
 * A slot's compare-and-create goes straight to etcd's leader when the leader is one of the
 * endpoints: through a follower, a write takes two messages more (the follower hands it to the
 * leader, and learns of its commit from the leader), each a wait for a process to be scheduled.
 * If the leader does not answer, the write goes through the others at once, as every other
 * request does; a leader that moved on is only a follower, which still takes the write.
 */

export type SlotOutcome =
  | { kind: 'decided'; slot: number; member: string; blockHash: string; replica: string; at: number }
  | { kind: 'missed'; slot: number; replica: string; at: number };

/** Who handed a slot's block to the sink, and when. */
export interface EmittedRecord {
  slot: number;
  blockHash: string;
  replica: string;
  at: number;
}

/** What etcd holds for a slot besides its outcome. */
export interface SlotState {
  emitted?: EmittedRecord;
  forwarder?: string;
}

export interface ReplicaInfo {
  id: string;
  /** Its HTTP service (the bridge reads its log there). */
  url?: string;
  startedAt: number;
}

export interface AgreementHealth {
  replica: string;
  /** Whether etcd answered this replica within its lease's time. */
  connected: boolean;
  /** Since when `connected` has had its value (ms). */
  since: number;
  lastError?: string;
  /** The replicas whose lease is alive, as last read, by name. */
  replicas: ReplicaInfo[];
  /** The endpoint this replica sends the slots' decisions to: etcd's leader, while it is known and answers. */
  etcdLeader?: string;
}

/** etcd did not answer in time: nothing was decided, and this replica does not forward. */
export class AgreementUnavailable extends PoolError {
  constructor(message: string, context: ErrorContext = {}) {
    super('AGREEMENT_UNAVAILABLE', message, context);
  }
}

export interface Agreement {
  readonly replica: string;
  /**
   * Proposes a slot's outcome; resolves with the outcome in force (this one, or one that stood
   * before). A decision that stands with this replica's name gives it the slot's forwarding.
   */
  propose(outcome: SlotOutcome): Promise<SlotOutcome>;
  /**
   * The slot's outcome as the nearest etcd member has it, read without a round through raft:
   * it may lag, so none means "propose", never "undecided".
   */
  outcome(slot: number): Promise<SlotOutcome | undefined>;
  /** Each slot of a range that has one: its recorded emission and the replica holding its forwarding (one read). */
  slots(fromSlot: number, toSlot: number): Promise<Map<number, SlotState>>;
  /**
   * The slot's recorded emission as this replica has already seen it (its own record, or the
   * watch's news of another's), with no request: none means "not seen", never "not emitted".
   */
  emitted(slot: number): EmittedRecord | undefined;
  /**
   * Resolves once this replica has seen the slot settled (its emission recorded, or "missed"
   * standing: its own write, a read, or the watch's news) or after `ms`, whichever is first;
   * never rejects.
   */
  settled(slot: number, ms: number): Promise<void>;
  /** Takes a decided slot's forwarding if nobody holds it (or this replica does); true when this replica holds it. */
  claimForwarding(slot: number): Promise<boolean>;
  /** Records that this replica handed the slot's block to the sink (the first record stands). */
  markEmitted(e: EmittedRecord): Promise<void>;
  /**
   * Whether this replica proposes the slot's outcome at once. One replica among those up does
   * (by slot, in turn); the others propose a moment later, so a slot's compare-and-creates do
   * not race through etcd's raft log together. If that replica is down or slow, another's
   * proposal stands: the compare-and-create decides, not this.
   */
  proposesFirst(slot: number): boolean;
  /** Takes (or keeps) a role only one replica plays at a time (the bridge); true when this replica has it. */
  lead(role: string): Promise<boolean>;
  /** Registers the URL the other replicas reach this one at (once it listens). */
  advertise(url: string): Promise<void>;
  /**
   * Calls `onChange` whenever a slot's forwarding is released (its holder's lease expired) or
   * an emission is recorded, so the others act at once instead of at their next look.
   */
  watch(onChange: () => void): void;
  health(): AgreementHealth;
  close(): Promise<void>;
}

const outcomeSchema = z.union([
  z.object({ kind: z.literal('decided'), slot: z.number().int(), member: z.string(), blockHash: z.string(), replica: z.string(), at: z.number() }),
  z.object({ kind: z.literal('missed'), slot: z.number().int(), replica: z.string(), at: z.number() }),
]);
const emittedSchema = z.object({ slot: z.number().int(), blockHash: z.string(), replica: z.string(), at: z.number() });
const replicaSchema = z.object({ id: z.string(), url: z.string().optional(), startedAt: z.number() });

export interface EtcdAgreementOptions {
  endpoints: string[];
  /** This replica's name (unique among the replicas). */
  replica: string;
  /** This replica's HTTP service, registered for the others. */
  url?: string;
  /** The pool's tag (its PoolDac address), so two pools never share keys. */
  poolTag: string;
  /** The lease's time to live, whole seconds (default 1). */
  ttlSeconds?: number;
  /** One request's deadline (default 500 ms). */
  requestTimeoutMs?: number;
  /** How long an operation is tried again before it is given up (default 3 s). */
  retryForMs?: number;
  /** Connection changes and lease renewals, in words. */
  onStatus?: (message: string) => void;
  now?: () => number;
  /** Sends the slots' compare-and-creates to etcd's leader when it is among `endpoints` (default true). */
  viaLeader?: boolean;
}

const pad = (slot: number) => String(slot).padStart(10, '0');

/** How many of the latest slots' outcomes and emission records a replica keeps from the watch. */
const SEEN_SLOTS = 4096;

export class EtcdAgreement implements Agreement {
  readonly replica: string;
  private readonly client: Etcd3;
  private readonly prefix: string;
  private lease!: Lease;
  private leaseId = '';
  private lastOk = 0;
  private connected = true;
  private since: number;
  private lastError?: string;
  private known: ReplicaInfo[] = [];
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private watcher?: { cancel(): Promise<void> };
  private readonly now: () => number;
  private url?: string;
  private readonly startedAt: number;
  /**
   * The slots' outcomes and emission records as seen (both are written once, so a copy never
   * goes stale), so that the replicas that did not propose learn them from the watch instead of
   * asking etcd again: each request is an HTTP/2 stream, whose objects only a full collection
   * of the heap frees.
   */
  private readonly seen = new Map<number, { outcome?: SlotOutcome; emitted?: EmittedRecord }>();
  /** Who waits for a slot to settle ({@link settled}), by slot. */
  private readonly settling = new Map<number, Set<() => void>>();
  /** A client for each endpoint alone, to find and reach etcd's leader (none with one endpoint). */
  private readonly direct: { endpoint: string; client: Etcd3 }[] = [];
  /** The endpoint that is etcd's leader, as last learnt; none while unknown. */
  private toLeader?: { endpoint: string; client: Etcd3 };
  /** etcd's raft term when the leader was last looked for: a new term is a new leader. */
  private term = '';
  private learning = false;

  private constructor(private readonly o: EtcdAgreementOptions) {
    this.replica = o.replica;
    this.now = o.now ?? Date.now;
    this.since = this.now();
    this.startedAt = this.now();
    if (o.url) this.url = o.url;
    this.prefix = `/mina-pool/${o.poolTag}/`;
    const timeout = o.requestTimeoutMs ?? 500;
    const defaultCallOptions = (ctx: { isStream: boolean }) => (ctx.isStream ? {} : { deadline: Date.now() + timeout });
    this.client = new Etcd3({
      hosts: o.endpoints,
      dialTimeout: 1_000,
      defaultCallOptions,
      faultHandling: {
        // A member that failed is left alone for a second; each call tries up to three members.
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(1) }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: 2 }),
      },
    });
    if (o.endpoints.length > 1 && o.viaLeader !== false) {
      // No retries of their own: a failed call to the leader goes on through `client` at once.
      for (const endpoint of o.endpoints) this.direct.push({ endpoint, client: new Etcd3({ hosts: [endpoint], dialTimeout: 1_000, defaultCallOptions, faultHandling: { host: () => noop, global: noop } }) });
    }
    // Who is up, and whether this replica still reaches etcd, every third of the lease.
    this.timer = setInterval(() => void this.refresh(), (1000 * this.ttl) / 3);
    this.timer.unref();
  }

  private get ttl(): number {
    return this.o.ttlSeconds ?? 1;
  }

  /** Connects, takes a lease and registers this replica. */
  static async start(o: EtcdAgreementOptions): Promise<EtcdAgreement> {
    const a = new EtcdAgreement(o);
    try {
      await a.retrying('register this replica', () => a.newLease());
      await a.refresh();
    } catch (e) {
      await a.close();
      throw e;
    }
    return a;
  }

  private async newLease(): Promise<void> {
    const lease = this.client.lease(this.ttl, { autoKeepAlive: true });
    this.leaseId = await lease.grant();
    this.lease = lease;
    lease.on('keepaliveSucceeded', () => this.ok());
    lease.on('lost', (e) => {
      if (this.closed || lease !== this.lease) return;
      this.o.onStatus?.(`agreement: replica ${this.replica}'s lease expired (${e.message}); taking a new one`);
      void this.retrying('take a new lease', () => this.newLease()).catch(() => undefined);
    });
    await this.register(lease);
    this.ok();
  }

  private async register(lease: Lease): Promise<void> {
    const info: ReplicaInfo = { id: this.replica, ...(this.url ? { url: this.url } : {}), startedAt: this.startedAt };
    await lease.put(this.key(`replicas/${this.replica}`)).value(JSON.stringify(info));
  }

  async advertise(url: string): Promise<void> {
    this.url = url;
    await this.retrying('register its URL', () => this.register(this.lease));
  }

  private key(rest: string): string {
    return this.prefix + rest;
  }

  private slotKey(slot: number, what: 'outcome' | 'forwarder' | 'emitted'): string {
    return this.key(`slot/${pad(slot)}/${what}`);
  }

  private ok(): void {
    this.lastOk = this.now();
    if (!this.connected) {
      this.connected = true;
      this.since = this.lastOk;
      this.o.onStatus?.(`agreement: replica ${this.replica} reaches etcd again`);
    }
  }

  private failed(e: unknown): void {
    this.lastError = e instanceof Error ? e.message : String(e);
    // Cut off once the lease's time has passed without an answer: the others may hold our slots by now.
    if (this.connected && this.now() - this.lastOk > 1000 * this.ttl) {
      this.connected = false;
      this.since = this.now();
      this.o.onStatus?.(`agreement: replica ${this.replica} is cut off from etcd (${this.lastError}): it decides and forwards nothing until etcd answers again`);
    }
  }

  private async refresh(): Promise<void> {
    if (this.closed) return;
    let term: string | undefined;
    try {
      const r = await this.client.getAll().prefix(this.key('replicas/')).exec();
      this.known = r.kvs.flatMap((kv) => {
        const parsed = replicaSchema.safeParse(parseJsonOrUndefined(kv.value.toString()));
        return parsed.success ? [parsed.data] : [];
      }).sort((x, y) => (x.id < y.id ? -1 : 1));
      this.ok();
      term = r.header.raft_term;
    } catch (e) {
      this.failed(e);
    }
    // A new term is a new leader; without a leader, look again each time.
    if (term !== undefined && (term !== this.term || !this.toLeader)) await this.learnLeader(term);
  }

  /**
   * Asks each endpoint for its status: the member that answers there, and the leader it knows
   * (the one of the latest term). The leader's endpoint, if it is among them, takes the slots'
   * compare-and-creates from now on.
   */
  private async learnLeader(term: string): Promise<void> {
    if (this.learning || this.closed || this.direct.length === 0) return;
    this.learning = true;
    try {
      const answers = await Promise.all(this.direct.map((d) => d.client.maintenance.status().then((s) => ({ of: d, member: s.header.member_id, leader: s.leader, term: Number(s.raftTerm) }), () => undefined)));
      this.route(leaderAmong(answers.filter((a) => a !== undefined)), "etcd's leader is not among the endpoints that answer");
      this.term = term;
    } finally {
      this.learning = false;
    }
  }

  /** Sends the slots' decisions to `leader` from now on (or, with none, through any member), and says so if that changed. */
  private route(leader: { endpoint: string; client: Etcd3 } | undefined, why: string): void {
    if (leader === this.toLeader) return;
    this.toLeader = leader;
    this.o.onStatus?.(leader ? `agreement: etcd's leader answers at ${leader.endpoint}; the slots' decisions go there` : `agreement: ${why}; the slots' decisions go through any member until the leader answers again`);
  }

  /** Runs `op` until it succeeds, retrying recoverable failures for up to `retryForMs`. */
  private async retrying<T>(what: string, op: () => Promise<T>): Promise<T> {
    const until = this.now() + (this.o.retryForMs ?? 3_000);
    for (let wait = 25; ; wait = Math.min(wait * 2, 200)) {
      if (this.closed) throw new AgreementUnavailable(`replica ${this.replica} is stopping: cannot ${what}`);
      try {
        const out = await op();
        this.ok();
        return out;
      } catch (e) {
        this.failed(e);
        const message = String((e as Error)?.message);
        const leaseGone = /lease not found/i.test(message);
        if (leaseGone) {
          // Our lease ran out (a long pause, a partition): our keys are gone; take a new lease and try again.
          this.o.onStatus?.(`agreement: replica ${this.replica}'s lease had expired; taking a new one`);
          await this.newLease().catch(() => undefined);
        } else if (!unanswered(e)) throw e;
        if (this.now() + wait > until) throw new AgreementUnavailable(`etcd did not answer for ${this.o.retryForMs ?? 3_000} ms: cannot ${what} (${this.lastError})`, { replica: this.replica });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async propose(outcome: SlotOutcome): Promise<SlotOutcome> {
    const key = this.slotKey(outcome.slot, 'outcome');
    const value = JSON.stringify(outcome);
    const commit = (client: Etcd3) => {
      const then = [client.put(key).value(value)];
      if (outcome.kind === 'decided') then.push(client.put(this.slotKey(outcome.slot, 'forwarder')).value(this.replica).lease(this.leaseId));
      return client.if(key, 'Create', '==', 0).then(...then).else(client.get(key)).commit();
    };
    return this.retrying(`decide slot ${outcome.slot}`, async () => {
      const leader = this.toLeader;
      const r = leader
        ? await commit(leader.client).catch((e: unknown) => {
            if (!unanswered(e)) throw e;
            // The leader did not answer (killed, cut off, or past the deadline): on through the others now.
            if (this.toLeader === leader) this.route(undefined, `etcd's leader at ${leader.endpoint} did not answer (${(e as Error)?.message})`);
            return commit(this.client);
          })
        : await commit(this.client);
      if (r.succeeded) return this.sawOutcome(outcome);
      const existing = parseOutcome(r.responses[0]?.response_range?.kvs?.[0]?.value?.toString());
      if (!existing || existing.slot !== outcome.slot) throw new Error(`slot ${outcome.slot}'s outcome in etcd does not read`);
      // A lost answer to our own earlier write comes back here as the outcome in force: ours.
      return this.sawOutcome(existing);
    });
  }

  async outcome(slot: number): Promise<SlotOutcome | undefined> {
    const seen = this.seen.get(slot)?.outcome;
    if (seen) return seen;
    const value = await this.client.get(this.slotKey(slot, 'outcome')).serializable(true).string();
    const outcome = value === null ? undefined : parseOutcome(value);
    return outcome?.slot === slot ? this.sawOutcome(outcome) : undefined;
  }

  emitted(slot: number): EmittedRecord | undefined {
    return this.seen.get(slot)?.emitted;
  }

  settled(slot: number, ms: number): Promise<void> {
    const seen = this.seen.get(slot);
    if (seen?.emitted || seen?.outcome?.kind === 'missed') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiters = this.settling.get(slot) ?? this.settling.set(slot, new Set()).get(slot)!;
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.settling.delete(slot);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref();
      waiters.add(done);
    });
  }

  /** Keeps a slot's outcome as seen (the latest {@link SEEN_SLOTS} slots'); returns it. */
  private sawOutcome(outcome: SlotOutcome): SlotOutcome {
    this.seenOf(outcome.slot).outcome = outcome;
    if (outcome.kind === 'missed') this.settle(outcome.slot);
    return outcome;
  }

  /** Keeps a slot's emission record as seen; returns it. */
  private sawEmitted(e: EmittedRecord): EmittedRecord {
    this.seenOf(e.slot).emitted = e;
    this.settle(e.slot);
    return e;
  }

  /** Ends the waits for a slot that settled. */
  private settle(slot: number): void {
    for (const done of [...(this.settling.get(slot) ?? [])]) done();
  }

  private seenOf(slot: number): { outcome?: SlotOutcome; emitted?: EmittedRecord } {
    let entry = this.seen.get(slot);
    if (!entry) {
      this.seen.set(slot, (entry = {}));
      if (this.seen.size > SEEN_SLOTS) this.seen.delete(this.seen.keys().next().value!);
    }
    return entry;
  }

  proposesFirst(slot: number): boolean {
    // Not yet among those up (just started, or cut off): nobody would wait for it.
    if (!this.known.some((r) => r.id === this.replica)) return true;
    return this.known[slot % this.known.length]!.id === this.replica;
  }

  async slots(fromSlot: number, toSlot: number): Promise<Map<number, SlotState>> {
    const kvs = await this.retrying(`read slots ${fromSlot}–${toSlot}`, () => this.client.getAll().inRange({ start: this.key(`slot/${pad(fromSlot)}/`), end: this.key(`slot/${pad(toSlot + 1)}/`) }).strings());
    const out = new Map<number, SlotState>();
    const of = (slot: number) => out.get(slot) ?? out.set(slot, {}).get(slot)!;
    for (const [k, v] of Object.entries(kvs)) {
      const m = /slot\/(\d{10})\/(\w+)$/.exec(k);
      if (!m) continue;
      if (m[2] === 'forwarder') of(Number(m[1])).forwarder = v;
      if (m[2] === 'emitted') {
        const parsed = emittedSchema.safeParse(parseJsonOrUndefined(v));
        if (parsed.success && parsed.data.slot === Number(m[1])) of(Number(m[1])).emitted = this.sawEmitted(parsed.data);
      }
    }
    return out;
  }

  claimForwarding(slot: number): Promise<boolean> {
    return this.holdLeased(this.slotKey(slot, 'forwarder'), `claim slot ${slot}'s forwarding`);
  }

  /** Creates `key` with this replica's name on its lease unless it exists; true when it is (now or already) this replica's. */
  private holdLeased(key: string, what: string): Promise<boolean> {
    return this.retrying(what, async () => {
      const r = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(this.replica).lease(this.leaseId)).else(this.client.get(key)).commit();
      return r.succeeded || r.responses[0]?.response_range?.kvs?.[0]?.value?.toString() === this.replica;
    });
  }

  async markEmitted(e: EmittedRecord): Promise<void> {
    const key = this.slotKey(e.slot, 'emitted');
    const r = await this.retrying(`record slot ${e.slot}'s emission`, () => this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(JSON.stringify(e))).commit());
    // Another record that stood first is learnt from etcd (the watch or a read), not assumed.
    if (r.succeeded) this.sawEmitted(e);
  }

  lead(role: string): Promise<boolean> {
    return this.holdLeased(this.key(`leader/${role}`), `take the ${role} role`);
  }

  watch(onChange: () => void): void {
    const slots = this.key('slot/');
    void this.client
      .watch()
      .prefix(slots)
      .create()
      .then((w) => {
        if (this.closed) return void w.cancel();
        this.watcher = w;
        w.on('delete', (kv) => kv.key.toString().endsWith('/forwarder') && onChange());
        w.on('put', (kv) => {
          const m = /slot\/(\d{10})\/(outcome|emitted)$/.exec(kv.key.toString());
          if (!m) return;
          const slot = Number(m[1]);
          if (m[2] === 'outcome') {
            const outcome = parseOutcome(kv.value.toString());
            if (outcome?.slot === slot) this.sawOutcome(outcome);
            return;
          }
          const parsed = emittedSchema.safeParse(parseJsonOrUndefined(kv.value.toString()));
          if (parsed.success && parsed.data.slot === slot) this.sawEmitted(parsed.data);
          onChange();
        });
      })
      .catch((e: unknown) => this.o.onStatus?.(`agreement: cannot watch etcd (${e instanceof Error ? e.message : String(e)}); the replicas' decisions are followed by looking every few hundred ms`));
  }

  health(): AgreementHealth {
    // No answer for longer than the lease: cut off, even if no operation has failed yet.
    if (this.connected && this.now() - this.lastOk > 1000 * this.ttl + 500) this.failed(new Error(this.lastError ?? 'no answer from etcd'));
    return { replica: this.replica, connected: this.connected, since: this.since, ...(this.lastError ? { lastError: this.lastError } : {}), replicas: [...this.known], ...(this.toLeader ? { etcdLeader: this.toLeader.endpoint } : {}) };
  }

  /** Revokes the lease (this replica's keys go at once) and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.watcher?.cancel().catch(() => undefined);
    try {
      await this.lease?.revoke({ deadline: Date.now() + 1_000 });
    } catch {
      // etcd out of reach: the lease runs out by itself within its TTL
    }
    this.client.close();
    for (const d of this.direct) d.client.close();
  }
}

/**
 * Of the etcd members' answers to a status request (each names itself and the leader it knows),
 * the one that leads: the leader named in the latest term, if it is among those that answered.
 */
export function leaderAmong<T>(answers: { of: T; member: string; leader: string; term: number }[]): T | undefined {
  const latest = answers.reduce<(typeof answers)[number] | undefined>((best, a) => (a.leader !== '0' && (!best || a.term > best.term) ? a : best), undefined);
  return latest && answers.find((a) => a.member === latest.leader)?.of;
}

/** Whether `e` says etcd did not answer (a member down or out of reach, a deadline passed), rather than refused the request. */
function unanswered(e: unknown): boolean {
  return isRecoverableError(e as Error) || /deadline|unavailable|circuit|timed out|connect/i.test(String((e as Error)?.message));
}

function parseOutcome(text: string | undefined): SlotOutcome | undefined {
  const parsed = outcomeSchema.safeParse(parseJsonOrUndefined(text));
  return parsed.success ? parsed.data : undefined;
}
