export * from './types.js';
export { PoolDac, PoolDacErrors, Tally, tallyAddress, voteReceiptAddress, type PoolDacInit } from './PoolDac.js';
export { RewardPool, RewardPoolErrors, POST_SLACK_SLOTS, claimReceiptAddress, paidCounterAddress, shareOf, type RewardPoolInit } from './RewardPool.js';
