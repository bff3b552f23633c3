import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { AccountUpdate, Cache, Field, Mina, PrivateKey, UInt32, UInt64, addCachedAccount, verify } from 'o1js';
import { BackfillRegistry } from '../../contracts/BackfillRegistry.js';
import type { DesignatedProducerProof } from '../../contracts/DesignatedProducer.js';
import { checkDesignation, designationProofVerifier } from '../../oracle/emitter/designation.js';
import { PoolDac } from '../../contracts/PoolDac.js';
import { PoolVault } from '../../contracts/PoolVault.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import { ProposalPayload } from '../../contracts/types.js';
import { readDeployConfig } from '../../oracle/config.js';
import { mockProof } from '../../oracle/chain/o1js-internals.js';
import { TransactionPoster } from '../../oracle/chain/poster.js';
import { SimulatedChain } from '../../oracle/chain/simulated.js';
import { PoolClient } from '../../oracle/pool/client.js';
import { deployPool } from '../../oracle/pool/deploy.js';
import { compileContracts } from '../../oracle/pool/session.js';
import { walkthrough } from '../../oracle/pool/walkthrough.js';
import { projectRoot } from '../../oracle/paths.js';
import { MINA, testParams } from '../helpers/simulated-pool.js';

const log = (message: string) => process.stderr.write(`${message}\n`);

/**
 * The proving suite: compiles the three contracts (file cache in cache/) and proves a
 * transaction of every method for real, on a simulated chain that checks proofs.
 */
