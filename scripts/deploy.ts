import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PublicKey } from 'o1js';
import { deployPool } from '../oracle/chain/deploy-pool.js';
import { readKey, readOrCreateKey } from '../oracle/chain/keys.js';
import { LocalChain, readJsonFile, writeJsonAtomic } from '../oracle/chain/local-chain.js';
import { compileContracts, connectRemote, feeToNano, fetchAccounts, loadAlias, statePath, type PoolStateFile } from '../oracle/chain/pool-session.js';
import { PoolError, UsageError } from '../oracle/errors.js';
import { constitutionHashOf, readPoolFile } from '../oracle/pool-file.js';
import { parseCommandLine, runCli } from './cli.js';

const HELP = `Deploys the pool's contracts (PoolDac and RewardPool) under an alias of deploy.config.json.

Usage:
  npm run deploy -- <alias> [--pool pool.json] [--proofs] [--force]

  alias          local: an in-process LocalBlockchain kept in state/local.json (mock proofs
                 unless --proofs); devnet, mainnet: the alias's GraphQL endpoint and key files
  --pool FILE    the pool file: members, oracle, constitution, parameters (default pool.json)
  --proofs       local only: prove for real (compiles with the cache in cache/)
  --force        local only: replace an existing local deployment
  --dry-run      build, prove and sign the deploy transaction and print it; send nothing

The addresses are written back to deploy.config.json under the alias. For local, missing key
files (members, oracle, deployer, contracts) are created under keys/ (git-ignored).`;

const MINA = 1_000_000_000n;
const LOCAL_START_SLOT = 100_000;

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), {
    pool: { type: 'string' },
    proofs: { type: 'boolean' },
    force: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const root = process.cwd();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const { alias, name } = await loadAlias(root, positionals[0]);
  const local = alias.url === 'local';
  if (!local && (values.proofs || values.force)) throw new UsageError('--proofs and --force apply to the local alias only');
  const poolFile = values.pool ?? 'pool.json';
  const pool = await readPoolFile(resolve(root, poolFile));
  const constitution = await readFile(resolve(root, pool.constitution)).catch(() => {
    throw new PoolError('BAD_INPUT', `${poolFile}: field 'constitution': cannot read ${pool.constitution}`);
  });
  const dryRun = values['dry-run'] ?? false;
  const existing = await readJsonFile<PoolStateFile>(statePath(root, name), 'pool state');
  if (existing !== undefined && !(local && values.force) && !dryRun) {
    throw new PoolError('ALREADY_DEPLOYED', `a pool is already deployed under '${name}' (${statePath(root, name)})${local ? '; use --force to replace it' : ''}`);
  }

  // Keys: created for local when missing; required for remote networks.
  const keyAt = async (path: string) => (local ? (await readOrCreateKey(resolve(root, path))).key : readKey(resolve(root, path)));
  const rewardPoolKeyPath = alias.keyPath.replace(/\.json$/, '') + '-reward-pool.json';
  const dacKey = await keyAt(alias.keyPath);
  const poolKey = await keyAt(rewardPoolKeyPath);
  const deployer = await keyAt(alias.feepayerKeyPath);
  const keys: Record<string, string> = { deployer: alias.feepayerKeyPath };
  const memberKeys: PublicKey[] = [];
  for (const m of pool.members) {
    if (m.keyPath !== undefined) {
      const key = await keyAt(m.keyPath);
      if (m.publicKey !== undefined && m.publicKey !== key.toPublicKey().toBase58()) {
        throw new PoolError('BAD_INPUT', `${poolFile}: member '${m.name}': publicKey does not match ${m.keyPath}`);
      }
      keys[m.name] = m.keyPath;
      memberKeys.push(key.toPublicKey());
    } else memberKeys.push(PublicKey.fromBase58(m.publicKey!));
  }
  let oracle: PublicKey;
  if (pool.oracle.keyPath !== undefined) {
    oracle = (await keyAt(pool.oracle.keyPath)).toPublicKey();
    keys.oracle = pool.oracle.keyPath;
  } else oracle = PublicKey.fromBase58(pool.oracle.publicKey!);

  let chain: LocalChain | undefined;
  if (local) {
    chain = await LocalChain.create(LOCAL_START_SLOT, values.proofs ?? false);
    for (const k of [deployer.toPublicKey(), oracle, ...memberKeys]) chain.fund(k, 1000n * MINA);
    log(`local chain: ${memberKeys.length + 2} accounts funded with 1000 MINA each, slot ${LOCAL_START_SLOT}`);
  } else {
    connectRemote(alias);
    log(`network: ${alias.url} (${alias.networkId})`);
    await fetchAccounts(alias, [{ publicKey: deployer.toPublicKey() }]);
  }
  if (!local || values.proofs) await compileContracts(root, log);
  else log('mock proofs: nothing to compile (use --proofs to prove for real)');

  const t0 = Date.now();
  const result = await deployPool({
    deployer,
    dacKey,
    poolKey,
    members: memberKeys.map((k) => k.toBase58()),
    oracle: oracle.toBase58(),
    params: pool.params,
    constitutionHash: constitutionHashOf(constitution),
    fee: feeToNano(alias.fee),
    onProgress: log,
    beforeSecond: local ? undefined : () => fetchAccounts(alias, [{ publicKey: deployer.toPublicKey() }, { publicKey: poolKey.toPublicKey() }]),
    dryRun,
  });
  if (dryRun) {
    process.stdout.write(result.transactions[0]! + '\n');
    return 0;
  }
  result.transactions.forEach((json, i) => chain?.record(i === 0 ? 'deploy' : 'open counter', json));
  log(`deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const state: PoolStateFile = { version: 1, alias: name, keys, mirror: result.mirror.toJSON(), ...(chain ? { chain: chain.toJSON() } : {}) };
  await writeJsonAtomic(statePath(root, name), state);

  // Write the addresses back under the alias.
  const configFile = join(root, 'deploy.config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8'));
  config.deployAliases[name].addresses = { PoolDac: result.dac.address.toBase58(), RewardPool: result.pool.address.toBase58() };
  await writeFile(configFile, JSON.stringify(config, null, 2) + '\n');

  process.stdout.write(
    [
      `Deployed pool '${pool.name}' under alias '${name}'`,
      `PoolDac:    ${result.dac.address.toBase58()}`,
      `RewardPool: ${result.pool.address.toBase58()}`,
      `members:    ${memberKeys.length} (${pool.members.map((m) => m.name).join(', ')})`,
      `oracle:     ${oracle.toBase58()}`,
      `state:      state/${name}.json`,
      `Next: npm run pool -- status --alias ${name}`,
    ].join('\n') + '\n',
  );
  return 0;
}

await runCli(main);
