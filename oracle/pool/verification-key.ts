import { join } from 'node:path';
import { Cache, Mina } from 'o1js';
import { PoolDac } from '../../contracts/PoolDac.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import type { Log } from '../chain/poster.js';
import { writeOutput } from '../json-file.js';
import { loadAlias } from './session.js';

/**
 * Compiles a contract for the alias's network (verification keys differ between networks)
 * and writes its verification key as `{ data, hash }`: what an upgrade proposal votes for
 * (its hash) and what executing it sets (the whole key). Returns the hash.
 */
export async function writeVerificationKey(root: string, aliasName: string, contract: 'PoolDac' | 'RewardPool', file: string, log: Log): Promise<string> {
  const { alias } = await loadAlias(root, aliasName);
  Mina.setActiveInstance(Mina.Network({ networkId: alias.networkId, mina: alias.url }));
  const C = contract === 'PoolDac' ? PoolDac : RewardPool;
  log(`compiling ${contract} for ${alias.networkId} (cache: cache/)`);
  const { verificationKey } = await C.compile({ cache: Cache.FileSystem(join(root, 'cache')) });
  await writeOutput(file, JSON.stringify({ contract, networkId: alias.networkId, data: verificationKey.data, hash: verificationKey.hash.toString() }, null, 1) + '\n', 'verification key');
  return verificationKey.hash.toString();
}
