import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, graphql, valueFromASTUntyped, type GraphQLScalarType } from 'graphql';
import { Field, PublicKey, TokenId, Types } from 'o1js';
import { SLOTS_PER_EPOCH } from '../../contracts/types.js';
import { DEFAULT_TOKEN_BASE58 } from '../chain/archive.js';
import { o1jsInternals } from '../chain/o1js-internals.js';
import type { Log } from '../chain/poster.js';
import { PoolError } from '../errors.js';
import type { LocalLedger } from './ledger.js';
import { LOCAL_SCHEMA } from './schema.js';

const MAX_BODY = 8 * 1024 * 1024;

export interface LocalNetworkOptions {
  ledger: LocalLedger;
  port: number;
  host?: string;
  log?: Log;
}

/**
 * The local network's HTTP face: POST `/graphql` answers the daemon's and the archive's
 * queries that o1js uses, from the {@link LocalLedger}, so the pool's commands run the
 * same code against it as against devnet and mainnet.
 *
 * @example
 * const ledger = await LocalLedger.open('state/chain');
 * const server = await LocalNetworkServer.start({ ledger, port: 3085 });
 */
export class LocalNetworkServer {
  readonly url: string;
  private readonly server: Server;

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(options: LocalNetworkOptions): Promise<LocalNetworkServer> {
    const schema = buildSchema(LOCAL_SCHEMA);
    const json = schema.getType('JSON') as GraphQLScalarType;
    json.parseLiteral = (ast) => valueFromASTUntyped(ast);
    json.parseValue = (v) => v;
    json.serialize = (v) => v;
    const rootValue = await resolvers(options.ledger);
    const log = options.log ?? (() => {});
    const server = createServer((req, res) => void handle(req, res, schema, rootValue, log));
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PoolError('PORT_IN_USE', `port ${options.port} on ${host} is in use (is a local chain running already?); choose another with --port`) : e));
      server.listen(options.port, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new LocalNetworkServer(server, `http://${host}:${port}/graphql`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, schema: ReturnType<typeof buildSchema>, rootValue: object, log: Log): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST' || !/^\/(graphql)?\/?$/.test((req.url ?? '/').split('?')[0]!)) return reply(404, { errors: [{ message: 'POST GraphQL requests to /graphql' }] });
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return reply(413, { errors: [{ message: 'request too large' }] });
    chunks.push(chunk as Buffer);
  }
  let body: { query?: unknown; variables?: Record<string, unknown>; operationName?: string | null };
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return reply(400, { errors: [{ message: 'the body is not JSON' }] });
  }
  if (typeof body.query !== 'string') return reply(400, { errors: [{ message: 'no query in the body' }] });
  const result = await graphql({ schema, source: body.query, rootValue, variableValues: body.variables ?? undefined, operationName: body.operationName ?? undefined });
  if (result.errors?.length) log('graphql request refused', { error: result.errors[0]!.message.slice(0, 200) });
  reply(200, result);
}

