export { analyseBackfill, runWaitlist, summarise, sweepWindows, type WaitlistRun } from './engine.js';
export { joinOrder, percent, prepareRange, type PreparedRange } from './prepare.js';
export { formatSummary, formatSweep } from './format.js';
export { renderSweepChart, type ChartOptions } from './chart.js';
export { Waitlist, type WaitlistEntry } from './waitlist.js';
export * from './types.js';
