import { join, resolve } from 'node:path';
import { PublicKey, type PrivateKey } from 'o1js';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { readJsonFileIfExists, writeJsonAtomic } from '../json-file.js';
import { readKey } from '../keys.js';
import { poolFileSchema } from './pool-file.js';

/** What `state/<alias>.json` keeps on this machine: the names of key files (not chain state: that is on chain). */
const stateFileSchema = z.object({ version: z.literal(2), alias: z.string(), keys: z.record(z.string(), z.string()) });

export function statePath(root: string, alias: string): string {
  return join(root, 'state', `${alias}.json`);
}

/** Records the named key files of a deployment on this machine. */
export async function writeStateFile(root: string, alias: string, keys: Record<string, string>): Promise<void> {
  await writeJsonAtomic(statePath(root, alias), { version: 2, alias, keys });
}

/**
 * The keys this machine knows by name, from the deploy's `state/<alias>.json` and from
 * `pool.json`: `--as alice` finds alice's key file, and messages say "alice", not a key.
 */
export class KeyRing {
  readonly root: string;
  /** Public key (B62) → name. */
  readonly names: Map<string, string>;
  /** Name → key file (relative to the project). */
  readonly keyFiles: Map<string, string>;
  /** Name → key, for the key files read when loading. */
  private readonly loaded: Map<string, PrivateKey>;

  private constructor(root: string, names: Map<string, string>, keyFiles: Map<string, string>, loaded: Map<string, PrivateKey>) {
    this.root = root;
    this.names = names;
    this.keyFiles = keyFiles;
    this.loaded = loaded;
  }

  static async load(root: string, alias: string): Promise<KeyRing> {
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
    const loaded = new Map<string, PrivateKey>();
    for (const [name, path] of keyFiles) {
      const key = await readKey(resolve(root, path)).catch(() => undefined);
      if (!key) continue;
      loaded.set(name, key);
      names.set(key.toPublicKey().toBase58(), name);
    }
    return new KeyRing(root, names, keyFiles, loaded);
  }

  /** The key of a named party (`alice`, `oracle`, `deployer`…) or of a key file. */
  async key(nameOrFile: string): Promise<PrivateKey> {
    const known = this.loaded.get(nameOrFile);
    if (known) return known;
    const path = this.keyFiles.get(nameOrFile);
    if (path !== undefined) return readKey(resolve(this.root, path)); // not readable at load: say why
    if (nameOrFile.endsWith('.json')) return readKey(resolve(this.root, nameOrFile));
    const names = [...this.keyFiles.keys()];
    throw new UsageError(`no key named '${nameOrFile}' here (${names.length ? `known: ${names.join(', ')}` : 'no named keys on this machine'}); or give a key file: --key FILE`, { field: 'as' });
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
