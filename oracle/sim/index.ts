export { DEFAULT_SIMULATION, SLOTS_PER_EPOCH, simulateEpoch, type RealVrf, type SimProducer, type SimulationParams, type SimulationResult, type SimulationStats } from './epoch.js';
export { minaToNano } from '../amount.js';
export { parseLedger, readLedger, type LedgerAccount, type StakingLedger } from './ledger.js';
export { Rng } from './random.js';
