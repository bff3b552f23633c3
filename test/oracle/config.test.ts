import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { parseDeployConfig, readDeployConfig } from '../../oracle/config.js';
import { projectRoot } from '../../oracle/paths.js';

const alias = { networkId: 'testnet', url: 'http://127.0.0.1:3085/graphql', keyPath: 'keys/a.json', feepayerKeyPath: 'keys/b.json', fee: '0.1' };

describe('deploy.config.json', () => {
  it('the shipped file is valid and has local, devnet and mainnet aliases', async () => {
    const config = await readDeployConfig(join(projectRoot(), 'deploy.config.json'));
    expect(Object.keys(config.deployAliases)).toEqual(['local', 'devnet', 'mainnet']);
    expect(config.deployAliases.local!.url).toBe('http://127.0.0.1:3085/graphql');
  });

  it('names the field of a bad value', () => {
    expect(() => parseDeployConfig({ version: 1, deployAliases: { local: { ...alias, fee: 'cheap' } } })).toThrow(
      "deploy.config.json: field 'deployAliases.local.fee': expected a MINA amount such as \"0.1\"",
    );
    expect(() => parseDeployConfig({ version: 1, deployAliases: { x: { ...alias, keyPath: '/etc/key.json' } } })).toThrow(/field 'deployAliases\.x\.keyPath': must be a path relative/);
    expect(() => parseDeployConfig({ version: 1, deployAliases: { x: { ...alias, networkId: 'moon' } } })).toThrow(/field 'deployAliases\.x\.networkId'/);
    expect(() => parseDeployConfig({ version: 1, deployAliases: { x: { ...alias, url: 'ftp://x' } } })).toThrow(/field 'deployAliases\.x\.url'/);
    expect(() => parseDeployConfig({ version: 1, deployAliases: { x: { ...alias, url: 'local' } } })).toThrow(/field 'deployAliases\.x\.url': expected an http\(s\) URL/);
    expect(() => parseDeployConfig({ deployAliases: {} })).toThrow(/field 'version'/);
  });
});
