import { join, resolve } from 'node:path';
import { Cache, Mina, PrivateKey, PublicKey, TokenId, fetchAccount } from 'o1js';
import { PoolDac } from '../../contracts/PoolDac.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import { requireMina } from '../amount.js';
import { readDeployConfig, type DeployAlias, type DeployConfig } from '../config.js';
import { FetchError, InputError, PoolError, UsageError } from '../errors.js';
import { readKey } from './keys.js';
import { LocalChain, readJsonFile, writeJsonAtomic, type LocalChainFile } from './local-chain.js';
import { PoolClient, sendTransaction, type BuiltTransaction } from './pool-client.js';
import { PoolMirror, type PoolMirrorJson } from './pool-mirror.js';

/** What `state/<alias>.json` holds: the pool's mirror, its named key files and, for `local`, the chain. */
export interface PoolStateFile {
  version: 1;
  alias: string;
  /** Name → key file path (relative to the project): members, oracle, deployer. */
  keys: Record<string, string>;
  mirror: PoolMirrorJson;
  chain?: LocalChainFile;
}

/** The alias's fee (MINA, validated by the config schema) in nanomina. */
export function feeToNano(fee: string): bigint {
  return requireMina(fee, 'fee');
}

export function statePath(root: string, alias: string): string {
  return join(root, 'state', `${alias}.json`);
}

/** Reads the alias from the deploy configuration, or says which aliases exist. */
export async function loadAlias(root: string, name: string | undefined): Promise<{ config: DeployConfig; alias: DeployAlias; name: string }> {
  const config = await readDeployConfig(join(root, 'deploy.config.json'));
  const names = Object.keys(config.deployAliases);
  if (name === undefined) throw new UsageError(`name an alias of deploy.config.json: ${names.join(', ')}`);
  const alias = config.deployAliases[name];
  if (alias === undefined) throw new UsageError(`no alias '${name}' in deploy.config.json (have: ${names.join(', ')})`, { field: 'alias' });
  return { config, alias, name };
}

/** Points o1js at the alias's network: a LocalBlockchain is set up by the caller; others are GraphQL endpoints. */
export function connectRemote(alias: DeployAlias): void {
  Mina.setActiveInstance(Mina.Network({ networkId: alias.networkId, mina: alias.url }));
}

/** Fetches accounts from a remote endpoint, with an error that names the endpoint. */
export async function fetchAccounts(alias: DeployAlias, accounts: { publicKey: PublicKey; tokenId?: ReturnType<typeof TokenId.derive> }[]): Promise<void> {
  for (const a of accounts) {
    let result: Awaited<ReturnType<typeof fetchAccount>>;
    try {
      result = await fetchAccount(a.tokenId === undefined ? { publicKey: a.publicKey } : { publicKey: a.publicKey, tokenId: a.tokenId });
    } catch (e) {
      throw new FetchError(`${alias.url}: cannot reach the network to fetch account ${a.publicKey.toBase58()}: ${(e as Error).message}`, { url: alias.url }, { cause: e });
    }
    if (result.error && !/not found|could not find/i.test(String(result.error.statusText))) {
      throw new FetchError(`${alias.url}: cannot fetch account ${a.publicKey.toBase58()}: ${result.error.statusText}`, { url: alias.url });
    }
  }
}

/** Compiles both contracts with the file cache in `cache/`, reporting progress and time. */
export async function compileContracts(root: string, log: (message: string) => void): Promise<void> {
  const cache = Cache.FileSystem(join(root, 'cache'));
  for (const contract of [PoolDac, RewardPool]) {
    const t0 = Date.now();
    log(`compiling ${contract.name} (cache: cache/)…`);
    await contract.compile({ cache });
    log(`compiled ${contract.name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/**
 * An open pool: the alias, its saved state, the chain it is connected to and a client.
 *
 * @example
 * const session = await PoolSession.open(root, 'local');
 * await session.submit(await session.client.vote(await session.key('alice'), 0, 'for'));
 */
export class PoolSession {
  readonly root: string;
  readonly name: string;
  readonly alias: DeployAlias;
  readonly state: PoolStateFile;
  readonly client: PoolClient;
  readonly chain: LocalChain | undefined;

  private constructor(root: string, name: string, alias: DeployAlias, state: PoolStateFile, client: PoolClient, chain: LocalChain | undefined) {
    this.root = root;
    this.name = name;
    this.alias = alias;
    this.state = state;
    this.client = client;
    this.chain = chain;
  }

  static async open(root: string, aliasName: string): Promise<PoolSession> {
    const { alias, name } = await loadAlias(root, aliasName);
    const file = statePath(root, name);
    const state = await readJsonFile<PoolStateFile>(file, 'pool state');
    if (state === undefined) {
      throw new PoolError('NOT_DEPLOYED', `no pool is deployed under alias '${name}' (${file} is missing): run npm run deploy -- ${name}`);
    }
    let chain: LocalChain | undefined;
    if (alias.url === 'local') {
      if (state.chain === undefined) throw new InputError(`${file}: the local chain is missing`, { file, field: 'chain' });
      chain = await LocalChain.restore(state.chain);
    } else {
      connectRemote(alias);
    }
    const mirror = PoolMirror.fromJSON(state.mirror);
    const client = new PoolClient({ dac: new PoolDac(mirror.dac), pool: new RewardPool(mirror.pool), mirror, fee: feeToNano(alias.fee) });
    return new PoolSession(root, name, alias, state, client, chain);
  }

  /** The key of a named actor (`alice`, `oracle`, `deployer`) or of a key file. */
  async key(nameOrFile: string): Promise<PrivateKey> {
    const path = this.state.keys[nameOrFile];
    if (path !== undefined) return readKey(resolve(this.root, path));
    if (nameOrFile.endsWith('.json')) return readKey(resolve(this.root, nameOrFile));
    throw new UsageError(`no key named '${nameOrFile}' (known: ${Object.keys(this.state.keys).join(', ')}); or give a key file path`, { field: 'as' });
  }

  /** Public key → name, for the named keys held here. */
  async names(): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const name of Object.keys(this.state.keys)) {
      const key = await this.key(name).catch(() => undefined);
      if (key !== undefined) names.set(key.toPublicKey().toBase58(), name);
    }
    return names;
  }

  /** For remote aliases, fetches the accounts a transaction reads. */
  async refresh(extra: PublicKey[] = []): Promise<void> {
    if (this.chain !== undefined) return;
    const { dac, pool } = this.client;
    await fetchAccounts(this.alias, [{ publicKey: dac.address }, { publicKey: pool.address }, ...extra.map((publicKey) => ({ publicKey }))]);
  }

  /** Sends a built transaction, records it on the local chain, and saves the state. */
  async submit<T>(built: BuiltTransaction<T>): Promise<T> {
    const result = await sendTransaction(built);
    this.chain?.record(built.label, built.tx.toJSON());
    await this.save();
    return result;
  }

  async save(): Promise<void> {
    const state: PoolStateFile = { ...this.state, mirror: this.client.mirror.toJSON(), ...(this.chain ? { chain: this.chain.toJSON() } : {}) };
    await writeJsonAtomic(statePath(this.root, this.name), state);
  }
}
