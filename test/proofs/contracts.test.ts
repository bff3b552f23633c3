import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { Cache, Field, Mina, PrivateKey, UInt32, UInt64, addCachedAccount, verify } from 'o1js';
import { PoolDac } from '../../contracts/PoolDac.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import { readDeployConfig } from '../../oracle/config.js';
import { deployPool } from '../../oracle/chain/deploy-pool.js';
import { PoolClient } from '../../oracle/chain/pool-client.js';
import { compileContracts, connectRemote, feeToNano } from '../../oracle/chain/pool-session.js';
import { walkthrough } from '../../oracle/chain/walkthrough.js';
import { projectRoot } from '../../oracle/paths.js';
import { MINA, TEST_PARAMS } from '../helpers/local-pool.js';

/**
 * The proving suite: compiles both contracts (file cache in cache/) and proves a
 * transaction of every method for real on a LocalBlockchain with proofs enabled.
 */
describe('contracts, proved for real', () => {
  beforeAll(async () => {
    await compileContracts(projectRoot(), (message) => process.stderr.write(`${message}\n`));
  }, 1_800_000);

  it('proves every method of PoolDac and RewardPool, and the proofs verify', async () => {
    const local = await Mina.LocalBlockchain({ proofsEnabled: true });
    Mina.setActiveInstance(local);
    local.setGlobalSlot(2 * 7140 + 100);
    const [alice, bob, oracle, deployer, newcomer] = Array.from({ length: 5 }, () => PrivateKey.random());
    for (const k of [alice!, bob!, oracle!, deployer!]) local.addAccount(k.toPublicKey(), (1000n * MINA).toString());
    const { dac, pool, mirror, transactions } = await deployPool({
      deployer: deployer!,
      dacKey: PrivateKey.random(),
      poolKey: PrivateKey.random(),
      members: [alice!, bob!].map((k) => k.toPublicKey().toBase58()),
      oracle: oracle!.toPublicKey().toBase58(),
      params: TEST_PARAMS,
      constitutionHash: Field(1),
    });
    expect(transactions).toHaveLength(2); // deploy, then openCounter (proved)
    const client = new PoolClient({ dac, pool, mirror });
    const steps = await walkthrough({
      client,
      alice: alice!,
      bob: bob!,
      newcomer: newcomer!,
      oracle: oracle!,
      operator: deployer!,
      advanceTo: (slot) => local.setGlobalSlot(slot),
      onStep: (s) => process.stderr.write(`proved ${s.contract}.${s.method}${s.calls.length ? ` (with ${s.calls.join(', ')})` : ''} in ${(s.proveMs / 1000).toFixed(1)} s\n`),
    });
    const proved = new Set(steps.flatMap((s) => [`${s.contract}.${s.method}`, ...s.calls]));
    for (const C of [PoolDac, RewardPool]) {
      for (const method of Object.keys(await C.analyzeMethods())) {
        if (`${C.name}.${method}` === 'RewardPool.openCounter') continue; // proved by the deploy
        expect(proved).toContain(`${C.name}.${method}`);
      }
    }
    expect(client.hasClaimed(mirror.lastEpoch()!, alice!.toPublicKey())).toBe(true);
  }, 3_600_000);

  it('a proof of a method verifies against its contract\'s verification key, not against another contract\'s', async () => {
    const local = await Mina.LocalBlockchain({ proofsEnabled: true });
    Mina.setActiveInstance(local);
    const [payer, dacKey] = [PrivateKey.random(), PrivateKey.random()];
    local.addAccount(payer.toPublicKey(), (1000n * MINA).toString());
    const cache = Cache.FileSystem(join(projectRoot(), 'cache'));
    const { verificationKey } = await PoolDac.compile({ cache });
    const { pool } = await deployPool({ deployer: payer, dacKey, poolKey: PrivateKey.random(), members: [payer.toPublicKey().toBase58()], oracle: payer.toPublicKey().toBase58(), params: TEST_PARAMS, constitutionHash: Field(1) });
    const tx = await Mina.transaction({ sender: payer.toPublicKey(), fee: 100_000_000 }, async () => {
      await pool.deposit(UInt64.from(MINA));
    });
    const [proof] = (await tx.prove()).proofs.filter((p) => p !== undefined);
    expect(proof).toBeDefined();
    const { verificationKey: poolVk } = await RewardPool.compile({ cache });
    expect(await verify(proof!, poolVk)).toBe(true);
    expect(await verify(proof!, verificationKey)).toBe(false);
  }, 1_800_000);

  it('builds and signs the deploy transaction for devnet and mainnet without sending it', async () => {
    const config = await readDeployConfig(join(projectRoot(), 'deploy.config.json'));
    const signatures: string[] = [];
    const vks: string[] = [];
    const poolKey = PrivateKey.random();
    for (const name of ['devnet', 'mainnet'] as const) {
      const alias = config.deployAliases[name]!;
      connectRemote(alias);
      expect(Mina.getNetworkId()).toBe(alias.networkId);
      // Circuits hash account updates with a network-specific prefix: compile for this network, as deploy does.
      await compileContracts(projectRoot(), (message) => process.stderr.write(`${name}: ${message}\n`));
      const vk = (await PoolDac.compile({ cache: Cache.FileSystem(join(projectRoot(), 'cache')) })).verificationKey.hash.toString();
      vks.push(vk);
      const deployer = PrivateKey.fromBase58('EKFKgDtU3rcuFTVSEpmpXSkukjmX4cKefYREi6Sdsk7E7wsT7KRw');
      addCachedAccount({ publicKey: deployer.toPublicKey(), balance: UInt64.from(1000n * MINA), nonce: UInt32.from(7) }, alias.url);
      const dacKey = PrivateKey.fromBase58('EKEEpMELfQkMbJDt2fB4cFXKwSf1x4t7YD4twREy5yuJ84HBZtF9');
      const { transactions, dac, pool } = await deployPool({
        deployer,
        dacKey,
        poolKey,
        members: [deployer.toPublicKey().toBase58()],
        oracle: deployer.toPublicKey().toBase58(),
        params: TEST_PARAMS,
        constitutionHash: Field(1),
        fee: feeToNano(alias.fee),
        dryRun: true,
      });
      const json = JSON.parse(transactions[0]!);
      expect(json.feePayer.body.publicKey).toBe(deployer.toPublicKey().toBase58());
      expect(json.feePayer.body.fee).toBe(feeToNano(alias.fee).toString());
      expect(json.feePayer.body.nonce).toBe('7');
      const updates = json.accountUpdates.map((u: { body: { publicKey: string } }) => u.body.publicKey);
      expect(updates).toContain(dac.address.toBase58());
      expect(updates).toContain(pool.address.toBase58());
      const dacUpdate = json.accountUpdates.find((u: { body: { publicKey: string } }) => u.body.publicKey === dac.address.toBase58());
      expect(dacUpdate.body.update.verificationKey.hash).toBe(vk);
      signatures.push(json.feePayer.authorization);
    }
    // Signatures and verification keys are network-specific.
    expect(signatures[0]).not.toBe(signatures[1]);
    expect(vks[0]).not.toBe(vks[1]);
  }, 1_800_000);
});
