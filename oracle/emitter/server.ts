import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import type { WaitlistView } from '../backfill/follow.js';
import type { SlotCommitmentView } from '../backfill/slot-commitment.js';
import { b62 } from '../config.js';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import type { AgreementHealth } from './agreement.js';
import { DASHBOARD_HTML, slotViews } from './dashboard.js';
import type { EventLog } from './event-log.js';
import type { Intake } from './intake.js';
import { computeMetrics, EMPTY_METRICS, epochSlots } from './metrics.js';
import type { EmitterMetrics } from './observe.js';
import type { StrategyName, Window } from './selector.js';
import type { SlotClock } from './slot-clock.js';
import { firstIssue, InputError, PoolError } from '../errors.js';
import { BODY_ALLOWANCE, ProposalRejected, REJECTIONS, type RejectionCode } from './types.js';

export interface ServerDeps {
  intake: Intake;
  log: EventLog;
  /** Largest accepted payload in bytes; the body may add `BODY_ALLOWANCE` bytes of fields. */
  maxPayloadBytes: number;
  clock: SlotClock;
  window: Window;
  strategy: StrategyName;
  /** What members need to sign and time their proposals (`GET /v1/pool`). */
  pool: { poolTag: string; operator: string };
  /** Current members, in registry order (the dashboard's rows). */
  members: () => readonly string[];
  /** Key → a name to show, when known. */
  names?: ReadonlyMap<string, string>;
  metrics?: EmitterMetrics;
  /** The bridge's published report of an epoch (`GET /v1/reports/:epoch`). */
  report?: (epoch: number) => Promise<unknown>;
  /** The live backfill waitlist (`GET /v1/waitlist`), when the oracle keeps one. */
  waitlist?: () => WaitlistView;
  /** The live commitment of a slot (`GET /v1/backfill/:slot`), when the oracle holds the epoch's staking ledgers. */
  slotCommitment?: (slot: number) => { view?: SlotCommitmentView; problem?: string };
  /** Among replicas: this one's connection to etcd and the replicas up (`GET /v1/replicas`, the dashboard). */
  replicas?: () => AgreementHealth;
}

/**
 * Listens on `port` (0: any free port) and returns the base URL; a port in use is a
 * {@link PoolError} `PORT_IN_USE` that says so (`hint`: what may hold it).
 */
export async function listenOn(app: FastifyInstance, port: number, host: string, hint = ''): Promise<string> {
  try {
    return await app.listen({ port, host });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PoolError('PORT_IN_USE', `port ${port} on ${host} is in use${hint}; choose another with --port`, { port, host }, { cause: e });
    throw e;
  }
}

const slotParams = z.object({ slot: z.coerce.number().int().min(0).max(2 ** 32 - 1) });
const epochQuery = z.object({ epoch: z.coerce.number().int().min(0).max(2 ** 32 / SLOTS_PER_EPOCH) });
const memberParams = z.object({ key: b62 });
const dashboardQuery = z.object({ slots: z.coerce.number().int().min(1).max(200).default(24) });
const eventsQuery = z.object({
  from: z.coerce.number().int().min(1).default(1),
  to: z.coerce.number().int().min(1).default(Number.MAX_SAFE_INTEGER),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Parses a query or path; a field that does not fit is an {@link InputError} naming it (400). */
function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = firstIssue(r.error.issues);
  const field = issue.field || '(query)';
  throw new InputError(`field '${field}': ${issue.message}`, { field });
}

/** A body the HTTP layer could not read (too large, not JSON, not a JSON content type), as a refusal. */
function unreadBody(error: unknown, maxPayloadBytes: number): { code: RejectionCode; message: string } | undefined {
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { code: 'TOO_LARGE', message: `${REJECTIONS.TOO_LARGE.text}: at most ${maxPayloadBytes} bytes of block` };
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) return { code: 'MALFORMED', message: `${REJECTIONS.MALFORMED.text}: ${e.message ?? 'unreadable body'}` };
  return undefined;
}

