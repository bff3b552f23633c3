import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PrivateKey, PublicKey } from 'o1js';
import { NANO_PER_MINA, nanoToMina } from '../amount.js';
import type { Log } from '../chain/poster.js';
import { PoolError, UsageError } from '../errors.js';
import { fileProblem, parseJsonText, writeJsonAtomic } from '../json-file.js';
import { readKey, readOrCreateKey, writeKey } from '../keys.js';
import { deployPool, KEY_POWERS } from './deploy.js';
import type { PoolAddresses } from './mirror.js';
import { constitutionHashOf, readPoolFile } from './pool-file.js';
import { writeStateFile } from './keyring.js';
import { PoolSession } from './session.js';

export interface DeployAliasOptions {
  root: string;
  alias: string;
  /** The pool file (members, oracle, operator, constitution, parameters). */
  poolFile: string;
  /** Deploy a new pool even though one is deployed under the alias (the old one stays on chain). */
  force?: boolean;
  dryRun?: boolean;
  log: Log;
}

export interface DeployAliasResult {
  name: string;
  addresses?: PoolAddresses;
  members: { name: string; publicKey: string }[];
  oracle: string;
  operator: string;
  /** The signed transaction, on a dry run. */
  transaction?: string;
  keyPowers: string[];
}

/**
 * Deploys the pool of a pool file under an alias of `deploy.config.json`: on the local
 * chain it creates missing key files under `keys/` and funds the parties from the faucet;
 * on a network the key files must exist. The addresses are written back under the alias.
 */
export async function deployAlias(o: DeployAliasOptions): Promise<DeployAliasResult> {
  const pool = await readPoolFile(resolve(o.root, o.poolFile));
  const constitution = await readFile(resolve(o.root, pool.constitution)).catch((e) => {
    throw new PoolError('BAD_INPUT', `${o.poolFile}: field 'constitution': cannot read ${pool.constitution} (${fileProblem(e)})`);
  });
  const session = await PoolSession.connect({ root: o.root, alias: o.alias, log: o.log });
  const { chain, alias } = session;
  const local = chain.kind === 'local';

  if (alias.addresses && !o.dryRun && !o.force && (await chain.account(PublicKey.fromBase58(alias.addresses.PoolDac)))?.zkapp) {
    throw new PoolError('ALREADY_DEPLOYED', `a pool is already deployed under '${o.alias}' (PoolDac ${alias.addresses.PoolDac}); --force deploys a new one (the old one stays on chain)`);
  }
  // Keys: created on the local chain when missing; required on a network.
  const keyAt = async (path: string) => (local ? (await readOrCreateKey(resolve(o.root, path))).key : readKey(resolve(o.root, path)));
  // The other contracts' keys sit beside PoolDac's: keys/local.json → keys/local-reward-pool.json, …
  const beside = (suffix: string) => alias.keyPath.replace(/\.json$/, '') + `-${suffix}.json`;
  const [poolKeyPath, registryKeyPath] = [beside('reward-pool'), beside('backfill-registry')];
  let [dacKey, poolKey, registryKey] = [await keyAt(alias.keyPath), await keyAt(poolKeyPath), await keyAt(registryKeyPath)];
  if (o.force && alias.addresses && dacKey.toPublicKey().toBase58() === alias.addresses.PoolDac) {
    if (!local) throw new UsageError(`--force: ${alias.keyPath} holds the deployed PoolDac's key; give new contract key files for the new pool`);
    [dacKey, poolKey, registryKey] = [PrivateKey.random(), PrivateKey.random(), PrivateKey.random()];
    await writeKey(resolve(o.root, alias.keyPath), dacKey);
    await writeKey(resolve(o.root, poolKeyPath), poolKey);
    await writeKey(resolve(o.root, registryKeyPath), registryKey);
  }
  const deployer = await keyAt(alias.feepayerKeyPath);
  const keys: Record<string, string> = { deployer: alias.feepayerKeyPath };
  const party = async (name: string, p: { publicKey?: string; keyPath?: string }) => {
    if (p.keyPath === undefined) return PublicKey.fromBase58(p.publicKey!);
    const key = await keyAt(p.keyPath);
    if (p.publicKey !== undefined && p.publicKey !== key.toPublicKey().toBase58()) throw new PoolError('BAD_INPUT', `${o.poolFile}: '${name}': publicKey does not match ${p.keyPath}`);
    keys[name] = p.keyPath;
    return key.toPublicKey();
  };
  const members = [];
  for (const m of pool.members) members.push({ name: m.name, publicKey: (await party(m.name, m)).toBase58() });
  const oracle = await party('oracle', pool.oracle);
  const operator = pool.operator ? await party('operator', pool.operator) : oracle;

  if (local && chain.fund) {
    const funded: string[] = [];
    for (const [name, pk] of [['deployer', deployer.toPublicKey()], ['oracle', oracle], ['operator', operator], ...members.map((m) => [m.name, PublicKey.fromBase58(m.publicKey)] as const)] as const) {
      const balance = (await chain.account(pk))?.balance.toBigInt() ?? 0n;
      if (balance >= 10n * NANO_PER_MINA || funded.includes(pk.toBase58())) continue;
      await chain.fund(pk, 1000n * NANO_PER_MINA);
      funded.push(pk.toBase58());
      o.log(`funded ${name} with 1000 MINA from the local faucet`);
    }
  }
  const result = await deployPool({
    poster: session.poster,
    deployer,
    dacKey,
    poolKey,
    registryKey,
    members: members.map((m) => m.publicKey),
    oracle: oracle.toBase58(),
    params: { ...pool.params, operator: operator.toBase58() },
    constitutionHash: constitutionHashOf(constitution),
    dryRun: o.dryRun,
  });
  const out: DeployAliasResult = { name: pool.name, members, oracle: oracle.toBase58(), operator: operator.toBase58(), keyPowers: KEY_POWERS };
  if (o.dryRun) return { ...out, transaction: result.transaction };

  // Write the addresses back under the alias, and the names of the key files on this machine.
  const configFile = join(o.root, 'deploy.config.json');
  const config = parseJsonText(await readFile(configFile, 'utf8'), configFile) as { deployAliases: Record<string, Record<string, unknown>> };
  config.deployAliases[o.alias]!.addresses = { PoolDac: result.addresses.dac.toBase58(), RewardPool: result.addresses.pool.toBase58(), PoolVault: result.addresses.vault.toBase58(), BackfillRegistry: result.addresses.registry.toBase58() };
  await writeJsonAtomic(configFile, config);
  await writeStateFile(o.root, o.alias, keys);
  o.log(`deployed; the deployer paid fees and ${nanoToMina(5n * NANO_PER_MINA)} MINA of account creation`);
  return { ...out, addresses: result.addresses };
}
