import { ClientError, GraphQLClient, gql } from 'graphql-request';
import { z } from 'zod';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { InputError, firstIssue } from '../errors.js';

/**
 * A block the member's node produced, as the member command delivers it: its slot (global
 * slot since the hard fork, the slot proposals carry), height, creator, VRF output and the
 * block itself (the payload). The state hash comes with the daemon's `newBlock` event; a
 * precomputed block does not contain it (it is the hash of the protocol state), so in file
 * mode the daemon's `bestChain` names it. The chain watcher reads `bestChain` the same way.
 */
export interface ProducedBlock {
  stateHash?: string;
  slot: number;
  height: number;
  creator: string;
  vrfOutput?: string;
  payload: unknown;
}

const numeric = z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]).transform(Number);

/** Mina's precomputed block JSON, `{version, data}` (or the older unwrapped form), as far as we read it. */
const precomputedSchema = z.object({
  protocol_state: z.object({
    body: z.object({
      consensus_state: z.object({
        blockchain_length: numeric,
        block_creator: z.string(),
        last_vrf_output: z.string().optional(),
        curr_global_slot_since_hard_fork: z.object({ slot_number: numeric }).optional(),
        curr_global_slot: z.object({ slot_number: numeric }).optional(),
      }),
    }),
  }),
});

/** Reads a precomputed block (one line of `--precomputed-blocks-file`, or a block file). */
export function fromPrecomputed(json: unknown): ProducedBlock {
  const inner = typeof json === 'object' && json !== null && 'data' in json && 'version' in json ? (json as { data: unknown }).data : json;
  const parsed = precomputedSchema.safeParse(inner);
  if (!parsed.success) {
    const issue = firstIssue(parsed.error.issues);
    throw new InputError(`not a precomputed block: field '${issue.field}': ${issue.message}`, { field: issue.field });
  }
  const cs = parsed.data.protocol_state.body.consensus_state;
  const slot = cs.curr_global_slot_since_hard_fork?.slot_number ?? cs.curr_global_slot?.slot_number;
  if (slot === undefined) throw new InputError('not a precomputed block: it has no global slot', { field: 'consensus_state' });
  return { slot, height: cs.blockchain_length, creator: cs.block_creator, ...(cs.last_vrf_output ? { vrfOutput: cs.last_vrf_output } : {}), payload: json };
}

/** The fields the member asks of the daemon's `newBlock` (numbers come as strings). */
export const NEW_BLOCK_FIELDS = `
  stateHash
  creatorAccount { publicKey }
  protocolState {
    previousStateHash
    consensusState { blockHeight slot epoch slotSinceGenesis lastVrfOutput blockCreator }
  }
  protocolStateProof { base64 }
`;

const daemonBlockSchema = z.object({
  stateHash: z.string(),
  creatorAccount: z.object({ publicKey: z.string() }).optional(),
  protocolState: z.object({
    consensusState: z.object({ blockHeight: numeric, slot: numeric, epoch: numeric, lastVrfOutput: z.string().optional(), blockCreator: z.string().optional() }),
  }),
});

/** Reads a `Block` of the daemon's GraphQL (a `newBlock` event); the payload is the block as the daemon gave it. */
export function fromDaemonBlock(json: unknown): ProducedBlock {
  const parsed = daemonBlockSchema.safeParse(json);
  if (!parsed.success) {
    const issue = firstIssue(parsed.error.issues);
    throw new InputError(`the daemon sent a block without field '${issue.field}': ${issue.message}`, { field: issue.field });
  }
  const b = parsed.data;
  const cs = b.protocolState.consensusState;
  const creator = cs.blockCreator ?? b.creatorAccount?.publicKey;
  if (!creator) throw new InputError('the daemon sent a block without its creator', { field: 'blockCreator' });
  return { stateHash: b.stateHash, slot: cs.epoch * SLOTS_PER_EPOCH + cs.slot, height: cs.blockHeight, creator, ...(cs.lastVrfOutput ? { vrfOutput: cs.lastVrfOutput } : {}), payload: json };
}

const BEST_CHAIN_QUERY = gql`
  query BestChain($maxLength: Int!) {
    bestChain(maxLength: $maxLength) {
      stateHash
      protocolState {
        consensusState {
          blockHeight
          slot
          epoch
          blockCreator
        }
      }
    }
  }
`;

/** A client for a daemon's GraphQL: the daemon reads a POST body only when the content type is exactly `application/json`. */
export function daemonClient(url: string): GraphQLClient {
  return new GraphQLClient(url, { headers: { 'content-type': 'application/json' } });
}

/** How many blocks back a daemon's transition frontier reaches (Mina's k): what it can still tell of a block. */
export const FRONTIER_DEPTH = 290;

/** The daemon's best chain, oldest block first, its last `maxLength` blocks (empty while it bootstraps). */
export async function readBestChain(client: GraphQLClient, maxLength: number, signal?: AbortSignal): Promise<(ProducedBlock & { stateHash: string })[]> {
  const { bestChain } = await client.request<{ bestChain: unknown[] | null }>({ document: BEST_CHAIN_QUERY, variables: { maxLength }, ...(signal ? { signal } : {}) });
  return (bestChain ?? []).map((b) => fromDaemonBlock(b) as ProducedBlock & { stateHash: string });
}

/** Waits `ms`, or less if `signal` aborts (it never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A daemon's GraphQL failure in words: the HTTP status and its first error, or the error's message. */
export function describeDaemonError(e: unknown): string {
  if (e instanceof ClientError) return `HTTP ${e.response.status}${e.response.errors?.[0] ? `: ${e.response.errors[0].message}` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs `step` (a read of a daemon) every `everyMs` until `signal` aborts; a failed step is
 * reported in words and tried again at the next turn. `wait` defaults to the wall clock; the
 * emitter passes its slot clock's (which rejects on abort).
 */
export async function pollDaemon(o: { everyMs: number; signal: AbortSignal; step: () => Promise<unknown>; onError: (described: string) => void; wait?: (ms: number, signal: AbortSignal) => Promise<void> }): Promise<void> {
  const wait = o.wait ?? sleep;
  while (!o.signal.aborted) {
    try {
      await o.step();
    } catch (e) {
      if (o.signal.aborted) break;
      o.onError(describeDaemonError(e));
    }
    try {
      await wait(o.everyMs, o.signal);
    } catch {
      break;
    }
  }
}
