import { ClientError, GraphQLClient } from 'graphql-request';
import { FetchError, InputError } from '../errors.js';
import { blocksQueryInput, BLOCKS_QUERY } from './queries.js';
import { blocksFromValue } from './readers/json.js';
import type { BlockRecord } from './types.js';

export interface FetchBlocksParams {
  /** GraphQL endpoint, e.g. `https://graphql.minaexplorer.com`. */
  url: string;
  /** First and last slot (inclusive): slots since genesis, or slots in `epoch` when it is given. */
  from: number;
  to: number;
  epoch?: number;
  /** Slots asked for per request (default 200). A full page is split in two and asked again. */
  pageSlots?: number;
  /** The `limit` of each request (default 2000). */
  pageLimit?: number;
  /** Attempts per request on transient failures (network, HTTP 429 and 5xx); default 5. */
  attempts?: number;
  /** Delay before the first retry, doubled at each further one (default 500 ms). */
  retryDelayMs?: number;
  /** Called after each page, for progress reports. */
  onPage?: (page: { from: number; to: number; blocks: number; total: number }) => void;
  /** Called before each retry. */
  onRetry?: (info: { from: number; to: number; attempt: number; error: string }) => void;
  signal?: AbortSignal;
}

export type FetchBlocksResult = BlockRecord[];

/** The error and its causes, outermost first. */
function causes(error: unknown): { name?: string; message?: string; code?: string }[] {
  const chain = [];
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 6; depth++) {
    chain.push(e as { name?: string; message?: string; code?: string });
    e = (e as { cause?: unknown }).cause;
  }
  return chain;
}

const NETWORK_CODES = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|UND_ERR_\w+)$/;
const NETWORK_MESSAGES = /fetch failed|socket hang up|other side closed|network/i;

/** Transient: HTTP 429 or 5xx, or a network failure anywhere in the cause chain. */
function transient(error: unknown): boolean {
  if (error instanceof ClientError) {
    const status = error.response.status;
    return status === 429 || status >= 500;
  }
  return causes(error).some((e) => (e.code !== undefined && NETWORK_CODES.test(e.code)) || NETWORK_MESSAGES.test(e.message ?? ''));
}

function describe(error: unknown): string {
  if (error instanceof ClientError) {
    const first = error.response.errors?.[0]?.message;
    return `HTTP ${error.response.status}${first ? `: ${first}` : ''}`;
  }
  const chain = causes(error);
  const outer = chain[0]?.message ?? String(error);
  const inner = chain.length > 1 ? chain[chain.length - 1]!.message : undefined;
  return inner && inner !== outer ? `${outer} (${inner})` : outer;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

/**
 * Fetches the blocks of a slot range from an explorer GraphQL endpoint, page by page
 * (slot sub-ranges, split when a page comes back full), retrying transient failures.
 *
 * @example
 * const blocks = await fetchBlocks({ url: 'https://graphql.minaexplorer.com', epoch: 14, from: 0, to: 7139 });
 */
export async function fetchBlocks(params: FetchBlocksParams): Promise<FetchBlocksResult> {
  const { url, from, to, epoch, signal } = params;
  const pageSlots = params.pageSlots ?? 200;
  const pageLimit = params.pageLimit ?? 2000;
  const attempts = params.attempts ?? 5;
  const retryDelayMs = params.retryDelayMs ?? 500;
  if (from > to) throw new InputError(`empty range: from (${from}) is greater than to (${to})`, { field: 'from', from, to });
  const client = new GraphQLClient(url, { signal });
  const slotField = epoch === undefined ? 'slotSinceGenesis' : 'slot';
  const seen = new Set<string>();
  const out: BlockRecord[] = [];

  const request = async (a: number, b: number): Promise<unknown> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.request(BLOCKS_QUERY, { query: blocksQueryInput(a, b, epoch), limit: pageLimit });
      } catch (error) {
        if (signal?.aborted) throw error;
        if (!transient(error) || attempt >= attempts) {
          throw new FetchError(`${url}: fetching slots ${a}–${b} failed after ${attempt} attempt(s): ${describe(error)}`, { url, from: a, to: b, attempt }, { cause: error });
        }
        params.onRetry?.({ from: a, to: b, attempt, error: describe(error) });
        await sleep(retryDelayMs * 2 ** (attempt - 1), signal);
      }
    }
  };

  const fetchRange = async (a: number, b: number): Promise<void> => {
    const answer = await request(a, b);
    const count = (answer as { blocks?: unknown[] })?.blocks?.length ?? 0;
    if (count >= pageLimit) {
      if (a === b) {
        throw new FetchError(`${url}: slot ${a} has ${count} or more blocks, the page limit; raise it`, { url, slot: a, pageLimit });
      }
      const mid = Math.floor((a + b) / 2);
      await fetchRange(a, mid);
      await fetchRange(mid + 1, b);
      return;
    }
    const blocks = blocksFromValue(answer, `${url} (slots ${a}–${b})`, { slotField });
    for (const block of blocks) {
      if (block.stateHash !== undefined) {
        if (seen.has(block.stateHash)) continue;
        seen.add(block.stateHash);
      }
      out.push(block);
    }
    params.onPage?.({ from: a, to: b, blocks: blocks.length, total: out.length });
  };

  for (let a = from; a <= to; a += pageSlots) {
    await fetchRange(a, Math.min(to, a + pageSlots - 1));
  }
  return out;
}
