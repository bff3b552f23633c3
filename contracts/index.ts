export * from './types.js';
export { Bitmap, BITMAP_BITS } from './Bitmap.js';
export { PoolDac, PoolDacErrors, MAX_INITIAL_MEMBERS, type PoolDacInit } from './PoolDac.js';
export { RewardPool, RewardPoolErrors, type RewardPoolInit } from './RewardPool.js';
export { PoolVault, PoolVaultErrors } from './PoolVault.js';