/** Resolvers, as a root value: each field of Query and Mutation. */
async function resolvers(ledger: LocalLedger) {
  const { LedgerHash, EpochSeed, StateHash, ReceiptChainHash } = await o1jsInternals();
  const zero = Field(0);
  const stateHash = (height: number) => StateHash.toBase58(Field(height));

  const blockJson = (b: { height: number; slot: number; transactions: { hash: string }[] }) => {
    const net = ledger.local.getNetworkState();
    const epochData = (d: typeof net.stakingEpochData) => ({
      ledger: { hash: LedgerHash.toBase58(d.ledger.hash), totalCurrency: d.ledger.totalCurrency.toString() },
      seed: EpochSeed.toBase58(d.seed),
      startCheckpoint: StateHash.toBase58(d.startCheckpoint),
      lockCheckpoint: StateHash.toBase58(d.lockCheckpoint),
      epochLength: d.epochLength.toString(),
    });
    const date = String(Date.parse(ledger.meta.genesisTimestamp) + (b.slot - ledger.meta.genesisSlot) * 180_000);
    return {
      stateHash: stateHash(b.height),
      protocolState: {
        previousStateHash: stateHash(b.height - 1),
        blockchainState: { snarkedLedgerHash: LedgerHash.toBase58(zero), stagedLedgerHash: LedgerHash.toBase58(zero), date, utcDate: date, stagedLedgerProofEmitted: false },
        consensusState: {
          blockHeight: String(b.height),
          slotSinceGenesis: String(b.slot),
          slot: String(b.slot % SLOTS_PER_EPOCH),
          epoch: String(Math.floor(b.slot / SLOTS_PER_EPOCH)),
          epochCount: String(Math.floor(b.slot / SLOTS_PER_EPOCH)),
          minWindowDensity: net.minWindowDensity.toString(),
          totalCurrency: net.totalCurrency.toString(),
          nextEpochData: epochData(net.nextEpochData),
          stakingEpochData: epochData(net.stakingEpochData),
        },
      },
      transactions: { zkappCommands: b.transactions.map((t) => ({ hash: t.hash, failureReason: null })) },
    };
  };

  const blockInfo = (height: number) => {
    const b = ledger.blocks[height - 1];
    return {
      height,
      stateHash: stateHash(height),
      parentHash: stateHash(height - 1),
      ledgerHash: LedgerHash.toBase58(zero),
      chainStatus: 'canonical',
      timestamp: ledger.meta.genesisTimestamp,
      globalSlotSinceHardfork: b?.slot ?? ledger.slot,
      globalSlotSinceGenesis: b?.slot ?? ledger.slot,
      distanceFromMaxBlockHeight: ledger.height - height,
    };
  };
  const transactionInfo = (hash: string, ids: number[] = []) => ({ status: 'applied', hash, memo: '', authorizationKind: '', sequenceNumber: 0, zkappAccountUpdateIds: ids });

  const localChain = () => ({ slot: ledger.slot, height: ledger.height, proofsEnabled: ledger.meta.proofsEnabled, networkId: ledger.meta.networkId, faucet: ledger.meta.faucet.publicKey });

  return {
    account: ({ publicKey, token }: { publicKey: string; token?: string }) => {
      let pk: PublicKey;
      let tokenId: Field;
      try {
        pk = PublicKey.fromBase58(publicKey);
        tokenId = token ? TokenId.fromBase58(token) : TokenId.default;
      } catch {
        throw new Error(`not a public key or token id: ${publicKey} ${token ?? ''}`);
      }
      const a = ledger.account(pk, tokenId);
      if (!a) return null;
      const j = Types.Account.toJSON(a);
      const timing = j.timing.isTimed
        ? { initialMinimumBalance: j.timing.initialMinimumBalance, cliffTime: j.timing.cliffTime, cliffAmount: j.timing.cliffAmount, vestingPeriod: j.timing.vestingPeriod, vestingIncrement: j.timing.vestingIncrement }
        : { initialMinimumBalance: null, cliffTime: null, cliffAmount: null, vestingPeriod: null, vestingIncrement: null };
      return {
        publicKey: j.publicKey,
        token: j.tokenId,
        nonce: j.nonce,
        inferredNonce: j.nonce,
        balance: { total: j.balance },
        tokenSymbol: j.tokenSymbol,
        receiptChainHash: ReceiptChainHash.toBase58(a.receiptChainHash),
        timing,
        permissions: j.permissions,
        delegateAccount: j.delegate ? { publicKey: j.delegate } : null,
        votingFor: j.votingFor,
        zkappState: j.zkapp?.appState ?? null,
        verificationKey: j.zkapp?.verificationKey ? { verificationKey: j.zkapp.verificationKey.data, hash: j.zkapp.verificationKey.hash } : null,
        actionState: j.zkapp?.actionState ?? null,
        provedState: j.zkapp?.provedState ?? false,
        zkappUri: j.zkapp?.zkappUri ?? null,
      };
    },
    bestChain: ({ maxLength }: { maxLength?: number }) => {
      const n = Math.max(1, Math.min(maxLength ?? 1, 290));
      const tip = ledger.blocks.length === 0 ? [{ height: 0, slot: ledger.slot, transactions: [] }] : [];
      return [...ledger.blocks.slice(-n), ...tip].reverse().map(blockJson);
    },
    genesisConstants: () => ({ genesisTimestamp: ledger.meta.genesisTimestamp, coinbase: '720000000000', accountCreationFee: '1000000000' }),
    daemonStatus: () => ({ consensusConfiguration: { epochDuration: SLOTS_PER_EPOCH * 180_000, k: 290, slotDuration: 180_000, slotsPerEpoch: SLOTS_PER_EPOCH } }),
    transactionStatus: ({ zkappTransaction }: { zkappTransaction?: string }) =>
      ledger.blocks.some((b) => b.transactions.some((t) => t.hash === zkappTransaction)) ? 'INCLUDED' : 'UNKNOWN',
    events: ({ input }: { input: { address: string; tokenId?: string; from?: number; to?: number } }) => {
      const byBlock = new Map<number, { hash: string; data: string[] }[]>();
      for (const e of ledger.events(input.address, input.tokenId ?? DEFAULT_TOKEN_BASE58, { from: input.from, to: input.to })) {
        const list = byBlock.get(e.blockHeight) ?? [];
        list.push({ hash: e.transactionHash, data: e.data });
        byBlock.set(e.blockHeight, list);
      }
      return [...byBlock].map(([height, events]) => ({ blockInfo: blockInfo(height), eventData: events.map((e) => ({ transactionInfo: transactionInfo(e.hash), data: e.data })) }));
    },
    actions: ({ input }: { input: { address: string; tokenId?: string; from?: number; to?: number; fromActionState?: string; endActionState?: string } }) => {
      let list = ledger.actionsOf(input.address, input.tokenId ?? DEFAULT_TOKEN_BASE58).filter((a) => (input.from === undefined || a.blockHeight >= input.from) && (input.to === undefined || a.blockHeight <= input.to));
      if (input.fromActionState) {
        const i = list.findIndex((a) => a.after === input.fromActionState);
        if (i >= 0) list = list.slice(i + 1);
      }
      if (input.endActionState) {
        const i = list.findIndex((a) => a.after === input.endActionState);
        if (i >= 0) list = list.slice(0, i + 1);
      }
      return list.map((a) => ({
        blockInfo: blockInfo(a.blockHeight),
        actionState: { actionStateOne: a.after, actionStateTwo: a.before },
        actionData: a.rows.map((r) => ({ accountUpdateId: String(r.accountUpdateId), data: r.data, transactionInfo: transactionInfo('', a.accountUpdateIds) })),
      }));
    },
    localChain,
    sendZkapp: async ({ input }: { input: { zkappCommand: unknown } }) => {
      const command = input.zkappCommand as { memo: string; feePayer: { body: { publicKey: string } }; accountUpdates: { body: { publicKey: string; useFullCommitment: boolean; incrementNonce: boolean } }[] };
      const { hash } = await ledger.send(JSON.stringify(command));
      return { zkapp: { hash, id: hash, failureReason: null, zkappCommand: command } };
    },
    advanceSlots: async ({ slots }: { slots: number }) => {
      await ledger.advance(slots);
      return localChain();
    },
    fund: async ({ publicKey, amount }: { publicKey: string; amount: string }) => {
      if (!/^\d+$/.test(amount)) throw new Error(`amount: nanomina as a whole number, got ${JSON.stringify(amount)}`);
      let pk: PublicKey;
      try {
        pk = PublicKey.fromBase58(publicKey);
      } catch {
        throw new Error(`not a public key: ${publicKey}`);
      }
      return ledger.fund(pk, BigInt(amount));
    },
  };
}
