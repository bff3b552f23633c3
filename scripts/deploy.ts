import type { Command } from 'commander';
import { deployAlias } from '../oracle/pool/deploy-alias.js';
import { command, output, progress } from './cli.js';

/** `mina-pool deploy <alias>`: deploys the pool of a pool file in one transaction. */
export function deployCommand(): Command {
  return command('deploy', "deploy the pool's contracts (PoolDac, RewardPool, PoolVault, BackfillRegistry) in one transaction")
    .argument('<alias>', 'alias of deploy.config.json: local (the local chain, npm run chain), devnet, mainnet')
    .option('--pool <file>', 'the pool file: members, oracle, operator, constitution, parameters', 'pool.json')
    .option('--force', 'deploy a new pool although one is deployed under the alias (the old one stays on chain)')
    .option('--dry-run', 'build, prove and sign the deploy transaction and print it; send nothing')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
The addresses are written back to deploy.config.json under the alias. On the local chain, missing
key files (members, oracle, operator, deployer, contracts) are created under keys/ (git-ignored) and
funded from the chain's faucet; on devnet and mainnet they must exist. The vault's key is not kept.`,
    )
    .action(async (alias: string, o: { pool: string; force?: boolean; dryRun?: boolean; json?: boolean }) => {
      const r = await deployAlias({ root: process.cwd(), alias, poolFile: o.pool, force: o.force, dryRun: o.dryRun, log: progress });
      if (o.dryRun) {
        process.stdout.write(r.transaction! + '\n');
        return;
      }
      const a = r.addresses!;
      const text = [
        `Deployed pool '${r.name}' under alias '${alias}'`,
        `PoolDac:    ${a.dac.toBase58()}`,
        `RewardPool: ${a.pool.toBase58()}`,
        `PoolVault:  ${a.vault.toBase58()} (the pool producer's coinbase receiver)`,
        `BackfillRegistry: ${a.registry.toBase58()}`,
        `members:    ${r.members.length} (${r.members.map((m) => m.name).join(', ')})`,
        `oracle:     ${r.oracle}`,
        `operator:   ${r.operator}`,
        '',
        'What the keys can still do:',
        ...r.keyPowers.map((p) => `- ${p}`),
        '',
        `Next: npm run pool -- status --alias ${alias}`,
      ].join('\n');
      output(o.json, text, { alias, name: r.name, PoolDac: a.dac.toBase58(), RewardPool: a.pool.toBase58(), PoolVault: a.vault.toBase58(), members: r.members, oracle: r.oracle, operator: r.operator, keyPowers: r.keyPowers });
    });
}
