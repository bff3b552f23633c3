import type { Cache } from 'o1js';
import { BackfillRegistry } from './BackfillRegistry.js';
import { DesignatedProducer } from './DesignatedProducer.js';
import { PoolDac } from './PoolDac.js';
import { PoolVault } from './PoolVault.js';
import { RewardPool } from './RewardPool.js';

export * from './types.js';
export { Bitmap, BITMAP_BITS } from './Bitmap.js';
export { PoolDac, PoolDacErrors, MAX_INITIAL_MEMBERS, type PoolDacInit } from './PoolDac.js';
export { RewardPool, RewardPoolErrors, type RewardPoolInit } from './RewardPool.js';
export { PoolVault, PoolVaultErrors } from './PoolVault.js';
export { BackfillRegistry, BackfillRegistryErrors, RecordWitness, type BackfillRegistryInit } from './BackfillRegistry.js';
export { BackfillCommitment, DesignatedProducer, DesignatedProducerErrors, DesignatedProducerProof, DesignationStatement, EligibilityWitness, EpochLedger } from './DesignatedProducer.js';

/** What the pool does with each of its circuits (a contract or a ZkProgram): compile it and count its rows. */
export interface PoolCircuit {
  compile(options: { cache: Cache }): Promise<unknown>;
  analyzeMethods(): Promise<Record<string, { rows: number }>>;
}

/**
 * The circuits the pool deploys or verifies, by name, in the order they compile:
 * DesignatedProducer first, since BackfillRegistry and RewardPool verify its proofs.
 */
export const POOL_CIRCUITS: readonly (readonly [string, PoolCircuit])[] = [
  ['DesignatedProducer', DesignatedProducer],
  ['BackfillRegistry', BackfillRegistry],
  ['PoolDac', PoolDac],
  ['RewardPool', RewardPool],
  ['PoolVault', PoolVault],
];
