export * from './types.js';
export { Bitmap, BITMAP_BITS } from './Bitmap.js';
export { PoolDac, PoolDacErrors, MAX_INITIAL_MEMBERS, type PoolDacInit } from './PoolDac.js';
export { RewardPool, RewardPoolErrors, type RewardPoolInit } from './RewardPool.js';
export { PoolVault, PoolVaultErrors } from './PoolVault.js';
export { BackfillRegistry, BackfillRegistryErrors, RecordWitness, type BackfillRegistryInit } from './BackfillRegistry.js';
export { BackfillCommitment, DesignatedProducer, DesignatedProducerErrors, DesignatedProducerProof, DesignationStatement, EligibilityWitness, EpochLedger } from './DesignatedProducer.js';
