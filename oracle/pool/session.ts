import { join } from 'node:path';
import { Cache, PublicKey, type PrivateKey } from 'o1js';
import { POOL_CIRCUITS } from '../../contracts/index.js';
import { requireMina } from '../amount.js';
import { NetworkChain } from '../chain/network.js';
import { TransactionPoster, type Log } from '../chain/poster.js';
import { readDeployConfig, type DeployAlias, type DeployConfig } from '../config.js';
import { PoolError, UsageError } from '../errors.js';
import { PoolClient } from './client.js';
import { KeyRing } from './keyring.js';


/** Reads the alias from the deploy configuration, or says which aliases exist. */
export async function loadAlias(root: string, name: string): Promise<{ config: DeployConfig; alias: DeployAlias; name: string }> {
  const config = await readDeployConfig(join(root, 'deploy.config.json'));
  const alias = config.deployAliases[name];
  if (alias === undefined) throw new UsageError(`no alias '${name}' in deploy.config.json (have: ${Object.keys(config.deployAliases).join(', ')})`, { field: 'alias' });
  return { config, alias, name };
}

/** Compiles the contracts with the file cache in `cache/`, saying what it does and how long it took. */
export async function compileContracts(root: string, log: Log): Promise<void> {
  const cache = Cache.FileSystem(join(root, 'cache'));
  for (const [name, circuit] of POOL_CIRCUITS) {
    const t0 = Date.now();
    log(`compiling ${name} (cache: cache/; minutes the first time, seconds after)`);
    await circuit.compile({ cache });
    log(`compiled ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

export interface OpenOptions {
  root: string;
  alias: string;
  log: Log;
}

/**
 * A pool as one machine sees it: the alias's chain (the local network, devnet or mainnet,
 * one code path), the one poster (which compiles the contracts before the first transaction
 * on a chain that checks proofs), the keys it knows by name, and, once deployed, a client
 * whose mirror was rebuilt from the chain's events. Nothing of the pool's state is
 * kept here: a member on a machine that never saw the deploy needs only
 * `deploy.config.json` (with the addresses) and its own key.
 *
 * @example
 * const session = await PoolSession.open({ root, alias: 'local', log });
 * await session.client().submit(await session.client().vote(await session.key('alice'), 0, 'for'));
 */
export class PoolSession {
  readonly root: string;
  readonly aliasName: string;
  readonly alias: DeployAlias;
  readonly chain: NetworkChain;
  readonly poster: TransactionPoster;
  readonly keys: KeyRing;
  private readonly log: Log;
  private poolClient?: PoolClient;

  private constructor(p: { root: string; aliasName: string; alias: DeployAlias; chain: NetworkChain; poster: TransactionPoster; keys: KeyRing; log: Log }) {
    this.log = p.log;
    this.root = p.root;
    this.aliasName = p.aliasName;
    this.alias = p.alias;
    this.chain = p.chain;
    this.poster = p.poster;
    this.keys = p.keys;
  }

  /** Public key (B62) → name. */
  get names(): Map<string, string> {
    return this.keys.names;
  }

  /** Connects to the alias's chain. */
  static async connect(options: OpenOptions): Promise<PoolSession> {
    const { root, log } = options;
    const { alias, name } = await loadAlias(root, options.alias);
    const keys = await KeyRing.load(root, name);
    const chain = await NetworkChain.connect({ url: alias.url, archiveUrl: alias.archiveUrl, networkId: alias.networkId, onWait: log, cacheDir: join(root, 'cache') });
    const poster = new TransactionPoster({ chain, fee: requireMina(alias.fee, `deploy.config.json: deployAliases.${name}.fee`), log, beforeProving: () => compileContracts(root, log) });
    return new PoolSession({ root, aliasName: name, alias, chain, poster, keys, log });
  }

  /** Connects and reads the pool deployed under the alias. */
  static async open(options: OpenOptions): Promise<PoolSession> {
    const session = await PoolSession.connect(options);
    await session.openPool();
    return session;
  }

  /** Reads the deployed pool from the chain (its events rebuild the mirror). */
  async openPool(): Promise<PoolClient> {
    const a = this.alias.addresses;
    if (!a) throw new PoolError('NOT_DEPLOYED', `no pool is deployed under alias '${this.aliasName}' (deploy.config.json has no addresses for it): run npm run deploy -- ${this.aliasName}`);
    if (!a.BackfillRegistry) throw new PoolError('NOT_DEPLOYED', `alias '${this.aliasName}' has no BackfillRegistry address (deployed by an older version): deploy again with npm run deploy -- ${this.aliasName} --force`);
    const addresses = { dac: PublicKey.fromBase58(a.PoolDac), pool: PublicKey.fromBase58(a.RewardPool), vault: PublicKey.fromBase58(a.PoolVault), registry: PublicKey.fromBase58(a.BackfillRegistry) };
    this.log(`reading the pool from ${this.chain.label} (its events rebuild the members, proposals and reports)`);
    this.poolClient = await PoolClient.open({ chain: this.chain, poster: this.poster, addresses, names: this.names });
    return this.poolClient;
  }

  client(): PoolClient {
    if (!this.poolClient) throw new PoolError('NOT_OPEN', 'the pool has not been read yet');
    return this.poolClient;
  }

  key(nameOrFile: string): Promise<PrivateKey> {
    return this.keys.key(nameOrFile);
  }

  publicKey(text: string): Promise<PublicKey> {
    return this.keys.publicKey(text);
  }
}