describe('contracts, proved for real', () => {
  let chain: SimulatedChain;
  let client: PoolClient;
  let designation: DesignatedProducerProof | undefined;
  const [alice, bob, oracle, deployer, newcomer] = Array.from({ length: 5 }, () => PrivateKey.random()) as [PrivateKey, PrivateKey, PrivateKey, PrivateKey, PrivateKey];

  beforeAll(async () => {
    chain = await SimulatedChain.create({ proofsEnabled: true, slot: 3 * 7140 + 100 });
    await compileContracts(projectRoot(), log);
    for (const k of [alice, bob, oracle, deployer, newcomer]) chain.local.addAccount(k.toPublicKey(), (1000n * MINA).toString());
    const poster = new TransactionPoster({ chain, fee: 100_000_000n, log });
    const { addresses } = await deployPool({ poster, deployer, dacKey: PrivateKey.random(), poolKey: PrivateKey.random(), members: [alice, bob].map((k) => k.toPublicKey().toBase58()), oracle: oracle.toPublicKey().toBase58(), params: testParams(oracle.toPublicKey(), { operatorFeePercent: 5 }), constitutionHash: Field(1) });
    client = await PoolClient.open({ chain, poster, addresses });
  }, 3_600_000);

  it('proves every method of PoolDac, RewardPool, PoolVault and BackfillRegistry (and a designated producer), and the chain accepts the proofs', async () => {
    const steps = await walkthrough({
      client, alice, bob, newcomer, oracle, operator: deployer,
      advanceTo: (slot) => chain.advanceTo(slot),
      onStep: (s) => log(`proved ${s.contract}.${s.method}${s.calls.length ? ` (with ${s.calls.join(', ')})` : ''} in ${(s.proveMs / 1000).toFixed(1)} s`),
      onProgram: (name, ms, proof) => {
        log(`proved ${name} in ${(ms / 1000).toFixed(1)} s`);
        designation = proof;
      },
    });
    const proved = new Set(steps.flatMap((s) => [`${s.contract}.${s.method}`, ...s.calls]));
    expect(client.mirror.compensations).toHaveLength(1);
    for (const C of [PoolDac, RewardPool, PoolVault, BackfillRegistry]) {
      for (const method of Object.keys(await C.analyzeMethods())) {
        if (`${C.name}.${method}` === 'RewardPool.openCounter') continue; // proved by the deploy
        expect(proved).toContain(`${C.name}.${method}`);
      }
    }
    expect(await client.hasClaimed(client.mirror.lastEpoch()!, alice.toPublicKey())).toBe(true);
  }, 3_600_000);

  it("the emitter's intake verifies a real designated-producer proof, and refuses it with another slot's statement or a mock proof", async () => {
    const verifyProof = await designationProofVerifier(join(projectRoot(), 'cache'));
    const json = designation!.toJSON();
    const slot = Number(designation!.publicInput.slot.toBigint());
    const member = designation!.publicInput.producer.toBase58();
    await expect(checkDesignation(json, { slot, member }, { verifyProof })).resolves.toBeUndefined();
    // The same proof with the slot in its statement changed: the statement matches the proposal, the proof does not.
    const forged = { ...json, publicInput: json.publicInput.map((x, i) => (i === 1 ? String(slot + 1) : x)) };
    await expect(checkDesignation(forged, { slot: slot + 1, member }, { verifyProof })).rejects.toMatchObject({ code: 'BAD_DESIGNATION', message: expect.stringMatching(/does not verify/) });
    // A mock proof (proofs off) of a true statement.
    const mock = { ...json, proof: await mockProof(join(projectRoot(), 'cache')) };
    await expect(checkDesignation(mock, { slot, member }, { verifyProof })).rejects.toMatchObject({ code: 'BAD_DESIGNATION' });
  }, 600_000);

  it('the chain refuses a transaction whose proof is not from the contract: a rule cannot be skipped', async () => {
    // A vote by a non-member cannot be proved (the circuit is unsatisfiable) …
    const outsider = PrivateKey.random();
    chain.local.addAccount(outsider.toPublicKey(), (10n * MINA).toString());
    const { number } = await client.submit(await client.propose(alice, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(7) })));
    const p = client.proposal(number);
    const map = client.mirror.mapAt(p.record.membersRoot);
    await expect(Mina.transaction({ sender: outsider.toPublicKey(), fee: 100_000_000 }, async () => {
      AccountUpdate.fundNewAccount(outsider.toPublicKey(), 1);
      await client.dac.vote(p.record, map.clone(), UInt32.from(1));
    }).then((tx) => tx.prove())).rejects.toThrow();
    // … and a mock proof in its place (what skipping the circuit gives) is refused by the chain.
    const tx = await Mina.transaction({ sender: bob.toPublicKey(), fee: 100_000_000 }, async () => {
      AccountUpdate.fundNewAccount(bob.toPublicKey(), 1);
      await client.dac.vote(p.record, map.clone(), UInt32.from(1));
    });
    const proof = await mockProof(join(projectRoot(), 'cache'));
    for (const u of tx.transaction.accountUpdates) if (u.lazyAuthorization?.kind === 'lazy-proof') Object.assign(u, { authorization: { proof }, lazyAuthorization: undefined });
    await expect(chain.submit(tx.sign([bob]))).rejects.toThrow(/proof|Invalid/i);
    expect((await client.tally(number)).tally.for.toBigint()).toBe(0n);
  }, 1_800_000);

  it("a proof of a method verifies against its contract's verification key, not against another's", async () => {
    const cache = Cache.FileSystem(join(projectRoot(), 'cache'));
    const tx = await Mina.transaction({ sender: alice.toPublicKey(), fee: 100_000_000 }, async () => {
      AccountUpdate.createSigned(alice.toPublicKey()).balance.subInPlace(UInt64.from(MINA));
      await client.pool.deposit(UInt64.from(MINA));
    });
    const [proof] = (await tx.prove()).proofs.filter((x) => x !== undefined);
    expect(proof).toBeDefined();
    const { verificationKey: poolVk } = await RewardPool.compile({ cache });
    const { verificationKey: dacVk } = await PoolDac.compile({ cache });
    expect(await verify(proof!, poolVk)).toBe(true);
    expect(await verify(proof!, dacVk)).toBe(false);
  }, 1_800_000);

  it('builds and signs the one deploy transaction for devnet and mainnet without sending it', async () => {
    const config = await readDeployConfig(join(projectRoot(), 'deploy.config.json'));
    const signatures: string[] = [];
    const vks: string[] = [];
    for (const name of ['devnet', 'mainnet'] as const) {
      const alias = config.deployAliases[name]!;
      const network = Mina.Network({ networkId: alias.networkId, mina: alias.url });
      const offline = { use: () => Mina.setActiveInstance(network) };
      offline.use();
      // Circuits hash account updates with a network-specific prefix: compiled per network, as deploy does.
      await compileContracts(projectRoot(), (m) => log(`${name}: ${m}`));
      vks.push((await PoolDac.compile({ cache: Cache.FileSystem(join(projectRoot(), 'cache')) })).verificationKey.hash.toString());
      const deployer = PrivateKey.fromBase58('EKFKgDtU3rcuFTVSEpmpXSkukjmX4cKefYREi6Sdsk7E7wsT7KRw');
      addCachedAccount({ publicKey: deployer.toPublicKey(), balance: UInt64.from(1000n * MINA), nonce: UInt32.from(7) }, alias.url);
      const poster = new TransactionPoster({ chain: { ...chain, use: offline.use, account: async () => undefined, proofsEnabled: true, label: alias.url } as unknown as SimulatedChain, fee: 100_000_000n });
      const { transaction, addresses } = await deployPool({ poster, deployer, dacKey: PrivateKey.random(), poolKey: PrivateKey.random(), members: [deployer.toPublicKey().toBase58()], oracle: deployer.toPublicKey().toBase58(), params: testParams(deployer.toPublicKey()), constitutionHash: Field(1), dryRun: true });
      const json = JSON.parse(transaction);
      expect(json.feePayer.body.publicKey).toBe(deployer.toPublicKey().toBase58());
      expect(json.feePayer.body.nonce).toBe('7');
      const dacUpdate = json.accountUpdates.find((u: { body: { publicKey: string } }) => u.body.publicKey === addresses.dac.toBase58());
      expect(dacUpdate.body.update.verificationKey.hash).toBe(vks[vks.length - 1]);
      signatures.push(json.feePayer.authorization);
    }
    expect(signatures[0]).not.toBe(signatures[1]);
    expect(vks[0]).not.toBe(vks[1]);
  }, 3_600_000);
});