/**
 * The emitter's HTTP face (Fastify): routes stay thin, one error handler maps every
 * refusal to its status and a JSON body `{ code, message }` with a stable code.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({ bodyLimit: deps.maxPayloadBytes + BODY_ALLOWANCE, logger: false });

  const sendError = (error: unknown, reply: FastifyReply) => {
    if (error instanceof ProposalRejected) {
      return reply.status(error.status).send({ code: error.code, message: error.message, ...(error.receipt ? { receipt: error.receipt } : {}) });
    }
    if (error instanceof InputError) return reply.status(400).send({ code: 'MALFORMED', message: error.message, field: error.context.field });
    const unread = unreadBody(error, deps.maxPayloadBytes);
    if (unread) return reply.status(REJECTIONS[unread.code].status).send(unread);
    return reply.status(500).send({ code: 'INTERNAL', message: 'the emitter failed to handle this request' });
  };
  app.setErrorHandler((error, _request, reply) => sendError(error, reply));
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }));

  app.post(
    '/v1/proposals',
    {
      // A proposal the HTTP layer could not read is a refusal too, and is logged as one.
      errorHandler: (error, _request, reply) => {
        const unread = unreadBody(error, deps.maxPayloadBytes);
        if (unread) deps.intake.rejectUnread(unread.code, unread.message);
        return sendError(error, reply);
      },
    },
    async (request) => ({ receipt: await deps.intake.submit(request.body) }),
  );

  app.get('/v1/waitlist', async (_request, reply) => {
    if (!deps.waitlist) return reply.status(404).send({ code: 'NO_WAITLIST', message: 'this emitter keeps no live waitlist (it needs a chain watcher that follows every block)' });
    return deps.waitlist();
  });

  app.get('/v1/backfill/:slot', async (request, reply) => {
    const { slot } = parse(slotParams, request.params);
    if (!deps.slotCommitment) return reply.status(404).send({ code: 'NO_BACKFILL', message: 'this emitter holds no staking ledger for the backfill (start it with --waitlist and --backfill-ledger)' });
    const { view, problem } = deps.slotCommitment(slot);
    if (!view) return reply.status(404).send({ code: 'NO_DESIGNATION', message: problem, slot });
    return view;
  });

  app.get('/v1/slots/:slot', async (request) => {
    const { slot } = parse(slotParams, request.params);
    const decision = deps.log.decision(slot);
    const proposals = deps.log.proposals(slot).map((p) => ({ member: p.member, blockHash: p.blockHash, receivedAt: p.receivedAt, vrfOutput: p.proposal.vrfOutput }));
    return { slot, decision: decision ?? null, proposals, events: deps.log.eventsOfSlot(slot) };
  });

  app.get('/v1/events', async (request) => {
    const { from, to, limit } = parse(eventsQuery, request.query);
    const events = deps.log.events(from, to, limit);
    const last = events.at(-1);
    return { events, next: events.length === limit && last && last.seq < to ? last.seq + 1 : null, head: deps.log.head() };
  });

  app.get('/v1/pool', async () => ({
    poolTag: deps.pool.poolTag,
    operator: deps.pool.operator,
    strategy: deps.strategy,
    genesisMs: deps.clock.genesisMs,
    slotMs: deps.clock.slotMs,
    window: deps.window,
    currentSlot: deps.clock.currentSlot(),
    maxPayloadBytes: deps.maxPayloadBytes,
  }));

  app.get('/v1/members/:key/metrics', async (request) => {
    const { key } = parse(memberParams, request.params);
    const { epoch } = parse(epochQuery, request.query);
    const { fromSlot, toSlot } = epochSlots(epoch);
    const { members } = computeMetrics(deps.log.eventsOfSlots(fromSlot, toSlot), fromSlot, toSlot);
    return { member: key, epoch, slots: { from: fromSlot, to: toSlot }, member_of_pool: deps.members().includes(key), metrics: members.get(key) ?? EMPTY_METRICS };
  });

  app.get('/v1/reports/:epoch', async (request, reply) => {
    const { epoch } = parse(epochQuery, request.params);
    const report = deps.report ? await deps.report(epoch) : undefined;
    if (report === undefined) return reply.status(404).send({ code: 'NO_REPORT', message: `there is no report for epoch ${epoch} yet (the bridge reports an epoch after it ends)` });
    return report;
  });

  app.get('/v1/dashboard', async (request) => {
    const { slots } = parse(dashboardQuery, request.query);
    const { clock, window } = deps;
    const current = clock.currentSlot();
    const from = Math.max(0, current - slots + 2);
    const to = current + 1;
    const views = slotViews(deps.log.eventsOfSlots(from, to), from, to, (s) => clock.slotStart(s));
    const members = [...deps.members()];
    // A key that proposed in view but is no longer a member still gets its row.
    for (const v of views) for (const p of v.proposals) if (!members.includes(p.member)) members.push(p.member);
    return {
      now: clock.now(),
      slotMs: clock.slotMs,
      currentSlot: current,
      strategy: deps.strategy,
      window,
      members,
      names: Object.fromEntries(deps.names ?? []),
      totals: { emitted: views.filter((v) => v.status === 'emitted').length, missed: views.filter((v) => v.status === 'missed').length },
      slots: views,
      waitlist: waitlistLine(deps.waitlist?.()),
      replicas: deps.replicas?.() ?? null,
    };
  });

  app.get('/v1/replicas', async (_request, reply) => {
    if (!deps.replicas) return reply.status(404).send({ code: 'NO_REPLICAS', message: 'this emitter runs alone (npm run emitter -- --replica NAME --etcd URLS to run replicas)' });
    return deps.replicas();
  });

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));

  app.get('/metrics', async (_request, reply) => {
    if (!deps.metrics) return reply.status(404).send({ code: 'NOT_FOUND', message: 'metrics are off' });
    return reply.type(deps.metrics.contentType).send(await deps.metrics.text());
  });

  return app;
}

/** The dashboard's waitlist line: who gets the next slot if it is empty, and the pool's notice. */
function waitlistLine(view: WaitlistView | undefined): { slot: number; entries: number; next: WaitlistView['next'] | null; notice: string | null } | null {
  if (!view) return null;
  return { slot: view.slot, entries: view.entries.length, next: view.next ?? null, notice: view.notice ?? null };
}
