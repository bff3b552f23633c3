import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { EventLog } from './event-log.js';
import type { Intake } from './intake.js';
import { ProposalRejected, REJECTIONS, type RejectionCode } from './types.js';

export interface ServerDeps {
  intake: Intake;
  log: EventLog;
  /** Largest accepted payload in bytes; the body may add 16 KiB of fields. */
  maxPayloadBytes: number;
}

const slotParams = z.object({ slot: z.coerce.number().int().min(0).max(2 ** 32 - 1) });
const eventsQuery = z.object({
  from: z.coerce.number().int().min(1).default(1),
  to: z.coerce.number().int().min(1).default(Number.MAX_SAFE_INTEGER),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A query or path that does not parse: 400 with the field named. */
class BadRequest extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(query)';
  throw new BadRequest(field, `field '${field}': ${issue.message}`);
}

/**
 * The emitter's HTTP face (Fastify): routes stay thin, one error handler maps every
 * refusal to its status and a JSON body `{ code, message }` with a stable code.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({ bodyLimit: deps.maxPayloadBytes + 16_384, logger: false });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof ProposalRejected) {
      return reply.status(error.status).send({ code: error.code, message: error.message, ...(error.receipt ? { receipt: error.receipt } : {}) });
    }
    if (error instanceof BadRequest) return reply.status(400).send({ code: 'MALFORMED', message: error.message, field: error.field });
    const e = error as { statusCode?: number; code?: string; message?: string };
    // Bodies the HTTP layer cannot read: too large, not JSON, not a JSON content type.
    let code: RejectionCode | undefined;
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') code = 'TOO_LARGE';
    else if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) code = 'MALFORMED';
    if (code) {
      const message = code === 'TOO_LARGE' ? `${REJECTIONS.TOO_LARGE.text}: at most ${deps.maxPayloadBytes} bytes of block` : `${REJECTIONS.MALFORMED.text}: ${e.message ?? 'unreadable body'}`;
      if (_request.url.startsWith('/v1/proposals')) deps.intake.rejectUnread(code, message);
      return reply.status(REJECTIONS[code].status).send({ code, message });
    }
    return reply.status(500).send({ code: 'INTERNAL', message: 'the emitter failed to handle this request; it is logged' });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }));

  app.post('/v1/proposals', async (request) => {
    const bytes = Number(request.headers['content-length'] ?? 0);
    const receipt = await deps.intake.submit(request.body, Number.isFinite(bytes) ? bytes : 0);
    return { receipt };
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

  return app;
}
