import { join, resolve } from 'node:path';
import { Cache, PublicKey, type PrivateKey } from 'o1js';
import { z } from 'zod';
import { PoolDac } from '../../contracts/PoolDac.js';
import { PoolVault } from '../../contracts/PoolVault.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import { requireMina } from '../amount.js';
import { NetworkChain } from '../chain/network.js';
import { TransactionPoster, type Log } from '../chain/poster.js';
import { readDeployConfig, type DeployAlias, type DeployConfig } from '../config.js';
import { PoolError, UsageError } from '../errors.js';
import { readJsonFileIfExists, writeJsonAtomic } from '../json-file.js';
import { readKey } from '../keys.js';
import { PoolClient } from './client.js';
import { poolFileSchema } from './pool-file.js';

/** What `state/<alias>.json` keeps on this machine: the names of key files (not chain state: that is on chain). */
const stateFileSchema = z.object({ version: z.literal(2), alias: z.string(), keys: z.record(z.string(), z.string()) });
export type PoolStateFile = z.infer<typeof stateFileSchema>;

export function statePath(root: string, alias: string): string {
  return join(root, 'state', `${alias}.json`);
}

/** Records the named key files of a deployment on this machine. */
export async function writeStateFile(root: string, alias: string, keys: Record<string, string>): Promise<void> {
  await writeJsonAtomic(statePath(root, alias), { version: 2, alias, keys } satisfies PoolStateFile);
}

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
  for (const contract of [PoolDac, RewardPool, PoolVault]) {
    const t0 = Date.now();
    log(`compiling ${contract.name} (cache: cache/; minutes the first time, seconds after)`);
    await contract.compile({ cache });
    log(`compiled ${contract.name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

export interface OpenOptions {
  root: string;
  alias: string;
  log: Log;
}

/**
 * A pool as one machine sees it: the alias's chain (the local network, devnet or mainnet,
 * one code path), the one poster, the names of the keys it knows, and, once deployed, a
 * client whose mirror was rebuilt from the chain's events. Nothing of the pool's state is
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
  /** Public key (B62) → name. */
  readonly names: Map<string, string>;
  /** Name → key file (relative to the project). */
  readonly keyFiles: Map<string, string>;
  private poolClient?: PoolClient;

  private constructor(p: { root: string; aliasName: string; alias: DeployAlias; chain: NetworkChain; poster: TransactionPoster; names: Map<string, string>; keyFiles: Map<string, string> }) {
    this.root = p.root;
    this.aliasName = p.aliasName;
    this.alias = p.alias;
    this.chain = p.chain;
    this.poster = p.poster;
    this.names = p.names;
    this.keyFiles = p.keyFiles;
  }

  /** Connects to the alias's chain; compiles the contracts if that chain checks proofs. */
  static async connect(options: OpenOptions): Promise<PoolSession> {
    const { root, log } = options;
    const { alias, name } = await loadAlias(root, options.alias);
    const chain = await NetworkChain.connect({ url: alias.url, archiveUrl: alias.archiveUrl, networkId: alias.networkId, onWait: log, cacheDir: join(root, 'cache') });
    if (chain.proofsEnabled) await compileContracts(root, log);
    const poster = new TransactionPoster({ chain, fee: requireMina(alias.fee, `deploy.config.json: deployAliases.${name}.fee`), log });
    const { names, keyFiles } = await knownKeys(root, name);
    return new PoolSession({ root, aliasName: name, alias, chain, poster, names, keyFiles });
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
    const addresses = { dac: PublicKey.fromBase58(a.PoolDac), pool: PublicKey.fromBase58(a.RewardPool), vault: PublicKey.fromBase58(a.PoolVault) };
    this.poolClient = await PoolClient.open({ chain: this.chain, poster: this.poster, addresses, names: this.names });
    return this.poolClient;
  }

  client(): PoolClient {
    if (!this.poolClient) throw new PoolError('NOT_OPEN', 'the pool has not been read yet');
    return this.poolClient;
  }

  /** The key of a named party (`alice`, `oracle`, `deployer`…) or of a key file. */
  async key(nameOrFile: string): Promise<PrivateKey> {
    const path = this.keyFiles.get(nameOrFile);
    if (path !== undefined) return readKey(resolve(this.root, path));
    if (nameOrFile.endsWith('.json')) return readKey(resolve(this.root, nameOrFile));
    const known = [...this.keyFiles.keys()];
    throw new UsageError(`no key named '${nameOrFile}' here (${known.length ? `known: ${known.join(', ')}` : 'no named keys on this machine'}); or give a key file: --key FILE`, { field: 'as' });
  }

  /** A public key given as B62… or as a name this machine knows. */
  async publicKey(text: string): Promise<PublicKey> {
    if (/^B62/.test(text)) {
      try {
        return PublicKey.fromBase58(text);
      } catch {
        throw new UsageError(`not a valid public key: ${text}`);
      }
    }
    for (const [key, name] of this.names) if (name === text) return PublicKey.fromBase58(key);
    return (await this.key(text)).toPublicKey();
  }
}

/** Names of keys this machine knows: from the deploy's state file and from `pool.json`. */
async function knownKeys(root: string, alias: string): Promise<{ names: Map<string, string>; keyFiles: Map<string, string> }> {
  const names = new Map<string, string>();
  const keyFiles = new Map<string, string>();
  const state = await readJsonFileIfExists(statePath(root, alias), stateFileSchema, 'pool state file');
  for (const [name, path] of Object.entries(state?.keys ?? {})) keyFiles.set(name, path);
  const pool = await readJsonFileIfExists(join(root, 'pool.json'), poolFileSchema, 'pool file').catch(() => undefined);
  const parties: [string, { publicKey?: string; keyPath?: string } | undefined][] = [...(pool?.members.map((m) => [m.name, m] as [string, typeof m]) ?? []), ['oracle', pool?.oracle], ['operator', pool?.operator]];
  for (const [name, party] of parties) {
    if (party?.keyPath !== undefined && !keyFiles.has(name)) keyFiles.set(name, party.keyPath);
    if (party?.publicKey !== undefined) names.set(party.publicKey, name);
  }
  for (const [name, path] of keyFiles) {
    const key = await readKey(resolve(root, path)).catch(() => undefined);
    if (key) names.set(key.toPublicKey().toBase58(), name);
  }
  return { names, keyFiles };
}
