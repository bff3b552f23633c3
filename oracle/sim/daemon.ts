import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, execute, parse, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { parseVrfOutput, vrfOutputToBase58 } from '../vrf/output.js';

/**
 * A simulated Mina daemon: the part of a daemon's GraphQL that the pool's member command
 * and chain watcher use, in the daemon's own schema and transport — `bestChain` and `block`
 * over HTTP POST (`Content-Type` exactly `application/json`, errors as HTTP 200), and the
 * `newBlock(publicKey)` subscription over a WebSocket on `/graphql` speaking Apollo's legacy
 * `subscriptions-transport-ws` (no keep-alive; nothing read after a subscription starts).
 * It serves blocks it is given: recorded mainnet blocks in the tests, the emitter's output
 * in `npm start`. It decides nothing: the test or the demo says which blocks are best chain.
 */

/** A block as the daemon's GraphQL answers it (numbers as strings). */
export interface DaemonBlockJson {
  stateHash: string;
  creator: string;
  creatorAccount: { publicKey: string };
  protocolState: {
    previousStateHash: string;
    consensusState: { blockHeight: string; slot: string; epoch: string; slotSinceGenesis: string; lastVrfOutput: string; blockCreator: string };
  };
  protocolStateProof: { base64: string };
}

const SCHEMA = buildSchema(`
  scalar PublicKey
  type Account { publicKey: PublicKey! }
  type ConsensusState { blockHeight: String! slot: String! epoch: String! slotSinceGenesis: String! lastVrfOutput: String! blockCreator: PublicKey! }
  type ProtocolState { previousStateHash: String! consensusState: ConsensusState! }
  type protocolStateProof { base64: String }
  type Block { stateHash: String! creator: PublicKey! creatorAccount: Account! protocolState: ProtocolState! protocolStateProof: protocolStateProof! }
  type query { bestChain(maxLength: Int): [Block!] block(stateHash: String, height: Int): Block! }
  type subscription { newBlock(publicKey: PublicKey): Block! }
  schema { query: query subscription: subscription }
`);

/**
 * A daemon `Block` from a precomputed block (Mina's JSON) and its state hash (which the
 * precomputed block does not contain: recorded file names carry it).
 */
export function daemonBlockFromPrecomputed(stateHash: string, precomputed: unknown): DaemonBlockJson {
  const root = precomputed as { data?: unknown };
  const d = (root.data ?? precomputed) as {
    protocol_state: { previous_state_hash: string; body: { consensus_state: Record<string, unknown> & { blockchain_length: string; block_creator: string; last_vrf_output: string; epoch_count: string; global_slot_since_genesis?: string; curr_global_slot_since_hard_fork?: { slot_number: string }; curr_global_slot?: { slot_number: string } } } };
  };
  const cs = d.protocol_state.body.consensus_state;
  const vrf = parseVrfOutput(cs.last_vrf_output);
  return daemonBlock({
    stateHash,
    previousStateHash: d.protocol_state.previous_state_hash,
    height: Number(cs.blockchain_length),
    slot: Number((cs.curr_global_slot_since_hard_fork ?? cs.curr_global_slot)!.slot_number),
    ...(cs.global_slot_since_genesis ? { slotSinceGenesis: Number(cs.global_slot_since_genesis) } : {}),
    creator: cs.block_creator,
    lastVrfOutput: vrf === undefined ? '' : vrfOutputToBase58(vrf),
  });
}

/** A daemon `Block` from its parts (`slot`: the global slot since the hard fork). */
export function daemonBlock(b: { stateHash: string; previousStateHash: string; height: number; slot: number; slotSinceGenesis?: number; creator: string; lastVrfOutput?: string }): DaemonBlockJson {
  return {
    stateHash: b.stateHash,
    creator: b.creator,
    creatorAccount: { publicKey: b.creator },
    protocolState: {
      previousStateHash: b.previousStateHash,
      consensusState: {
        blockHeight: String(b.height),
        slot: String(b.slot % SLOTS_PER_EPOCH),
        epoch: String(Math.floor(b.slot / SLOTS_PER_EPOCH)),
        slotSinceGenesis: String(b.slotSinceGenesis ?? b.slot),
        lastVrfOutput: b.lastVrfOutput ?? '',
        blockCreator: b.creator,
      },
    },
    protocolStateProof: { base64: '' },
  };
}

interface Subscriber {
  socket: WebSocket;
  id: string;
  document: DocumentNode;
  variables: Record<string, unknown>;
  publicKey?: string;
}

export class SimulatedDaemon {
  private readonly blocks = new Map<string, DaemonBlockJson>();
  /** The best chain, oldest first (state hashes). */
  private best: string[] = [];
  private readonly subscribers = new Set<Subscriber>();
  /** Every POST body the daemon received (tests check what clients asked). */
  readonly requests: { contentType: string | undefined; query: string }[] = [];

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(options: { port?: number; host?: string } = {}): Promise<SimulatedDaemon> {
    const ref: { daemon?: SimulatedDaemon } = {};
    const server = createServer((req, res) => void ref.daemon!.http(req, res.writeHead.bind(res), (body) => res.end(body)));
    const wss = new WebSocketServer({ server, path: '/graphql', handleProtocols: (protocols) => [...protocols][0] ?? false });
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const daemon = new SimulatedDaemon(server, wss, `http://127.0.0.1:${port}/graphql`);
    ref.daemon = daemon;
    wss.on('connection', (socket) => daemon.connection(socket));
    return daemon;
  }

