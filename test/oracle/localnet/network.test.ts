import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountUpdate, Field, Mina, PrivateKey, Reducer, SmartContract, State, UInt32, method, state } from 'o1js';
import { ProposalPayload } from '../../../contracts/types.js';
import { NetworkChain } from '../../../oracle/chain/network.js';
import { TransactionPoster } from '../../../oracle/chain/poster.js';
import { PoolClient } from '../../../oracle/pool/client.js';
import { deployPool } from '../../../oracle/pool/deploy.js';
import { LocalLedger } from '../../../oracle/localnet/ledger.js';
import { LocalNetworkServer } from '../../../oracle/localnet/server.js';
import { MINA, testParams } from '../../helpers/simulated-pool.js';

/** A contract that dispatches actions, to check the archive's actions answer against o1js's own checks. */
class Counter extends SmartContract {
  @state(Field) total = State<Field>();
  reducer = Reducer({ actionType: Field });
  @method async add(x: Field) {
    this.reducer.dispatch(x);
  }
}

describe('the local network (npm run chain)', () => {
  let dir: string;
  let ledger: LocalLedger;
  let server: LocalNetworkServer;
  const members = [PrivateKey.random(), PrivateKey.random()];
  const [deployer, oracle] = [PrivateKey.random(), PrivateKey.random()];
  let addresses: Awaited<ReturnType<typeof deployPool>>['addresses'];

  const connect = async () => {
    const chain = await NetworkChain.connect({ url: server.url, networkId: 'testnet' });
    return { chain, poster: new TransactionPoster({ chain, fee: 100_000_000n }) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'localnet-'));
    ledger = await LocalLedger.open(dir, { genesisSlot: 3 * 7140 + 10 });
    server = await LocalNetworkServer.start({ ledger, port: 0 });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers as a local chain: mock proofs, a faucet, slots that pass on request', async () => {
    const { chain } = await connect();
    expect(chain.kind).toBe('local');
    expect(chain.proofsEnabled).toBe(false);
    expect(await chain.slot()).toBe(3 * 7140 + 10);
    for (const k of [deployer, ...members, oracle]) await chain.fund!(k.toPublicKey(), 100n * MINA);
    expect((await chain.account(members[0]!.toPublicKey()))!.balance.toBigInt()).toBe(100n * MINA);
    expect(await chain.advance!(5)).toBe(3 * 7140 + 15);
    expect(await chain.slot()).toBe(3 * 7140 + 15);
  }, 60_000);

  it('deploys the pool and runs a proposal over GraphQL, with events from its archive', async () => {
    const { chain, poster } = await connect();
    ({ addresses } = await deployPool({ poster, deployer, dacKey: PrivateKey.random(), poolKey: PrivateKey.random(), members: members.map((m) => m.toPublicKey().toBase58()), oracle: oracle.toPublicKey().toBase58(), params: testParams(oracle.toPublicKey()), constitutionHash: Field(3) }));
    const client = await PoolClient.open({ chain, poster, addresses });
    expect(client.mirror.memberCount).toBe(2);
    const { number } = await client.submit(await client.propose(members[0]!, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(9) })));
    await client.submit(await client.vote(members[0]!, number, 'for'));
    await client.submit(await client.vote(members[1]!, number, 'for'));
    // A second vote sent anyway is refused by the chain, and the reason comes back in words.
    const p = client.proposal(number);
    const map = client.mirror.mapAt(p.record.membersRoot);
    await expect(poster.post({ label: 'vote again', sender: members[0]!, build: () => client.dac.vote(p.record, map.clone(), UInt32.from(1)) })).rejects.toThrow(/vote again: the chain refused it: an account it creates exists already/);
    await chain.advance!(Number(client.proposal(number).record.opensAt.toBigint()) - (await chain.slot()));
    await client.submit(await client.execute(members[1]!, number));
    expect(client.dac.constitutionHash.get()).toEqual(Field(9));
  }, 120_000);

  it('keeps its state across a restart, and a member who never saw the deploy rebuilds the pool', async () => {
    const height = ledger.height;
    await server.close();
    ledger = await LocalLedger.open(dir);
    expect(ledger.height).toBe(height);
    server = await LocalNetworkServer.start({ ledger, port: 0 });
    const { chain, poster } = await connect();
    const client = await PoolClient.open({ chain, poster, addresses });
    expect(client.dac.constitutionHash.get()).toEqual(Field(9));
    expect(await client.proposalState(0)).toBe('executed');
  }, 120_000);

  const counterKey = PrivateKey.random();

  it('serves actions so that o1js checks them against the action state', async () => {
    const { chain } = await connect();
    const key = counterKey;
    const counter = new Counter(key.toPublicKey());
    chain.use();
    const payer = members[0]!;
    await Mina.transaction({ sender: payer.toPublicKey(), fee: 100_000_000 }, async () => {
      AccountUpdate.fundNewAccount(payer.toPublicKey(), 1);
      await counter.deploy();
    }).sign([payer, key]).prove().then((tx) => chain.submit(tx));
    for (const x of [3, 4]) {
      await chain.account(payer.toPublicKey());
      const tx = await Mina.transaction({ sender: payer.toPublicKey(), fee: 100_000_000 }, async () => counter.add(Field(x)));
      await tx.prove();
      await chain.submit(tx.sign([payer]));
    }
    const actions = await counter.reducer.fetchActions();
    expect(actions.flat().map((a) => a.toString())).toEqual(['3', '4']);
  }, 120_000);

  it("serves the same actions after a restart (each block's action state follows the one before)", async () => {
    await server.close();
    ledger = await LocalLedger.open(dir);
    server = await LocalNetworkServer.start({ ledger, port: 0 });
    const { chain } = await connect();
    chain.use();
    const counter = new Counter(counterKey.toPublicKey());
    const actions = await counter.reducer.fetchActions();
    expect(actions.flat().map((a) => a.toString())).toEqual(['3', '4']);
  }, 120_000);
});
