import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, graphql } from 'graphql';

/**
 * A simulated block explorer for tests: a real HTTP server that executes GraphQL
 * requests against a MinaExplorer-shaped schema over an in-memory list of blocks.
 * `failures` makes the next requests fail (HTTP status or dropped connection).
 */
export interface ExplorerBlock {
  canonical: boolean;
  stateHash: string;
  creator: string;
  epoch: number;
  slot: number;
  slotSinceGenesis: number;
  lastVrfOutput: string;
  blockHeight: number;
}

const schema = buildSchema(`
  type CreatorAccount { publicKey: String }
  type ConsensusState { epoch: Int, slot: Int, slotSinceGenesis: Int, lastVrfOutput: String, blockHeight: Int }
  type ProtocolState { consensusState: ConsensusState }
  type Block { canonical: Boolean, stateHash: String, creatorAccount: CreatorAccount, protocolState: ProtocolState }
  input ConsensusStateQueryInput {
    epoch: Int, slot_gte: Int, slot_lte: Int, slotSinceGenesis_gte: Int, slotSinceGenesis_lte: Int
  }
  input ProtocolStateQueryInput { consensusState: ConsensusStateQueryInput }
  input BlockQueryInput { canonical_in: [Boolean], protocolState: ProtocolStateQueryInput }
  enum BlockSortByInput { BLOCKHEIGHT_ASC BLOCKHEIGHT_DESC }
  type Query { blocks(query: BlockQueryInput, limit: Int = 100, sortBy: BlockSortByInput): [Block] }
`);

type Range = { epoch?: number; slot_gte?: number; slot_lte?: number; slotSinceGenesis_gte?: number; slotSinceGenesis_lte?: number };

export class SimulatedExplorer {
  readonly requests: { variables: Record<string, unknown> }[] = [];
  /** Pending failures, consumed one per request: an HTTP status, or 'drop' to close the socket. */
  failures: (number | 'drop')[] = [];
  private server: Server | undefined;

  constructor(readonly blocks: ExplorerBlock[]) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const failure = this.failures.shift();
        if (failure === 'drop') {
          req.socket.destroy();
          return;
        }
        if (failure !== undefined) {
          res.writeHead(failure, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'simulated outage' }] }));
          return;
        }
        const { query, variables } = JSON.parse(body) as { query: string; variables: Record<string, unknown> };
        this.requests.push({ variables });
        void graphql({ schema, source: query, variableValues: variables, rootValue: { blocks: (args: { query?: { protocolState?: { consensusState?: Range } }; limit: number }) => this.answer(args) } }).then(
          (result) => {
            res.writeHead(result.errors ? 400 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
          },
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/graphql`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(args: { query?: { protocolState?: { consensusState?: Range } }; limit: number }) {
    const r = args.query?.protocolState?.consensusState ?? {};
    return this.blocks
      .filter((b) =>
        (r.epoch === undefined || b.epoch === r.epoch) &&
        (r.slot_gte === undefined || b.slot >= r.slot_gte) &&
        (r.slot_lte === undefined || b.slot <= r.slot_lte) &&
        (r.slotSinceGenesis_gte === undefined || b.slotSinceGenesis >= r.slotSinceGenesis_gte) &&
        (r.slotSinceGenesis_lte === undefined || b.slotSinceGenesis <= r.slotSinceGenesis_lte))
      .sort((a, b) => a.blockHeight - b.blockHeight)
      .slice(0, args.limit)
      .map((b) => ({
        canonical: b.canonical,
        stateHash: b.stateHash,
        creatorAccount: { publicKey: b.creator },
        protocolState: { consensusState: { epoch: b.epoch, slot: b.slot, slotSinceGenesis: b.slotSinceGenesis, lastVrfOutput: b.lastVrfOutput } },
      }));
  }
}

/** Explorer blocks from simulated block records of one epoch. */
export function explorerBlocks(records: { slot: number; creator: string; canonical: boolean; vrfOutput?: bigint; stateHash?: string }[], epoch: number, encodeVrf: (v: bigint) => string): ExplorerBlock[] {
  return records.map((r, i) => ({
    canonical: r.canonical,
    stateHash: r.stateHash!,
    creator: r.creator,
    epoch,
    slot: r.slot - epoch * 7140,
    slotSinceGenesis: r.slot + 564480,
    lastVrfOutput: encodeVrf(r.vrfOutput!),
    blockHeight: i,
  }));
}
