import { join } from 'node:path';
import { readDeployConfig } from '../oracle/config.js';
import { PoolError, UsageError } from '../oracle/errors.js';
import { projectRoot } from '../oracle/paths.js';
import { parseCommandLine, runCli } from './cli.js';

const HELP = `Deploys the pool contracts under an alias of deploy.config.json.

Usage:
  npm run deploy -- <alias>      aliases: local (in-process LocalBlockchain), devnet, mainnet`;

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), { help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const config = await readDeployConfig(join(projectRoot(), 'deploy.config.json'));
  const name = positionals[0];
  if (name === undefined) throw new UsageError(`name an alias: ${Object.keys(config.deployAliases).join(', ')}`);
  if (config.deployAliases[name] === undefined) {
    throw new UsageError(`no alias '${name}' in deploy.config.json (have: ${Object.keys(config.deployAliases).join(', ')})`, { field: 'alias' });
  }
  throw new PoolError('NOT_AVAILABLE', `alias '${name}' is valid, but this version has no pool contracts to deploy yet`);
}

await runCli(main);
