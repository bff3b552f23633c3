import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { parseWith, readJsonFile } from './json-file.js';

/** A path relative to the project (zkapp-cli keeps relative paths). */
export const relativePath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !isAbsolute(p), 'must be a path relative to the project (zkapp-cli keeps relative paths)');
/** Whether a URL points at this machine (the local chain's aliases). */
export function isLocalUrl(url: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(url).hostname);
}

export const b62 = z.string().regex(/^B62[1-9A-HJ-NP-Za-km-z]{52}$/, 'expected a B62… public key');
const endpoint = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL of a GraphQL endpoint' });

/** One alias of `deploy.config.json` (zkapp-cli's `deployAliases` entry). */
const deployAliasSchema = z.object({
  networkId: z.enum(['testnet', 'mainnet']),
  /** The daemon's GraphQL endpoint (for `local`, the local chain's: `npm run chain`). */
  url: endpoint,
  /** The archive's GraphQL endpoint for events (default: `url`). */
  archiveUrl: endpoint.optional(),
  /** The PoolDac key (the RewardPool key sits beside it as `…-reward-pool.json`). */
  keyPath: relativePath,
  feepayerKeyPath: relativePath,
  /** Fee in MINA, as a decimal string. */
  fee: z.string().regex(/^\d+(\.\d{1,9})?$/, 'expected a MINA amount such as "0.1"'),
  /** Written back after a deploy. */
  addresses: z.object({ PoolDac: b62, RewardPool: b62, PoolVault: b62, BackfillRegistry: b62.optional() }).optional(),
});

export const deployConfigSchema = z.object({
  version: z.literal(1),
  deployAliases: z.record(z.string().regex(/^[a-z0-9_-]+$/i, 'alias names are letters, digits, - and _'), deployAliasSchema),
});

export type DeployAlias = z.infer<typeof deployAliasSchema>;
export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** Validates a parsed `deploy.config.json`; the error names the field (`deployAliases.local.fee`). */
export function parseDeployConfig(value: unknown, file = 'deploy.config.json'): DeployConfig {
  return parseWith(deployConfigSchema, value, file);
}

/**
 * Reads and validates `deploy.config.json`.
 *
 * @example
 * const config = await readDeployConfig('deploy.config.json');
 * const local = config.deployAliases.local;
 */
export function readDeployConfig(file: string): Promise<DeployConfig> {
  return readJsonFile(file, deployConfigSchema, 'deploy configuration');
}
