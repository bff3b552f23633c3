import { AccountUpdate, Field, Mina, PrivateKey, PublicKey, UInt32 } from 'o1js';
import { MAX_INITIAL_MEMBERS, PoolDac } from '../../contracts/PoolDac.js';
import { PoolVault } from '../../contracts/PoolVault.js';
import { BackfillRegistry } from '../../contracts/BackfillRegistry.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import { MemberMap, memberKey } from '../../contracts/types.js';
import type { Inclusion } from '../chain/chain.js';
import type { TransactionPoster } from '../chain/poster.js';
import { PoolError } from '../errors.js';
import type { PoolAddresses } from './mirror.js';
import { paramsFromJson, paramsProblem, type PoolParamsJson } from './params.js';

export interface DeployPoolParams {
  poster: TransactionPoster;
  /** Pays the fees and the new accounts. */
  deployer: PrivateKey;
  dacKey: PrivateKey;
  poolKey: PrivateKey;
  /** The BackfillRegistry's key (drawn at random when not given: it has no power once deployed). */
  registryKey?: PrivateKey;
  /**
   * The vault's key: used once to deploy it and, by default, drawn at random and not kept,
   * so that nobody holds it (see `vaultPermissions`).
   */
  vaultKey?: PrivateKey;
  /** Initial members (B62), in registry order. */
  members: string[];
  oracle: string;
  params: PoolParamsJson;
  constitutionHash: Field;
  /** Build, prove and sign the deploy transaction, but send nothing. */
  dryRun?: boolean;
}

export interface DeployPoolResult {
  addresses: PoolAddresses;
  /** The deploy transaction's JSON. */
  transaction: string;
  inclusion?: Inclusion;
}

/**
 * Deploys the pool in one transaction: PoolDac, RewardPool, PoolVault and BackfillRegistry,
 * and RewardPool's paid counter. Nobody can land a transaction between them, and none of the three
 * accounts needs to be new (anyone can pay an address before the deploy lands).
 *
 * @example
 * const { addresses } = await deployPool({ poster, deployer, dacKey, poolKey, members, oracle, params, constitutionHash });
 */
export async function deployPool(p: DeployPoolParams): Promise<DeployPoolResult> {
  if (p.members.length === 0) throw new PoolError('BAD_POOL', 'a pool needs at least one member');
  if (new Set(p.members).size !== p.members.length) throw new PoolError('BAD_POOL', 'the member list has duplicates');
  if (p.members.length > MAX_INITIAL_MEMBERS) {
    throw new PoolError('BAD_POOL', `the deploy transaction carries at most ${MAX_INITIAL_MEMBERS} initial members (Mina allows 100 event fields per transaction); start with fewer and add the others by proposals`);
  }
  const problem = paramsProblem(p.params);
  if (problem) throw new PoolError('BAD_POOL', `parameters out of range: ${problem}`);
  const vaultKey = p.vaultKey ?? PrivateKey.random();
  const registryKey = p.registryKey ?? PrivateKey.random();
  const deployer = p.deployer.toPublicKey();
  const dac = new PoolDac(p.dacKey.toPublicKey());
  const pool = new RewardPool(p.poolKey.toPublicKey());
  const vault = new PoolVault(vaultKey.toPublicKey());
  const registry = new BackfillRegistry(registryKey.toPublicKey());
  const memberKeys = p.members.map((k) => PublicKey.fromBase58(k));
  const members = new MemberMap();
  memberKeys.forEach((k, i) => members.insert(memberKey(k), Field(2 * i + 1)));
  const params = paramsFromJson(p.params);

  const prepared = await p.poster.prepare({
    label: 'deploy the pool (PoolDac, RewardPool, PoolVault, BackfillRegistry)',
    sender: p.deployer,
    signers: [p.dacKey, p.poolKey, vaultKey, registryKey],
    build: async () => {
      const fee = Mina.getNetworkConstants().accountCreationFee;
      // Each contract account is paid its creation fee; if it exists already, the payment stays in it.
      const payer = AccountUpdate.createSigned(deployer);
      await dac.deploy({ init: { constitutionHash: p.constitutionHash, members, memberCount: UInt32.from(memberKeys.length), params, oracle: PublicKey.fromBase58(p.oracle) }, initialMembers: memberKeys });
      await pool.deploy({ init: { dac: dac.address, registry: registry.address } });
      await vault.deploy({ pool: pool.address });
      await registry.deploy({ init: { dac: dac.address } });
      for (const contract of [dac, pool, vault, registry]) payer.send({ to: contract.self, amount: fee });
      // The paid counter is a token account: its fee is paid explicitly.
      payer.balance.subInPlace(fee);
      await pool.openCounter();
    },
  });
  const addresses = { dac: dac.address, pool: pool.address, vault: vault.address, registry: registry.address };
  const transaction = prepared.tx.toJSON();
  if (p.dryRun) return { addresses, transaction };
  const inclusion = await p.poster.send(prepared);
  return { addresses, transaction, inclusion };
}

/** What each key can still do once the pool is deployed (printed by the deploy, in the README). */
export const KEY_POWERS = [
  'PoolDac, RewardPool and BackfillRegistry keys: nothing. Every update of these accounts needs a proof of their contract (access: proof), so the keys cannot sign for them: no payment, mint, delegation, nonce, state, permission or code change, not even as fee payer. Their code changes only through a passed upgrade proposal (BackfillRegistry has none: its code never changes). (After a hard fork that raises the transaction version, Mina reads a proof-only verification-key permission as signature, but access still demands a proof, so the keys stay powerless.)',
  'PoolVault key: not kept. It is drawn at random for the deploy and forgotten: the vault must accept coinbases (access: none), and after such a hard fork its key could replace its code. Its MINA can only be swept into RewardPool.',
  'Deployer key: paid the deploy; it has no power over the pool.',
  'Oracle key: signs epoch reports, which members can dispute during the challenge window; a report names only registered members and pays only from what the pool holds. It also signs backfill commitments, which pay compensation only to a producer whose proof shows its VRF won the lost slot.',
  'Member keys: one vote per proposal, one claim per epoch.',
];