  /** Adds blocks the daemon knows (not yet on its best chain). */
  add(...blocks: DaemonBlockJson[]): void {
    for (const b of blocks) this.blocks.set(b.stateHash, b);
  }

  /** Sets the best chain (state hashes, oldest first); every block must be known. */
  setBestChain(hashes: string[]): void {
    for (const h of hashes) if (!this.blocks.has(h)) throw new Error(`the simulated daemon does not know block ${h}`);
    this.best = [...hashes];
  }

  /** Extends the best chain by a known block. */
  extend(hash: string): void {
    this.setBestChain([...this.best, hash]);
  }

  /** Announces a block to `newBlock` subscribers (those of its creator, and those without a key). */
  announce(block: DaemonBlockJson): void {
    this.add(block);
    for (const s of this.subscribers) {
      if (s.publicKey !== undefined && s.publicKey !== block.creator) continue;
      const result = execute({ schema: SCHEMA, document: s.document, rootValue: { newBlock: block }, variableValues: s.variables }) as ExecutionResult;
      s.socket.send(JSON.stringify({ type: 'data', id: s.id, payload: result }));
    }
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Drops every WebSocket (as a daemon restart does). */
  dropConnections(): void {
    for (const c of this.wss.clients) c.terminate();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private rootValue() {
    return {
      bestChain: ({ maxLength }: { maxLength?: number }) => {
        const hashes = maxLength === undefined ? this.best : this.best.slice(-maxLength);
        return hashes.map((h) => this.blocks.get(h)!);
      },
      block: ({ stateHash, height }: { stateHash?: string; height?: number }) => {
        if ((stateHash === undefined) === (height === undefined)) throw new Error('Must provide exactly one of state hash, height');
        if (stateHash !== undefined) {
          const b = this.blocks.get(stateHash);
          if (!b) throw new Error(`Block with state hash ${stateHash} not found in transition frontier`);
          return b;
        }
        const b = this.best.slice(1).map((h) => this.blocks.get(h)!).find((x) => Number(x.protocolState.consensusState.blockHeight) === height);
        if (!b) throw new Error(`Could not find block in transition frontier with height ${height}`);
        return b;
      },
    };
  }

  private async http(req: IncomingMessage, head: (status: number, headers: Record<string, string>) => unknown, end: (body: string) => void): Promise<void> {
    const reply = (status: number, body: unknown) => {
      head(status, { 'content-type': 'application/json' });
      end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.url?.split('?')[0] !== '/graphql') return reply(404, 'This page is intentionally left blank');
    if (req.method !== 'POST') return reply(400, { errors: [{ message: 'Must provide query string' }] });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const contentType = req.headers['content-type'];
    // Like the daemon: the body is read only for exactly these content types.
    if (contentType !== 'application/json' && contentType !== 'application/graphql') return reply(400, 'Must provide query string');
    let request: { query?: string; variables?: Record<string, unknown>; operationName?: string };
    try {
      request = contentType === 'application/json' ? (JSON.parse(Buffer.concat(chunks).toString()) as typeof request) : { query: Buffer.concat(chunks).toString() };
    } catch {
      return reply(400, { errors: [{ message: 'Invalid JSON' }] });
    }
    this.requests.push({ contentType, query: request.query ?? '' });
    let document: DocumentNode;
    try {
      document = parse(request.query ?? '');
    } catch (e) {
      return reply(200, { errors: [{ message: (e as Error).message }] });
    }
    const errors = validate(SCHEMA, document);
    if (errors.length > 0) return reply(200, { errors: errors.map((e) => ({ message: e.message })) });
    const result = (await execute({ schema: SCHEMA, document, rootValue: this.rootValue(), variableValues: request.variables, operationName: request.operationName })) as ExecutionResult;
    reply(200, result);
  }

  private connection(socket: WebSocket): void {
    let subscribed = false;
    socket.on('message', (raw) => {
      // The daemon reads nothing more once a subscription runs.
      if (subscribed) return;
      let m: { type?: string; id?: string; payload?: { query?: string; variables?: Record<string, unknown> } };
      try {
        m = JSON.parse(raw.toString()) as typeof m;
      } catch {
        return socket.terminate();
      }
      const send = (type: string, id: string | null, payload: unknown) => socket.send(JSON.stringify({ type, id, payload }));
      if (m.type === 'connection_init') return send('connection_ack', null, null);
      if (m.type !== 'start') return send('error', m.id ?? null, { message: m.type === undefined ? 'Missing message type' : `Unknown message type \`${m.type}\`` });
      let document: DocumentNode;
      try {
        document = parse(m.payload?.query ?? '');
      } catch (e) {
        return send('error', m.id ?? null, { message: (e as Error).message });
      }
      const errors = validate(SCHEMA, document);
      if (errors.length > 0) return send('error', m.id ?? null, { message: { errors: errors.map((e) => ({ message: e.message })) } });
      const variables = m.payload?.variables ?? {};
      const field = (document.definitions[0] as { selectionSet?: { selections: { arguments?: { name: { value: string }; value: { kind: string; value?: string; name?: { value: string } } }[] }[] } }).selectionSet?.selections[0];
      const arg = field?.arguments?.find((a) => a.name.value === 'publicKey')?.value;
      const publicKey = arg?.kind === 'Variable' ? (variables[arg.name!.value] as string | undefined) : arg?.value;
      subscribed = true;
      const subscriber: Subscriber = { socket, id: m.id ?? '1', document, variables, ...(publicKey ? { publicKey } : {}) };
      this.subscribers.add(subscriber);
      socket.on('close', () => this.subscribers.delete(subscriber));
    });
  }
}
