import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccountUpdate, Bool, Field, Mina, Permissions, PrivateKey, PublicKey, TokenId, UInt32, UInt64, VerificationKey } from 'o1js';
import { PoolDacErrors } from '../../contracts/PoolDac.js';
import { RewardPoolErrors } from '../../contracts/RewardPool.js';
import { ProposalPayload, UpgradeTarget, tallyAddress } from '../../contracts/types.js';
import { TransactionPoster } from '../../oracle/chain/poster.js';
import { SimulatedChain } from '../../oracle/chain/simulated.js';
import { PoolClient } from '../../oracle/pool/client.js';
import { deployPool } from '../../oracle/pool/deploy.js';
import { projectRoot } from '../../oracle/paths.js';
import { advanceTo, expectRefused, fundPool, MINA, rawTransaction, run, simulatedPool, testParams, type SimulatedPool } from '../helpers/simulated-pool.js';

const helloVk = (): VerificationKey => {
  const { data, hash } = JSON.parse(readFileSync(join(projectRoot(), 'test', 'fixtures', 'hello-world-vk.json'), 'utf8')) as { data: string; hash: string };
  return new VerificationKey({ data, hash: Field(hash) });
};

describe('keys and permissions: the contract keys in the attacker\'s hands', () => {
  let env: SimulatedPool;
  let proposal: number;
  const attacker = PrivateKey.random();

  beforeAll(async () => {
    env = await simulatedPool(4);
    env.chain.local.addAccount(attacker.toPublicKey(), (100n * MINA).toString());
    await fundPool(env, 50n * MINA);
    proposal = (await run(env, () => env.client.propose(env.members[0]!, 'amendConstitution', new ProposalPayload({ ...ProposalPayload.empty(), hash: Field(5) })))).number;
  }, 120_000);

  /** A transaction the attacker signs with a contract key, paying the fee itself. */
  const signedWith = (key: PrivateKey, body: (au: AccountUpdate) => void) => () =>
    rawTransaction(env, attacker, async () => body(AccountUpdate.createSigned(key.toPublicKey())), { signers: [key] });

  it('cannot mint into a tally (decide a vote) or create a receipt by signing for PoolDac', async () => {
    const id = env.client.proposal(proposal).id;
    const mint = (address: PublicKey) =>
      signedWith(env.keys.dac, (owner) => {
        const child = AccountUpdate.create(address, TokenId.derive(env.addresses.dac));
        child.balance.addInPlace(UInt64.from(1000));
        child.body.mayUseToken = AccountUpdate.MayUseToken.ParentsOwnToken;
        owner.approve(child);
      });
    await expectRefused(mint(tallyAddress(id)), /Update_not_permitted_access/);
    // Without the key, an unsigned owner update is refused just the same.
    await expectRefused(
      () =>
        rawTransaction(env, attacker, async () => {
          const owner = AccountUpdate.create(env.addresses.dac);
          const child = AccountUpdate.create(tallyAddress(id), TokenId.derive(env.addresses.dac));
          child.balance.addInPlace(UInt64.from(1000));
          child.body.mayUseToken = AccountUpdate.MayUseToken.ParentsOwnToken;
          owner.approve(child);
        }),
      /Update_not_permitted_access/,
    );
    const { tally } = await env.client.tally(proposal);
    expect(Number(tally.for.toBigint())).toBe(0);
  });

  it('cannot move, redelegate, rekey, re-permission, edit or reuse RewardPool and PoolDac by signature', async () => {
    for (const key of [env.keys.pool, env.keys.dac]) {
      const attempts: [string, (au: AccountUpdate) => void][] = [
        ['send', (au) => au.send({ to: attacker.toPublicKey(), amount: UInt64.from(MINA) })],
        ['delegate', (au) => au.account.delegate.set(attacker.toPublicKey())],
        ['verification key', (au) => au.account.verificationKey.set(helloVk())],
        ['permissions', (au) => au.account.permissions.set(Permissions.default())],
        ['state', (au) => (au.body.update.appState[0] = { isSome: Bool(true), value: Field(1) })],
        ['nonce', (au) => (au.body.incrementNonce = Bool(true))],
        ['nothing (a no-op signed update)', () => {}],
      ];
      for (const [, body] of attempts) await expectRefused(signedWith(key, body), /Update_not_permitted_access|Cannot update field '\w+' because permission for this field is 'Impossible'/);
    }
    // As fee payer: refused outright.
    const asFeePayer = async () => {
      const tx = await Mina.transaction({ sender: env.addresses.pool, fee: 100_000_000 }, async () => {});
      await env.chain.submit(tx.sign([env.keys.pool]));
    };
    await expect(asFeePayer()).rejects.toThrow();
    expect((await env.client.funds()).pool).toBe(50n * MINA);
  });

  it('the vault takes coinbase-like payments; its key cannot move, redelegate or rekey it', async () => {
    const vault = env.addresses.vault;
    await rawTransaction(env, attacker, async () => {
      AccountUpdate.createSigned(attacker.toPublicKey()).send({ to: vault, amount: UInt64.from(7n * MINA) });
    });
    void 0;
    // RewardPool itself refuses a plain payment: this is why rewards land in the vault.
    await expectRefused(() => rawTransaction(env, attacker, async () => void AccountUpdate.createSigned(attacker.toPublicKey()).send({ to: env.addresses.pool, amount: UInt64.from(MINA) })), /Update_not_permitted_access/);
    for (const [body, code] of [
      [(au: AccountUpdate) => au.send({ to: attacker.toPublicKey(), amount: UInt64.from(MINA) }), /Update_not_permitted_balance/],
      [(au: AccountUpdate) => au.account.delegate.set(attacker.toPublicKey()), /Update_not_permitted_delegate/],
      [(au: AccountUpdate) => au.account.verificationKey.set(helloVk()), /Update_not_permitted_verification_key|field 'verificationKey' because permission for this field is 'Impossible'/],
      [(au: AccountUpdate) => au.account.permissions.set(Permissions.default()), /Update_not_permitted_permissions|field 'permissions' because permission for this field is 'Impossible'/],
    ] as const) {
      await expectRefused(signedWith(env.keys.vault, body), code);
    }
    // Anyone sweeps it, and it goes only to RewardPool.
    const before = (await env.client.funds()).pool;
    await run(env, () => env.client.sweep(attacker));
    const after = await env.client.funds();
    expect(after.pool - before).toBe(7n * MINA);
    expect(after.vault).toBe(0n);
  });

  describe('upgrades by vote', () => {
    let upgrade: number;
    beforeAll(async () => {
      const payload = new ProposalPayload({ ...ProposalPayload.empty(), target: UInt32.from(UpgradeTarget.PoolDac), hash: helloVk().hash });
      upgrade = (await run(env, () => env.client.propose(env.members[1]!, 'upgrade', payload))).number;
      for (const m of env.members.slice(0, 3)) await run(env, () => env.client.vote(m, upgrade, 'for'));
    });

    it('refuses a verification key before the upgrade is executed, or one that was not voted for', async () => {
      const p = env.client.proposal(upgrade);
      await expectRefused(() => rawTransaction(env, attacker, () => env.dac.upgrade(p.record, p.payload, helloVk()), { newAccounts: 1 }), /Account_balance_precondition_unsatisfied/);
      await advanceTo(env, Number(p.record.opensAt.toBigint()));
      await expectRefused(() => env.client.execute(attacker, upgrade), /upgrades PoolDac: give the verification key it voted for/);
      const other = await VerificationKey.dummy();
      await expectRefused(() => env.client.execute(attacker, upgrade, { vk: other }), /is not the one proposal #\d+ voted for/);
    });

    it('sets the voted verification key with the execution, once', async () => {
      const p = env.client.proposal(upgrade);
      const vk = helloVk();
      await run(env, () => env.client.execute(attacker, upgrade, { vk }));
      expect((await env.chain.account(env.addresses.dac))!.zkapp!.verificationKey!.hash).toEqual(vk.hash);
      await expectRefused(() => rawTransaction(env, attacker, () => env.dac.upgrade(p.record, p.payload, vk), { newAccounts: 1 }), /Account_is_new_precondition_unsatisfied|Invalid fee excess/);
      // A PoolDac upgrade cannot be applied to RewardPool.
      await expectRefused(() => rawTransaction(env, attacker, () => env.pool.upgrade(p.record, p.payload, vk), { newAccounts: 1 }), RewardPoolErrors.notUpgrade);
    });

    it('a RewardPool upgrade is applied by RewardPool after the execution', async () => {
      const vk = helloVk();
      const payload = new ProposalPayload({ ...ProposalPayload.empty(), target: UInt32.from(UpgradeTarget.RewardPool), hash: vk.hash });
      const n = (await run(env, () => env.client.propose(env.members[1]!, 'upgrade', payload))).number;
      for (const m of env.members.slice(0, 3)) await run(env, () => env.client.vote(m, n, 'for'));
      await advanceTo(env, Number(env.client.proposal(n).record.opensAt.toBigint()));
      await run(env, () => env.client.execute(attacker, n));
      expect(await env.client.pendingApplication(n)).toBe('upgrade');
      await run(env, () => env.client.applyExecuted(attacker, n, { vk }));
      expect((await env.chain.account(env.addresses.pool))!.zkapp!.verificationKey!.hash).toEqual(vk.hash);
      expect(await env.client.pendingApplication(n)).toBeUndefined();
    });
  });
});

describe('deploy', () => {
  it('is one transaction that cannot be made to fail by paying the addresses first', async () => {
    const chain = await SimulatedChain.create({ slot: 5000 });
    const [deployer, member, oracle] = [PrivateKey.random(), PrivateKey.random(), PrivateKey.random()];
    for (const k of [deployer, member]) chain.local.addAccount(k.toPublicKey(), (100n * MINA).toString());
    const keys = { dac: PrivateKey.random(), pool: PrivateKey.random(), vault: PrivateKey.random() };
    // Someone pays all three addresses before the deploy lands (anyone can send MINA to an address).
    for (const k of [keys.dac, keys.pool, keys.vault]) await chain.fund(k.toPublicKey(), 3n * MINA);
    const poster = new TransactionPoster({ chain, fee: 100_000_000n });
    const { addresses, transaction } = await deployPool({
      poster,
      deployer,
      dacKey: keys.dac,
      poolKey: keys.pool,
      vaultKey: keys.vault,
      members: [member.toPublicKey().toBase58()],
      oracle: oracle.toPublicKey().toBase58(),
      params: testParams(oracle.toPublicKey()),
      constitutionHash: Field(1),
    });
    const json = JSON.parse(transaction);
    expect(json.accountUpdates.filter((u: { authorization: { proof?: string | null } }) => typeof u.authorization.proof === 'string')).toHaveLength(1); // openCounter
    const client = await PoolClient.open({ chain, poster, addresses });
    expect(client.mirror.memberCount).toBe(1);
    expect(await client.paid()).toBe(0n);
    expect((await client.funds()).pool).toBe(4n * MINA); // what was paid in, plus the creation fee that was not needed
    const permissions = (await chain.account(addresses.dac))!.permissions;
    expect(permissions.access).toEqual(Permissions.proof());
    expect(permissions.setPermissions).toEqual(Permissions.impossible());
  }, 120_000);

  it('refuses more initial members than the deploy transaction can publish, before building anything', async () => {
    const chain = await SimulatedChain.create();
    const poster = new TransactionPoster({ chain, fee: 100_000_000n });
    const many = Array.from({ length: 36 }, () => PrivateKey.random().toPublicKey().toBase58());
    await expect(deployPool({ poster, deployer: PrivateKey.random(), dacKey: PrivateKey.random(), poolKey: PrivateKey.random(), members: many, oracle: many[0]!, params: testParams(PublicKey.fromBase58(many[0]!)), constitutionHash: Field(1) })).rejects.toThrow(/at most 35 initial members/);
    void PoolDacErrors;
  });
});
