import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { firstIssue, PoolError } from '../errors.js';
import { Serial } from '../serial.js';
import { SpoolSink } from './sink.js';

/**
 * The gateway's relay: where the emitter (one, or each of its replicas, with `--relay URL`)
 * hands the winner of a slot. It keeps one block per slot in the gateway's spool directory, the
 * format the gateway's helper reads: the same block again (another replica, a retry after a
 * restart) is confirmed and written once; another block for a slot already held is refused
 * with `SLOT_TAKEN`, so two blocks for one slot can never reach the gateway.
 *
 * `POST /v1/blocks` `{slot, member, blockHash, block}` (the `Idempotency-Key` header, when sent,
 * must be the block hash) answers `200 {stored}`; `GET /v1/blocks` lists what it holds.
 */

const blockSchema = z.strictObject({
  slot: z.number().int().min(0),
  member: z.string().min(1).max(100),
  blockHash: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{1,100}$/, 'expected a base58 state hash'),
  block: z.unknown(),
});

export interface RelayOptions {
  spoolDir: string;
  /** Largest body accepted, bytes (default 8 MiB). */
  bodyLimit?: number;
  /** Each block taken (stored: the first time). */
  onBlock?: (b: { slot: number; member: string; blockHash: string; stored: boolean }) => void;
}

export function buildRelay(o: RelayOptions): FastifyInstance {
  const spool = new SpoolSink(o.spoolDir);
  const app = Fastify({ bodyLimit: o.bodyLimit ?? 8 * 1024 * 1024 });
  /** One block written at a time: a second copy waits for the first. */
  const writes = new Serial();

  app.post('/v1/blocks', async (request, reply) => {
    const parsed = blockSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = firstIssue(parsed.error.issues);
      return reply.status(400).send({ code: 'MALFORMED', message: `field '${issue.field || '(body)'}': ${issue.message}` });
    }
    const b = parsed.data;
    const key = request.headers['idempotency-key'];
    if (key !== undefined && key !== b.blockHash) return reply.status(400).send({ code: 'MALFORMED', message: `the Idempotency-Key ${String(key)} is not the block hash ${b.blockHash}` });
    try {
      const stored = await writes.run(async () => {
        const held = await spool.held(b.slot);
        await spool.deliver({ slot: b.slot, member: b.member, blockHash: b.blockHash, payload: b.block });
        return held === undefined;
      });
      o.onBlock?.({ slot: b.slot, member: b.member, blockHash: b.blockHash, stored });
      return { stored };
    } catch (e) {
      if (e instanceof PoolError && e.code === 'SLOT_TAKEN') return reply.status(409).send({ code: e.code, message: e.message });
      throw e;
    }
  });

  app.get('/v1/blocks', async () => ({ blocks: await spool.holdings() }));
  return app;
}
