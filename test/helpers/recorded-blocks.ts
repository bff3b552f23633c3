import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../../oracle/paths.js';
import { daemonBlockFromPrecomputed, type DaemonBlockJson } from '../../oracle/sim/daemon.js';

/** The real mainnet blocks in ../shared/data/blocks (precomputed JSON; the state hash is in the file name). */
export const BLOCKS_DIR = resolve(projectRoot(), '..', 'shared', 'data', 'blocks');

export interface RecordedBlock {
  stateHash: string;
  file: string;
  precomputed: unknown;
  daemon: DaemonBlockJson;
}

/** The post-fork recorded blocks (format version 3), by state hash. */
export function recordedBlocks(): Map<string, RecordedBlock> {
  const out = new Map<string, RecordedBlock>();
  for (const file of readdirSync(BLOCKS_DIR).filter((f) => /^mainnet-\d+-3N\w+\.json$/.test(f))) {
    const precomputed = JSON.parse(readFileSync(join(BLOCKS_DIR, file), 'utf8')) as { version?: number };
    if (precomputed.version !== 3) continue;
    const stateHash = file.split('-')[2]!.replace(/\.json$/, '');
    out.set(stateHash, { stateHash, file, precomputed, daemon: daemonBlockFromPrecomputed(stateHash, precomputed) });
  }
  return out;
}

/** The best chain through `tip`, oldest first, following `previousStateHash` among the recorded blocks. */
export function chainTo(blocks: Map<string, RecordedBlock>, tip: string): string[] {
  const chain: string[] = [];
  for (let h: string | undefined = tip; h && blocks.has(h); h = blocks.get(h)!.daemon.protocolState.previousStateHash) chain.unshift(h);
  return chain;
}
