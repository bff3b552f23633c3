import Fastify, { type FastifyInstance } from 'fastify';
import { readdir } from 'node:fs/promises';
import { z } from 'zod';
import { firstIssue } from '../errors.js';
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
  let queue = Promise.resolve();

  app.post('/v1/blocks', async (request, reply) => {
    const parsed = blockSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = firstIssue(parsed.error.issues);
      return reply.status(400).send({ code: 'MALFORMED', message: `field '${issue.field || '(body)'}': ${issue.message}` });
    }
    const b = parsed.data;
    const key = request.headers['idempotency-key'];
    if (key !== undefined && key !== b.blockHash) return reply.status(400).send({ code: 'MALFORMED', message: `the Idempotency-Key ${String(key)} is not the block hash ${b.blockHash}` });
    const run = queue.then(async () => {
      const held = await spool.held(b.slot);
      await spool.deliver({ slot: b.slot, member: b.member, blockHash: b.blockHash, payload: b.block });
      return held === undefined;
    });
    queue = run.then(() => undefined, () => undefined);
    try {
      const stored = await run;
      o.onBlock?.({ slot: b.slot, member: b.member, blockHash: b.blockHash, stored });
      return { stored };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (/another block for slot/.test(message)) return reply.status(409).send({ code: 'SLOT_TAKEN', message });
      throw e;
    }
  });

  app.get('/v1/blocks', async () => {
    const files = (await readdir(o.spoolDir).catch(() => [] as string[])).filter((f) => /^slot-\d{10}-.+\.json$/.test(f)).sort();
    return { blocks: files.map((f) => ({ slot: Number(f.slice(5, 15)), blockHash: f.slice(16, -5) })) };
  });
  return app;
}
