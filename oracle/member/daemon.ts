import { open, stat } from 'node:fs/promises';
import WebSocket from 'ws';
import { daemonClient, fromDaemonBlock, NEW_BLOCK_FIELDS, readBestChain, sleep, type ProducedBlock } from './blocks.js';

/**
 * What the member command reads from its own node: the daemon's `newBlock` subscription
 * (Apollo's legacy `subscriptions-transport-ws` protocol over a WebSocket on `/graphql`, as
 * Mina's GraphQL server speaks it: `connection_init` → `connection_ack`, `start` → `data`…;
 * no keep-alive, and the server reads nothing more once a subscription runs, so a
 * subscription ends by dropping the socket), or the growing `--precomputed-blocks-file`.
 */

export const NEW_BLOCK_SUBSCRIPTION = `subscription NewBlock($publicKey: PublicKey!) { newBlock(publicKey: $publicKey) { ${NEW_BLOCK_FIELDS} } }`;

/** Every block the daemon adds to its frontier, whoever made it (the live waitlist's feed). */
export const EVERY_BLOCK_SUBSCRIPTION = `subscription NewBlock { newBlock { ${NEW_BLOCK_FIELDS} } }`;

/** `http://host:3085/graphql` → `ws://host:3085/graphql`. */
export function websocketUrl(url: string): string {
  return url.replace(/^http(s?):/, 'ws$1:');
}

export interface SubscribeOptions {
  /** The daemon's GraphQL (http or ws URL). */
  url: string;
  /** The block producer key whose blocks to hear of; without it, every block the daemon takes in. */
  publicKey?: string;
  onBlock: (block: ProducedBlock) => void;
  onStatus?: (message: string) => void;
  signal: AbortSignal;
}

/**
 * Follows the daemon's `newBlock(publicKey)` (or `newBlock` for every block) until `signal`
 * aborts, reconnecting (1 s, then doubling to 30 s) whenever the socket drops or the daemon
 * refuses the subscription.
 */
export async function subscribeNewBlocks(o: SubscribeOptions): Promise<void> {
  let backoff = 1_000;
  while (!o.signal.aborted) {
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(websocketUrl(o.url), 'graphql-ws');
      const abort = () => ws.terminate();
      o.signal.addEventListener('abort', abort, { once: true });
      let subscribed = false;
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
        const payload = o.publicKey ? { query: NEW_BLOCK_SUBSCRIPTION, variables: { publicKey: o.publicKey } } : { query: EVERY_BLOCK_SUBSCRIPTION, variables: {} };
        ws.send(JSON.stringify({ id: '1', type: 'start', payload: { ...payload, operationName: 'NewBlock' } }));
      });
      ws.on('message', (raw) => {
        let m: { type?: string; payload?: { data?: { newBlock?: unknown }; errors?: { message?: string }[]; message?: unknown } };
        try {
          m = JSON.parse(raw.toString()) as typeof m;
        } catch {
          return o.onStatus?.('the daemon sent a message that is not JSON; ignored');
        }
        if (m.type === 'connection_ack') {
          if (!subscribed) o.onStatus?.(`subscribed to newBlock(${o.publicKey ? `${o.publicKey.slice(0, 10)}…` : ''}) at ${o.url}`);
          subscribed = true;
          backoff = 1_000;
        } else if (m.type === 'data') {
          subscribed = true;
          backoff = 1_000;
          const block = m.payload?.data?.newBlock;
          if (!block) return o.onStatus?.(`the daemon sent an event with errors: ${m.payload?.errors?.map((e) => e.message).join('; ') ?? 'no block'}`);
          try {
            o.onBlock(fromDaemonBlock(block));
          } catch (e) {
            o.onStatus?.(e instanceof Error ? e.message : String(e));
          }
        } else if (m.type === 'error' || m.type === 'connection_error') {
          const detail = m.payload?.message;
          ws.terminate();
          resolve(`the daemon refused the subscription: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
        } else if (m.type === 'complete') {
          ws.terminate();
          resolve('the daemon ended the subscription');
        }
      });
      ws.on('error', (e) => resolve(`cannot reach the daemon at ${o.url}: ${e.message}`));
      ws.on('close', () => {
        o.signal.removeEventListener('abort', abort);
        resolve('the connection to the daemon closed');
      });
    });
    if (o.signal.aborted) break;
    o.onStatus?.(`${outcome}; reconnecting in ${backoff / 1000} s`);
    await sleep(backoff, o.signal);
    backoff = Math.min(backoff * 2, 30_000);
  }
}

/**
 * The state hash of a block read from a precomputed file: the daemon's recent best chain
 * holds it (matched on height, slot and creator), or `undefined` if it does not (yet).
 */
export async function stateHashFromDaemon(url: string, block: ProducedBlock, maxLength = 20): Promise<string | undefined> {
  const chain = await readBestChain(daemonClient(url), maxLength);
  return chain.find((b) => b.height === block.height && b.slot === block.slot && b.creator === block.creator)?.stateHash;
}

/**
 * Follows a growing file of JSON lines (the daemon's `--precomputed-blocks-file`) until
 * `signal` aborts: each complete line is handed on once; a half-written last line waits for
 * its newline; a file that shrinks (rotated) is read again from its start. Starts at the
 * file's end unless `fromStart`.
 */
export async function followLines(path: string, onLine: (line: string) => void, o: { signal: AbortSignal; fromStart?: boolean; pollMs?: number; onStatus?: (m: string) => void }): Promise<void> {
  let offset = o.fromStart ? 0 : await stat(path).then((s) => s.size, () => 0);
  let partial = '';
  let missing = false;
  while (!o.signal.aborted) {
    try {
      const { size } = await stat(path);
      if (missing) o.onStatus?.(`${path} is there again`);
      missing = false;
      if (size < offset) {
        o.onStatus?.(`${path} shrank (rotated?): reading it from the start`);
        offset = 0;
        partial = '';
      }
      if (size > offset) {
        const handle = await open(path, 'r');
        try {
          const buffer = Buffer.alloc(size - offset);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
          offset += bytesRead;
          const text = partial + buffer.subarray(0, bytesRead).toString('utf8');
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) if (line.trim() !== '') onLine(line);
        } finally {
          await handle.close();
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!missing) o.onStatus?.(`waiting for ${path} to appear`);
      missing = true;
    }
    await sleep(o.pollMs ?? 250, o.signal);
  }
}
