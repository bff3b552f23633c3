import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { InputError, schemaError } from './errors.js';

const relativePath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !isAbsolute(p), 'must be a path relative to the project (zkapp-cli keeps relative paths)');
const b62 = z.string().regex(/^B62[1-9A-HJ-NP-Za-km-z]{52}$/, 'expected a B62… public key');

/** One alias of `deploy.config.json` (zkapp-cli's `deployAliases` entry). */
export const deployAliasSchema = z.object({
  networkId: z.enum(['testnet', 'mainnet']),
  /** A GraphQL endpoint, or `local` for an in-process LocalBlockchain. */
  url: z.union([z.literal('local'), z.url({ protocol: /^https?$/, error: 'expected http(s) URL or "local"' })]),
  keyPath: relativePath,
  feepayerKeyPath: relativePath,
  /** Fee in MINA, as a decimal string. */
  fee: z.string().regex(/^\d+(\.\d{1,9})?$/, 'expected a MINA amount such as "0.1"'),
  /** Written back after a deploy. */
  addresses: z.record(z.string(), b62).optional(),
});

export const deployConfigSchema = z.object({
  version: z.literal(1),
  deployAliases: z.record(z.string().regex(/^[a-z0-9_-]+$/i, 'alias names are letters, digits, - and _'), deployAliasSchema),
});

export type DeployAlias = z.infer<typeof deployAliasSchema>;
export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** Validates a parsed `deploy.config.json`; the error names the field (`deployAliases.local.fee`). */
export function parseDeployConfig(value: unknown, file = 'deploy.config.json'): DeployConfig {
  const parsed = deployConfigSchema.safeParse(value);
  if (!parsed.success) throw schemaError(parsed.error.issues, file);
  return parsed.data;
}

/**
 * Reads and validates `deploy.config.json`.
 *
 * @example
 * const config = await readDeployConfig('deploy.config.json');
 * const local = config.deployAliases.local;
 */
export async function readDeployConfig(file: string): Promise<DeployConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read the deploy configuration (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file }, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`, { file }, { cause: e });
  }
  return parseDeployConfig(value, file);
}
